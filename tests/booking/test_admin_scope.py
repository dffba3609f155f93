"""Tenant isolation: staff see and act on their businesses' data only, on every path."""

from __future__ import annotations

import pytest
from django.urls import reverse

from booking.models import BookingRequest, Session
from tests.booking.admin_helpers import CHANGELIST, change_url
from tests.factories import ALL_BOOKING_PERMISSIONS, make_booking, make_session, make_staff

pytestmark = pytest.mark.django_db

BACKOFFICE_PERMISSIONS = [
    *ALL_BOOKING_PERMISSIONS,
    "add_bookingrequest",
    "view_session",
    "add_session",
    "change_session",
    "view_business",
    "change_business",
    "view_bookingsettings",
    "change_bookingsettings",
]


@pytest.fixture
def theirs(other_business):
    """Another business's session and booking, with names that must never show."""
    other_business.name = "Rival Gym"
    other_business.save()
    session = make_session(business=other_business, title="Secret Rival Class")
    return make_booking(session=session, client_name="Rival Client", client_email="r@rival.test")


@pytest.fixture
def desk(client, business):
    user = make_staff(
        username="frontdesk", businesses=(business,), permissions=BACKOFFICE_PERMISSIONS
    )
    client.force_login(user)
    return client


def test_the_booking_list_shows_only_the_users_businesses(desk, booking, theirs):
    content = desk.get(f"{CHANGELIST}?deleted=all").content.decode()

    assert booking.reference in content
    assert theirs.reference not in content
    assert "Rival" not in content  # not in the rows, nor in the business filter


def test_a_superuser_sees_every_business(client, superuser, booking, theirs):
    client.force_login(superuser)
    content = client.get(CHANGELIST).content.decode()

    assert booking.reference in content
    assert theirs.reference in content


def test_another_business_booking_page_is_not_found(desk, theirs):
    response = desk.get(change_url(theirs))

    assert response.status_code == 302  # the admin's "does not exist" redirect
    assert "Rival" not in desk.get(response.url).content.decode()


def test_a_forged_session_of_another_business_is_refused_and_not_named(desk, booking, theirs):
    response = desk.post(
        change_url(booking),
        {
            "session": theirs.session.pk,
            "client_name": "Ada Lovelace",
            "client_email": "ada@example.com",
            "client_phone": "",
        },
    )

    assert response.status_code == 200
    assert "session" in response.context["adminform"].form.errors
    assert "Secret Rival Class" not in response.content.decode()  # the raw-id label
    booking.refresh_from_db()
    assert booking.session_id != theirs.session_id


def test_the_raw_id_label_names_an_own_session(desk, booking):
    content = desk.get(change_url(booking)).content.decode()

    assert str(booking.session.title) in content


def test_the_raw_id_lookup_popup_lists_own_sessions_only(desk, session, theirs):
    url = reverse("admin:booking_session_changelist") + "?_to_field=id&_popup=1"
    content = desk.get(url).content.decode()

    assert session.title in content
    assert "Secret Rival Class" not in content


def test_adding_a_booking_to_another_business_session_is_refused(desk, theirs):
    response = desk.post(
        reverse("admin:booking_bookingrequest_add"),
        {"session": theirs.session.pk, "client_name": "Mallory", "client_email": "m@x.test"},
    )

    assert response.status_code == 200
    assert not BookingRequest.all_objects.filter(client_name="Mallory").exists()


def test_business_autocomplete_offers_own_businesses_only(desk, business, theirs):
    url = reverse("admin:autocomplete")
    params = {"app_label": "booking", "model_name": "session", "field_name": "business"}

    own = desk.get(url, {**params, "term": business.name[:6]}).json()
    rival = desk.get(url, {**params, "term": "Rival"}).json()

    assert [r["text"] for r in own["results"]] == [business.name]
    assert rival["results"] == []


def test_a_session_cannot_be_added_to_another_business(desk, theirs):
    response = desk.post(
        reverse("admin:booking_session_add"),
        {
            "business": theirs.session.business_id,
            "title": "Trojan",
            "starts_at_0": "2030-01-01",
            "starts_at_1": "10:00",
            "ends_at_0": "2030-01-01",
            "ends_at_1": "11:00",
            "capacity": 5,
            "bookings-TOTAL_FORMS": 0,
            "bookings-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 200
    assert "business" in response.context["adminform"].form.errors
    assert not Session.objects.filter(title="Trojan").exists()


def test_session_pages_and_their_booking_inline_are_scoped(desk, session, booking, theirs):
    sessions = desk.get(reverse("admin:booking_session_changelist")).content.decode()
    assert session.title in sessions
    assert "Secret Rival Class" not in sessions

    own = desk.get(reverse("admin:booking_session_change", args=[session.pk]))
    assert booking.reference in own.content.decode()
    assert "1 / 20" in sessions  # booked / capacity

    rival = desk.get(reverse("admin:booking_session_change", args=[theirs.session.pk]))
    assert rival.status_code == 302


def test_business_pages_are_scoped_and_staff_membership_is_for_superusers(
    desk, client, superuser, business, theirs
):
    businesses = desk.get(reverse("admin:booking_business_changelist")).content.decode()
    assert business.name in businesses
    assert "Rival" not in businesses

    own_form = desk.get(reverse("admin:booking_business_change", args=[business.pk]))
    assert "staff" not in own_form.context["adminform"].form.fields
    rival_id = theirs.session.business_id
    assert desk.get(reverse("admin:booking_business_change", args=[rival_id])).status_code == 302

    client.force_login(superuser)
    root_form = client.get(reverse("admin:booking_business_change", args=[business.pk]))
    assert "staff" in root_form.context["adminform"].form.fields


def test_staff_cannot_grant_themselves_another_business(desk, business, theirs):
    user = desk.get(CHANGELIST).wsgi_request.user
    desk.post(
        reverse("admin:booking_business_change", args=[business.pk]),
        {
            "name": business.name,
            "slug": business.slug,
            "timezone": "UTC",
            "staff": [user.pk],
            "booking_settings-TOTAL_FORMS": 1,
            "booking_settings-INITIAL_FORMS": 1,
        },
    )

    assert list(user.businesses.all()) == [business]


def test_booking_settings_are_scoped(desk, business, theirs):
    listing = desk.get(reverse("admin:booking_bookingsettings_changelist")).content.decode()
    assert business.name in listing
    assert "Rival" not in listing

    rival_settings = theirs.session.business.booking_settings
    url = reverse("admin:booking_bookingsettings_change", args=[rival_settings.pk])
    assert desk.get(url).status_code == 302


def test_history_pages_of_another_business_are_not_found(desk, theirs):
    history = reverse("admin:booking_bookingrequest_history", args=[theirs.pk])
    record = theirs.history.latest()
    version = reverse(
        "admin:booking_bookingrequest_simple_history", args=[theirs.pk, record.history_id]
    )
    session_history = reverse("admin:booking_session_history", args=[theirs.session_id])
    business_history = reverse("admin:booking_business_history", args=[theirs.session.business_id])

    for url in (history, version, session_history, business_history):
        assert desk.get(url).status_code == 404, url


def test_the_history_of_a_purged_booking_stays_readable_by_its_business_only(
    desk, client, business, booking, theirs
):
    for gone in (booking, theirs):
        BookingRequest.history.filter(id=gone.pk).update(history_type="~")
        BookingRequest.history.model.objects.create(
            **{
                f.attname: getattr(gone, f.attname)
                for f in BookingRequest.history.model.tracked_fields
            },
            history_date=gone.updated_at,
            history_type="-",
            history_change_reason="purged for the test",
        )
        BookingRequest.all_objects.filter(pk=gone.pk).delete()

    own = desk.get(reverse("admin:booking_bookingrequest_history", args=[booking.pk]))
    rival = desk.get(reverse("admin:booking_bookingrequest_history", args=[theirs.pk]))

    assert own.status_code == 200
    assert "purged for the test" in own.content.decode()
    assert rival.status_code == 404


def test_a_history_version_cannot_be_posted_back(desk, booking):
    record = booking.history.latest()
    url = reverse(
        "admin:booking_bookingrequest_simple_history", args=[booking.pk, record.history_id]
    )

    page = desk.get(url)
    response = desk.post(url, {"client_name": "Reverted", "session": booking.session_id})

    assert page.status_code == 200
    assert response.status_code == 405
    booking.refresh_from_db()
    assert booking.client_name == "Ada Lovelace"
