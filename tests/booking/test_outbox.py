"""Durable delivery: booking.emails.outbox, .delivery and .tasks.

Actions run through the real lifecycle services; their on-commit hooks run via
`django_capture_on_commit_callbacks(execute=True)` (or are dropped, to stand
for a crash after the commit); tasks run with django-tasks-db's worker code
(`run_email_tasks`, one round per call) into Anymail's test backend, scripted
to fail through its `anymail_test_response` hook.
"""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from anymail.exceptions import (
    AnymailAPIError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
    AnymailUnsupportedFeature,
)
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from booking import services
from booking.emails import delivery, outbox, tasks
from booking.emails.models import EmailKind, EmailStatus, OutboxEmail
from booking.emails.tasks import send_batch
from booking.models import BookingRequest, BookingStatus
from booking.services import notifications
from tests.booking.outbox_support import (
    anymail_backend,
    api_error,
    provider_responses,
    refused,
    run_email_tasks,
    sent_messages,
)
from tests.factories import make_booking, make_session

pytestmark = pytest.mark.usefixtures(anymail_backend.__name__)


def cancel(booking, staff, **kwargs):
    return services.cancel_bookings(booking, actor=staff, reason="Closed for repairs", **kwargs)


@pytest.fixture
def cancelled(booking, staff, django_capture_on_commit_callbacks):
    """A staff cancellation whose email is queued and whose task is enqueued."""
    with django_capture_on_commit_callbacks(execute=True):
        cancel(booking, staff)
    return OutboxEmail.objects.get()


def retry_tasks():
    return DBTaskResult.objects.filter(task_path="booking.emails.tasks.send_emails")


# --- Classification of provider errors (no database) -------------------------


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (AnymailAPIError("no response", status_code=None), True),
        (AnymailAPIError("server error", status_code=500), True),
        (AnymailAPIError("unavailable", status_code=503), True),
        (AnymailAPIError("slow down", status_code=429), True),
        (AnymailRequestsAPIError("connection reset"), True),
        (ConnectionError("refused"), True),
        (TimeoutError(), True),
        (smtplib.SMTPServerDisconnected("bye"), True),
        (smtplib.SMTPResponseException(451, b"try later"), True),
        (AnymailAPIError("bad request", status_code=400), False),
        (AnymailAPIError("bad token", status_code=401), False),
        (AnymailAPIError("inactive recipient", status_code=422), False),
        (AnymailRecipientsRefused(), False),
        (AnymailInvalidAddress("not an address"), False),
        (AnymailUnsupportedFeature("attachments"), False),
        (smtplib.SMTPRecipientsRefused({"a@b.c": (550, b"no such user")}), False),
        (smtplib.SMTPResponseException(554, b"rejected"), False),
    ],
)
def test_is_transient(error, transient):
    assert delivery.is_transient(error) is transient


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (20, 3600)]
)
def test_backoff_doubles_from_the_base_delay_up_to_an_hour(settings, attempts, seconds):
    settings.EMAIL_RETRY_BASE_DELAY = 30
    assert delivery.backoff(attempts) == timedelta(seconds=seconds)


# --- Transactions --------------------------------------------------------------


def test_nothing_is_queued_or_sent_for_a_rolled_back_action(
    booking, staff, django_capture_on_commit_callbacks
):
    class Abort(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        cancel(booking, staff)
        assert OutboxEmail.objects.count() == 1  # written with the change…
        raise Abort
    assert callbacks == []
    assert not OutboxEmail.objects.exists()  # …and gone with it
    assert not DBTaskResult.objects.exists()
    assert run_email_tasks() == 0
    assert sent_messages() == []
    assert BookingRequest.objects.get(pk=booking.pk).status == BookingStatus.PENDING


def test_one_task_per_batch_is_enqueued_after_commit(
    session, staff, django_capture_on_commit_callbacks
):
    bookings = [make_booking(session=session, client_email=f"c{i}@example.com") for i in range(5)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        cancel([b.pk for b in bookings], staff)
    assert not DBTaskResult.objects.exists()  # not before the commit
    for callback in callbacks:
        callback()
    [task] = DBTaskResult.objects.all()
    assert (task.task_path, task.queue_name) == ("booking.emails.tasks.send_batch", "email")
    run_email_tasks()
    assert sorted(m.to[0] for m in sent_messages()) == [f"c{i}@example.com" for i in range(5)]


# --- Provider failures ---------------------------------------------------------


def test_provider_outage_keeps_the_action_and_the_email_is_retried_then_sent_once(
    booking, staff, django_capture_on_commit_callbacks
):
    with provider_responses(api_error(503), api_error(None, "connection timed out")):
        with django_capture_on_commit_callbacks(execute=True):
            result = cancel(booking, staff)
        assert result.summary().startswith("1 cancelled")
        assert BookingRequest.objects.get(pk=booking.pk).status == BookingStatus.CANCELLED

        run_email_tasks()  # attempt 1: 503
        email = OutboxEmail.objects.get()
        assert (email.status, email.attempts) == (EmailStatus.QUEUED, 1)
        assert "HTTP 503" in email.last_error
        [retry] = retry_tasks()
        assert retry.args_kwargs["args"] == [[email.pk]]
        expected = email.updated_at + timedelta(seconds=30)
        assert retry.run_after == email.next_attempt_at == expected
        assert run_email_tasks() == 0  # nothing is due before the backoff

        run_email_tasks(after_backoff=True)  # attempt 2: no response at all
        email.refresh_from_db()
        assert (email.status, email.attempts) == (EmailStatus.QUEUED, 2)
        assert email.next_attempt_at == email.updated_at + timedelta(seconds=60)

        run_email_tasks(after_backoff=True)  # attempt 3: accepted

    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == (EmailStatus.SENT, 3, "")
    assert email.provider_message_id != ""
    [message] = sent_messages()
    assert message.to == [booking.client_email]
    assert run_email_tasks(after_backoff=True) == 0  # nothing left to send again


def test_a_permanent_error_ends_failed_without_retry(cancelled):
    with provider_responses(api_error(422, "Inactive recipient")):
        run_email_tasks()
    cancelled.refresh_from_db()
    assert (cancelled.status, cancelled.attempts) == (EmailStatus.FAILED, 1)
    assert cancelled.last_error.startswith("AnymailAPIError (HTTP 422): Inactive recipient")
    assert not retry_tasks().exists()
    assert sent_messages() == []


def test_a_refused_recipient_ends_failed(cancelled):
    with provider_responses(refused(cancelled.recipient)):
        run_email_tasks()
    cancelled.refresh_from_db()
    assert cancelled.status == EmailStatus.FAILED
    assert cancelled.last_error.startswith("AnymailRecipientsRefused")


def test_gives_up_after_the_maximum_attempts(cancelled, settings):
    settings.EMAIL_MAX_ATTEMPTS = 2
    with provider_responses(api_error(500), api_error(500), api_error(500)):
        run_email_tasks()
        run_email_tasks(after_backoff=True)
        assert run_email_tasks(after_backoff=True) == 0
    cancelled.refresh_from_db()
    assert (cancelled.status, cancelled.attempts) == (EmailStatus.FAILED, 2)
    assert cancelled.last_error.startswith("Gave up after 2 attempts: AnymailAPIError (HTTP 500)")


def test_an_outage_postpones_the_rest_of_the_batch_in_one_retry_task(
    session, staff, django_capture_on_commit_callbacks
):
    bookings = [make_booking(session=session, client_email=f"c{i}@example.com") for i in range(6)]
    with django_capture_on_commit_callbacks(execute=True):
        cancel([b.pk for b in bookings], staff)

    with provider_responses(api_error(503), api_error(503), api_error(503)):
        run_email_tasks()
    from django.core import mail

    assert len(mail.outbox) == delivery.OUTAGE_THRESHOLD  # the rest were not tried
    attempts = sorted(OutboxEmail.objects.values_list("attempts", flat=True))
    assert attempts == [0, 0, 0, 1, 1, 1]
    [retry] = retry_tasks()
    assert sorted(retry.args_kwargs["args"][0]) == sorted(
        OutboxEmail.objects.values_list("pk", flat=True)
    )

    run_email_tasks(after_backoff=True)
    assert len(sent_messages()) == 6
    assert set(OutboxEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


# --- Exactly once --------------------------------------------------------------


def test_duplicate_task_runs_send_once(cancelled):
    send_batch.enqueue(str(cancelled.batch))  # the same batch's task, twice
    assert run_email_tasks() == 2
    assert len(sent_messages()) == 1


def test_a_row_another_worker_is_sending_is_skipped(cancelled):
    OutboxEmail.objects.filter(pk=cancelled.pk).update(status=EmailStatus.SENDING)
    assert delivery.deliver([cancelled.pk], retry=tasks.enqueue_ids) == {}
    assert sent_messages() == []


def test_a_double_submit_queues_one_email(booking, staff):
    first = cancel(booking, staff)
    second = cancel(booking, staff)
    assert second.summary() == "0 cancelled; 1 skipped: already cancelled"
    [locked] = first.done
    notifications.bookings_cancelled([locked], by_client=False, notify_client=True)  # run again
    assert OutboxEmail.objects.count() == 1


def test_two_cancellation_link_requests_in_a_row_queue_one_email(booking, settings):
    now = timezone.now().replace(minute=1, second=0)
    notifications.cancellation_link_requested(booking, now=now)
    notifications.cancellation_link_requested(booking, now=now + timedelta(minutes=1))
    assert OutboxEmail.objects.filter(kind=EmailKind.CANCEL_LINK).count() == 1


# --- Crash recovery: the sweep -------------------------------------------------


def test_a_crash_between_commit_and_enqueue_is_recovered_by_the_sweep(
    booking, staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # the process dies here
        cancel(booking, staff)
    assert not DBTaskResult.objects.exists()
    email = OutboxEmail.objects.get()

    assert outbox.sweep() == 0  # too recent: a healthy worker may be on it
    later = email.created_at + outbox.STALE_AFTER + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.sweep(now=later) == 1
    run_email_tasks()
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert len(sent_messages()) == 1


def test_a_worker_that_died_mid_send_is_recovered_by_the_sweep(
    cancelled, django_capture_on_commit_callbacks
):
    long_ago = timezone.now() - timedelta(hours=1)
    OutboxEmail.objects.filter(pk=cancelled.pk).update(
        status=EmailStatus.SENDING, attempts=1, updated_at=long_ago
    )
    DBTaskResult.objects.all().delete()  # the worker's task died with it

    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.sweep() == 1
    cancelled.refresh_from_db()
    assert cancelled.status == EmailStatus.QUEUED
    run_email_tasks()
    cancelled.refresh_from_db()
    assert (cancelled.status, cancelled.attempts) == (EmailStatus.SENT, 2)


def test_the_sweep_leaves_sent_failed_and_future_retries_alone(cancelled):
    OutboxEmail.objects.filter(pk=cancelled.pk).update(
        status=EmailStatus.FAILED, updated_at=timezone.now() - timedelta(days=1)
    )
    assert outbox.sweep() == 0


def test_send_queued_emails_command(booking, staff, capsys, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        cancel(booking, staff)
    OutboxEmail.objects.update(next_attempt_at=timezone.now() - timedelta(hours=1))

    call_command("send_queued_emails", "--dry-run")
    assert "Would re-enqueue 1 stranded email(s)." in capsys.readouterr().out
    assert not DBTaskResult.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_queued_emails", "--stale-after", "5")
    assert "Re-enqueued 1 stranded email(s)." in capsys.readouterr().out
    run_email_tasks()
    assert len(sent_messages()) == 1


# --- Resend --------------------------------------------------------------------


def test_resend_queues_failed_emails_again_with_a_fresh_budget(
    cancelled, django_capture_on_commit_callbacks
):
    with provider_responses(api_error(401, "bad server token")):
        run_email_tasks()
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.resend(OutboxEmail.objects.all()) == 1
    cancelled.refresh_from_db()
    assert (cancelled.status, cancelled.attempts) == (EmailStatus.QUEUED, 0)
    assert outbox.resend(OutboxEmail.objects.all()) == 0  # only failed ones
    run_email_tasks()
    cancelled.refresh_from_db()
    assert cancelled.status == EmailStatus.SENT
    assert len(sent_messages()) == 1


# --- Bulk ----------------------------------------------------------------------


def _queries_to_cancel(count, session, staff):
    ids = [make_booking(session=session, client_email=f"q{i}@example.com").pk for i in range(count)]
    with CaptureQueriesContext(connection) as queries:
        services.cancel_bookings(ids, actor=staff, reason="Bulk")
    outbox_inserts = [q for q in queries if 'INTO "booking_outboxemail"' in q["sql"]]
    return len(queries), len(outbox_inserts)


def test_bulk_notify_queries_do_not_grow_with_rows(business, staff):
    small_session = make_session(business=business)
    large_session = make_session(business=business)
    services.cancel_bookings([], actor=staff)  # loads the actor's permissions once
    small, small_inserts = _queries_to_cancel(3, small_session, staff)
    large, large_inserts = _queries_to_cancel(60, large_session, staff)
    assert small == large
    assert small_inserts == large_inserts == 1
    assert OutboxEmail.objects.count() == 63


def _queue_emails(session, staff, count: int) -> list[int]:
    bookings = [
        make_booking(session=session, client_email=f"c{i}@example.com") for i in range(count)
    ]
    services.cancel_bookings([b.pk for b in bookings], actor=staff)
    return list(OutboxEmail.objects.order_by("pk").values_list("pk", flat=True))


def test_the_worker_claims_a_chunk_at_a_time_and_records_each_send_at_once(session, staff):
    ids = _queue_emails(session, staff, delivery.CLAIM_CHUNK + 1)

    with CaptureQueriesContext(connection) as queries:
        outcome = delivery.deliver(ids, retry=tasks.enqueue_ids)

    assert outcome == {"sent": delivery.CLAIM_CHUNK + 1}
    writes = [q["sql"] for q in queries if "UPDATE" in q["sql"] and "FOR UPDATE" not in q["sql"]]
    # One claim per chunk; each accepted email is recorded as soon as it is sent, so a
    # worker killed mid-chunk leaves at most the email in flight to be sent twice. A bulk
    # change's rows are rendered after each claim (one UPDATE per chunk).
    assert len(writes) == 2 + 2 + delivery.CLAIM_CHUNK + 1, writes[:3]
    assert len(sent_messages()) == delivery.CLAIM_CHUNK + 1
    rows = OutboxEmail.objects.values_list("status", "attempts", "provider_message_id")
    assert {(status, attempts) for status, attempts, _ in rows} == {(EmailStatus.SENT, 1)}
    assert all(message_id for _, _, message_id in rows)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_delivering_the_same_rows_at_once_send_each_once(settings):
    from tests.booking.test_concurrency import at_once
    from tests.factories import make_business, make_staff

    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    staff = make_staff(username="desk")
    session = make_session(business=make_business(staff=(staff,)))
    ids = _queue_emails(session, staff, 3 * delivery.CLAIM_CHUNK)

    outcomes = at_once(
        lambda i: delivery.deliver(ids if i % 2 else ids[::-1], retry=tasks.enqueue_ids), threads=4
    )

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(o.get("sent", 0) for o in outcomes) == len(ids)
    assert sorted(m.to[0] for m in sent_messages()) == sorted(
        OutboxEmail.objects.values_list("recipient", flat=True)
    )
    assert set(OutboxEmail.objects.values_list("status", "attempts")) == {(EmailStatus.SENT, 1)}
