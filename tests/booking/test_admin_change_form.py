"""The booking change form edits details only, through the service, without undoing state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.admin import site

from booking import services
from booking.models import BookingRequest, BookingStatus
from tests.booking.admin_helpers import change_url
from tests.factories import make_booking, make_session, make_staff


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


def offered_actions(client, booking) -> list[str]:
    response = client.get(change_url(booking))
    assert response.status_code == 200
    action_form = response.context["action_form"]
    if action_form is None:
        return []
    return [name for name, _label in action_form.fields["action"].choices if name]


@pytest.mark.django_db
def test_a_live_pending_booking_offers_every_action_but_restore(client, staff, booking):
    client.force_login(staff)

    assert offered_actions(client, booking) == [
        "approve_bookings",
        "reject_bookings",
        "cancel_bookings",
        "soft_delete_bookings",
        "purge_bookings",
        "move_bookings",
    ]


@pytest.mark.django_db
def test_a_cancelled_booking_offers_delete_and_purge(client, staff, session):
    client.force_login(staff)
    cancelled = make_booking(session=session, status=BookingStatus.CANCELLED)

    assert offered_actions(client, cancelled) == ["soft_delete_bookings", "purge_bookings"]


@pytest.mark.django_db
def test_a_deleted_booking_offers_restore_and_purge_only(client, staff, session):
    client.force_login(staff)
    deleted = make_booking(session=session, is_deleted=True)

    assert offered_actions(client, deleted) == ["restore_bookings", "purge_bookings"]
    assert 'value="restore_bookings"' in client.get(change_url(deleted)).content.decode()


@pytest.mark.django_db
def test_a_business_that_forbids_deletion_offers_neither_delete_nor_purge(client, staff, business):
    client.force_login(staff)
    settings = business.booking_settings
    settings.allow_admin_deletion = False
    settings.save()
    approved = make_booking(session=make_session(business=business), status="approved")

    assert offered_actions(client, approved) == ["cancel_bookings", "move_bookings"]


@pytest.mark.django_db
def test_a_stale_page_posting_an_action_that_no_longer_applies_changes_nothing(
    client, staff, session
):
    client.force_login(staff)
    deleted = make_booking(session=session, is_deleted=True)

    response = client.post(
        change_url(deleted),
        {
            "CHANGE_FORM-action": "cancel_bookings",
            "_selected_action": [deleted.pk],
            "post": "yes",
            "reason": "stale",
        },
    )

    assert response.status_code in (200, 302)
    assert BookingRequest.all_objects.get(pk=deleted.pk).status == BookingStatus.PENDING


AUTOCOMPLETE = {"app_label": "booking", "model_name": "bookingrequest", "field_name": "session"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("permissions", "status"),
    [
        (["view_bookingrequest", "change_bookingrequest"], 200),  # may move a booking
        (["view_session"], 200),
        (["view_bookingrequest"], 403),
    ],
)
def test_who_may_search_sessions_for_a_booking(client, business, booking, permissions, status):
    client.force_login(make_staff(businesses=(business,), permissions=permissions))

    response = client.get("/admin/autocomplete/", {"term": "", **AUTOCOMPLETE})

    assert response.status_code == status


@pytest.mark.django_db
def test_the_session_field_is_an_autocomplete_of_title_and_local_time(
    client, business, other_business, booking
):
    permissions = ["view_bookingrequest", "change_bookingrequest"]
    client.force_login(make_staff(businesses=(business,), permissions=permissions))
    business.timezone = "Europe/Berlin"
    business.save()
    mine = make_session(
        business=business, title="Evening Flow", starts_at=datetime(2026, 12, 7, 17, tzinfo=UTC)
    )
    make_session(business=other_business, title="Evening Flow elsewhere")

    form = client.get(change_url(booking)).content.decode()
    found = client.get("/admin/autocomplete/", {"term": "evening", **AUTOCOMPLETE}).json()

    assert 'class="admin-autocomplete' in form and 'name="session"' in form
    assert found["results"] == [
        {"id": str(mine.pk), "text": "Evening Flow (Mon 07 Dec 2026, 18:00 CET)"}
    ]
