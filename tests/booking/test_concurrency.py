"""Concurrent actions on one booking: row locks let exactly one succeed.

PostgreSQL only: SQLite has no row locks (its IMMEDIATE transactions serialise
writers instead). Each thread has its own connection, closed when it ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from booking import services
from booking.models import BookingRequest, BookingStatus
from booking.services import exceptions as exc
from booking.services.lifecycle import engine
from tests.factories import make_booking, make_business, make_session, make_staff, owner_proof

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 6


def at_once(work: Callable[[int], Any], threads: int = THREADS) -> list[Any]:
    """Run `work(i)` in `threads` threads released together; their results or exceptions."""
    start = threading.Barrier(threads)
    outcomes: list[Any] = [None] * threads

    def run(i: int) -> None:
        try:
            start.wait()
            outcomes[i] = work(i)
        except Exception as error:
            outcomes[i] = error
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not any(worker.is_alive() for worker in workers), "a thread hung"
    return outcomes


@pytest.fixture
def setup():
    staff = make_staff(username="desk")
    business = make_business(staff=(staff,))
    return staff, make_session(business=business)


@pytest.mark.parametrize("action", ["cancel", "soft_delete", "approve"])
def test_one_booking_many_staff_threads_exactly_one_succeeds(setup, action):
    staff, session = setup
    booking = make_booking(session=session)

    outcomes = at_once(
        lambda i: services.ACTIONS[action].service([booking.pk], actor=staff, reason=f"t{i}")
    )

    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert sum(result.done_count for result in outcomes) == 1
    assert sum(result.skipped_count for result in outcomes) == THREADS - 1
    assert BookingRequest.history.filter(id=booking.pk, history_type="~").count() == 1


def test_client_and_staff_cancelling_at_once_exactly_one_succeeds(setup):
    staff, session = setup
    booking = make_booking(session=session)

    def cancel(i: int) -> bool:
        if i % 2:
            services.cancel_booking_as_client(
                reference=booking.reference, proof=owner_proof(booking)
            )
            return True
        return services.cancel_bookings([booking.pk], actor=staff).done_count == 1

    outcomes = at_once(cancel)

    assert outcomes.count(True) == 1
    assert all(
        o is False or isinstance(o, exc.InvalidTransition) for o in outcomes if o is not True
    )
    assert BookingRequest.all_objects.get(pk=booking.pk).status == BookingStatus.CANCELLED
    assert BookingRequest.history.filter(id=booking.pk, history_type="~").count() == 1


def test_overlapping_bulk_calls_do_not_deadlock(setup, monkeypatch):
    """Locks are taken in primary-key order, in batches, so overlapping selections queue."""
    staff, session = setup
    monkeypatch.setattr(engine, "BATCH_SIZE", 25)  # many lock rounds per call
    ids = [make_booking(session=session).pk for _ in range(150)]
    # Each thread names its bookings in a different order: the service sorts them.
    selections = [ids[:100], list(reversed(ids[50:])), ids[::2], list(reversed(ids))]

    outcomes = at_once(
        lambda i: services.soft_delete_bookings(selections[i], actor=staff, reason="overlap"),
        threads=len(selections),
    )

    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert sum(result.done_count for result in outcomes) == 150
    assert BookingRequest.all_objects.deleted().count() == 150
    assert BookingRequest.history.filter(history_type="~").count() == 150


def test_a_booking_restored_while_a_purge_waits_for_it_is_not_purged(setup):
    """The caller's filters ("the deleted ones") are checked again once the lock is granted."""
    staff, session = setup
    booking = make_booking(session=session)
    services.soft_delete_bookings([booking.pk], actor=staff, reason="duplicate")
    restoring = threading.Event()

    def work(i: int) -> Any:
        if i == 0:  # restores the booking, holding its lock a while
            with transaction.atomic():
                BookingRequest.all_objects.select_for_update().get(pk=booking.pk)
                BookingRequest.all_objects.filter(pk=booking.pk).update(is_deleted=False)
                restoring.set()
                time.sleep(0.5)
            return None
        restoring.wait(10)
        return services.purge_bookings(
            BookingRequest.all_objects.deleted(), actor=staff, reason="retention", confirmed=True
        )

    _, purge = at_once(work, threads=2)

    assert not isinstance(purge, Exception), purge
    assert purge.done_count == 0
    assert BookingRequest.objects.filter(pk=booking.pk).exists()
