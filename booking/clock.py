"""Local time that every page can show, whatever a row holds.

Forms keep session times between the years 2000 and 2100, but a row written
from the shell may hold any moment Python can represent; converting one near
the ends of that range to a far-off zone overflows. `localtime` then keeps the
moment in UTC instead of failing the page.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from django.utils import timezone


def localtime(moment: datetime, tz: tzinfo | None = None) -> datetime:
    """`django.utils.timezone.localtime`, in UTC when the zone's offset would overflow."""
    try:
        return timezone.localtime(moment, tz)
    except OverflowError:
        return moment.astimezone(UTC)
