"""A bulk call commits batch by batch (`lifecycle.engine`): each batch's change, history,
emails and waitlist offers in its transaction; a failure keeps the earlier batches.

Real transactions (`transaction=True`), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from booking import services
from booking.emails.models import OutboxEmail
from booking.models import BookingRequest, BookingStatus
from booking.services import notifications, waitlist
from booking.services.lifecycle import engine
from booking.waitlist.models import WaitlistEntry, WaitlistStatus
from tests.factories import make_booking, make_session

pytestmark = pytest.mark.django_db(transaction=True)

REASON = "Studio flooded"


class Transactions:
    """The statements run in each outermost transaction, in order (an execute wrapper).

    Each `transaction.atomic()` block is kept, so that two transactions are never
    taken for one; statements outside any transaction are not listed.
    """

    def __init__(self) -> None:
        self.blocks: list[tuple[object, list[str]]] = []

    def __call__(self, execute, sql, params, many, context):
        if connection.atomic_blocks:
            block = connection.atomic_blocks[0]
            if not self.blocks or self.blocks[-1][0] is not block:
                self.blocks.append((block, []))
            self.blocks[-1][1].append(sql)
        return execute(sql, params, many, context)

    def writing(self, table: str) -> list[int]:
        """The transactions (their indexes) that update `table`."""
        return [
            n
            for n, (_, statements) in enumerate(self.blocks)
            if any(sql.startswith(f'UPDATE "{table}"') for sql in statements)
        ]


@pytest.fixture
def two_full_sessions(business, staff):
    """Two full sessions (two pending bookings each) and one client waiting for each."""
    sessions = [
        make_session(business=business, capacity=2, starts_in=timedelta(days=3 + n))
        for n in range(2)
    ]
    bookings = [
        make_booking(session=session, client_email=f"s{n}b{m}@x.org")
        for n, session in enumerate(sessions)
        for m in range(2)
    ]
    entries = [
        waitlist.join(session, client_name="Wanda", client_email=f"w{n}@x.org", actor=None)
        for n, session in enumerate(sessions)
    ]
    return bookings, entries


def status_of(instance):
    return type(instance)._base_manager.get(pk=instance.pk).status


def cancelled_with_history(booking) -> bool:
    stored = BookingRequest.all_objects.get(pk=booking.pk)
    record = stored.history.latest()
    return stored.status == BookingStatus.CANCELLED and (
        record.status,
        record.history_change_reason,
    ) == (BookingStatus.CANCELLED, REASON)


def test_a_failure_in_the_second_batch_keeps_the_first_committed_and_a_rerun_finishes(
    monkeypatch, staff, two_full_sessions
):
    bookings, entries = two_full_sessions
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)  # one session's bookings per batch
    real, calls = notifications.bookings_cancelled, []

    def fails_the_second_time(ready, **options):
        calls.append(ready)
        if len(calls) == 2:
            raise RuntimeError("the mail queue's table is gone")
        return real(ready, **options)

    monkeypatch.setattr(notifications, "bookings_cancelled", fails_the_second_time)
    ids = [booking.pk for booking in bookings]

    with pytest.raises(RuntimeError):
        services.cancel_bookings(ids, actor=staff, reason=REASON)

    # The first batch is whole: changed, recorded, its emails queued, its spot offered.
    assert all(cancelled_with_history(b) for b in bookings[:2])
    assert set(OutboxEmail.objects.values_list("booking_id", flat=True)) >= {
        b.pk for b in bookings[:2]
    }
    assert status_of(entries[0]) == WaitlistStatus.OFFERED
    # The second left no trace.
    assert [status_of(b) for b in bookings[2:]] == [BookingStatus.PENDING] * 2
    assert not OutboxEmail.objects.filter(booking_id__in=ids[2:]).exists()
    assert all(b.history.count() == 1 for b in bookings[2:])  # their creation only
    assert status_of(entries[1]) == WaitlistStatus.WAITING

    monkeypatch.setattr(notifications, "bookings_cancelled", real)
    again = services.cancel_bookings(ids, actor=staff, reason=REASON)

    assert [b.pk for b in again.done] == ids[2:]
    assert [s.reason for s in again.skipped] == ["already cancelled"] * 2
    assert all(cancelled_with_history(b) for b in bookings)
    assert [status_of(e) for e in entries] == [WaitlistStatus.OFFERED] * 2
    assert all(b.history.count() == 2 for b in bookings)  # created, cancelled once


def test_each_batch_offers_its_freed_spots_in_its_own_transaction(
    monkeypatch, staff, two_full_sessions
):
    bookings, entries = two_full_sessions
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    recorded = Transactions()

    with connection.execute_wrapper(recorded):
        result = services.cancel_bookings([b.pk for b in bookings], actor=staff, reason=REASON)

    assert result.done_count == 4
    booking_table = BookingRequest._meta.db_table
    assert recorded.writing(booking_table) == [0, 1]
    assert recorded.writing(WaitlistEntry._meta.db_table) == [0, 1]
    assert [status_of(e) for e in entries] == [WaitlistStatus.OFFERED] * 2


@pytest.mark.parametrize("batch_size", [4, 1000])
def test_a_selection_of_one_batch_or_less_is_one_transaction(
    monkeypatch, staff, two_full_sessions, batch_size
):
    bookings, _ = two_full_sessions
    monkeypatch.setattr(engine, "BATCH_SIZE", batch_size)
    recorded = Transactions()
    selection = BookingRequest.objects.filter(pk__in=[b.pk for b in bookings])

    with connection.execute_wrapper(recorded):
        result = services.cancel_bookings(selection, actor=staff, reason=REASON)

    assert result.done_count == 4
    assert len(recorded.blocks) == 1  # the selection resolved before, outside it
    assert recorded.writing(WaitlistEntry._meta.db_table) == [0]
    assert all(cancelled_with_history(b) for b in bookings)
