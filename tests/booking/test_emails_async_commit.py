"""On PostgreSQL each email's `sent` mark commits without waiting for the WAL flush
(`EMAIL_ASYNC_COMMIT`, on by default): its own UPDATE turns the wait off for its
own transaction only, so the session (perhaps a pooler's, shared) is never changed;
not inside a caller's transaction, and not with the setting off."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from booking import services
from booking.emails import delivery, tasks
from booking.emails.models import EmailStatus, OutboxEmail
from tests.booking.worker_backends import RecordingBackend
from tests.factories import make_booking, make_business, make_session, make_staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def recorded(settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.booking.worker_backends.RecordingBackend"}}
    RecordingBackend.seen = []
    return RecordingBackend.seen


def queue_three() -> list[int]:
    business = make_business()
    session = make_session(business=business)
    bookings = [make_booking(session=session, client_email=f"c{i}@example.com") for i in range(3)]
    services.cancel_bookings([b.pk for b in bookings], actor=make_staff(businesses=(business,)))
    return list(OutboxEmail.objects.order_by("pk").values_list("pk", flat=True))


def session_setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def deliver_marks(ids: list[int]) -> list[str]:
    """Deliver `ids`; the statements that marked rows `sent`."""
    marks: list[str] = []

    def capture(execute, sql, params, many, context):
        if sql.startswith("UPDATE") and EmailStatus.SENT in (params or ()):
            marks.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        assert delivery.deliver(ids, retry=tasks.enqueue_ids) == {"sent": 3}
    assert set(OutboxEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
    return marks


def test_the_clause_turns_the_flush_wait_off_for_its_own_statement_only():
    with connection.cursor() as cursor:
        setting = "current_setting('synchronous_commit')"
        cursor.execute(f"SELECT {setting} FROM {delivery.NO_FLUSH_WAIT}")
        assert cursor.fetchone()[0] == "off"
    assert session_setting() == "on"


def test_each_mark_commits_without_waiting_for_the_flush_and_the_session_is_untouched(recorded):
    marks = deliver_marks(queue_three())

    assert len(marks) == 3
    assert all(delivery.NO_FLUSH_WAIT in sql for sql in marks)
    assert recorded == ["on", "on", "on"]
    assert session_setting() == "on"


def test_email_async_commit_off_waits_for_each_flush(recorded, settings):
    settings.EMAIL_ASYNC_COMMIT = False

    marks = deliver_marks(queue_three())

    assert len(marks) == 3
    assert not any(delivery.NO_FLUSH_WAIT in sql for sql in marks)


def test_inside_a_callers_transaction_its_commit_is_left_alone(recorded):
    ids = queue_three()

    with transaction.atomic():
        marks = deliver_marks(ids)

    assert len(marks) == 3
    assert not any(delivery.NO_FLUSH_WAIT in sql for sql in marks)
    assert session_setting() == "on"
