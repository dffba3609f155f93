"""Historical records written in bulk, with user, reason, IP and user agent.

`QuerySet.update()` and raw deletes write no history by themselves; the
services call these in the same transaction, so every changed booking gets
exactly one historical record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from booking.audit import RequestContext
from booking.models import BookingRequest

HISTORY_BATCH_SIZE = 1000


def record_changes(
    bookings: Sequence[BookingRequest],
    *,
    actor: Any,
    reason: str,
    context: RequestContext,
    when: datetime,
) -> None:
    """One "~" record per booking, in batched inserts (simple-history's bulk utility)."""
    BookingRequest.history.bulk_history_create(
        bookings,
        batch_size=HISTORY_BATCH_SIZE,
        update=True,
        default_user=actor,
        default_change_reason=reason,
        default_date=when,
        custom_historical_attrs=context.as_history_attrs(),
    )


def record_deletions(
    bookings: Sequence[BookingRequest],
    *,
    actor: Any,
    reason: str,
    context: RequestContext,
    when: datetime,
) -> None:
    """One "-" record per purged booking: the audit trail keeps its final state.

    simple-history's bulk utility only writes "+" and "~" records, so this builds
    the rows the same way with history_type "-".
    """
    model = BookingRequest.history.model
    rows = [
        model(
            history_date=when,
            history_user=actor,
            history_change_reason=reason,
            history_type="-",
            **context.as_history_attrs(),
            **{field.attname: getattr(booking, field.attname) for field in model.tracked_fields},
        )
        for booking in bookings
    ]
    model.objects.bulk_create(rows, batch_size=HISTORY_BATCH_SIZE)
