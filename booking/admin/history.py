"""The compact timeline on a booking's change form: who did what, when, and why.

The full record (with IP, user agent and every changed value) is simple-history's
history page; the timeline shows the latest entries in one line each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import ua_parser

from booking.actors import Actor
from booking.services.actions import ANY_VALUE, Event, events
from booking.services.statuses import STATUSES

TIMELINE_LENGTH = 10

KINDS = {"+": "Created", "~": "Changed", "-": "Purged"}

# Changes the timeline names in words, with the fields that go with them: a
# change of status by its status's declaration, other changes by their action's.
EVENTS: list[Event] = [
    *(
        Event("status", status.value, declaration.event, declaration.companions)
        for status, declaration in STATUSES.items()
    ),
    *events(),
]
QUIET_FIELDS = {"updated_at"}


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    what: str
    user: Actor  # the historical record's user; None for the system
    reason: str
    fields: list[str]
    ip_address: str | None


def describe(record: Any, changed: list[str] | None) -> tuple[str, list[str]]:
    """What a historical record did, in words ("Deleted", "Restored", "Cancelled", …),
    and the other fields it changed. `changed` is None when the older record is unknown."""
    if changed is None or record.history_type != "~":
        return KINDS.get(record.history_type, record.history_type), []
    changed = [name for name in changed if name not in QUIET_FIELDS]
    for event in EVENTS:
        if event.field in changed and (
            event.value is ANY_VALUE or getattr(record, event.field) == event.value
        ):
            others = [name for name in changed if name != event.field]
            return event.label, [name for name in others if name not in event.companions]
    return "Changed", changed


def _describe(record: Any, older: Any | None) -> tuple[str, list[str]]:
    if older is None:
        return describe(record, None)
    return describe(record, [change.field for change in record.diff_against(older).changes])


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


@lru_cache(maxsize=256)
def short_user_agent(user_agent: str) -> str:
    """ "Chrome 156 on Linux" for a browser's long user agent (ua-parser, the
    maintained port of Browserscope's rules); other clients by their first word."""
    if not user_agent:
        return ""
    parsed = ua_parser.parse(user_agent)
    if parsed.user_agent is None:
        return user_agent.split(" ", 1)[0][:40]
    browser = " ".join(filter(None, [parsed.user_agent.family, parsed.user_agent.major]))
    if parsed.os is None or parsed.os.family == "Other":
        return browser
    system = " ".join(filter(None, [parsed.os.family, parsed.os.major]))
    return f"{browser} on {system}"
