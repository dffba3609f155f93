"""Historical records written in bulk, with user, reason, IP and user agent.

`QuerySet.update()` and raw deletes write no history by themselves; the
services call these in the same transaction, so every changed booking gets
exactly one historical record.

The rows are built here rather than by simple-history's `bulk_history_create`,
which falls back to the current request's user when the given user is None:
a client's cancellation (no actor) must be recorded without a user even when
a logged-in staff member happens to be the one browsing the public page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings

from booking.audit import RequestContext
from booking.models import BookingRequest

HISTORY_BATCH_SIZE = 1000


def _write(
    bookings: Sequence[BookingRequest],
    history_type: str,
    *,
    actor: Any,
    reason: str,
    context: RequestContext,
    when: datetime,
) -> None:
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    model = BookingRequest.history.model
    attnames = [field.attname for field in model.tracked_fields]
    common = {
        "history_date": when,
        "history_user_id": actor.pk if actor is not None else None,
        "history_change_reason": reason,
        "history_type": history_type,
        **context.as_history_attrs(),
    }
    rows = [
        model(**common, **{name: getattr(booking, name) for name in attnames})
        for booking in bookings
    ]
    model.objects.bulk_create(rows, batch_size=HISTORY_BATCH_SIZE)


def record_changes(
    bookings: Sequence[BookingRequest],
    *,
    actor: Any,
    reason: str,
    context: RequestContext,
    when: datetime,
) -> None:
    """One "~" record per booking, in batched inserts."""
    _write(bookings, "~", actor=actor, reason=reason, context=context, when=when)


def record_deletions(
    bookings: Sequence[BookingRequest],
    *,
    actor: Any,
    reason: str,
    context: RequestContext,
    when: datetime,
) -> None:
    """One "-" record per purged booking: the audit trail keeps its final state."""
    _write(bookings, "-", actor=actor, reason=reason, context=context, when=when)
