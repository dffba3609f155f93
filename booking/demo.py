"""Realistic demo data relative to now: sessions and bookings for one business.

Used by `manage.py bookings create-sessions / create-bookings`, by `manage.py demo`
(what `make run` loads) and by the benchmarks. Rows are inserted in batches with
one "+" historical record each.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import batched

from django.db import transaction
from django.utils import timezone

from booking.audit import RequestContext
from booking.models import (
    BookingRequest,
    BookingStatus,
    Business,
    FeeStatus,
    Session,
    generate_reference,
)
from booking.services import fees, policy

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

# Where sessions fall relative to now: (share, earliest, latest) offsets in hours.
SESSION_SPREAD = [
    (0.15, -24 * 14, -2),  # past
    (0.15, 1, 23),  # inside a 24-hour cancellation deadline
    (0.70, 26, 24 * 30),  # comfortably ahead
]


def _at_quarter_hour(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def _session_offset_hours(rng: random.Random) -> float:
    point = rng.random()
    for share, earliest, latest in SESSION_SPREAD:
        if point < share:
            return rng.uniform(earliest, latest)
        point -= share
    _, earliest, latest = SESSION_SPREAD[-1]  # the shares' rounding left a sliver
    return rng.uniform(earliest, latest)


def create_sessions(
    business: Business, *, count: int, now: datetime | None = None, seed: int | None = None
) -> list[Session]:
    now = now or timezone.now()
    rng = random.Random(seed)
    sessions = []
    for i in range(count):
        starts_at = _at_quarter_hour(now + timedelta(hours=_session_offset_hours(rng)))
        duration = timedelta(minutes=rng.choice([45, 60, 90]))
        sessions.append(
            Session(
                business=business,
                title=TITLES[i % len(TITLES)],
                starts_at=starts_at,
                ends_at=starts_at + duration,
                capacity=rng.choice([8, 12, 16, 20, 30]),
                price=Decimal(rng.choice(PRICES)),
            )
        )
    context = RequestContext.command("bookings create-sessions")
    with transaction.atomic():
        created = Session.objects.bulk_create(sessions, batch_size=BATCH_SIZE)
        Session.history.bulk_history_create(
            created, default_change_reason="demo data", batch_size=BATCH_SIZE,
            custom_historical_attrs=context.as_history_attrs(),
        )  # fmt: skip
    return created


def _client(rng: random.Random, n: int) -> tuple[str, str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first}.{last}.{n}@example.com".lower().replace("-", "")
    phone = f"+44 7700 9{rng.randrange(10**5):05d}"
    return f"{first} {last}", email, phone


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


def build_bookings(
    sessions: list[Session], *, count: int, now: datetime, rng: random.Random
) -> list[BookingRequest]:
    """Unsaved bookings with a realistic mix of statuses, each with its policy snapshot."""
    bookings = []
    references = fresh_references(count)
    for n in range(count):
        session = sessions[n % len(sessions)]
        name, email, phone = _client(rng, n)
        roll = rng.random()
        booking = BookingRequest(
            session=session,
            reference=references[n],
            client_name=name,
            client_email=email,
            client_phone=phone if rng.random() < 0.8 else "",
            created_at=min(now, session.starts_at) - timedelta(days=rng.uniform(1, 20)),
        )
        if roll < 0.35:
            booking.status = BookingStatus.PENDING
        elif roll < 0.85:
            booking.status = BookingStatus.APPROVED
        elif roll < 0.92:
            booking.status = BookingStatus.REJECTED
        else:
            booking.status = BookingStatus.CANCELLED
            # Some days to just over a day before the start (the online deadline
            # is a day): the last stretch falls into a late-cancellation tier.
            moment = session.starts_at - timedelta(hours=rng.uniform(24.5, 96))
            booking.cancelled_at = max(min(moment, now), booking.created_at + timedelta(hours=1))
            booking.cancelled_by_client = True
            booking.cancellation_reason = rng.choice(CANCEL_REASONS)
        if booking.status == BookingStatus.APPROVED and session.starts_at <= now:
            booking.status = (
                BookingStatus.NO_SHOW if rng.random() < 0.15 else BookingStatus.ATTENDED
            )
        bookings.append(booking)
    policy.snapshot_terms(bookings)
    _record_fees(bookings)
    return bookings


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
    starts_at = _at_quarter_hour(now - timedelta(days=2))
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
    now = now or timezone.now()
    sessions = list(business.sessions.order_by("starts_at"))
    if not sessions:
        sessions = create_sessions(business, count=max(1, count // 8), now=now, seed=seed)
    bookings = build_bookings(sessions, count=count, now=now, rng=random.Random(seed))
    context = RequestContext.command("bookings create-bookings")
    with transaction.atomic():
        created = BookingRequest.all_objects.bulk_create(bookings, batch_size=BATCH_SIZE)
        BookingRequest.history.bulk_history_create(
            created, default_change_reason="demo data", batch_size=BATCH_SIZE,
            default_date=now, custom_historical_attrs=context.as_history_attrs(),
        )  # fmt: skip
    return created
