"""Realistic demo data relative to now: sessions and bookings for one business.

Used by `manage.py bookings create-sessions / create-bookings`, by `manage.py demo`
(what `make run` loads) and by the benchmarks. Rows are inserted in batches with
one "+" historical record each.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import batched
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from django.db import transaction
from django.utils import timezone
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from booking.audit import RequestContext
from booking.models import (
    SEATED_STATUSES,
    BookingRequest,
    BookingStatus,
    Business,
    FeeStatus,
    Session,
    generate_reference,
)
from booking.services import exceptions as exc
from booking.services import fees, policy
from booking.services.waitlist import spots

BATCH_SIZE = 2000

TITLES = [
    "Morning Spin", "Power Yoga", "HIIT Express", "Pilates Core", "Boxing Basics",
    "Kettlebell Strength", "Zumba", "Mobility & Stretch", "Bootcamp", "Aqua Fit",
]  # fmt: skip
FIRST_NAMES = [
    "Ada", "Grace", "Alan", "Katherine", "Linus", "Margaret", "Dennis", "Barbara",
    "Ken", "Frances", "Tim", "Radia", "Edsger", "Hedy", "John", "Sophie",
]  # fmt: skip
LAST_NAMES = [
    "Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Hamilton", "Ritchie",
    "Liskov", "Thompson", "Allen", "Berners-Lee", "Perlman", "Dijkstra", "Lamarr",
]  # fmt: skip
PRICES = ["12.00", "15.00", "18.50", "20.00", "25.00"]
CANCEL_REASONS = [
    "Feeling unwell", "Work meeting came up", "Travelling that week", "Injury",
    "Booked the wrong class", "Childcare fell through",
]  # fmt: skip

# A studio's timetable, in its own time zone: (hour, minute, minutes long) by weekday.
WEEKDAY_CLASSES = [(6, 30, 45), (7, 15, 60), (9, 30, 60), (12, 15, 45), (17, 30, 60),
                   (18, 30, 60), (19, 45, 60)]  # fmt: skip
WEEKEND_CLASSES = [(8, 0, 60), (9, 30, 90), (11, 0, 60), (16, 0, 60)]
PAST_SHARE = 0.4  # of the sessions, already over; the rest are ahead (some within a day)


def day_slots(day: date, tz: ZoneInfo) -> list[tuple[datetime, timedelta]]:
    classes = WEEKEND_CLASSES if day.weekday() >= 5 else WEEKDAY_CLASSES
    return [
        (datetime.combine(day, time(hour, minute), tzinfo=tz), timedelta(minutes=length))
        for hour, minute, length in classes
    ]


def timetable(
    business: Business, *, count: int, now: datetime, rng: random.Random
) -> list[tuple[datetime, timedelta]]:
    """`count` class slots around now on the business's timetable (06:00 to 21:00 there).

    About PAST_SHARE of them already over (walking back from today), the rest ahead
    (walking forward); a few slots of each day are skipped so days differ.
    """
    tz = business.tzinfo
    today = timezone.localtime(now, tz).date()
    wanted_past = round(count * PAST_SHARE) if count > 1 else 0
    chosen: list[tuple[datetime, timedelta]] = []
    for direction, wanted in ((-1, wanted_past), (1, count - wanted_past)):
        taken, offset = 0, 0
        while taken < wanted:
            slots = day_slots(today + timedelta(days=offset * direction), tz)
            for start, length in slots[::direction]:
                over = start + length <= now
                ahead = start >= now + timedelta(hours=1)
                if taken < wanted and (over if direction < 0 else ahead) and rng.random() < 0.8:
                    chosen.append((start, length))
                    taken += 1
            offset += 1
    return sorted(chosen)


def create_sessions(
    business: Business, *, count: int, now: datetime | None = None, seed: int | None = None
) -> list[Session]:
    now = now or timezone.now()
    rng = random.Random(seed)
    sessions = [
        Session(
            business=business,
            title=rng.choice(TITLES),
            starts_at=start,
            ends_at=start + length,
            capacity=rng.choice([8, 12, 16, 20, 30]),
            price=Decimal(rng.choice(PRICES)),
        )
        for start, length in timetable(business, count=count, now=now, rng=rng)
    ]
    context = RequestContext.command("bookings create-sessions")
    with transaction.atomic():
        created = Session.objects.bulk_create(sessions, batch_size=BATCH_SIZE)
        Session.history.bulk_history_create(
            created, default_change_reason="demo data", batch_size=BATCH_SIZE,
            custom_historical_attrs=context.as_history_attrs(),
        )  # fmt: skip
    return created


US_AREA_CODES = ["212", "347", "646", "718", "917"]


def _phone(rng: random.Random, country: str) -> str:
    """A fictional number of the business's country, typed the way people type them.

    US/Canada: 555-0100…0199 (reserved for fiction); GB: 07700 900000…900999
    (Ofcom's drama range); elsewhere libphonenumber's example mobile number with
    other last digits. Some are written with the country code, most without.
    """
    if country in ("US", "CA"):
        area, line = rng.choice(US_AREA_CODES), f"01{rng.randrange(100):02d}"
        return rng.choice([f"({area}) 555-{line}", f"{area}-555-{line}", f"+1 {area} 555 {line}"])
    if country == "GB":
        line = f"{rng.randrange(1000):03d}"
        return rng.choice([f"07700 900{line}", f"+44 7700 900{line}", f"07700900{line}"])
    example = phonenumbers.example_number_for_type(country, PhoneNumberType.MOBILE)
    if example is None:
        return ""
    example.national_number = (example.national_number or 0) // 1000 * 1000 + rng.randrange(1000)
    style = rng.choice([PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL])
    return phonenumbers.format_number(example, style)


def _client(rng: random.Random, n: int, country: str = "US") -> tuple[str, str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first}.{last}.{n}@example.com".lower().replace("-", "")
    return f"{first} {last}", email, _phone(rng, country)


def fresh_references(count: int) -> list[str]:
    """`count` distinct references that no booking has yet (bulk inserts skip save()'s retry).

    Among 100 000 new references against 100 000 stored ones a collision is
    about a 1 % event: rare, but a demo or benchmark must not fail on it.
    """
    references: set[str] = set()
    while len(references) < count:
        drawn = {generate_reference() for _ in range(count - len(references))} - references
        for chunk in batched(sorted(drawn), 500):
            drawn -= set(
                BookingRequest.all_objects.filter(reference__in=chunk).values_list(
                    "reference", flat=True
                )
            )
        references |= drawn
    return list(references)


DELETION_REASONS = ["Duplicate booking", "Test booking made by the desk", "Booked twice by mistake"]
STAFF_CANCEL_REASONS = ["Client phoned the desk: unwell", "Client phoned: stuck at work"]


def _between(rng: random.Random, earliest: datetime, latest: datetime) -> datetime:
    return earliest + (latest - earliest) * rng.random() if latest > earliest else earliest


def _cancel(
    booking: BookingRequest, rng: random.Random, *, now: datetime, late: bool, desk: Any
) -> None:
    """Cancelled on time by the client online, or late (inside the deadline) by the desk."""
    start = booking.session.starts_at
    deadline = start - timedelta(
        hours=booking.session.business.booking_settings.cancellation_deadline_hours
    )
    booking.status = BookingStatus.CANCELLED
    if late and deadline < min(now, start):
        booking.cancelled_at = _between(rng, max(deadline, booking.created_at), min(now, start))
        booking.cancelled_by_client = False
        booking.cancelled_by = desk
        booking.cancellation_reason = rng.choice(STAFF_CANCEL_REASONS)
    else:
        latest = min(now, deadline, start)
        booking.cancelled_at = _between(rng, booking.created_at, latest)
        booking.cancelled_by_client = True
        booking.cancellation_reason = rng.choice(CANCEL_REASONS)


def _status(booking: BookingRequest, rng: random.Random, *, now: datetime, desk: Any) -> None:
    """A mix by session: nothing is still pending once a session has taken place."""
    past = booking.session.starts_at <= now
    roll = rng.random()
    if roll < 0.18:
        _cancel(booking, rng, now=now, late=rng.random() < (0.45 if past else 0.2), desk=desk)
    elif roll < 0.24:
        booking.status = BookingStatus.REJECTED
    elif roll < 0.5 and not past:
        booking.status = BookingStatus.PENDING
    else:
        booking.status = BookingStatus.APPROVED
    if rng.random() < 0.04:
        booking.is_deleted = True
        booking.deleted_at = _between(rng, booking.cancelled_at or booking.created_at, now)
        booking.deleted_by = desk
        booking.deletion_reason = rng.choice(DELETION_REASONS)


def build_bookings(
    sessions: list[Session],
    *,
    count: int,
    now: datetime,
    rng: random.Random,
    room: dict[int, int] | None = None,
    more: Callable[[int], list[Session]] | None = None,
) -> list[BookingRequest]:
    """Unsaved bookings with a realistic mix of statuses, cancellations and deletions,
    each with its policy snapshot, dealt to the sessions in turn.

    `room`: each session's free seats (`spots.rooms`); a full session is passed over,
    and when all are, `more(bookings still to make)` adds sessions (without it,
    InvalidInput). None: unchecked (tests filling one session on purpose).
    """
    bookings = []
    references = fresh_references(count)
    desks: dict[int, Any] = {}  # a staff member of each business, who acted at the desk
    left = dict(room) if room is not None else None
    for n in range(count):
        if left is None:
            session = sessions[n % len(sessions)]
        else:
            sessions, session = _with_room(sessions, n, left, more, count - n)
        country = session.business.country
        if session.business_id not in desks:
            desks[session.business_id] = session.business.staff.order_by("pk").first()
        name, email, phone = _client(rng, n, country)
        booking = BookingRequest(
            session=session,
            reference=references[n],
            client_name=name,
            client_email=email,
            client_phone=phone if rng.random() < 0.85 else "",
            created_at=min(now, session.starts_at) - timedelta(hours=rng.uniform(30, 24 * 14)),
        )
        booking.sync_phone(country)
        _status(booking, rng, now=now, desk=desks[session.business_id])
        if booking.status == BookingStatus.APPROVED and session.starts_at <= now:
            booking.status = (
                BookingStatus.NO_SHOW if rng.random() < 0.15 else BookingStatus.ATTENDED
            )
        if left is not None and booking.status in SEATED_STATUSES and not booking.is_deleted:
            left[session.pk] -= 1
        bookings.append(booking)
    policy.snapshot_terms(bookings)
    _record_fees(bookings)
    return bookings


def _with_room(
    sessions: list[Session],
    n: int,
    left: dict[int, int],
    more: Callable[[int], list[Session]] | None,
    remaining: int,
) -> tuple[list[Session], Session]:
    """The `n`th booking's session in turn, or the next one after it with a free seat;
    when none has one, sessions `more` adds (the sessions to deal to from now on)."""
    for step in range(len(sessions)):
        session = sessions[(n + step) % len(sessions)]
        if left[session.pk] > 0:
            return sessions, session
    if more is None:
        raise exc.InvalidInput(
            "There is no room for more bookings: every session is full (a booking holds "
            "a seat unless cancelled, rejected or deleted, as does an open waitlist offer)."
        )
    added = more(remaining)  # each of at least 8 seats: progress is certain
    left.update({session.pk: session.capacity for session in added})
    return [*sessions, *added], added[0]


def _record_fees(bookings: list[BookingRequest]) -> None:
    """The fees late cancellations and no-shows owe, by the real fee rules."""
    terms_by_snapshot: dict[int, policy.Terms] = {}  # bookings of a session share one snapshot
    for booking in bookings:
        if booking.status == BookingStatus.CANCELLED and booking.cancelled_at:
            moment = booking.cancelled_at
        elif booking.status != BookingStatus.NO_SHOW:
            continue
        key = id(booking.policy_snapshot)
        terms = terms_by_snapshot.get(key) or terms_by_snapshot.setdefault(
            key, policy.terms_of(booking)
        )
        if booking.status == BookingStatus.NO_SHOW:
            amount = fees.no_show_fee(terms)
        else:
            amount = fees.quote_cancellation(
                terms, starts_at=booking.session.starts_at, now=moment
            ).fee
        booking.fee_amount = amount
        booking.fee_status = FeeStatus.OWED if amount > 0 else FeeStatus.NONE


# A past class whose bookings show every fee outcome: (client, status, cancelled
# this many hours before the start, by the client?). Fees follow the business's tiers.
FEE_EXAMPLES = [
    ("Grace Hopper", BookingStatus.CANCELLED, 72, True),  # early: free
    ("Alan Turing", BookingStatus.CANCELLED, 36, True),  # late: a tier's fee, owed
    ("Hedy Lamarr", BookingStatus.CANCELLED, 30, True),  # late, owed, then waived
    ("Linus Torvalds", BookingStatus.CANCELLED, 6, False),  # staff, fee charged at the desk
    ("Radia Perlman", BookingStatus.NO_SHOW, None, False),  # the no-show fee
    ("Ken Thompson", BookingStatus.ATTENDED, None, False),
]
WAIVED_EXAMPLE = "Hedy Lamarr"


def create_fee_examples(business: Business, *, now: datetime | None = None) -> list[BookingRequest]:
    """One past class (20.00) with a free and two late client cancellations (one fee
    waived), a staff cancellation charged the fee, a no-show and an attendance."""
    now = now or timezone.now()
    two_days_ago = timezone.localtime(now, business.tzinfo).date() - timedelta(days=2)
    starts_at, _ = day_slots(two_days_ago, business.tzinfo)[2]  # a mid-morning class
    session = Session(
        business=business, title="Sunday Long Ride", starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90), capacity=12, price=Decimal("20.00"),
    )  # fmt: skip
    bookings = []
    for (name, status, hours, by_client), reference in zip(
        FEE_EXAMPLES, fresh_references(len(FEE_EXAMPLES)), strict=True
    ):
        booking = BookingRequest(
            session=session, reference=reference, status=status, client_name=name,
            client_email=f"{name.lower().replace(' ', '.')}@example.com",
            created_at=starts_at - timedelta(days=5),
        )  # fmt: skip
        if hours is not None:
            booking.cancelled_at = starts_at - timedelta(hours=hours)
            booking.cancelled_by_client = by_client
            booking.cancellation_reason = "Work meeting came up" if by_client else "Called the desk"
        bookings.append(booking)
    policy.snapshot_terms(bookings)
    _record_fees(bookings)
    for booking in bookings:
        if booking.client_name == WAIVED_EXAMPLE and booking.fee_status == FeeStatus.OWED:
            booking.fee_status = FeeStatus.WAIVED
            booking.fee_waived_at = now
            booking.fee_waiver_reason = "Regular client; first late cancellation forgiven"
    context = RequestContext.command("demo")
    with transaction.atomic():
        session.save()
        created = BookingRequest.all_objects.bulk_create(bookings)
        BookingRequest.history.bulk_history_create(
            created, default_change_reason="demo data", default_date=now,
            custom_historical_attrs=context.as_history_attrs(),
        )  # fmt: skip
    return created


def create_bookings(
    business: Business, *, count: int, now: datetime | None = None, seed: int | None = None
) -> list[BookingRequest]:
    """`count` demo bookings on the business's scheduled sessions, none beyond a
    session's capacity: seats are counted as the waitlist counts them, under the
    sessions' locks. When they are full (or there are none), sessions are added
    for the rest, as many as classes of about eight need."""
    now = now or timezone.now()
    context = RequestContext.command("bookings create-bookings")

    def more(remaining: int) -> list[Session]:
        # Seeded apart from the first sessions, so as not to repeat their timetable.
        again = None if seed is None else seed * 1_000_003 + remaining
        return create_sessions(business, count=max(1, remaining // 8), now=now, seed=again)

    with transaction.atomic():
        # A cancelled session takes no new bookings.
        scheduled = business.sessions.scheduled().order_by("starts_at", "pk")
        sessions = list(scheduled.select_for_update(of=("self",)))
        room = spots.rooms_among(scheduled, now=now) if sessions else {}
        bookings = build_bookings(
            sessions, count=count, now=now, rng=random.Random(seed), room=room, more=more
        )
        created = BookingRequest.all_objects.bulk_create(bookings, batch_size=BATCH_SIZE)
        BookingRequest.history.bulk_history_create(
            created, default_change_reason="demo data", batch_size=BATCH_SIZE,
            default_date=now, custom_historical_attrs=context.as_history_attrs(),
        )  # fmt: skip
    return created
