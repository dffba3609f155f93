"""The session list's booked / capacity column and the session page's spots line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from booking.models import BookingStatus, Session, SessionStatus
from tests.factories import ALL_BOOKING_PERMISSIONS, make_booking, make_session, make_staff

pytestmark = pytest.mark.django_db

PERMISSIONS = [*ALL_BOOKING_PERMISSIONS, "view_session", "change_session", "view_waitlistentry"]


@pytest.fixture
def desk(client, business):
    client.force_login(make_staff(businesses=(business,), permissions=PERMISSIONS))
    return client


def test_a_past_class_counts_the_clients_who_came_or_did_not_show(desk, business):
    past = make_session(
        business=business, title="Yesterday", starts_in=timedelta(days=-1), capacity=6
    )
    for status in (BookingStatus.ATTENDED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW):
        make_booking(session=past, status=status)
    make_booking(session=past, status=BookingStatus.CANCELLED)
    make_booking(session=past, status=BookingStatus.REJECTED)
    make_booking(session=past, status=BookingStatus.ATTENDED, is_deleted=True)

    [row] = desk.get("/admin/booking/session/").context["cl"].result_list
    assert row.booked_count == 3
    assert "3 / 6" in desk.get("/admin/booking/session/").content.decode()
    # The session's own page counts the same seats.
    page = desk.get(reverse("admin:booking_session_change", args=[past.pk])).content.decode()
    assert "3 booked / 6 capacity" in page


def test_a_cancelled_session_offers_no_waitlist_link(desk, business):
    session = make_session(business=business, title="Gone")
    Session.objects.filter(pk=session.pk).update(status=SessionStatus.CANCELLED)
    page = desk.get(reverse("admin:booking_session_change", args=[session.pk])).content.decode()

    assert "0 booked / 20 capacity" in page
    assert "Add to the waitlist" not in page
