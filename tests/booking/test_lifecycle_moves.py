"""Moving bookings to another session (`lifecycle.moves.move_bookings`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking.admin.history import timeline
from booking.emails.models import EmailKind, OutboxEmail
from booking.models import BookingRequest, BookingStatus, SessionStatus
from booking.services import exceptions as exc
from booking.services.lifecycle import move_bookings
from tests.booking.outbox_support import rendered
from tests.factories import ALL_BOOKING_PERMISSIONS, make_booking, make_session, make_staff

PERMISSIONS = [*ALL_BOOKING_PERMISSIONS, "move_bookingrequest"]


@pytest.fixture
def mover(business):
    return make_staff(username="mover", businesses=(business,), permissions=PERMISSIONS)


@pytest.fixture
def target(business):
    return make_session(business=business, title="Evening Spin", starts_in=timedelta(days=9))


def refetch(booking):
    return BookingRequest.all_objects.get(pk=booking.pk)


def test_moves_active_bookings_records_and_emails_old_and_new_time(session, target, mover):
    booking = make_booking(session=session, status=BookingStatus.APPROVED)

    result = move_bookings(booking, actor=mover, reason="Room change", session=target.pk)

    assert result.summary() == "1 moved"
    moved = refetch(booking)
    assert moved.session_id == target.pk and moved.status == BookingStatus.APPROVED
    new, old = moved.history.order_by("-history_id")[:2]
    assert (old.session_id, new.session_id) == (session.pk, target.pk)
    assert new.history_user == mover and new.history_change_reason == "Room change"
    assert timeline(moved)[0].what == "Moved"
    [email] = rendered(OutboxEmail.objects.all())
    assert email.kind == EmailKind.MOVED and email.recipient == booking.client_email
    assert "Spin class" in email.text_body and "Evening Spin" in email.text_body
    assert "Room change" in email.text_body


def test_bookings_that_do_not_fit_are_skipped_with_the_reason(business, session, mover):
    small = make_session(business=business, title="Small", capacity=2)
    make_booking(session=small)
    first = make_booking(session=session, client_email="a@example.com")
    second = make_booking(session=session, client_email="b@example.com")

    result = move_bookings([first.pk, second.pk], actor=mover, session=small, notify_client=False)

    assert [b.pk for b in result.done] == [first.pk]
    assert [s.reason for s in result.skipped] == ["the target session is full"]
    assert refetch(second).session_id == session.pk
    assert not OutboxEmail.objects.exists()


def test_only_active_bookings_move(session, target, mover):
    cancelled = make_booking(session=session, status=BookingStatus.CANCELLED)
    deleted = make_booking(session=session, is_deleted=True)

    result = move_bookings([cancelled.pk, deleted.pk], actor=mover, session=target)

    assert result.done == [] and len(result.skipped) == 2
    assert refetch(cancelled).session_id == session.pk


@pytest.mark.parametrize("problem", ["cancelled", "past", "other business", "missing"])
def test_an_ineligible_target_refuses_the_whole_call(session, mover, other_business, problem):
    booking = make_booking(session=session)
    if problem == "cancelled":
        bad = make_session(business=session.business)
        bad.status = SessionStatus.CANCELLED
        bad.save()
        target = bad.pk
    elif problem == "past":
        target = make_session(business=session.business, starts_in=timedelta(hours=-1)).pk
    elif problem == "other business":
        target = make_session(business=other_business).pk
    else:
        target = 999_999

    with pytest.raises(exc.BookingError):
        move_bookings(booking, actor=mover, session=target)

    assert refetch(booking).session_id == session.pk and not OutboxEmail.objects.exists()


def test_a_booking_never_crosses_businesses_even_as_the_system(session, other_business):
    theirs = make_session(business=other_business)
    booking = make_booking(session=session)

    result = move_bookings(booking, actor=None, session=theirs)

    assert result.done == [] and "another business" in result.skipped[0].reason


def test_needs_the_move_permission(session, target, business):
    clerk = make_staff(
        username="clerk",
        businesses=(business,),
        permissions=["view_bookingrequest", "cancel_bookingrequest"],
    )
    booking = make_booking(session=session)

    with pytest.raises(exc.NotPermitted):
        move_bookings(booking, actor=clerk, session=target)


def test_a_session_is_required(session, mover):
    with pytest.raises(exc.InvalidInput):
        move_bookings(make_booking(session=session), actor=mover)
