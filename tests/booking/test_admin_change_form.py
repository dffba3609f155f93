"""The booking change form edits details only, through the service, without undoing state."""

from __future__ import annotations

import pytest
from django.contrib.admin import site

from booking import services
from booking.models import BookingRequest, BookingStatus
from tests.booking.admin_helpers import change_url
from tests.factories import make_session, make_staff


def form_data(booking, **changes):
    data = {
        "session": booking.session_id,
        "client_name": booking.client_name,
        "client_email": booking.client_email,
        "client_phone": booking.client_phone,
        "emails-TOTAL_FORMS": "0",
        "emails-INITIAL_FORMS": "0",
        "_save": "Save",
    }
    data.update(changes)
    return data


@pytest.fixture
def cancelled_while_saving(monkeypatch, staff, booking):
    """Another request cancels the booking between the change view reading it and saving."""
    admin_class = type(site._registry[BookingRequest])
    read = admin_class.get_object

    def read_then_cancel_elsewhere(self, request, object_id, from_field=None):
        obj = read(self, request, object_id, from_field)
        if request.method == "POST":
            services.cancel_bookings([booking.pk], actor=staff, reason="Instructor ill")
        return obj

    monkeypatch.setattr(admin_class, "get_object", read_then_cancel_elsewhere)


def test_saving_the_change_form_does_not_undo_a_cancellation_committed_meanwhile(
    client, staff, booking, cancelled_while_saving
):
    client.force_login(staff)

    response = client.post(
        change_url(booking),
        form_data(booking, client_name="Ada King"),
        REMOTE_ADDR="198.51.100.4",
        HTTP_USER_AGENT="pytest/1.0",
    )

    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.client_name, booking.status) == ("Ada King", BookingStatus.CANCELLED)
    assert booking.cancellation_reason == "Instructor ill"
    record = booking.history.first()
    assert (record.history_user, record.history_change_reason) == (staff, "Details edited")
    assert (record.ip_address, record.user_agent) == ("198.51.100.4", "pytest/1.0")
    assert record.status == BookingStatus.CANCELLED


def test_a_booking_soft_deleted_meanwhile_cannot_be_edited(client, staff, booking):
    client.force_login(staff)
    stale = BookingRequest.all_objects.get(pk=booking.pk)
    services.soft_delete_bookings([booking.pk], actor=staff, reason="duplicate")

    response = client.post(change_url(booking), form_data(stale, client_name="Ada King"))

    assert response.status_code == 403
    booking.refresh_from_db()
    assert (booking.client_name, booking.is_deleted) == ("Ada Lovelace", True)


def test_moving_a_booking_to_another_session_of_the_business(client, staff, booking):
    later = make_session(business=booking.session.business, title="Evening Yoga")
    client.force_login(staff)

    response = client.post(change_url(booking), form_data(booking, session=later.pk))

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.session == later


def test_a_session_of_another_business_is_refused(client, staff, booking, other_business):
    foreign = make_session(business=other_business)
    client.force_login(staff)

    response = client.post(change_url(booking), form_data(booking, session=foreign.pk))

    assert response.status_code == 200  # the form again, with an error
    booking.refresh_from_db()
    assert booking.session_id != foreign.pk


def test_staff_without_change_permission_cannot_edit(client, business, booking):
    viewer = make_staff(businesses=(business,), permissions=["view_bookingrequest"])
    client.force_login(viewer)

    response = client.post(change_url(booking), form_data(booking, client_name="Mallory"))

    assert response.status_code == 403
    booking.refresh_from_db()
    assert booking.client_name == "Ada Lovelace"
