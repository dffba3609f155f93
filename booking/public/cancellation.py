"""What the public page and the public API share: finding a booking by its
reference, describing it without personal data, and the client's cancellation.

Both interfaces call `cancel()` so that identity proof and rate limits are the
same on either; the state change itself is `services.cancel_booking_as_client`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import dateformat, timezone

from booking import services
from booking.audit import RequestContext
from booking.models import REFERENCE_ALPHABET, REFERENCE_LENGTH, BookingRequest
from booking.services import exceptions as exc
from booking.services import links, rules, throttle
from booking.services.identity import email_matches, phone_matches
from booking.services.rules import Refusal
from booking.services.statuses import STATUSES

EMAIL_MAX_LENGTH = 254
PHONE_MAX_LENGTH = 40

WORDS_FORMAT = "D j M, H:i"  # "Tue 3 Dec, 07:00"
LONG_FORMAT = "l j F Y, H:i"  # "Tuesday 3 December 2026, 07:00"


def normalize_reference(raw: str) -> str | None:
    """The reference as stored (upper case, trimmed), or None when it cannot be one."""
    reference = raw.strip().upper()
    if len(reference) != REFERENCE_LENGTH or not set(reference) <= set(REFERENCE_ALPHABET):
        return None
    return reference


def find_booking(raw_reference: str) -> BookingRequest:
    """The live booking with this reference, its session, business and policy; else 404."""
    reference = normalize_reference(raw_reference)
    if reference is None:
        raise exc.BookingNotFound("booking not found")
    try:
        # get(), not filter().first(): the reference is unique, and no ORDER BY is needed.
        return BookingRequest.objects.with_related().get(reference=reference)
    except BookingRequest.DoesNotExist:
        raise exc.BookingNotFound("booking not found") from None


def in_words(moment: datetime, tz: Any) -> str:
    return dateformat.format(timezone.localtime(moment, tz), WORDS_FORMAT)


@dataclass(frozen=True)
class Summary:
    """A booking as anyone holding its reference may see it: no client personal data."""

    booking: BookingRequest
    now: datetime
    refusal: Refusal | None

    @classmethod
    def of(cls, booking: BookingRequest, *, now: datetime | None = None) -> Summary:
        now = now or timezone.now()
        return cls(booking, now, rules.check_client_cancel(booking, now=now))

    @property
    def business(self) -> Any:
        return self.booking.session.business

    @property
    def policy(self) -> Any:
        return self.business.booking_settings

    @property
    def can_cancel(self) -> bool:
        return self.refusal is None

    @property
    def deadline(self) -> datetime:
        return rules.cancellation_deadline(self.booking)

    def local(self, moment: datetime) -> datetime:
        return timezone.localtime(moment, self.business.tzinfo)

    @property
    def starts_at(self) -> datetime:
        return self.local(self.booking.session.starts_at)

    @property
    def starts_words(self) -> str:
        return dateformat.format(self.starts_at, LONG_FORMAT)

    def long_words(self, moment: datetime) -> str:
        return dateformat.format(self.local(moment), LONG_FORMAT)

    @property
    def deadline_local(self) -> datetime:
        return self.local(self.deadline)

    @property
    def deadline_words(self) -> str:
        return in_words(self.deadline, self.business.tzinfo)

    @property
    def policy_words(self) -> str:
        if not self.policy.allow_client_cancellation:
            return "This business does not take cancellations online; please contact them."
        hours = self.policy.cancellation_deadline_hours
        if hours == 0:
            return "You can cancel online until the session starts."
        unit = "hour" if hours == 1 else "hours"
        return f"You can cancel online up to {hours} {unit} before the session starts."

    @property
    def deadline_passed(self) -> bool:
        return self.refusal is not None and self.refusal.error is exc.DeadlinePassed

    def policy_json(self) -> dict[str, Any]:
        return {
            "allow_client_cancellation": self.policy.allow_client_cancellation,
            "cancellation_deadline_hours": self.policy.cancellation_deadline_hours,
            "cancellation_fee_policy": self.policy.cancellation_fee_policy,
            "description": self.policy_words,
        }

    def contact_json(self) -> dict[str, str]:
        return {
            "business": self.business.name,
            "email": self.business.contact_email,
            "phone": self.business.contact_phone,
        }

    def as_json(self) -> dict[str, Any]:
        """SPEC §8's public booking object (times in the business's time zone)."""
        return {
            "booking_reference": self.booking.reference,
            "status": self.booking.status,
            "session": {
                "title": self.booking.session.title,
                "starts_at": self.starts_at.isoformat(),
            },
            "business": {
                "name": self.business.name,
                "contact_email": self.business.contact_email,
                "contact_phone": self.business.contact_phone,
            },
            "can_cancel": self.can_cancel,
            "cancellation_deadline": self.deadline_local.isoformat(),
            "policy": self.policy_json(),
        }

    def refusal_details(self, error: exc.BookingError) -> dict[str, Any]:
        """What a client needs beside a policy refusal: the policy, the times, whom to call."""
        if not isinstance(error, exc.PolicyForbids):
            return {}
        return {
            "policy": self.policy_json(),
            "session_time": self.starts_at.isoformat(),
            "current_time": self.local(self.now).isoformat(),
            "cancellation_deadline": self.deadline_local.isoformat(),
            "contact_info": self.contact_json(),
        }


@dataclass(frozen=True)
class Proof:
    """How a client proves the booking is theirs: contact details, or a signed link.

    Every detail given must match (an email and a phone given together must both
    be the booking's). All of them are compared, so the time taken does not say
    which one failed.
    """

    email: str = ""
    phone: str = ""
    token: str = ""

    @property
    def given(self) -> bool:
        return bool(self.email or self.phone or self.token)

    def verify(self, booking: BookingRequest) -> bool:
        if self.token:
            return links.token_matches(self.token, booking)
        results = []
        if self.email:
            results.append(email_matches(self.email, booking.client_email))
        if self.phone:
            results.append(phone_matches(self.phone, booking.client_phone))
        return bool(results) and all(results)


NOT_VERIFIED = "the contact details do not match this booking"


def cancel(
    *,
    reference: str,
    proof: Proof,
    reason: object,
    request: HttpRequest,
    now: datetime | None = None,
) -> BookingRequest:
    """Cancel as the client: the same proof and limits for the page and the API.

    The proof is checked first, read-only and under the rate limits
    (`throttle.VerificationLimiter.verified`: RateLimited while locked out,
    each failure counted), so failed attempts never open a transaction or lock
    a row. A proof that holds goes to `services.cancel_booking_as_client`,
    which checks it again under the row lock, then the policy, and cancels.
    Raises BookingNotFound, InvalidInput, RateLimited, IdentityNotVerified,
    PolicyForbids, DeadlinePassed or InvalidTransition.
    """
    booking = find_booking(reference)
    reason = services.clean_reason(reason)  # bad input is refused before an attempt counts
    context = RequestContext.from_request(request)
    limiter = throttle.VerificationLimiter(reference=booking.reference, ip=context.ip_address)
    if not limiter.verified(lambda: proof.verify(booking)):
        raise exc.IdentityNotVerified(NOT_VERIFIED, booking=booking)
    return services.cancel_booking_as_client(
        reference=booking.reference, verify=proof.verify, reason=reason, context=context, now=now
    )


# The client's words for each status, declared with the status.
STATUS_WORDS = {status: declaration.client_word for status, declaration in STATUSES.items()}
