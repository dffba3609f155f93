"""Attendance and fees: mark bookings attended or no-show, and waive fees.

A fee is a ledger fact (`fee_amount`, `fee_status`), recorded here and never
collected: `owed` until staff waive it. Every amount comes from
`booking.services.charges`, so a quote and the charge agree.
"""

from __future__ import annotations

from datetime import datetime

from booking.actors import Actor
from booking.audit import SYSTEM, RequestContext
from booking.models import BookingRequest, BookingStatus, FeeStatus
from booking.services import charges, notifications, rules
from booking.services import exceptions as exc
from booking.services.lifecycle.engine import Change, Operation, Selection, requires
from booking.services.results import BulkResult
from booking.services.rules import Refusal


@requires("booking.change_bookingrequest", to="mark attendance of")
def mark_attended_bookings(
    bookings: Selection,
    *,
    actor: Actor,
    reason: object = "",
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> BulkResult:
    """Approved bookings whose session has started: the client came. Final."""
    change = Change.begin(actor=actor, reason=reason, context=context, now=now)

    def apply(ready: list[BookingRequest]) -> None:
        change.update(ready, {"status": BookingStatus.ATTENDED})

    check = lambda b: rules.check_attendance(b, BookingStatus.ATTENDED, now=change.now)  # noqa: E731
    return change.run(Operation("marked attended", check, apply), bookings)


@requires("booking.change_bookingrequest", to="mark attendance of")
def mark_no_show_bookings(
    bookings: Selection,
    *,
    actor: Actor,
    reason: object = "",
    context: RequestContext = SYSTEM,
    notify_client: bool = True,
    now: datetime | None = None,
) -> BulkResult:
    """Approved bookings whose session has started: the client did not come. Final.

    Each owes its terms' no-show fee (`charges.no_show_fee`), recorded as owed
    when above zero; the client is emailed about a fee (unless `notify_client`
    is off), after commit.
    """
    change = Change.begin(actor=actor, reason=reason, context=context, now=now)

    def apply(ready: list[BookingRequest]) -> None:
        change.update_with_fees(ready, {"status": BookingStatus.NO_SHOW}, charges.no_show_fee)
        if notify_client:
            notifications.no_show_fees([b for b in ready if b.fee_status == FeeStatus.OWED])

    check = lambda b: rules.check_attendance(b, BookingStatus.NO_SHOW, now=change.now)  # noqa: E731
    return change.run(Operation("marked as no-shows", check, apply), bookings)


NOTHING_OWED = Refusal("no fee owed", exc.InvalidTransition)


def check_waiver(booking: BookingRequest) -> Refusal | None:
    if booking.is_deleted:
        return rules.DELETED
    if booking.fee_status == FeeStatus.WAIVED:
        return Refusal("fee already waived", exc.InvalidTransition)
    if booking.fee_status != FeeStatus.OWED:
        return NOTHING_OWED
    return None


@requires("booking.waive_fee_bookingrequest", to="waive fees of")
def waive_fees(
    bookings: Selection,
    *,
    actor: Actor,
    reason: object = "",
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> BulkResult:
    """Waive owed fees: `fee_status` becomes waived, with who, when and why.

    A reason is required (bad input, 400, before anything is locked). The
    amount stays on the row, so reports show what was forgiven. Final.
    """
    change = Change.begin(actor=actor, reason=reason, context=context, now=now)
    if not change.reason:
        raise exc.ReasonRequired("a reason is required to waive a fee")

    def apply(ready: list[BookingRequest]) -> None:
        fields = {
            "fee_status": FeeStatus.WAIVED,
            "fee_waived_by": change.actor,
            "fee_waived_at": change.now,
            "fee_waiver_reason": change.reason,
        }
        change.update(ready, fields)

    return change.run(Operation("waived", check_waiver, apply, reads_policy=False), bookings)
