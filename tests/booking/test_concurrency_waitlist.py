"""Cancels, claims, declines and expiry racing on one full session (PostgreSQL row locks).

Threads cancel bookings, claim and decline whatever offer they find, and run the
expiry with a clock past every window, all at once, while a watcher reads, in
single statements, the session's active bookings and open offers. Whatever the
interleaving: active bookings plus open offers never exceed the capacity, no
entry is offered twice, and each claim makes exactly one booking.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from booking.emails.models import EmailKind, OutboxEmail
from booking.models import BookingRequest, BookingStatus
from booking.services import cancel_booking_as_client, cancel_bookings, links, waitlist
from booking.services import exceptions as exc
from booking.waitlist.models import WaitlistEntry, WaitlistStatus
from tests.booking.test_concurrency import at_once
from tests.factories import (
    ALL_BOOKING_PERMISSIONS,
    make_booking,
    make_business,
    make_session,
    make_staff,
    owner_proof,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CAPACITY = 4
WAITING = 10
RUN_FOR = 3.0  # seconds of racing

HELD = """
SELECT
  (SELECT count(*) FROM booking_bookingrequest
    WHERE session_id = %(s)s AND NOT is_deleted AND status IN ('pending', 'approved')),
  (SELECT count(*) FROM booking_waitlistentry
    WHERE session_id = %(s)s AND status = 'offered' AND offer_expires_at > %(now)s)
"""


def held(session_id: int) -> tuple[int, int]:
    """Active bookings and open offers, read in one statement (one snapshot)."""
    with connection.cursor() as cursor:
        cursor.execute(HELD, {"s": session_id, "now": timezone.now()})
        return cursor.fetchone()


def answer(action, session_id: int, deadline: float) -> list[str]:
    """Claim (or decline) every open offer in sight until the deadline."""
    outcomes = []
    while time.monotonic() < deadline:
        offers = WaitlistEntry.objects.filter(session_id=session_id).holding(now=timezone.now())
        for entry in offers:
            try:
                action(entry.reference, token=links.make_claim_token(entry))
                outcomes.append("done")
            except exc.BookingError as error:
                outcomes.append(type(error).__name__)
        time.sleep(0.01)
    return outcomes


def test_cancels_claims_declines_and_expiry_racing_never_overbook():
    business = make_business()
    staff = make_staff(businesses=(business,))
    session = make_session(business=business, capacity=CAPACITY, starts_in=timedelta(days=2))
    occupants = [
        make_booking(session=session, status=BookingStatus.APPROVED, client_email=f"o{n}@x.org")
        for n in range(CAPACITY)
    ]
    for n in range(WAITING):
        waitlist.join(session, client_name=f"W{n}", client_email=f"w{n}@x.org", actor=None)
        time.sleep(0.001)  # distinct created_at: the queue's order is unambiguous
    deadline = time.monotonic() + RUN_FOR
    seen: list[tuple[int, int]] = []

    def work(i: int):
        if i == 0:  # the watcher
            while time.monotonic() < deadline:
                seen.append(held(session.pk))
            return "watched"
        if i in (1, 2):  # clients cancelling, one after the other
            mine = occupants[i - 1 :: 2]
            for booking in mine:
                cancel_booking_as_client(reference=booking.reference, proof=owner_proof(booking))
                time.sleep(0.2)
            return "cancelled"
        if i == 3:  # staff cancelling bookings that claims made: their spots go round again
            time.sleep(RUN_FOR / 2)
            claims = BookingRequest.objects.filter(session=session, client_email__startswith="w")
            return cancel_bookings(
                list(claims.active().values_list("pk", flat=True)[:2]), actor=staff
            )
        if i in (4, 5):
            return answer(waitlist.claim, session.pk, deadline)
        if i == 6:
            return answer(waitlist.decline, session.pk, deadline)
        # the expiry, with a clock past every window (each offer it makes then is open);
        # every 0.2 s, so that on a loaded machine claims still get some offers first
        count = 0
        while time.monotonic() < deadline:
            count += waitlist.expire_offers(now=timezone.now() + timedelta(hours=13))
            time.sleep(0.2)
        return count

    outcomes = at_once(work, threads=8)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert len(seen) > 10
    assert all(active <= CAPACITY for active, _ in seen), max(seen)
    assert all(active + offers <= CAPACITY for active, offers in seen), max(seen, key=sum)
    # No entry offered twice: one offer email each, at most.
    offers = Counter(
        OutboxEmail.objects.filter(kind=EmailKind.WAITLIST_OFFER).values_list(
            "reference", flat=True
        )
    )
    assert offers and max(offers.values()) == 1
    # Each claim made exactly one booking, for its own client, in the session.
    claimed = WaitlistEntry.objects.filter(status=WaitlistStatus.CLAIMED).select_related("booking")
    assert claimed.exists()
    from_waitlist = BookingRequest.objects.filter(client_email__startswith="w")
    assert from_waitlist.count() == claimed.count()
    for entry in claimed:
        assert entry.booking.client_email == entry.client_email
        assert entry.booking.session_id == session.pk
    assert BookingRequest.objects.filter(session=session).active().count() <= CAPACITY


def test_paths_that_lock_sessions_and_bookings_never_deadlock():
    """Moves in opposite directions, a client's cancel and the session's cancellation,
    at once: sessions are always locked before bookings, in primary-key order."""
    business = make_business()
    staff = make_staff(
        businesses=(business,), permissions=[*ALL_BOOKING_PERMISSIONS, "cancel_session"]
    )
    a, b = (make_session(business=business, capacity=5) for _ in range(2))
    in_a = [make_booking(session=a, client_email=f"a{n}@x.org") for n in range(2)]
    in_b = [make_booking(session=b, client_email=f"b{n}@x.org") for n in range(2)]
    from booking.services.lifecycle import move_bookings
    from booking.services.sessions import cancel_sessions

    def work(i: int):
        if i == 0:
            return move_bookings(in_a[0], actor=staff, session=b.pk, notify_client=False)
        if i == 1:
            return move_bookings(in_b[0], actor=staff, session=a.pk, notify_client=False)
        if i == 2:
            return cancel_booking_as_client(reference=in_a[1].reference, proof=owner_proof(in_a[1]))
        return cancel_sessions([b.pk], actor=staff, reason="Flooded")

    outcomes = at_once(work, threads=4)

    # A move into the session being cancelled may be refused (409); a deadlock would
    # be a database error.
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert all(isinstance(o, exc.InvalidTransition) for o in errors), outcomes


def test_auto_enrolment_restores_and_moves_in_racing_never_overbook():
    """In `auto` mode a freed spot is booked at once; restores and moves want it too."""
    from booking.services import restore_bookings, soft_delete_bookings
    from booking.services.lifecycle import move_bookings
    from booking.waitlist.models import WaitlistMode

    business = make_business(waitlist_mode=WaitlistMode.AUTO)
    staff = make_staff(businesses=(business,))
    session = make_session(business=business, capacity=3, starts_in=timedelta(days=2))
    occupants = [
        make_booking(session=session, status=BookingStatus.APPROVED, client_email=f"o{n}@x.org")
        for n in range(3)
    ]
    deleted = [
        make_booking(session=session, status=BookingStatus.APPROVED, client_email=f"r{n}@x.org")
        for n in range(2)
    ]
    soft_delete_bookings([b.pk for b in deleted], actor=None, reason="by mistake")
    elsewhere = make_session(business=business, capacity=10)
    movers = [make_booking(session=elsewhere, client_email=f"m{n}@x.org") for n in range(3)]
    # One client waits: of the three spots freed, two go to restores and moves, racing.
    waitlist.join(session, client_name="W", client_email="w@x.org", actor=None)
    deadline = time.monotonic() + RUN_FOR
    seen: list[tuple[int, int]] = []

    def keep_trying(call) -> int:
        done = 0
        while time.monotonic() < deadline:
            done += call().done_count
            time.sleep(0.02)
        return done

    def work(i: int):
        if i == 0:
            while time.monotonic() < deadline:
                seen.append(held(session.pk))
            return "watched"
        if i == 1:
            for booking in occupants:
                cancel_bookings([booking.pk], actor=staff)
                time.sleep(0.3)
            return "cancelled"
        if i == 2:
            return keep_trying(lambda: restore_bookings([b.pk for b in deleted], actor=staff))
        if i == 3:
            return keep_trying(
                lambda: move_bookings(
                    [m.pk for m in movers], actor=staff, session=session.pk, notify_client=False
                )
            )
        count = 0
        while time.monotonic() < deadline:
            count += waitlist.expire_offers()
            time.sleep(0.05)
        return count

    outcomes = at_once(work, threads=5)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert len(seen) > 10
    assert all(active <= 3 for active, _ in seen), max(seen)
    assert BookingRequest.objects.filter(session=session).active().count() == 3
    claimed = WaitlistEntry.objects.filter(status=WaitlistStatus.CLAIMED)
    from_waitlist = BookingRequest.objects.filter(session=session, client_email__startswith="w")
    assert from_waitlist.count() == claimed.count() == 1
    assert outcomes[2] + outcomes[3] == 2  # restored and moved in: the two other spots
