"""The admin home tells staff of their businesses' client cancellations, new ones counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking import services
from booking.admin_site import client_cancellations
from booking.models import BookingStatus
from booking.notices import CancellationsSeen
from tests.factories import make_booking, make_business, make_session, make_staff

pytestmark = pytest.mark.django_db

HOME = "/admin/"


def cancel_as_client(booking, *, reason="", ago=timedelta(hours=1)):
    """A client's cancellation `ago` before now (set directly: the service's rules are
    tested elsewhere; here only the notice matters)."""
    type(booking).all_objects.filter(pk=booking.pk).update(
        status=BookingStatus.CANCELLED,
        cancelled_by_client=True,
        cancelled_at=timezone.now() - ago,
        cancellation_reason=reason,
    )


@pytest.fixture
def berlin(db):
    return make_business(slug="berlin", name="Berlin Studio", timezone_name="Europe/Berlin")


@pytest.fixture
def desk(client, berlin):
    user = make_staff(username="desk", businesses=(berlin,))
    client.force_login(user)
    client.user = user
    return client


def notice(response):
    return response.context["client_cancellations"]


def test_the_home_lists_client_cancellations_newest_first(desk, berlin, other_business):
    session = make_session(
        business=berlin, title="Evening Flow", starts_at=datetime(2026, 12, 7, 17, tzinfo=UTC)
    )
    older, newer = make_booking(session=session), make_booking(session=session)
    cancel_as_client(older, reason="Sick", ago=timedelta(hours=5))
    cancel_as_client(newer, reason="Train strike", ago=timedelta(hours=1))
    by_staff = make_booking(session=session)
    services.cancel_bookings([by_staff.pk], actor=desk.user, reason="Instructor ill")
    elsewhere = make_booking(session=make_session(business=other_business))
    cancel_as_client(elsewhere, reason="Not yours")

    response = desk.get(HOME)

    assert [b.reference for b in notice(response).bookings] == [newer.reference, older.reference]
    content = response.content.decode()
    section = content[content.index('id="client-cancellations"') :]
    for text in [newer.reference, "Evening Flow", "Mon 07 Dec 2026, 18:00 CET", "Train strike"]:
        assert text in section
    assert "Not yours" not in content and "Instructor ill" not in content


def test_the_count_of_new_ones_is_since_the_user_last_looked(desk, berlin):
    session = make_session(business=berlin)
    first, second, third = (make_booking(session=session) for _ in range(3))
    cancel_as_client(first, ago=timedelta(days=2))
    cancel_as_client(second, ago=timedelta(days=1))

    first_look = desk.get(HOME)
    assert notice(first_look).new_count == 2  # never looked: all are new
    assert 'id="client-cancellations-new">2 new</span>' in first_look.content.decode()
    looked = notice(desk.get(HOME))
    assert looked.new_count == 0
    assert [b.reference for b in looked.bookings] == [second.reference, first.reference]

    cancel_as_client(third, ago=timedelta(seconds=0))
    again = desk.get(HOME)
    assert notice(again).new_count == 1
    assert 'id="client-cancellations-new">1 new</span>' in again.content.decode()
    assert CancellationsSeen.objects.filter(user=desk.user).count() == 1


def test_last_looked_is_per_user(client, berlin):
    session = make_session(business=berlin)
    cancel_as_client(make_booking(session=session))
    one = make_staff(businesses=(berlin,))
    two = make_staff(businesses=(berlin,))

    assert client_cancellations(one).new_count == 1
    assert client_cancellations(one).new_count == 0
    assert client_cancellations(two).new_count == 1


def test_old_cancellations_are_not_listed(desk, berlin):
    cancel_as_client(make_booking(session=make_session(business=berlin)), ago=timedelta(days=40))

    response = desk.get(HOME)

    assert notice(response).bookings == []
    assert "No client cancellations in the last 30 days." in response.content.decode()


def test_staff_without_the_bookings_view_permission_see_no_notice(client, berlin):
    cancel_as_client(make_booking(session=make_session(business=berlin)), reason="Secret")
    client.force_login(make_staff(businesses=(berlin,), permissions=[]))

    response = client.get(HOME)

    assert "client_cancellations" not in response.context
    assert "Secret" not in response.content.decode()


def test_the_query_count_does_not_grow_with_cancellations_or_businesses(client, berlin):
    user = make_staff(businesses=(berlin,))
    client.force_login(user)
    cancel_as_client(make_booking(session=make_session(business=berlin)))
    client.get(HOME)  # the first look creates the user's row
    with CaptureQueriesContext(connection) as few:
        client.get(HOME)

    for n in range(6):
        business = make_business(timezone_name="America/New_York")
        business.staff.add(user)
        session = make_session(business=business, starts_in=timedelta(days=n + 1))
        for _ in range(3):
            cancel_as_client(make_booking(session=session), reason=f"reason {n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(HOME)

    assert len(notice(response).bookings) == 10
    assert len(many) == len(few)
