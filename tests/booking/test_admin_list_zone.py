"""Admin lists count days in the business's time zone: the date hierarchy and the
date filters agree with the times the rows show."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking.models import Business
from tests.factories import (
    ALL_BOOKING_PERMISSIONS,
    make_booking,
    make_business,
    make_session,
    make_staff,
)

pytestmark = pytest.mark.django_db

SESSIONS = "/admin/booking/session/"
BOOKINGS = "/admin/booking/bookingrequest/"
PERMISSIONS = [*ALL_BOOKING_PERMISSIONS, "view_session", "change_session"]
# 02:00 UTC on 5 March is 21:00 on 4 March in New York: the studio's 4 March.
EVENING = datetime(2030, 3, 5, 2, 0, tzinfo=UTC)


@pytest.fixture
def desk(client):
    studio = make_business(slug="ny", name="NY Studio", timezone_name="America/New_York")
    session = make_session(business=studio, title="Late Spin", starts_at=EVENING)
    make_booking(session=session, client_name="Evening Client")
    client.force_login(make_staff(businesses=(studio,), permissions=PERMISSIONS))
    return client


def day(year: int, month: int, day: int, field: str) -> str:
    return f"?{field}__year={year}&{field}__month={month}&{field}__day={day}"


def test_the_session_list_puts_an_evening_class_on_the_studios_day(desk):
    on_the_4th = desk.get(SESSIONS + day(2030, 3, 4, "starts_at")).content.decode()
    on_the_5th = desk.get(SESSIONS + day(2030, 3, 5, "starts_at")).content.decode()

    assert "Late Spin" in on_the_4th
    assert "Mon 04 Mar 2030, 21:00 EST" in on_the_4th
    assert "Late Spin" not in on_the_5th


def test_the_booking_list_puts_an_evening_class_on_the_studios_day(desk):
    on_the_4th = desk.get(BOOKINGS + day(2030, 3, 4, "session__starts_at")).content.decode()
    on_the_5th = desk.get(BOOKINGS + day(2030, 3, 5, "session__starts_at")).content.decode()

    assert "Evening Client" in on_the_4th
    assert "Evening Client" not in on_the_5th


def test_a_user_of_businesses_in_several_zones_counts_days_in_utc(client, desk):
    london = make_business(slug="ldn", name="London Studio", timezone_name="Europe/London")
    make_session(business=london, title="London Spin", starts_at=EVENING)
    both = tuple(Business.objects.all())
    client.force_login(make_staff(username="both", businesses=both, permissions=PERMISSIONS))
    on_the_5th = client.get(SESSIONS + day(2030, 3, 5, "starts_at")).content.decode()

    assert "London Spin" in on_the_5th and "Late Spin" in on_the_5th
