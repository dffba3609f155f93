"""A client cancels their own booking (no staff actor, no permission: their proof)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from booking.audit import SYSTEM, RequestContext
from booking.models import BookingRequest, BookingStatus
from booking.services import exceptions as exc
from booking.services import notifications, rules
from booking.services.lifecycle.engine import Operation, clean_reason, run, update
from booking.services.rules import Refusal


def cancel_booking_as_client(
    *,
    reference: str,
    verify: Callable[[BookingRequest], bool],
    reason: object = "",
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> BookingRequest:
    """A client cancels their own booking, within the business's policy.

    `verify` proves the client's identity against the locked booking (contact
    details, or a signed link); it runs before any policy check so that nothing
    about the booking is revealed to someone who cannot prove it is theirs.
    Raises BookingNotFound, IdentityNotVerified, PolicyForbids, DeadlinePassed or
    InvalidTransition (a double submit); the client and the business are emailed
    after commit.
    """
    reason = clean_reason(reason)
    now = now or timezone.now()
    # References are read aloud and typed by hand: accept lower case and stray spaces.
    booking = (
        BookingRequest.objects.filter(reference=reference.strip().upper()).only("pk").first()
        if isinstance(reference, str)
        else None
    )
    if booking is None:
        raise exc.BookingNotFound("booking not found")

    def check(locked: BookingRequest) -> Refusal | None:
        if locked.is_deleted:
            return Refusal("booking not found", exc.BookingNotFound)
        if not verify(locked):
            return Refusal("the contact details do not match this booking", exc.IdentityNotVerified)
        return rules.check_client_cancel(locked, now=now)

    def apply(ready: list[BookingRequest]) -> None:
        update(
            ready,
            {
                "status": BookingStatus.CANCELLED,
                "cancelled_at": now,
                "cancelled_by": None,
                "cancelled_by_client": True,
                "cancellation_reason": reason,
            },
            actor=None, reason=reason, context=context, now=now,
        )  # fmt: skip
        notifications.bookings_cancelled(ready, by_client=True, notify_client=True)

    return run(Operation("cancelled", check, apply), [booking.pk], actor=None).raise_for_single()
