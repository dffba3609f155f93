"""Concurrent moves into one session's last spot: capacity holds (PostgreSQL row locks)."""

from __future__ import annotations

import pytest

from booking.models import BookingRequest, BookingStatus
from booking.services import cancel_booking_as_client
from booking.services.lifecycle import move_bookings
from tests.booking.test_concurrency import at_once
from tests.factories import make_booking, make_business, make_session, make_staff, owner_proof

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_moves_into_one_last_spot_move_one_booking():
    business = make_business()
    staff = make_staff(businesses=(business,))
    target = make_session(business=business, title="Last spot", capacity=3)
    for n in range(2):
        make_booking(session=target, client_email=f"in{n}@example.com")
    sources = [make_session(business=business, title=f"Source {n}") for n in range(6)]
    bookings = [make_booking(session=s, client_email=f"mv{s.pk}@example.com") for s in sources]

    outcomes = at_once(
        lambda i: move_bookings(bookings[i], actor=staff, session=target.pk, notify_client=False)
    )

    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert sum(o.done_count for o in outcomes) == 1
    assert {s.reason for o in outcomes for s in o.skipped} == {"the target session is full"}
    assert BookingRequest.objects.filter(session=target).active().count() == 3


def test_a_move_into_the_last_spot_while_a_booking_there_is_cancelled_by_its_client():
    """The spot is either still taken (the move is skipped) or freed first (the move fits)."""
    business = make_business()
    staff = make_staff(businesses=(business,))
    target = make_session(business=business, capacity=1)
    occupant = make_booking(session=target, client_email="occupant@example.com")
    mover = make_booking(session=make_session(business=business), client_email="m@example.com")

    def work(i: int):
        if i % 2:
            return cancel_booking_as_client(
                reference=occupant.reference, proof=owner_proof(occupant)
            )
        return move_bookings(mover, actor=staff, session=target.pk, notify_client=False)

    outcomes = at_once(work, threads=2)

    assert not [o for o in outcomes if isinstance(o, Exception)]
    moved = BookingRequest.objects.get(pk=mover.pk).session_id == target.pk
    assert BookingRequest.objects.get(pk=occupant.pk).status == BookingStatus.CANCELLED
    assert BookingRequest.objects.filter(session=target).active().count() == (1 if moved else 0)
