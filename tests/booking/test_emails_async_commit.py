"""On PostgreSQL the worker's commits while it sends (each email's `sent` mark is
one) do not wait for the WAL flush (`EMAIL_ASYNC_COMMIT`, on by default): only for
the run, only in autocommit mode, and off with the setting."""

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


def test_the_run_commits_without_waiting_for_the_flush_and_puts_the_session_back(recorded):
    ids = queue_three()

    assert delivery.deliver(ids, retry=tasks.enqueue_ids) == {"sent": 3}

    assert recorded == ["off", "off", "off"]
    assert session_setting() == "on"
    assert set(OutboxEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


def test_email_async_commit_off_waits_for_each_flush(recorded, settings):
    settings.EMAIL_ASYNC_COMMIT = False
    ids = queue_three()

    assert delivery.deliver(ids, retry=tasks.enqueue_ids) == {"sent": 3}

    assert recorded == ["on", "on", "on"]


def test_inside_a_callers_transaction_the_session_is_left_alone(recorded):
    ids = queue_three()

    with transaction.atomic():
        assert delivery.deliver(ids, retry=tasks.enqueue_ids) == {"sent": 3}

    assert recorded == ["on", "on", "on"]
    assert session_setting() == "on"
