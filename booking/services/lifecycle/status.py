"""Status changes as staff: approve, reject, cancel (see `engine` for the shape of each)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from booking import money
from booking.actors import Actor
from booking.audit import SYSTEM, RequestContext
from booking.models import BookingRequest, BookingStatus
from booking.services import charges, notifications, rules
from booking.services.lifecycle.engine import Change, Operation, Selection, requires
from booking.services.results import BulkResult


def _set_status(
    bookings: Selection,
    target: str,
    verb: str,
    *,
    actor: Actor,
    reason: object,
    context: RequestContext,
    now: datetime | None,
) -> BulkResult:
    change = Change.begin(actor=actor, reason=reason, context=context, now=now)

    def apply(ready: list[BookingRequest]) -> None:
        change.update(ready, {"status": target})

    check = lambda b: rules.check_status_change(b, target)  # noqa: E731
    # A rejected booking (pending: it held a spot) frees its spot; an approved one keeps it.
    frees = target == BookingStatus.REJECTED
    # Approving reads the session: a cancelled one takes no one.
    approve = target == BookingStatus.APPROVED
    if approve:
        check = rules.check_approve
    return change.run(
        Operation(verb, check, apply, reads_policy=approve, frees_spots=frees), bookings
    )


@requires("booking.change_bookingrequest", to="approve")
def approve_bookings(
    bookings: Selection,
    *,
    actor: Actor,
    reason: object = "",
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> BulkResult:
    """Approve pending bookings. Inverse: none (an approved booking can be cancelled)."""
    return _set_status(
        bookings, BookingStatus.APPROVED, "approved",
        actor=actor, reason=reason, context=context, now=now,
    )  # fmt: skip


@requires("booking.change_bookingrequest", to="reject")
def reject_bookings(
    bookings: Selection,
    *,
    actor: Actor,
    reason: object = "",
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> BulkResult:
    """Reject pending bookings. Final: a rejected booking changes status no more."""
    return _set_status(
        bookings, BookingStatus.REJECTED, "rejected",
        actor=actor, reason=reason, context=context, now=now,
    )  # fmt: skip


@requires("booking.cancel_bookingrequest", to="cancel")
def cancel_bookings(
    bookings: Selection,
    *,
    actor: Actor,
    reason: object = "",
    context: RequestContext = SYSTEM,
    notify_client: bool = True,
    charge_fee: bool = False,
    now: datetime | None = None,
) -> BulkResult:
    """Cancel pending or approved bookings as staff.

    Records cancelled_at/by and the reason; one history record each; queues the
    cancellation emails (when the business sends them and `notify_client`) in the
    same transaction, delivered after commit. No fee unless `charge_fee`: then
    each booking owes its late-cancellation fee now, as a client cancelling now
    would (`charges.cancellation_quote`). Final: there is no un-cancel.
    """
    return cancel_as_staff(
        bookings, actor=actor, reason=reason, context=context,
        notify_client=notify_client, charge_fee=charge_fee, now=now,
    )  # fmt: skip


def cancel_as_staff(
    bookings: Selection,
    *,
    actor: Actor,
    reason: object = "",
    context: RequestContext = SYSTEM,
    notify_client: bool = True,
    charge_fee: bool = False,
    now: datetime | None = None,
    session_cancelled: bool = False,
) -> BulkResult:
    """A staff cancellation, unguarded: `cancel_bookings`, and a session's cancellation
    (`booking.services.sessions`, guarded by its own permission; it never charges a
    fee), whose emails say that the business cancelled the session (`session_cancelled`)."""
    change = Change.begin(actor=actor, reason=reason, context=context, now=now)

    def fee_of(booking: BookingRequest) -> Decimal:
        return charges.cancellation_quote(booking, now=change.now).fee if charge_fee else money.ZERO

    def apply(ready: list[BookingRequest]) -> None:
        fields = {
            "status": BookingStatus.CANCELLED,
            "cancelled_at": change.now,
            "cancelled_by": change.actor,
            "cancelled_by_client": False,
            "cancellation_reason": change.reason,
        }
        change.update_with_fees(ready, fields, fee_of)
        notifications.bookings_cancelled(
            ready, by_client=False, notify_client=notify_client, session_cancelled=session_cancelled
        )

    check = lambda b: rules.check_status_change(b, BookingStatus.CANCELLED)  # noqa: E731
    # A staff cancellation's rule is about status alone; the booking's terms say what
    # a charged fee is. Whether the client is emailed (the business's switch) is
    # read by the outbox's insert, so the emails need no policy loaded here.
    operation = Operation("cancelled", check, apply, reads_policy=charge_fee,
                          frees_spots=True)  # fmt: skip
    return change.run(operation, bookings)
