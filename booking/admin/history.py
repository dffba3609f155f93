"""The compact timeline on a booking's change form: who did what, when, and why.

The full record (with IP, user agent and every changed value) is simple-history's
history page; the timeline shows the latest entries in one line each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

TIMELINE_LENGTH = 10

KINDS = {"+": "Created", "~": "Changed", "-": "Purged"}

# Changes the timeline names in words, with the fields that go with them.
CANCELLATION = {"cancelled_at", "cancelled_by", "cancelled_by_client", "cancellation_reason"}
DELETION = {"deleted_at", "deleted_by", "deletion_reason"}
EVENTS = [
    ("status", "approved", "Approved", set()),
    ("status", "rejected", "Rejected", set()),
    ("status", "cancelled", "Cancelled", CANCELLATION),
    ("is_deleted", True, "Deleted", DELETION),
    ("is_deleted", False, "Restored", DELETION),
]
QUIET_FIELDS = {"updated_at"}


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    what: str
    user: Any
    reason: str
    fields: list[str]
    ip_address: str | None


def _describe(record: Any, older: Any | None) -> tuple[str, list[str]]:
    if older is None or record.history_type != "~":
        return KINDS.get(record.history_type, record.history_type), []
    changed = [
        change.field
        for change in record.diff_against(older).changes
        if change.field not in QUIET_FIELDS
    ]
    for field, value, label, companions in EVENTS:
        if field in changed and getattr(record, field) == value:
            return label, [name for name in changed if name != field and name not in companions]
    return "Changed", changed


def timeline(obj: Any, *, length: int = TIMELINE_LENGTH) -> list[TimelineEntry]:
    """The latest `length` historical records of `obj`, newest first (one query)."""
    records = list(
        obj.history.select_related("history_user").order_by("-history_date", "-history_id")[
            : length + 1
        ]
    )
    entries = []
    for record, older in zip(records[:length], [*records[1:], None], strict=False):
        what, fields = _describe(record, older)
        entries.append(
            TimelineEntry(
                when=record.history_date,
                what=what,
                user=record.history_user,
                reason=record.history_change_reason or "",
                fields=fields,
                ip_address=record.ip_address,
            )
        )
    return entries
