"""The cancellation report: per business and ISO week, how many bookings were cancelled, and how.

Definitions (the README repeats them):

- a booking counts in the week its **session starts**, in the business's own
  time zone (ISO weeks, Monday to Sunday); the date range filters on that too;
- **bookings**: the week's bookings in any status, soft-deleted ones excluded;
- **cancelled by client** / **by staff**: status `cancelled`, split by
  `cancelled_by_client`;
- **of which session cancelled**: those cancelled by staff because the business
  cancelled the whole session (the session's status is `cancelled`, and the
  booking was cancelled with it or after it, not earlier at the desk);
- **late cancellation**: a client's cancellation after the booking's deadline,
  that is `cancelled_at > session start - cancellation_deadline_hours` of the
  terms it was booked under (its policy snapshot, as for its fee; the current
  settings for a booking made before snapshots). Made online or phoned in and
  recorded by the desk (a staff cancellation of one booking); the business's own
  session cancellations are never late;
- **cancellation rate**: cancellations / bookings of the week, in percent;
- **most common reasons**: the three most frequent non-empty cancellation
  reasons of the week, with their counts;
- **no-shows**: bookings marked no-show;
- the waitlist ("seats recovered"): **spots freed**, cancellations made before the
  session started (the business's own session cancellations left out: no one
  can take those spots); of the week's waitlist entries, **offered** those that
  were offered a spot (`offered_at` set; automatic enrolments are never offered),
  **claimed** those that took a spot (a claim, or an automatic enrolment: the
  seats recovered), **expired** those whose offer lapsed and **declined** those
  who passed it on. Counted from the entries' status and timestamps, which
  record their outcome: an entry is offered at most once and its status ends
  there (its history holds the same transitions, one record each);
- **fees owed** / **fees waived**: the sums of `fee_amount` of the week's
  bookings whose fee is owed / was waived, in the business's currency.

Everything is aggregated by the database: one query for the counts, one for the
reasons and one for the waitlist per distinct business time zone, whatever the
number of bookings. The waitlist counts the entries of the sessions the
report's bookings belong to (so the same scope and filters).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, TruncWeek

from booking.models import BookingRequest, BookingStatus, Business, FeeStatus, SessionStatus
from booking.waitlist.models import WaitlistEntry, WaitlistStatus

TOP_REASONS = 3

CANCELLED = Q(status=BookingStatus.CANCELLED)
# Staff cancellations because the business cancelled the whole session: those made
# with or after the session's own (a desk cancellation made earlier is not one).
BY_SESSION = CANCELLED & Q(
    Q(cancelled_at__gte=F("session__cancelled_at")) | Q(session__cancelled_at__isnull=True),
    cancelled_by_client=False,
    session__status=SessionStatus.CANCELLED,
)

# The deadline's hours of the booking's terms: its policy snapshot's, else (booked
# before snapshots) the business's current ones, as `policy.terms_of` reads them.
_hours = Coalesce(
    Cast(KT("policy_snapshot__cancellation_deadline_hours"), IntegerField()),
    F("session__business__booking_settings__cancellation_deadline_hours"),
    output_field=IntegerField(),
)
# hours * 1 hour, as a duration both SQLite and PostgreSQL subtract from a datetime.
_deadline = ExpressionWrapper(_hours * Value(timedelta(hours=1)), output_field=DurationField())
# A client's cancellation (online, or phoned in and recorded by the desk) after the
# booking's deadline; the business's own session cancellations are never late.
LATE = CANCELLED & Q(cancelled_at__gt=F("session__starts_at") - _deadline) & ~BY_SESSION
# A spot freed while someone could still take it.
FREED = CANCELLED & Q(cancelled_at__lt=F("session__starts_at")) & ~BY_SESSION


@dataclass
class WeekRow:
    business: str
    business_slug: str
    week_start: date
    bookings: int = 0
    by_client: int = 0
    by_staff: int = 0
    by_session: int = 0
    late: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)
    no_shows: int = 0
    fees_owed: Decimal = Decimal("0.00")
    fees_waived: Decimal = Decimal("0.00")
    currency: str = ""
    freed: int = 0
    offered: int = 0
    claimed: int = 0
    expired: int = 0
    declined: int = 0

    @property
    def cancellations(self) -> int:
        return self.by_client + self.by_staff

    @property
    def rate(self) -> float | None:
        """Cancellations per 100 bookings, one decimal; None for a week without bookings."""
        if not self.bookings:
            return None
        return round(100 * self.cancellations / self.bookings, 1)

    @property
    def iso_week(self) -> str:
        return iso_week_label(self.week_start)

    @property
    def starts_label(self) -> str:
        return week_start_label(self.week_start)

    @property
    def reasons_text(self) -> str:
        return "; ".join(f"{reason} ({count})" for reason, count in self.reasons)


def iso_week_label(week_start: date) -> str:
    """The week's name on the chart's axis and in the table: "2026-W49"."""
    year, week, _ = week_start.isocalendar()
    return f"{year}-W{week:02d}"


def week_start_label(week_start: date) -> str:
    """The week's Monday under its name, in the chart and the table: "30 Nov"."""
    return f"{week_start:%d %b}"


def _bounds(tz: ZoneInfo, start: date | None, end: date | None) -> Q:
    """Sessions starting on [start, end] as dates in the business's time zone."""
    condition = Q()
    if start:
        condition &= Q(session__starts_at__gte=datetime.combine(start, time.min, tzinfo=tz))
    if end:
        after = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
        condition &= Q(session__starts_at__lt=after)
    return condition


def cancellation_report(
    bookings: QuerySet[BookingRequest], *, start: date | None = None, end: date | None = None
) -> list[WeekRow]:
    """The report over `bookings` (already scoped to the user and filtered), by business and week.

    Rows are ordered by business name, then week.
    """
    bookings = bookings.filter(is_deleted=False)
    zones = (
        Business.objects.filter(pk__in=bookings.order_by().values("session__business"))
        .order_by()
        .values_list("timezone", flat=True)
        .distinct()
    )
    rows: dict[tuple[int, date], WeekRow] = {}
    for zone_name in sorted(set(zones)):
        tz = ZoneInfo(zone_name)
        in_zone = bookings.filter(_bounds(tz, start, end), session__business__timezone=zone_name)
        weekly = in_zone.annotate(week=TruncWeek("session__starts_at", tzinfo=tz)).order_by()
        counts = weekly.values(
            "week", "session__business", "session__business__name", "session__business__slug",
            "session__business__currency",
        ).annotate(
            total=Count("pk"),
            by_client=Count("pk", filter=CANCELLED & Q(cancelled_by_client=True)),
            by_staff=Count("pk", filter=CANCELLED & Q(cancelled_by_client=False)),
            by_session=Count("pk", filter=BY_SESSION),
            late=Count("pk", filter=LATE),
            freed=Count("pk", filter=FREED),
            no_shows=Count("pk", filter=Q(status=BookingStatus.NO_SHOW)),
            fees_owed=Sum("fee_amount", filter=Q(fee_status=FeeStatus.OWED)),
            fees_waived=Sum("fee_amount", filter=Q(fee_status=FeeStatus.WAIVED)),
        )  # fmt: skip
        for item in counts:
            week = _as_date(item["week"], tz)
            rows[item["session__business"], week] = WeekRow(
                business=item["session__business__name"],
                business_slug=item["session__business__slug"],
                week_start=week,
                bookings=item["total"],
                by_client=item["by_client"],
                by_staff=item["by_staff"],
                by_session=item["by_session"],
                late=item["late"],
                freed=item["freed"],
                no_shows=item["no_shows"],
                fees_owed=_money(item["fees_owed"]),
                fees_waived=_money(item["fees_waived"]),
                currency=item["session__business__currency"],
            )
        _add_reasons(rows, weekly, tz)
        _add_waitlist(rows, in_zone, tz)
    return sorted(rows.values(), key=lambda row: (row.business.casefold(), row.week_start))


def _add_reasons(rows: dict[tuple[int, date], WeekRow], weekly: QuerySet, tz: ZoneInfo) -> None:
    """The most common cancellation reasons of each row's week."""
    reasons = (
        weekly.filter(CANCELLED)
        .exclude(cancellation_reason="")
        .values("week", "session__business", "cancellation_reason")
        .annotate(count=Count("pk"))
        .order_by("-count", "cancellation_reason")
    )
    for reason in reasons:
        row = rows.get((reason["session__business"], _as_date(reason["week"], tz)))
        if row is not None and len(row.reasons) < TOP_REASONS:
            row.reasons.append((reason["cancellation_reason"], reason["count"]))


def _add_waitlist(rows: dict[tuple[int, date], WeekRow], bookings: QuerySet, tz: ZoneInfo) -> None:
    """The waitlist's counts of these bookings' sessions, into the rows of their weeks."""
    entries = WaitlistEntry.objects.filter(session__in=bookings.values("session"))
    weekly = entries.annotate(week=TruncWeek("session__starts_at", tzinfo=tz)).order_by()
    counts = weekly.values("week", "session__business").annotate(
        offered=Count("pk", filter=Q(offered_at__isnull=False)),
        claimed=Count("pk", filter=Q(status=WaitlistStatus.CLAIMED)),
        expired=Count("pk", filter=Q(status=WaitlistStatus.EXPIRED)),
        declined=Count("pk", filter=Q(status=WaitlistStatus.DECLINED)),
    )
    for item in counts:
        row = rows.get((item["session__business"], _as_date(item["week"], tz)))
        if row is not None:  # a session with entries has bookings: its row exists
            row.offered, row.claimed = item["offered"], item["claimed"]
            row.expired, row.declined = item["expired"], item["declined"]


def _money(total: Decimal | None) -> Decimal:
    return (total or Decimal(0)).quantize(Decimal("0.01"))


def _as_date(week: datetime | date, tz: ZoneInfo) -> date:
    if isinstance(week, datetime):
        return week.astimezone(tz).date() if week.tzinfo else week.date()
    return week


def by_business(rows: list[WeekRow]) -> dict[str, list[WeekRow]]:
    grouped: dict[str, list[WeekRow]] = defaultdict(list)
    for row in rows:
        grouped[row.business].append(row)
    return dict(grouped)
