"""What the staff API reads to answer: the rows a booking's JSON needs, its audit trail.

The shapes themselves (which fields, from where) are declared in
`booking.api.contract.staff`. A booking's shape reads only what
`with_api_related` loads, so a page of bookings costs the same number of
queries whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from booking.models import BookingQuerySet

HISTORY_TYPES = {"+": "created", "~": "changed", "-": "purged"}


def with_api_related(bookings: BookingQuerySet) -> BookingQuerySet:
    return bookings.select_related(
        "session__business__booking_settings", "cancelled_by", "deleted_by", "fee_waived_by"
    )


@dataclass(frozen=True)
class Entry:
    """One historical record and what it changed (`HISTORY_ENTRY` reads it)."""

    record: Any
    changes: list[dict[str, Any]]

    @property
    def type(self) -> str:
        return HISTORY_TYPES.get(self.record.history_type, self.record.history_type)


def history(records: list[Any]) -> list[Entry]:
    """Each historical record, newest first, with its changes.

    `records` is every record of one booking with `history_user` loaded; the
    changes are computed in memory against the record before it (no query each).
    """
    ordered = sorted(records, key=lambda record: (record.history_date, record.history_id))
    entries = []
    previous = None
    for record in ordered:
        changes: list[dict[str, Any]] = []
        if previous is not None:
            delta = record.diff_against(previous)
            changes = [
                {"field": change.field, "old": change.old, "new": change.new}
                for change in delta.changes
            ]
        entries.append(Entry(record, changes))
        previous = record
    entries.reverse()
    return entries
