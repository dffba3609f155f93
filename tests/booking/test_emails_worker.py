"""The real worker: `manage.py db_worker --batch` sends what an action queued.

A transactional test, so the action commits for real, its on-commit hook
enqueues the task in django-tasks-db's table, and the worker command (run
in-process: the SQLite test database lives in memory) claims and runs it.
"""

from __future__ import annotations

import signal

import pytest
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from booking import services
from booking.emails.models import EmailStatus, OutboxEmail
from booking.models import BookingStatus
from tests.booking.outbox_support import (
    anymail_backend,
    api_error,
    provider_responses,
    sent_messages,
)
from tests.factories import make_booking, make_business, make_session, make_staff

pytestmark = pytest.mark.usefixtures(anymail_backend.__name__)

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]


def db_worker_batch():
    """`db_worker --batch`, restoring the signal handlers it installs for itself."""
    saved = {number: signal.getsignal(number) for number in SIGNALS}
    try:
        call_command("db_worker", "--batch", "--queue-name", "*", "--interval", "0",
                     "--no-startup-delay", "--no-reload", verbosity=0)  # fmt: skip
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


@pytest.mark.django_db(transaction=True)
def test_db_worker_sends_the_emails_of_a_committed_cancellation(settings):
    settings.EMAIL_RETRY_BASE_DELAY = 0  # so the retry is due at once for --batch
    business = make_business(contact_email="desk@studio.example")
    staff = make_staff(businesses=(business,))
    session = make_session(business=business)
    bookings = [make_booking(session=session, client_email=f"c{i}@example.com") for i in range(3)]

    with provider_responses(api_error(502)):  # the first send meets an outage
        result = services.cancel_bookings([b.pk for b in bookings], actor=staff, reason="Flood")
        assert result.summary() == "3 cancelled"
        assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1

        db_worker_batch()

    assert set(session.bookings.values_list("status", flat=True)) == {BookingStatus.CANCELLED}
    assert sorted(m.to[0] for m in sent_messages()) == [
        "c0@example.com",
        "c1@example.com",
        "c2@example.com",
    ]
    emails = OutboxEmail.objects.order_by("pk")
    assert [e.status for e in emails] == [EmailStatus.SENT] * 3
    assert [e.attempts for e in emails] == [2, 1, 1]  # the first was retried by a second task
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {
        TaskResultStatus.SUCCESSFUL
    }
    assert DBTaskResult.objects.count() == 2
