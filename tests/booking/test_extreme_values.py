"""Values every page can render: forms refuse what would break a page, and pages stay
up for rows written from the shell with values no form accepts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError

from booking.models import BookingRequest, BookingSettings, Session
from tests.booking.test_export_admin import export
from tests.factories import make_booking, make_business, make_staff

pytestmark = pytest.mark.django_db

YEAR_9999 = datetime(9999, 12, 31, 20, 0, tzinfo=UTC)
YEAR_1 = datetime(1, 1, 1, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def extremes(db):
    """Rows as a shell could write them: one business each at the far ends."""
    far = make_business(slug="far", timezone_name="Pacific/Kiritimati")  # UTC+14
    early = make_business(slug="early", timezone_name="America/New_York")
    huge = make_business(slug="huge", timezone_name="UTC")
    BookingSettings.objects.filter(business=huge).update(cancellation_deadline_hours=2147483647)
    BookingSettings.objects.filter(business=early).update(cancellation_deadline_hours=24)
    sessions = [
        Session.objects.create(business=far, title="Far", starts_at=YEAR_9999,
                               ends_at=YEAR_9999 + timedelta(hours=1)),
        Session.objects.create(business=early, title="Early", starts_at=YEAR_1,
                               ends_at=YEAR_1 + timedelta(hours=1)),
        Session.objects.create(business=huge, title="Huge", starts_at=datetime.now(UTC)
                               + timedelta(days=3), ends_at=datetime.now(UTC) + timedelta(days=4)),
    ]  # fmt: skip
    bookings = [make_booking(session=s, client_email=f"c{s.pk}@example.com") for s in sessions]
    return [far, early, huge], sessions, bookings


def assert_renders(response, *allowed: int) -> None:
    assert response.status_code in (allowed or (200,)), (
        response.status_code,
        response.content[:400],
    )


def test_public_page_and_api_render_every_extreme(client, extremes):
    _, _, bookings = extremes
    for booking in bookings:
        assert_renders(client.get(f"/booking/cancel/{booking.reference}/"))
        assert_renders(client.get(f"/api/booking/client/{booking.reference}/"))
        response = client.post(
            f"/api/booking/client/{booking.reference}/cancel/",
            {"client_email": booking.client_email},
            content_type="application/json",
        )
        assert_renders(response, 200, 403)
        page_post = client.post(
            f"/booking/cancel/{booking.reference}/", {"client_email": "wrong@example.com"}
        )
        assert_renders(page_post, 403)


def test_staff_api_renders_every_extreme(client, extremes):
    businesses, _, bookings = extremes
    client.force_login(make_staff(businesses=tuple(businesses)))
    assert_renders(client.get("/api/booking/manage/"))
    for booking in bookings:
        assert_renders(client.get(f"/api/booking/manage/{booking.pk}/"))


ADMIN_PAGES = [
    "/admin/booking/bookingrequest/",
    "/admin/booking/bookingrequest/?deleted=all",
    "/admin/booking/session/",
    "/admin/booking/bookingsettings/",
    "/admin/booking/business/",
    "/admin/booking/report/cancellations/",
    "/admin/booking/bookingrequest/export/",
]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_the_superusers_admin_renders_every_extreme(client, extremes, superuser, path):
    client.force_login(superuser)
    assert_renders(client.get(path))


@pytest.mark.parametrize("fmt", ["CSV", "XLSX", "JSON"])
def test_exports_write_every_extreme(client, extremes, superuser, fmt):
    client.force_login(superuser)
    body = export(client, fmt=fmt)
    assert body


def test_change_forms_and_histories_render_every_extreme(client, extremes, superuser):
    client.force_login(superuser)
    _, sessions, bookings = extremes
    for booking in bookings:
        assert_renders(client.get(f"/admin/booking/bookingrequest/{booking.pk}/change/"))
        assert_renders(client.get(f"/admin/booking/bookingrequest/{booking.pk}/history/"))
    for session in sessions:
        assert_renders(client.get(f"/admin/booking/session/{session.pk}/change/"))


def test_date_hierarchy_at_the_far_end_is_empty_or_400(client, extremes, superuser):
    client.force_login(superuser)
    for path in [
        "/admin/booking/session/?starts_at__year=9999",
        "/admin/booking/session/?starts_at__year=9999&starts_at__month=12",
        "/admin/booking/session/?starts_at__year=9999&starts_at__month=12&starts_at__day=31",
        "/admin/booking/bookingrequest/?session__starts_at__year=9999",
        "/admin/booking/bookingrequest/?session__starts_at__year=99999",
    ]:
        response = client.get(path)
        assert_renders(response, 200, 400)
        assert "?e=1" not in response.get("Location", "")


# --- The forms refuse what no page could show ------------------------------------------


def test_the_deadline_is_at_most_a_year_of_hours(business):
    policy = business.booking_settings
    policy.cancellation_deadline_hours = 8761
    with pytest.raises(ValidationError) as raised:
        policy.full_clean()
    assert "cancellation_deadline_hours" in raised.value.message_dict
    policy.cancellation_deadline_hours = 8760
    policy.full_clean()


@pytest.mark.parametrize(
    ("starts_at", "duration", "field"),
    [
        (datetime(1999, 12, 31, 12, tzinfo=UTC), timedelta(hours=1), "starts_at"),
        (datetime(2100, 12, 31, 23, tzinfo=UTC), timedelta(hours=2), "ends_at"),
        (datetime(9999, 1, 1, tzinfo=UTC), timedelta(hours=1), "starts_at"),
        (datetime(2030, 1, 1, tzinfo=UTC), timedelta(hours=-1), "ends_at"),
        (datetime(2030, 1, 1, tzinfo=UTC), timedelta(0), "ends_at"),
    ],
)
def test_session_times_between_2000_and_2100_and_ending_after_starting(
    business, starts_at, duration, field
):
    session = Session(
        business=business, title="x", starts_at=starts_at, ends_at=starts_at + duration
    )
    with pytest.raises(ValidationError) as raised:
        session.full_clean()
    assert field in raised.value.message_dict


def test_the_admin_form_refuses_a_session_in_year_9999(client, superuser, business):
    client.force_login(superuser)
    response = client.post(
        "/admin/booking/session/add/",
        {
            "business": business.pk,
            "title": "Never",
            "starts_at_0": "9999-12-31",
            "starts_at_1": "10:00:00",
            "ends_at_0": "9999-12-31",
            "ends_at_1": "11:00:00",
            "capacity": 5,
            "bookings-TOTAL_FORMS": 0,
            "bookings-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200  # the form again, with its errors
    assert not Session.objects.filter(title="Never").exists()
    assert BookingRequest.objects.count() == 0
