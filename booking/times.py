"""Times as staff read them: in the business's own zone, labelled, in one format.

Every staff page shows a time of a business's data with `business_time`
(or its template filter `business_time`, `booking.templatetags.business_times`):
"Mon 07 Dec 2026, 18:00 CET", the zone's abbreviation as its label and the
zone's name on hover. Pages about one business (a booking's or a session's
change form, its history) also activate that zone, so that the times Django
renders itself (read-only fields, inlines, form inputs) are in the same zone,
and the project's format module (`project/formats`) gives them this same format.
Exports are another matter: they keep UTC ISO 8601 and say so in their headers.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import dateformat
from django.utils.html import format_html
from django.utils.safestring import SafeString

from booking import clock

# Django's date-format syntax: "Mon 07 Dec 2026, 18:00 CET".
DATETIME_FORMAT = "D d M Y, H:i T"
EMPTY = "—"


def zone_of(where: Any) -> tzinfo:
    """The zone of a business, of something with a business, or a zone (name or tzinfo)."""
    if isinstance(where, tzinfo):
        return where
    if isinstance(where, str):
        return ZoneInfo(where)
    business = getattr(where, "business", where)
    return business.tzinfo


def business_time(value: datetime | None, where: Any) -> str:
    """`value` in the zone of `where`, as "Mon 07 Dec 2026, 18:00 CET"; "—" for none."""
    if value is None:
        return EMPTY
    return dateformat.format(clock.localtime(value, zone_of(where)), DATETIME_FORMAT)


def business_time_html(value: datetime | None, where: Any) -> SafeString:
    """`business_time` in a `<time>` element: the instant in ISO 8601, the zone's name on hover."""
    if value is None:
        return format_html("{}", EMPTY)
    zone = zone_of(where)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        getattr(zone, "key", str(zone)),
        business_time(value, zone),
    )
