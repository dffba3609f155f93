"""A large session's bookings cancelled on the worker, in locked chunks, resumable."""

from __future__ import annotations

import io
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from booking.audit import RequestContext
from booking.emails.models import EmailKind, OutboxEmail
from booking.models import BookingRequest, BookingStatus, SessionCancellationJob, SessionStatus
from booking.services import session_jobs
from booking.services.lifecycle import GONE
from booking.services.sessions import cancel_sessions, resume_stranded_jobs
from booking.sessions.tasks import cancel_session_bookings
from tests.booking.admin_helpers import messages_of
from tests.factories import ALL_BOOKING_PERMISSIONS, make_booking, make_staff

pytestmark = pytest.mark.django_db

SESSION_STAFF = [*ALL_BOOKING_PERMISSIONS, "view_session", "change_session", "cancel_session"]
CONTEXT = RequestContext(ip_address="203.0.113.9", user_agent="pytest")
REASON = "Instructor ill"
Status = SessionCancellationJob.Status


@pytest.fixture(autouse=True)
def small_threshold(settings):
    """Over 3 active bookings is "large"; the job cancels 2 per chunk."""
    settings.SESSION_CANCEL_BACKGROUND_THRESHOLD = 3
    settings.SESSION_CANCEL_CHUNK_SIZE = 2


@pytest.fixture
def desk(business):
    return make_staff(username="session-desk", businesses=(business,), permissions=SESSION_STAFF)


@pytest.fixture
def large(session):
    for n in range(5):
        make_booking(session=session, client_email=f"client{n}@example.com")
    return session


def queued_tasks():
    return DBTaskResult.objects.filter(
        task_path__endswith="cancel_session_bookings", status=TaskResultStatus.READY
    )


def active(session):
    return BookingRequest.objects.filter(session=session).active().count()


def emails():
    return OutboxEmail.objects.filter(kind=EmailKind.SESSION_CANCELLED)


def cancel_first_two(session, actor, job):
    """The job's first chunk, as a worker killed during the second leaves it."""
    bookings = BookingRequest.objects.filter(session=session).order_by("pk")
    first_two = list(bookings.values_list("pk", flat=True)[:2])
    session_jobs.cancel_as_staff(first_two, actor=actor, reason=REASON, session_cancelled=True)
    SessionCancellationJob.objects.filter(pk=job.pk).update(status=Status.RUNNING, done_count=2)


def test_a_large_session_is_cancelled_at_once_and_its_bookings_queued(large, desk):
    result = cancel_sessions(large, actor=desk, reason=REASON, context=CONTEXT)

    large.refresh_from_db()
    assert large.status == SessionStatus.CANCELLED  # takes no new bookings from now on
    assert active(large) == 5 and not emails().exists()
    (job,) = result.jobs
    assert (job.status, job.total, job.done_count, job.failed_count) == (Status.PENDING, 5, 0, 0)
    assert (job.requested_by, job.reason, job.ip_address) == (desk, REASON, "203.0.113.9")
    assert queued_tasks().count() == 1
    assert result.summary() == (
        "1 session cancelled (0 bookings cancelled); 5 more being cancelled in the background"
    )


def test_a_session_at_the_threshold_is_cancelled_in_the_request(session, desk):
    for n in range(3):
        make_booking(session=session, client_email=f"client{n}@example.com")

    result = cancel_sessions(session, actor=desk, reason=REASON)

    assert result.jobs == [] and result.bookings.done_count == 3
    assert active(session) == 0 and not queued_tasks().exists()


def test_the_job_cancels_every_booking_once_with_history_and_one_email_each(large, desk):
    (job,) = cancel_sessions(large, actor=desk, reason=REASON, context=CONTEXT).jobs

    assert cancel_session_bookings.call(job.pk) == 5

    job.refresh_from_db()
    assert (job.status, job.done_count, job.failed_count) == (Status.DONE, 5, 0)
    assert job.progress == "5 / 5 bookings cancelled, 0 failures (done)"
    assert job.finished_at is not None and job.started_at is not None
    assert active(large) == 0
    for booking in BookingRequest.objects.filter(session=large):
        assert booking.status == BookingStatus.CANCELLED and booking.cancelled_by == desk
        assert not booking.cancelled_by_client and booking.fee_amount in (None, 0)
        record = booking.history.first()
        assert (record.history_user, record.history_change_reason) == (desk, REASON)
        assert (record.ip_address, record.user_agent) == ("203.0.113.9", "pytest")
        assert booking.history.count() == 2
    assert sorted(emails().values_list("recipient", flat=True)) == [
        f"client{n}@example.com" for n in range(5)
    ]


def test_running_it_again_changes_nothing_and_sends_nothing_twice(large, desk):
    (job,) = cancel_sessions(large, actor=desk, reason=REASON).jobs
    cancel_session_bookings.call(job.pk)

    again = cancel_sessions(large, actor=desk, reason=REASON)
    assert cancel_session_bookings.call(job.pk) == 5  # a finished job does nothing more

    assert again.jobs == [] and again.bookings.done == []
    assert [skip.reason for skip in again.skipped] == ["already cancelled"]
    assert emails().count() == 5 and SessionCancellationJob.objects.count() == 1
    assert all(b.history.count() == 2 for b in BookingRequest.objects.filter(session=large))


def test_a_retry_after_a_crash_mid_way_finishes_without_doubles(large, desk):
    (job,) = cancel_sessions(large, actor=desk, reason=REASON).jobs
    real = session_jobs.cancel_as_staff
    calls = []

    def crash_in_the_second_chunk(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(result)
        if len(calls) == 2:
            raise RuntimeError("worker lost its database connection")
        return result

    crashing = mock.patch.object(session_jobs, "cancel_as_staff", crash_in_the_second_chunk)
    with crashing, pytest.raises(RuntimeError):
        cancel_session_bookings.call(job.pk)

    job.refresh_from_db()
    # The first chunk committed; the second rolled back whole (bookings and emails).
    assert (job.status, job.done_count, job.failed_count) == (Status.FAILED, 2, 3)
    assert "RuntimeError" in job.error and "resumes" in job.error
    assert active(large) == 3 and emails().count() == 2

    assert cancel_session_bookings.call(job.pk) == 5  # the retry

    job.refresh_from_db()
    assert (job.status, job.done_count, job.failed_count, job.error) == (Status.DONE, 5, 0, "")
    assert active(large) == 0
    assert emails().count() == 5
    assert emails().values("booking").distinct().count() == 5  # one each, none twice
    assert all(b.history.count() == 2 for b in BookingRequest.objects.filter(session=large))


def test_a_job_left_running_by_a_killed_worker_resumes_when_the_action_runs_again(large, desk):
    (job,) = cancel_sessions(large, actor=desk, reason=REASON).jobs
    cancel_first_two(large, desk, job)
    queued_tasks().delete()  # the worker died holding the task

    again = cancel_sessions(large, actor=desk, reason=REASON)

    assert [j.pk for j in again.jobs] == [job.pk]  # the same job, queued again
    assert again.bookings.done == [] and queued_tasks().count() == 1
    cancel_session_bookings.call(job.pk)
    job.refresh_from_db()
    assert (job.status, job.done_count, job.total) == (Status.DONE, 5, 5)
    assert emails().count() == 5 and active(large) == 0


def test_bookings_it_may_not_cancel_are_counted_as_failures(large, desk, business):
    (job,) = cancel_sessions(large, actor=desk, reason=REASON).jobs
    business.staff.remove(desk)  # the requester left the business meanwhile

    cancel_session_bookings.call(job.pk)

    job.refresh_from_db()
    assert (job.status, job.done_count, job.failed_count) == (Status.FAILED, 0, 5)
    assert job.error == f"1 not cancelled: {GONE.message}"  # the last chunk's
    assert job.progress == "0 / 5 bookings cancelled, 5 failures (failed)"
    assert not emails().exists()


def test_a_missing_job_is_nothing_to_do():
    assert cancel_session_bookings.call(999_999) == 0


# ---------------------------------------------------------------- the admin


def test_the_admin_action_says_the_bookings_go_in_the_background(client, large, desk):
    client.force_login(desk)
    url = reverse("admin:booking_session_changelist")
    data = {"action": "cancel_sessions", "_selected_action": [large.pk]}

    preview = client.post(url, data)
    assert "will be cancelled; its 5 active bookings in the background" in (
        preview.content.decode()
    )
    done = client.post(url, {**data, "post": "yes", "reason": REASON, "notify_client": "on"})

    assert messages_of(done) == [
        "1 session cancelled (0 bookings cancelled); 5 more being cancelled in the background"
    ]
    assert queued_tasks().count() == 1


def test_the_admin_shows_the_progress_on_the_list_and_the_page(client, large, desk):
    client.force_login(desk)
    (job,) = cancel_sessions(large, actor=desk, reason=REASON).jobs
    cancel_first_two(large, desk, job)

    listing = client.get(reverse("admin:booking_session_changelist")).content.decode()
    page = client.get(reverse("admin:booking_session_change", args=[large.pk])).content.decode()

    assert "2 / 5 bookings cancelled, 0 failures (running)" in listing
    assert "2 / 5 bookings cancelled, 0 failures (running)" in page
    cancel_session_bookings.call(job.pk)
    listing = client.get(reverse("admin:booking_session_changelist")).content.decode()
    page = client.get(reverse("admin:booking_session_change", args=[large.pk])).content.decode()
    assert "bookings cancelled" not in listing  # a finished job leaves the list
    assert "5 / 5 bookings cancelled, 0 failures (done)" in page


def test_the_sweep_resumes_a_job_whose_worker_was_killed(large, desk):
    (job,) = cancel_sessions(large, actor=desk, reason=REASON).jobs
    cancel_first_two(large, desk, job)
    queued_tasks().delete()  # the worker died holding the task
    an_hour_ago = timezone.now() - timedelta(hours=1)
    SessionCancellationJob.objects.filter(pk=job.pk).update(started_at=an_hour_ago)

    out = io.StringIO()
    call_command("send_queued_emails", stdout=out)

    assert "Resumed 1 session cancellation(s)." in out.getvalue()
    assert queued_tasks().count() == 1  # no operator ran anything
    call_command("send_queued_emails", stdout=io.StringIO())
    assert queued_tasks().count() == 1  # the next round waits for that run
    cancel_session_bookings.call(job.pk)
    job.refresh_from_db()
    assert (job.status, job.done_count, job.total) == (Status.DONE, 5, 5)
    assert emails().count() == 5 and active(large) == 0


def test_the_sweep_leaves_fresh_finished_and_failed_jobs_alone(large, desk):
    (job,) = cancel_sessions(large, actor=desk, reason=REASON).jobs
    queued_tasks().delete()
    assert resume_stranded_jobs() == 0  # queued a moment ago: its task may still come

    later = timezone.now() + timedelta(hours=1)
    for status in (Status.DONE, Status.FAILED):
        SessionCancellationJob.objects.filter(pk=job.pk).update(status=status)
        assert resume_stranded_jobs(now=later) == 0
    assert not queued_tasks().exists()

    SessionCancellationJob.objects.filter(pk=job.pk).update(status=Status.PENDING)
    assert resume_stranded_jobs(now=later) == 1
