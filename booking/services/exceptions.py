"""The booking domain's refusals, each with the HTTP status an API maps it to.

The admin turns them into messages, the APIs into JSON errors, the commands into
CommandError: no interface decides on its own what a refusal means.
"""

from __future__ import annotations

from typing import Any


class BookingError(Exception):
    status_code = 400
    code = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(BookingError):
    """Malformed or missing input (400)."""

    code = "invalid"


class ReasonTooLong(InvalidInput):
    code = "reason_too_long"


class ReasonRequired(InvalidInput):
    code = "reason_required"


class ConfirmationRequired(InvalidInput):
    code = "confirmation_required"


class NotPermitted(BookingError):
    """The actor lacks the permission for this action (403)."""

    status_code = 403
    code = "forbidden"


class PolicyForbids(BookingError):
    """The business's policy forbids this action (403)."""

    status_code = 403
    code = "policy"


class DeadlinePassed(PolicyForbids):
    code = "deadline_passed"


class IdentityNotVerified(BookingError):
    """The contact details given do not match the booking's (403)."""

    status_code = 403
    code = "identity_not_verified"


class BookingNotFound(BookingError):
    status_code = 404
    code = "not_found"


class InvalidTransition(BookingError):
    """The booking's current state does not allow this change (409)."""

    status_code = 409
    code = "conflict"


class FeeChanged(InvalidTransition):
    """The fee due is not the one the client accepted (a tier boundary passed): 409."""

    code = "fee_changed"


class RateLimited(BookingError):
    status_code = 429
    code = "rate_limited"


class ServiceUnavailable(BookingError):
    """A dependency (the rate limiter's cache, a database lock) is unavailable now (503).

    Nothing was changed; the caller may try again after `retry_after` seconds.
    """

    status_code = 503
    code = "unavailable"
