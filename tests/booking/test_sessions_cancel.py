"""A session cancelled by the business (`services.sessions.cancel_sessions`)."""

from __future__ import annotations

import pytest

from booking.audit import RequestContext
from booking.emails.models import EmailKind, OutboxEmail
from booking.models import BookingRequest, BookingStatus, Session, SessionStatus
from booking.services import exceptions as exc
from booking.services.sessions import cancel_sessions
from tests.booking.outbox_support import rendered
from tests.factories import ALL_BOOKING_PERMISSIONS, make_booking, make_session, make_staff

SESSION_STAFF = [*ALL_BOOKING_PERMISSIONS, "view_session", "cancel_session"]
CONTEXT = RequestContext(ip_address="203.0.113.9", user_agent="pytest")


@pytest.fixture
def desk(business):
    return make_staff(username="session-desk", businesses=(business,), permissions=SESSION_STAFF)


def refetch(obj):
    if isinstance(obj, BookingRequest):
        return BookingRequest.all_objects.get(pk=obj.pk)
    return Session.objects.get(pk=obj.pk)


def test_cancels_the_session_and_every_active_booking(session, desk):
    pending = make_booking(session=session, status=BookingStatus.PENDING)
    approved = make_booking(session=session, status=BookingStatus.APPROVED)
    rejected = make_booking(session=session, status=BookingStatus.REJECTED)
    deleted = make_booking(session=session, status=BookingStatus.APPROVED, is_deleted=True)

    result = cancel_sessions(session, actor=desk, reason="Instructor ill", context=CONTEXT)

    session = refetch(session)
    assert session.status == SessionStatus.CANCELLED and session.is_cancelled
    assert session.cancelled_by == desk and session.cancellation_reason == "Instructor ill"
    assert session.cancelled_at is not None
    record = session.history.first()
    assert record.history_user == desk and record.history_change_reason == "Instructor ill"
    assert (record.ip_address, record.user_agent) == ("203.0.113.9", "pytest")
    assert {b.pk for b in result.bookings.done} == {pending.pk, approved.pk}
    for booking in (pending, approved):
        booking = refetch(booking)
        assert booking.status == BookingStatus.CANCELLED
        assert not booking.cancelled_by_client and booking.cancelled_by == desk
        assert booking.cancellation_reason == "Instructor ill"
        assert booking.history.count() == 2  # created, then cancelled: one record
    assert refetch(rejected).status == BookingStatus.REJECTED
    assert refetch(deleted).status == BookingStatus.APPROVED
    assert result.summary() == "1 session cancelled (2 bookings cancelled)"


def test_each_client_gets_one_email_saying_the_business_cancelled_the_session(session, desk):
    make_booking(session=session, client_email="a@example.com")
    make_booking(session=session, client_email="b@example.com", status=BookingStatus.APPROVED)

    cancel_sessions(session, actor=desk, reason="Instructor ill")

    emails = rendered(OutboxEmail.objects.order_by("recipient"))
    assert [e.recipient for e in emails] == ["a@example.com", "b@example.com"]
    email = emails[0]
    assert email.kind == EmailKind.SESSION_CANCELLED
    assert f"{session.business.name} has cancelled the session {session.title}" in email.text_body
    assert "Instructor ill" in email.text_body and "Instructor ill" in email.html_body
    assert session.business.contact_email in email.text_body
    assert session.business.contact_phone in email.text_body
    assert "No cancellation fee applies" in email.text_body
    assert "cancelled" in email.subject and session.title in email.subject


def test_running_it_twice_changes_nothing_more_and_sends_nothing_twice(session, desk):
    make_booking(session=session)

    cancel_sessions(session, actor=desk, reason="Instructor ill")
    again = cancel_sessions(session, actor=desk, reason="Instructor ill")

    assert again.done == [] and [s.reason for s in again.skipped] == ["already cancelled"]
    assert again.bookings.done == []
    assert OutboxEmail.objects.count() == 1
    assert refetch(session).history.count() == 2
    assert (
        again.summary()
        == "0 sessions cancelled (0 bookings cancelled); 1 skipped: already cancelled"
    )


def test_no_email_when_staff_untick_notify_client(session, desk):
    make_booking(session=session)

    result = cancel_sessions(session, actor=desk, reason="Instructor ill", notify_client=False)

    assert result.bookings.done_count == 1 and not OutboxEmail.objects.exists()


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_required(session, desk, reason):
    booking = make_booking(session=session)

    with pytest.raises(exc.ReasonRequired):
        cancel_sessions(session, actor=desk, reason=reason)

    assert refetch(session).status == SessionStatus.SCHEDULED
    assert refetch(booking).status == BookingStatus.PENDING


def test_a_reason_over_the_limit_is_refused(session, desk):
    with pytest.raises(exc.ReasonTooLong):
        cancel_sessions(session, actor=desk, reason="x" * 1001)
    assert refetch(session).status == SessionStatus.SCHEDULED


def test_needs_the_cancel_session_permission(session, business):
    clerk = make_staff(username="clerk", businesses=(business,))  # booking permissions only
    booking = make_booking(session=session)

    with pytest.raises(exc.NotPermitted):
        cancel_sessions(session, actor=clerk, reason="Instructor ill")

    assert refetch(session).status == SessionStatus.SCHEDULED
    assert refetch(booking).status == BookingStatus.PENDING


def test_another_business_session_is_skipped_as_missing(session, desk, other_business):
    theirs = make_session(business=other_business)
    their_booking = make_booking(session=theirs)

    result = cancel_sessions([session.pk, theirs.pk], actor=desk, reason="Instructor ill")

    assert result.done == [session]
    assert [(s.session_id, s.reason) for s in result.skipped] == [
        (theirs.pk, "no longer exists or is not yours")
    ]
    assert refetch(theirs).status == SessionStatus.SCHEDULED
    assert refetch(their_booking).status == BookingStatus.PENDING


def test_the_system_may_cancel_any_session(session):
    make_booking(session=session)

    result = cancel_sessions(session, actor=None, reason="Venue flooded")

    assert result.done == [session] and result.bookings.done_count == 1
    assert refetch(session).cancelled_by is None


def test_bulk_cancellation_runs_in_a_bounded_number_of_queries(
    business, desk, django_assert_max_num_queries
):
    sessions = [make_session(business=business) for _ in range(3)]
    for session in sessions:
        for n in range(10):
            make_booking(session=session, client_email=f"c{n}@example.com")

    with django_assert_max_num_queries(40):
        result = cancel_sessions(Session.objects.all(), actor=desk, reason="Closed")

    assert len(result.done) == 3 and result.bookings.done_count == 30
