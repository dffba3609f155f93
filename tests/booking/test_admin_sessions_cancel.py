"""The admin's "Cancel sessions" action: confirmation page, reason, notify, scope, badge."""

from __future__ import annotations

import pytest
from django.urls import reverse

from booking.emails.models import OutboxEmail
from booking.models import BookingRequest, BookingStatus, Session, SessionStatus
from tests.booking.admin_helpers import CHANGE_FORM_ACTION, choose, confirm, messages_of
from tests.factories import ALL_BOOKING_PERMISSIONS, make_booking, make_session, make_staff

pytestmark = pytest.mark.django_db

SESSIONS = "/admin/booking/session/"
TEMPLATE = "admin/booking/session_cancel_confirmation.html"
PERMISSIONS = [*ALL_BOOKING_PERMISSIONS, "view_session", "change_session", "cancel_session"]


@pytest.fixture
def desk(client, business):
    client.force_login(
        make_staff(username="s-desk", businesses=(business,), permissions=PERMISSIONS)
    )
    return client


def status_of(session):
    return Session.objects.get(pk=session.pk).status


def test_choosing_the_action_lists_each_session_with_its_active_bookings(desk, business):
    busy = make_session(business=business, title="Busy")
    make_booking(session=busy)
    make_booking(session=busy, status=BookingStatus.APPROVED)
    make_booking(session=busy, status=BookingStatus.CANCELLED)
    done = make_session(business=business, title="Done")
    done.status = SessionStatus.CANCELLED
    done.save()

    response = choose(desk, "cancel_sessions", [busy, done], url=SESSIONS)

    assert response.status_code == 200 and TEMPLATE in [t.name for t in response.templates]
    outcomes = {o.session.title: o for o in response.context["session_outcomes"]}
    assert outcomes["Busy"].active == 2 and outcomes["Busy"].changes
    assert outcomes["Busy"].text == "will be cancelled, with its 2 active bookings"
    assert outcomes["Done"].text == "skipped: already cancelled"
    form = response.context["form"]
    assert form.fields["reason"].required and form.fields["notify_client"].initial is True
    assert "Yes, cancel 1 session (2 active bookings)" in response.content.decode()
    assert status_of(busy) == SessionStatus.SCHEDULED


def test_confirming_cancels_the_session_and_its_bookings(desk, session):
    booking = make_booking(session=session)

    response = confirm(desk, "cancel_sessions", [session], url=SESSIONS, reason="Instructor ill")

    assert response.status_code == 302
    assert messages_of(response) == ["1 session cancelled (1 booking cancelled)"]
    assert status_of(session) == SessionStatus.CANCELLED
    cancelled = BookingRequest.objects.get(pk=booking.pk)
    assert cancelled.status == BookingStatus.CANCELLED
    record = cancelled.history.first()
    assert (record.ip_address, record.user_agent) == ("203.0.113.7", "pytest-browser/1.0")
    assert OutboxEmail.objects.filter(reference=booking.reference).count() == 1


def test_without_a_reason_the_page_shows_again_and_nothing_changes(desk, session):
    make_booking(session=session)

    response = confirm(desk, "cancel_sessions", [session], url=SESSIONS, reason="  ")

    assert response.status_code == 200 and response.context["form"].errors["reason"]
    assert status_of(session) == SessionStatus.SCHEDULED


def test_unticked_notify_sends_no_email(desk, session):
    make_booking(session=session)

    confirm(desk, "cancel_sessions", [session], url=SESSIONS, reason="Ill", notify=False)

    assert status_of(session) == SessionStatus.CANCELLED and not OutboxEmail.objects.exists()


def test_the_action_works_from_the_sessions_page(desk, session):
    url = reverse("admin:booking_session_change", args=[session.pk])
    data = {CHANGE_FORM_ACTION: "cancel_sessions", "_selected_action": [session.pk]}

    page = desk.post(url, data)
    done = desk.post(url, {**data, "post": "yes", "reason": "Ill", "notify_client": "on"})

    assert page.status_code == 200 and page.context["original"] == session
    assert done.status_code == 302 and status_of(session) == SessionStatus.CANCELLED


def test_another_business_session_is_untouched_by_a_forged_id(desk, session, other_business):
    theirs = make_session(business=other_business)
    make_booking(session=theirs)

    confirm(desk, "cancel_sessions", [session, theirs], url=SESSIONS, reason="Ill")

    assert status_of(session) == SessionStatus.CANCELLED
    assert status_of(theirs) == SessionStatus.SCHEDULED


def test_the_action_is_offered_only_with_the_permission(client, business, session):
    client.force_login(
        make_staff(username="viewer", businesses=(business,), permissions=["view_session"])
    )

    listing = client.get(SESSIONS)
    refused = confirm(client, "cancel_sessions", [session], url=SESSIONS, reason="Ill")

    assert "cancel_sessions" not in listing.content.decode()
    assert refused.status_code in (200, 302) and status_of(session) == SessionStatus.SCHEDULED


def test_the_change_list_filters_and_badges_by_status(desk, business):
    make_session(business=business, title="Running")
    gone = make_session(business=business, title="Called off")
    gone.status = SessionStatus.CANCELLED
    gone.save()

    cancelled_only = desk.get(SESSIONS, {"status__exact": "cancelled"})

    assert [s.title for s in cancelled_only.context["cl"].result_list] == ["Called off"]
    assert 'booking-badge--cancelled">Cancelled' in cancelled_only.content.decode()
