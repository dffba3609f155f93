"""The booking change list: filters, search, columns, and a query count that does not grow."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking.demo import build_bookings
from booking.models import BookingRequest, BookingStatus
from tests.booking.admin_helpers import CHANGELIST
from tests.factories import make_booking, make_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, staff):
    client.force_login(staff)
    return client


def listed(client, query: str = "") -> set[str]:
    response = client.get(f"{CHANGELIST}{query}")
    assert response.status_code == 200
    return {booking.reference for booking in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", {"live"}), ("?deleted=yes", {"deleted"}), ("?deleted=all", {"live", "deleted"})],
)
def test_the_deleted_filter(desk, session, query, expected):
    bookings = {
        "live": make_booking(session=session),
        "deleted": make_booking(session=session, is_deleted=True),
    }

    assert listed(desk, query) == {bookings[name].reference for name in expected}


def test_the_deleted_filter_offers_live_deleted_and_both(desk, booking):
    content = desk.get(CHANGELIST).content.decode()

    assert "By deletion state" in content
    assert '<a href="?deleted=yes"' in content
    assert '<a href="?deleted=all"' in content


@pytest.mark.parametrize(
    "term", ["REF", "ref", "Grace", "hopper@example", "7700 900999"], ids=lambda t: t
)
def test_search_by_reference_name_email_and_phone(desk, session, term):
    wanted = make_booking(
        session=session,
        reference="REFABC23",
        client_name="Grace Hopper",
        client_email="grace.hopper@example.com",
        client_phone="+44 7700 900999",
    )
    make_booking(session=session, client_name="Alan Turing", client_email="alan@x.test")

    assert listed(desk, f"?q={term}") == {wanted.reference}


def test_status_and_business_filters(desk, business, session):
    approved = make_booking(session=session, status=BookingStatus.APPROVED)
    make_booking(session=session)

    assert listed(desk, "?status__exact=approved") == {approved.reference}
    assert listed(desk, f"?session__business__id__exact={business.pk}") == set(
        BookingRequest.objects.values_list("reference", flat=True)
    )


def test_session_date_hierarchy(desk, business):
    def on(year: int):
        starts_at = datetime(year, 3, 1, 10, tzinfo=UTC)
        return make_booking(session=make_session(business=business, starts_at=starts_at))

    in_2030, in_2031 = on(2030), on(2031)

    assert listed(desk, "?session__starts_at__year=2030") == {in_2030.reference}
    assert listed(desk, "?session__starts_at__year=2031") == {in_2031.reference}
    toplinks = desk.get(CHANGELIST).context["cl"]  # the hierarchy reads sessions' dates
    years = [d.year for d in toplinks.queryset.datetimes("session__starts_at", "year")]
    assert years == [2030, 2031]
    content = desk.get(CHANGELIST).content.decode()
    assert '<a href="?session__starts_at__year=2030">2030</a>' in content


def test_columns_show_status_badge_and_markers(desk, session, staff):
    make_booking(
        session=session,
        status=BookingStatus.CANCELLED,
        cancelled_at=timezone.now(),
        cancelled_by_client=True,
    )
    make_booking(session=session, is_deleted=True)
    content = desk.get(f"{CHANGELIST}?deleted=all").content.decode()

    assert '<span class="booking-badge booking-badge--cancelled">Cancelled</span>' in content
    assert "Cancelled by client" in content
    assert '<span class="booking-marker booking-marker--deleted">Deleted</span>' in content
    assert session.title in content
    assert session.business.name in content


def test_no_full_count_of_the_table(desk, booking):
    # show_full_result_count = False: a filtered page does not count the whole table.
    with CaptureQueriesContext(connection) as queries:
        desk.get(f"{CHANGELIST}?q=nothing-matches")
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1


def _add_bookings(session, count: int) -> None:
    rows = build_bookings([session], count=count, now=timezone.now(), rng=random.Random(count))
    BookingRequest.all_objects.bulk_create(rows)


def _queries_for_changelist(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_rows(desk, business, other_business):
    few = make_session(business=business)
    _add_bookings(few, 2)
    with_few = _queries_for_changelist(desk)

    for n in range(10):  # many sessions across businesses: rows joined, not fetched one by one
        _add_bookings(make_session(business=business, starts_in=timedelta(days=n + 1)), 6)
        _add_bookings(make_session(business=other_business), 5)
    with_many = _queries_for_changelist(desk)

    assert BookingRequest.objects.for_user(desk.get(CHANGELIST).wsgi_request.user).count() == 62
    assert with_many == with_few
