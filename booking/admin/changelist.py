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
  rows) gets exact periods from the read that counts it (`count_with_days`:
  the capped rows grouped by day), instead of Django's two more passes.

- `ActionFirstChangeList` leaves the page's rows and count unread on an action's
  POST: Django builds the change list before it runs the action (for its
  queryset), so a bulk cancel paid for a count and a page nobody sees.

Search needs no code here: the admin matches its words against the searched
fields joined into one text (`booking.search`), which one trigram index serves
on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import F, Max, Min
from django.db.models.functions import TruncDay
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property

from booking import clock
from booking.admin.strict import StrictChangeList
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
        if isinstance(self.object_list, ChangeListQuerySet):
            # One read gives the count and, for a short list, its date hierarchy.
            capped = self.object_list.count_with_days(COUNT_CAP + 1)
        else:
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


class ActionFirstChangeList(StrictChangeList):
    """A change list that reads its page only when something shows it.

    On an action's POST, Django builds the change list for the action's queryset
    and then redirects: the page's count (up to `COUNT_CAP` rows read) and rows
    were read for nothing. Here `get_results` waits until one of the attributes
    it sets is first read, so a POST that falls through to the list (no action
    chosen, nothing ticked) still gets them, and an action's never reads them.
    """

    # What Django's `ChangeList.get_results` sets.
    RESULTS = frozenset(
        {"result_count", "show_full_result_count", "show_admin_actions", "full_result_count",
         "result_list", "can_show_all", "multi_page", "paginator"}
    )  # fmt: skip

    def get_results(self, request: Any) -> None:
        if request.method == "POST" and "action" in request.POST:
            self.__dict__["_pending_results"] = request
            return
        super().get_results(request)

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not set: the results' before they are read.
        if name in self.RESULTS and "_pending_results" in self.__dict__:
            super().get_results(self.__dict__.pop("_pending_results"))
            return getattr(self, name)
        raise AttributeError(name)


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
    # A short list's session starts, the earliest of each day (`count_with_days`).
    _day_starts: list[datetime] | None = None

    def _clone(self) -> Any:
        clone = super()._clone()  # type: ignore[misc]
        clone.known_count = self.known_count  # a clone of an empty list is empty
        return clone

    def _fetch_all(self) -> None:
        # Django lists a one-page list without LIMIT, and the planner may not know it
        # is empty (a business filter the user may not see): the count said so.
        if self.known_count == 0 and self._result_cache is None:
            self._result_cache = []
        super()._fetch_all()

    def count_with_days(self, limit: int) -> int:
        """The rows of this list, up to `limit`, read once: how many, and (kept for the
        date hierarchy) the earliest session start of each day they fall on, in the
        current time zone. One `GROUP BY` over the capped rows."""
        zone = timezone.get_current_timezone() if settings.USE_TZ else None
        capped = (
            self.order_by()
            .annotate(hierarchy_start=F(HIERARCHY), hierarchy_day=TruncDay(HIERARCHY, tzinfo=zone))
            .values_list("hierarchy_start", "hierarchy_day")[:limit]
        )
        connection = connections[self.db]
        try:
            sql, params = capped.query.get_compiler(self.db).as_sql()
        except EmptyResultSet:  # `none()`, or a filter that can match nothing
            self._day_starts = []
            return 0
        quote = connection.ops.quote_name
        start, day = quote("hierarchy_start"), quote("hierarchy_day")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT MIN(capped.{start}), COUNT(*) FROM ({sql}) capped GROUP BY capped.{day}",
                params,
            )
            rows = cursor.fetchall()
        count = sum(n for _, n in rows)
        if count < limit:
            self._day_starts = sorted(_as_datetime(value) for value, _ in rows if value)
        return count

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
            if self._day_starts is not None:
                days = self._day_starts
                self._session_range = (days[0], days[-1]) if days else (None, None)
            elif self.is_short:
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
        if field_name != HIERARCHY or kind not in ("year", "month", "day"):
            return super().datetimes(field_name, kind, order, tzinfo)
        zone = tzinfo or (timezone.get_current_timezone() if settings.USE_TZ else None)
        if self._day_starts is not None and tzinfo is None:
            found = sorted({_period(start, kind, zone) for start in self._day_starts})
            return found if order == "ASC" else found[::-1]
        if self.is_short:
            return super().datetimes(field_name, kind, order, tzinfo)
        first, last = self.session_range()
        if first is None or last is None:
            return []
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


def _as_datetime(value: Any) -> datetime:
    """A session start as the database returned it (SQLite: text in UTC)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if settings.USE_TZ and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def _period(start: datetime, kind: str, zone: Any) -> datetime:
    """The start of the year, month or day of `start`, in `zone`."""
    local = clock.localtime(start, zone) if zone is not None else start
    day = local.date()
    day = day.replace(month=1, day=1) if kind == "year" else day
    day = day.replace(day=1) if kind == "month" else day
    naive = datetime(day.year, day.month, day.day)
    return timezone.make_aware(naive, zone) if zone is not None else naive


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
