"""A large session's cancellation job run twice at once (PostgreSQL row locks)."""

from __future__ import annotations

import pytest

from booking.emails.models import EmailKind, OutboxEmail
from booking.models import BookingRequest, BookingStatus, SessionCancellationJob
from booking.services import cancel_bookings
from booking.services.sessions import cancel_sessions
from booking.sessions.tasks import cancel_session_bookings
from tests.booking.test_concurrency import at_once
from tests.factories import make_booking, make_business, make_session, make_staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_runs_of_one_job_cancel_and_email_each_booking_once(settings):
    settings.SESSION_CANCEL_BACKGROUND_THRESHOLD = 5
    settings.SESSION_CANCEL_CHUNK_SIZE = 4
    business = make_business()
    staff = make_staff(
        businesses=(business,),
        permissions=["view_bookingrequest", "cancel_session", "cancel_bookingrequest"],
    )
    session = make_session(business=business, capacity=100)
    for n in range(30):
        make_booking(session=session, client_email=f"c{n}@example.com")
    (job,) = cancel_sessions(session, actor=staff, reason="Instructor ill").jobs

    outcomes = at_once(lambda i: cancel_session_bookings.call(job.pk), threads=2)

    assert not [o for o in outcomes if isinstance(o, Exception)]
    job.refresh_from_db()
    assert (job.status, job.done_count, job.failed_count) == ("done", 30, 0)
    bookings = BookingRequest.objects.filter(session=session)
    assert set(bookings.values_list("status", flat=True)) == {BookingStatus.CANCELLED}
    emails = OutboxEmail.objects.filter(kind=EmailKind.SESSION_CANCELLED)
    assert emails.count() == 30 and emails.values("booking").distinct().count() == 30
    assert all(booking.history.count() == 2 for booking in bookings)
    assert SessionCancellationJob.objects.count() == 1


def test_the_job_and_a_staff_cancellation_of_some_of_its_bookings_at_once(settings):
    """Both lock the session before its bookings: no deadlock, each booking cancelled once."""
    settings.SESSION_CANCEL_BACKGROUND_THRESHOLD = 5
    settings.SESSION_CANCEL_CHUNK_SIZE = 4
    business = make_business()
    staff = make_staff(
        businesses=(business,),
        permissions=["view_bookingrequest", "cancel_session", "cancel_bookingrequest"],
    )
    session = make_session(business=business, capacity=100)
    bookings = [make_booking(session=session, client_email=f"c{n}@example.com") for n in range(20)]
    (job,) = cancel_sessions(session, actor=staff, reason="Instructor ill").jobs
    some = [booking.pk for booking in reversed(bookings[5:15])]

    def work(i: int):
        if i:
            return cancel_bookings(some, actor=staff, reason="Phoned in")
        return cancel_session_bookings.call(job.pk)

    outcomes = at_once(work, threads=2)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    job.refresh_from_db()
    assert job.status == "done" and job.failed_count == 0
    assert job.done_count + outcomes[1].done_count == 20
    rows = BookingRequest.objects.filter(session=session)
    assert set(rows.values_list("status", flat=True)) == {BookingStatus.CANCELLED}
    assert OutboxEmail.objects.values("booking").distinct().count() == OutboxEmail.objects.count()
    assert OutboxEmail.objects.count() == 20
