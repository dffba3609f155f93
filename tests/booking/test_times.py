"""One time zone on every staff page: a business's times in its zone, labelled, in one format."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from booking.models import BookingRequest
from booking.times import business_time
from tests.booking.admin_helpers import CHANGELIST, change_url, confirm
from tests.factories import make_booking, make_business, make_session, make_staff

DEC_7_17_UTC = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
JUL_1_08_UTC = datetime(2026, 7, 1, 8, 30, tzinfo=UTC)
# Django's default English formats: what the pages must no longer show.
OTHER_FORMATS = re.compile(r"\b\d{1,2}(:\d\d)? [ap]\.m\.|\bmidnight\b|\bnoon\b")


@pytest.mark.parametrize(
    ("moment", "zone", "expected"),
    [
        (DEC_7_17_UTC, "Europe/Berlin", "Mon 07 Dec 2026, 18:00 CET"),
        (JUL_1_08_UTC, "Europe/Berlin", "Wed 01 Jul 2026, 10:30 CEST"),
        (DEC_7_17_UTC, "America/New_York", "Mon 07 Dec 2026, 12:00 EST"),
        (DEC_7_17_UTC, "UTC", "Mon 07 Dec 2026, 17:00 UTC"),
        (None, "Europe/Berlin", "—"),
    ],
)
def test_business_time_is_local_and_labelled(moment, zone, expected):
    assert business_time(moment, zone) == expected


@pytest.fixture
def berlin(db):
    return make_business(slug="berlin-studio", name="Berlin Studio", timezone_name="Europe/Berlin")


@pytest.fixture
def desk(client, berlin):
    client.force_login(make_staff(username="desk", businesses=(berlin,)))
    return client


@pytest.fixture
def booking(berlin):
    session = make_session(business=berlin, starts_at=DEC_7_17_UTC, title="Evening Flow")
    return make_booking(session=session, created_at=JUL_1_08_UTC)


def test_change_list_shows_session_and_created_times_in_the_business_zone(desk, booking):
    content = desk.get(CHANGELIST).content.decode()

    assert "Mon 07 Dec 2026, 18:00 CET" in content  # the session
    assert "Wed 01 Jul 2026, 10:30 CEST" in content  # created_at
    assert 'title="Europe/Berlin"' in content
    assert not OTHER_FORMATS.search(content)


def test_change_form_shows_every_time_in_the_business_zone(desk, booking):
    confirm(desk, "cancel_bookings", [booking], reason="Ill")
    confirm(desk, "soft_delete_bookings", [booking], reason="Duplicate")
    booking = BookingRequest.all_objects.get(pk=booking.pk)

    content = desk.get(change_url(booking)).content.decode()

    for moment in [
        booking.created_at,
        booking.updated_at,
        booking.cancelled_at,
        booking.deleted_at,
    ]:
        assert business_time(moment, "Europe/Berlin") in content
    assert "Wed 01 Jul 2026, 10:30 CEST" in content  # created_at, read only
    assert not OTHER_FORMATS.search(content)
    timeline = content[content.index('id="booking-timeline"') :]
    latest = booking.history.latest().history_date
    assert business_time(latest, "Europe/Berlin") in timeline


def test_history_page_shows_times_and_changed_times_in_the_business_zone(desk, booking):
    confirm(desk, "cancel_bookings", [booking], reason="Ill")
    booking.refresh_from_db()

    url = reverse("admin:booking_bookingrequest_history", args=[booking.pk])
    content = desk.get(url).content.decode()

    for record in booking.history.all():
        assert business_time(record.history_date, "Europe/Berlin") in content
    # The cancelled_at value in the list of changes, too.
    assert f"&rarr;&nbsp;{business_time(booking.cancelled_at, 'Europe/Berlin')}" in content
    assert not OTHER_FORMATS.search(content)


def test_version_page_shows_times_in_the_business_zone(desk, booking):
    record = booking.history.latest()
    url = reverse("admin:booking_bookingrequest_simple_history", args=[booking.pk, record.pk])

    content = desk.get(url).content.decode()

    assert "Wed 01 Jul 2026, 10:30 CEST" in content
    assert not OTHER_FORMATS.search(content)


def test_session_pages_show_times_in_the_business_zone(client, booking):
    client.force_login(make_staff(superuser=True))
    changelist = client.get(reverse("admin:booking_session_changelist")).content.decode()
    change = client.get(reverse("admin:booking_session_change", args=[booking.session_id]))

    assert "Mon 07 Dec 2026, 18:00 CET" in changelist
    # The form's inputs are in the business's zone too: 18:00, not 17:00 UTC.
    assert 'name="starts_at_1" value="18:00:00"' in change.content.decode()


def test_editing_a_session_reads_its_times_in_the_business_zone(client, berlin, booking):
    client.force_login(make_staff(superuser=True))
    session = booking.session
    url = reverse("admin:booking_session_change", args=[session.pk])

    response = client.post(
        url,
        {
            "business": berlin.pk,
            "title": "Evening Flow",
            "starts_at_0": "2026-12-07",
            "starts_at_1": "19:00",
            "ends_at_0": "2026-12-07",
            "ends_at_1": "20:00",
            "capacity": 20,
            "price": "0.00",
            "bookings-TOTAL_FORMS": 1,
            "bookings-INITIAL_FORMS": 1,
            "bookings-MIN_NUM_FORMS": 0,
            "bookings-MAX_NUM_FORMS": 1000,
            "bookings-0-id": booking.pk,
            "bookings-0-session": session.pk,
            "waitlist_entries-TOTAL_FORMS": 0,  # the session's waitlist (read only)
            "waitlist_entries-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    session.refresh_from_db()
    assert session.starts_at == datetime(2026, 12, 7, 18, 0, tzinfo=UTC)  # 19:00 CET
