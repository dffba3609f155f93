"""A bulk change's emails are written in its transaction and rendered by the worker.

The rows exist exactly when the change commits (nothing lost, the uniqueness rule
drops a duplicate); their subject and bodies are written by the worker before it
sends, from the booking as it stood when the email was queued.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking import services
from booking.emails import rendering
from booking.emails.models import EmailKind, EmailStatus, OutboxEmail
from booking.emails.outbox import sweep
from booking.models import BookingStatus
from tests.booking.outbox_support import anymail_backend, run_email_tasks
from tests.factories import make_booking, make_business, make_session, make_staff

pytestmark = pytest.mark.usefixtures(anymail_backend.__name__)


@pytest.fixture
def studio(db):
    return make_business(slug="render-studio", name="Render Studio")


@pytest.fixture
def desk(studio):
    return make_staff(username="desk", businesses=(studio,))


@pytest.fixture
def bookings(studio):
    session = make_session(business=studio, title="Evening Flow")
    return [
        make_booking(session=session, client_email=f"c{n}@example.com",
                     status=BookingStatus.APPROVED)
        for n in range(3)
    ]  # fmt: skip


def ids(bookings):
    return [booking.pk for booking in bookings]


def hand_stranded_rows_to_the_worker(capture):
    """The sweep, as after a crash (every queued row is stranded an hour later); the worker."""
    with capture(execute=True):
        sweep(now=timezone.now() + timedelta(hours=1))
    run_email_tasks()


def test_the_transaction_writes_the_rows_but_renders_nothing(bookings, desk):
    with CaptureQueriesContext(connection) as queries:
        services.cancel_bookings(ids(bookings), actor=desk, reason="Studio flooded")

    emails = list(OutboxEmail.objects.order_by("recipient"))
    assert [e.recipient for e in emails] == [b.client_email for b in bookings]
    assert all(e.status == EmailStatus.QUEUED and e.subject == "" for e in emails)
    assert all(e.render is not None for e in emails)
    inserts = [q for q in queries.captured_queries if 'INTO "booking_outboxemail"' in q["sql"]]
    assert len(inserts) == 1  # one INSERT for the batch, in the change's transaction


def test_a_crash_between_commit_and_render_still_sends_each_email_once(
    bookings, desk, django_capture_on_commit_callbacks
):
    # The change commits; its on-commit enqueue never runs (the process died).
    services.cancel_bookings(ids(bookings), actor=desk, reason="Studio flooded")
    services.cancel_bookings(ids(bookings), actor=desk, reason="Studio flooded")  # a double submit

    hand_stranded_rows_to_the_worker(django_capture_on_commit_callbacks)

    assert sorted(m.to[0] for m in mail.outbox) == [b.client_email for b in bookings]
    assert all("Studio flooded" in m.body for m in mail.outbox)
    for email in OutboxEmail.objects.all():
        assert email.status == EmailStatus.SENT and email.render is None
        assert email.subject and "Studio flooded" in email.text_body  # what was sent is kept


def test_the_email_says_what_was_true_when_it_was_queued(
    bookings, desk, django_capture_on_commit_callbacks
):
    ada = bookings[0]
    services.soft_delete_bookings(ada, actor=desk, reason="Double booking")
    # Restored before the worker got to the "removed" email: that email still tells
    # the deletion as it was (its reason), the restore sends its own.
    services.restore_bookings(ada, actor=desk, reason="Deleted by mistake")

    hand_stranded_rows_to_the_worker(django_capture_on_commit_callbacks)

    removed = OutboxEmail.objects.get(kind=EmailKind.REMOVED)
    restored = OutboxEmail.objects.get(kind=EmailKind.RESTORED)
    assert "Double booking" in removed.text_body
    assert "Deleted by mistake" in restored.text_body and "Double booking" not in restored.text_body


def test_a_purged_booking_is_rendered_from_its_final_record(
    bookings, desk, django_capture_on_commit_callbacks
):
    ada = bookings[0]
    services.purge_bookings(ada, actor=desk, reason="Spam", confirmed=True)

    hand_stranded_rows_to_the_worker(django_capture_on_commit_callbacks)

    [message] = mail.outbox
    assert message.to == [ada.client_email] and ada.reference in message.body
    assert "Spam" in message.body and "Evening Flow" in message.body


def test_rendering_a_chunk_costs_the_same_queries_whatever_its_size(studio, desk):
    session = make_session(business=studio)

    def queries_to_render(count):
        OutboxEmail.objects.all().delete()
        made = [make_booking(session=session, client_email=f"n{count}-{n}@example.com")
                for n in range(count)]  # fmt: skip
        services.cancel_bookings(ids(made), actor=desk, reason="Closed")
        rows = list(OutboxEmail.objects.all())
        with CaptureQueriesContext(connection) as queries:
            rendering.render_pending(rows)
        assert all(row.subject and row.render is None for row in rows)
        return len(queries.captured_queries)

    assert queries_to_render(2) == queries_to_render(20)


def test_a_business_that_sends_no_emails_gets_no_rows_and_no_task(
    bookings, desk, studio, django_capture_on_commit_callbacks
):
    studio.booking_settings.send_cancellation_emails = False
    studio.booking_settings.save()

    with django_capture_on_commit_callbacks() as callbacks:
        services.cancel_bookings(ids(bookings), actor=desk, reason="Closed")

    assert not OutboxEmail.objects.exists()
    assert callbacks == []  # no task enqueued for an empty batch
