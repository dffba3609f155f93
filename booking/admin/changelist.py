"""What keeps the booking change list fast at a chain's scale (a million bookings).

Django's change list costs, per page, a `COUNT(*)` of the filtered rows (for
the paginator) and, for the date hierarchy, a MIN/MAX and a `DISTINCT` date
truncation over every listed row. Both read every row however few are shown.
Here:

- `CappedCountPaginator` counts at most `COUNT_CAP` rows exactly; beyond that
  the list is "about N" rows, N being PostgreSQL's estimate (`EXPLAIN`), so
  the unfiltered list never counts its million rows. SQLite, which keeps no
  statistics, counts exactly.
- `ChangeListQuerySet` answers a long list's date hierarchy from its first
  and last session time (two `LIMIT 1` queries, each an index range): it
  offers every year, month or day between them. A period without bookings
  (a studio closed in August) would be offered too and list nothing: the
  price of not reading a long list whole. A short list (at most `COUNT_CAP`
  rows) gets Django's exact queries, which read its rows.

Search needs no code here: on PostgreSQL, trigram indexes on the searched
columns (migration 0006) serve Django's `icontains` search as it is.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Literal

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.functional import cached_property

from booking import clock
from booking.models import BookingQuerySet

# Rows counted exactly; a longer list shows the planner's estimate.
COUNT_CAP = 10_000
HIERARCHY = "session__starts_at"


class CappedCountPaginator(Paginator):
    """A paginator whose count reads at most COUNT_CAP + 1 rows.

    `estimated` tells the template to say "about". A page past the estimate's
    end is empty rather than an error, since the estimate may be high.
    """

    estimated = False

    @cached_property
    def count(self) -> int:
        queryset: Any = self.object_list.order_by()  # type: ignore[attr-defined]
        capped = queryset[: COUNT_CAP + 1].count()
        if capped <= COUNT_CAP:
            count = capped
        elif connections[queryset.db].vendor != "postgresql":
            count = queryset.count()
        else:
            self.estimated = True
            count = max(planned_rows(queryset), capped)
        # The list's date hierarchy picks its queries by the list's length.
        if isinstance(self.object_list, ChangeListQuerySet):
            self.object_list.known_count = count
        return count

    def validate_number(self, number: Any) -> int:
        if not (self.count and self.estimated):
            return super().validate_number(number)
        try:  # any page from 1 on
            page = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if page < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return page

    def page(self, number: Any) -> Any:
        if not self.estimated:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return Page(self.object_list[bottom : bottom + self.per_page], number, self)


def planned_rows(queryset: Any) -> int:
    """PostgreSQL's estimate of the rows `queryset` returns (reads no row)."""
    plan = json.loads(queryset.values("pk").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


class ChangeListQuerySet(BookingQuerySet):
    """Bookings whose date hierarchy (on their session's start) reads few rows.

    Django's `date_hierarchy` tag asks the list for `aggregate(first=Min(f),
    last=Max(f))` and then `datetimes(f, kind)`; for a long list both are
    answered without reading its rows (see the module docstring). Periods are
    in the current time zone, as Django's are.
    """

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if not args and _is_hierarchy_range(kwargs):
            first, last = self.session_range()
            return {"first": first, "last": last}
        return super().aggregate(*args, **kwargs)

    # Rows in this list, when a CappedCountPaginator counted them.
    known_count: int | None = None

    @property
    def is_short(self) -> bool:
        """Whether Django's own queries (which read every listed row) are cheap here.

        A short list is read whole faster than probed in order (a probe walks the
        index until a row matches, which for a rare match is most of the table).
        """
        return self.known_count is None or self.known_count <= COUNT_CAP

    def session_range(self) -> tuple[datetime | None, datetime | None]:
        """The earliest and latest session start among these bookings."""
        if not hasattr(self, "_session_range"):
            if self.is_short:
                found = super().aggregate(first=Min(HIERARCHY), last=Max(HIERARCHY))
                self._session_range = (found["first"], found["last"])
            else:
                starts = self.values_list(HIERARCHY, flat=True)
                first = starts.order_by(HIERARCHY).first()
                last = starts.order_by(f"-{HIERARCHY}").first()
                self._session_range = (first, last)
        return self._session_range

    def datetimes(
        self,
        field_name: str,
        kind: Literal["year", "month", "week", "day", "hour", "minute", "second"],
        order: Literal["ASC", "DESC"] = "ASC",
        tzinfo: tzinfo | None = None,
    ) -> Any:
        if field_name != HIERARCHY or kind not in ("year", "month", "day") or self.is_short:
            return super().datetimes(field_name, kind, order, tzinfo)
        first, last = self.session_range()
        if first is None or last is None:
            return []
        zone = tzinfo or (timezone.get_current_timezone() if settings.USE_TZ else None)
        found = _periods(first, last, kind, zone)
        return found if order == "ASC" else found[::-1]


def _is_hierarchy_range(kwargs: dict[str, Any]) -> bool:
    first, last = kwargs.get("first"), kwargs.get("last")
    return (
        set(kwargs) == {"first", "last"}
        and isinstance(first, Min)
        and isinstance(last, Max)
        and all(getattr(e, "name", None) == HIERARCHY for e in first.source_expressions)
        and all(getattr(e, "name", None) == HIERARCHY for e in last.source_expressions)
    )


def _periods(first: datetime, last: datetime, kind: str, zone: Any) -> list[datetime]:
    """The starts of the years, months or days from `first` to `last`, in `zone`."""
    if zone is not None:
        first, last = clock.localtime(first, zone), clock.localtime(last, zone)

    def moment(day: date) -> datetime:
        naive = datetime(day.year, day.month, day.day)
        return timezone.make_aware(naive, zone) if zone is not None else naive

    if kind == "year":
        return [moment(date(year, 1, 1)) for year in range(first.year, last.year + 1)]
    starts: list[datetime] = []
    day = first.date().replace(day=1) if kind == "month" else first.date()
    while day <= last.date():
        starts.append(moment(day))
        day = (day + timedelta(days=32)).replace(day=1) if kind == "month" else day + timedelta(1)
    return starts
