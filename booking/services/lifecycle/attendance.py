"""Attendance and fees: mark bookings attended or no-show, and waive fees.

A fee is a ledger fact (`fee_amount`, `fee_status`), recorded here and never
collected: `owed` until staff waive it. Every amount comes from
`booking.services.charges`, so a quote and the charge agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from booking.audit import SYSTEM, RequestContext
from booking.models import BookingRequest, BookingStatus, FeeStatus
from booking.services import charges, notifications, rules
from booking.services import exceptions as exc
from booking.services.lifecycle.engine import (
    Operation,
    Selection,
    as_actor,
    clean_reason,
    requires,
    run,
    update,
    update_with_fees,
)
from booking.services.results import BulkResult
from booking.services.rules import Refusal


@requires("booking.change_bookingrequest", to="mark attendance of")
def mark_attended_bookings(
    bookings: Selection,
    *,
    actor: Any,
    reason: object = "",
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> BulkResult:
    """Approved bookings whose session has started: the client came. Final."""
    actor = as_actor(actor)
    reason = clean_reason(reason)
    now = now or timezone.now()

    def apply(ready: list[BookingRequest]) -> None:
        update(ready, {"status": BookingStatus.ATTENDED},
               actor=actor, reason=reason, context=context, now=now)  # fmt: skip

    check = lambda b: rules.check_attendance(b, BookingStatus.ATTENDED, now=now)  # noqa: E731
    return run(Operation("marked attended", check, apply), bookings, actor=actor)


@requires("booking.change_bookingrequest", to="mark attendance of")
def mark_no_show_bookings(
    bookings: Selection,
    *,
    actor: Any,
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
    actor = as_actor(actor)
    reason = clean_reason(reason)
    now = now or timezone.now()

    def apply(ready: list[BookingRequest]) -> None:
        update_with_fees(
            ready, {"status": BookingStatus.NO_SHOW}, charges.no_show_fee,
            actor=actor, reason=reason, context=context, now=now,
        )  # fmt: skip
        if notify_client:
            notifications.no_show_fees([b for b in ready if b.fee_status == FeeStatus.OWED])

    check = lambda b: rules.check_attendance(b, BookingStatus.NO_SHOW, now=now)  # noqa: E731
    return run(Operation("marked as no-shows", check, apply), bookings, actor=actor)


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
    actor: Any,
    reason: object = "",
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> BulkResult:
    """Waive owed fees: `fee_status` becomes waived, with who, when and why.

    A reason is required (bad input, 400, before anything is locked). The
    amount stays on the row, so reports show what was forgiven. Final.
    """
    actor = as_actor(actor)
    reason = clean_reason(reason)
    if not reason:
        raise exc.ReasonRequired("a reason is required to waive a fee")
    now = now or timezone.now()

    def apply(ready: list[BookingRequest]) -> None:
        fields = {
            "fee_status": FeeStatus.WAIVED,
            "fee_waived_by": actor,
            "fee_waived_at": now,
            "fee_waiver_reason": reason,
        }
        update(ready, fields, actor=actor, reason=reason, context=context, now=now)

    operation = Operation("waived", check_waiver, apply, reads_policy=False)
    return run(operation, bookings, actor=actor)
