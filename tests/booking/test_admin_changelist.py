"""The booking change list: filters, search, columns, and a query count that does not grow."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking.admin import changelist
from booking.demo import build_bookings
from booking.models import REFERENCE_ALPHABET, BookingRequest, BookingStatus
from tests.booking.admin_helpers import CHANGELIST
from tests.factories import make_booking, make_session, make_staff

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
    # Its reference is fixed too: a drawn one could contain "REF".
    make_booking(session=session, reference="ZZZZZZZ2", client_name="Alan Turing",
                 client_email="alan@x.test")  # fmt: skip

    assert listed(desk, f"?q={term}") == {wanted.reference}


def test_a_phone_number_is_searched_whole_not_word_by_word(desk, session):
    wanted = make_booking(session=session, client_phone="+44 7700 900999")
    # Every word of the term is somewhere in this one's number, but it is another number.
    make_booking(session=session, client_phone="+44 900999 7700 1")

    assert listed(desk, "?q=7700+900999") == {wanted.reference}
    assert listed(desk, "?q=%2B447700900999") == {wanted.reference}  # another format
    assert listed(desk, f"?q={wanted.reference}") == {wanted.reference}


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


def test_no_full_count_of_the_table(desk, booking):
    # show_full_result_count = False: a filtered page does not count the whole table.
    with CaptureQueriesContext(connection) as queries:
        desk.get(f"{CHANGELIST}?q=nothing-matches")
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1


def _add_bookings(session, count: int) -> None:
    """`count` live bookings of the demo's mix (which soft-deletes a few: undone here).

    Their references all contain "REF" (drawn ones would by chance, one list in ~70),
    so a search for it finds rows whatever the list's length.
    """
    rows = build_bookings([session], count=count, now=timezone.now(), rng=random.Random(count))
    for n, row in enumerate(rows):
        row.is_deleted, row.deleted_at, row.deleted_by, row.deletion_reason = False, None, None, ""
        row.reference = f"REF{REFERENCE_ALPHABET[session.pk % 32]}{REFERENCE_ALPHABET[n]}XYZ"
    BookingRequest.all_objects.bulk_create(rows)


def _queries_for(client, query: str = "") -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{CHANGELIST}{query}")
    assert response.status_code == 200
    return len(queries)


# Every page a user reaches from the list: each sidebar filter, both deletion
# views, a search, a later page and each level of the date hierarchy.
PAGES = [
    "",
    "?p=2",
    "?status__exact=cancelled",
    "?deleted=yes",
    "?deleted=all",
    "?session__starts_at__gte=2020-01-01+00%3A00%3A00%2B00%3A00",
    "?q=grace",
    "?q=REF",
    "?session__starts_at__year=2031",
    "?session__starts_at__year=2031&session__starts_at__month=3",
    "?session__starts_at__year=2031&session__starts_at__month=3&session__starts_at__day=1",
]


@pytest.mark.parametrize("long_list", [False, True], ids=["counted", "estimated"])
@pytest.mark.parametrize("query", PAGES)
def test_no_page_s_queries_grow_with_rows(desk, business, other_business, monkeypatch, query,
                                          long_list):  # fmt: skip
    if long_list:  # the paths of a list too long to count (a million rows), on a few
        monkeypatch.setattr(changelist, "COUNT_CAP", 3)
    march = datetime(2031, 3, 1, 10, tzinfo=UTC)
    _add_bookings(make_session(business=business, starts_at=march), 4)
    with_few = _queries_for(desk, query)

    for n in range(4):  # many sessions across businesses: rows joined, not fetched one by one
        _add_bookings(make_session(business=business, starts_at=march + timedelta(hours=n)), 6)
        _add_bookings(make_session(business=business, starts_in=timedelta(days=n + 1)), 6)
        _add_bookings(make_session(business=other_business), 5)
    with_many = _queries_for(desk, query)

    assert BookingRequest.all_objects.for_user(desk.get(CHANGELIST).wsgi_request.user).count() > 50
    assert with_many == with_few


def test_a_long_list_counts_at_most_the_cap(desk, session, monkeypatch):
    monkeypatch.setattr(changelist, "COUNT_CAP", 3)
    _add_bookings(session, 5)

    with CaptureQueriesContext(connection) as queries:
        response = desk.get(CHANGELIST)

    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert "LIMIT 4" in counts[0]
    cl = response.context["cl"]
    if connection.vendor == "postgresql":  # the planner's estimate, said to be one
        assert len(counts) == 1 and cl.paginator.estimated
        assert "about</span> " in response.content.decode()
    else:  # SQLite keeps no statistics: the long list is counted after all
        assert len(counts) == 2 and not cl.paginator.estimated and cl.result_count == 5


@pytest.mark.postgres  # estimates are PostgreSQL's
def test_a_page_past_an_estimate_is_empty_not_an_error(desk, session, monkeypatch):
    monkeypatch.setattr(changelist, "COUNT_CAP", 3)
    monkeypatch.setattr(changelist, "planned_rows", lambda queryset: 10_000)
    _add_bookings(session, 5)

    response = desk.get(f"{CHANGELIST}?p=100")

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_a_long_list_offers_each_period_between_its_first_and_last_session(
    desk, business, monkeypatch
):
    monkeypatch.setattr(changelist, "COUNT_CAP", 3)
    for year in (2030, 2032):
        _add_bookings(
            make_session(business=business, starts_at=datetime(year, 3, 1, tzinfo=UTC)), 4
        )

    cl = desk.get(CHANGELIST).context["cl"]

    assert [d.year for d in cl.queryset.datetimes("session__starts_at", "year")] == [
        2030, 2031, 2032,
    ]  # fmt: skip
    content = desk.get(f"{CHANGELIST}?session__starts_at__year=2030").content.decode()
    assert "session__starts_at__month=3" in content


def test_a_short_list_is_read_once_for_its_count_and_its_date_hierarchy(desk, business):
    """Exact periods (2031 has no booking, so it is not offered), without Django's
    MIN/MAX and DISTINCT queries: the capped count's one read gives them."""
    for year, month in ((2030, 3), (2030, 7), (2032, 1)):
        starts_at = datetime(year, month, 1, 10, tzinfo=UTC)
        make_booking(session=make_session(business=business, starts_at=starts_at))

    with CaptureQueriesContext(connection) as queries:
        cl = desk.get(CHANGELIST).context["cl"]
        months = desk.get(f"{CHANGELIST}?session__starts_at__year=2030").context["cl"]

    assert cl.result_count == 3
    assert [d.year for d in cl.queryset.datetimes("session__starts_at", "year")] == [2030, 2032]
    assert [d.month for d in months.queryset.datetimes("session__starts_at", "month")] == [3, 7]
    sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
    assert "MIN(" in sql  # the day's earliest start, in the count's GROUP BY
    assert "MAX(" not in sql and "SELECT DISTINCT" not in sql


def test_an_empty_list_reads_no_rows_after_its_count(desk, business, other_business):
    make_booking(session=make_session(business=other_business))

    with CaptureQueriesContext(connection) as queries:
        response = desk.get(f"{CHANGELIST}?session__business__id__exact={other_business.pk}")

    assert response.status_code == 200 and list(response.context["cl"].result_list) == []
    booking_reads = [q["sql"] for q in queries.captured_queries
                     if q["sql"].startswith('SELECT "booking_bookingrequest"."id", ')]  # fmt: skip
    assert booking_reads == []


def test_staff_of_one_business_see_no_business_column(desk, booking):
    content = desk.get(CHANGELIST).content.decode()

    assert "column-business_display" not in content
    assert booking.session.business.name not in content.split('id="result_list"')[1]


def test_staff_of_two_businesses_see_the_business_column_and_filter(
    client, business, other_business, booking
):
    client.force_login(make_staff(businesses=(business, other_business)))

    content = client.get(CHANGELIST).content.decode()

    assert "column-business_display" in content
    assert "session__business__id__exact" in content


def test_the_session_time_filter_upcoming_next_7_days_and_past(desk, business):
    past = make_booking(session=make_session(business=business, starts_in=-timedelta(hours=2)))
    soon = make_booking(session=make_session(business=business, starts_in=timedelta(days=2)))
    later = make_booking(session=make_session(business=business, starts_in=timedelta(days=9)))

    assert listed(desk, "?when=upcoming") == {soon.reference, later.reference}
    assert listed(desk, "?when=next7") == {soon.reference}
    assert listed(desk, "?when=past") == {past.reference}
    assert listed(desk, "?when=bogus") == set()  # never silently everything
    content = desk.get(CHANGELIST).content.decode()
    assert 'href="?when=upcoming"' in content and 'href="?when=next7"' in content
    assert "By session time" in content and "By session date" in content


def test_the_list_is_ordered_by_session_time_then_booking(desk, business):
    later = make_session(business=business, starts_in=timedelta(days=3))
    sooner = make_session(business=business, starts_in=timedelta(days=1))
    first, second = make_booking(session=later), make_booking(session=later)
    earliest = make_booking(session=sooner)

    response = desk.get(CHANGELIST)

    rows = [b.pk for b in response.context["cl"].result_list]
    assert rows == [earliest.pk, first.pk, second.pk]
    query = str(response.context["cl"].queryset.query)
    assert query.rstrip().endswith(
        'ORDER BY "booking_session"."starts_at" ASC, "booking_bookingrequest"."id" ASC'
    )


def test_an_action_s_post_reads_no_page_of_the_list(desk, session):
    # Django builds the change list before running the action; its count and rows
    # were read for a redirect. Only the action's own queries run.
    bookings = [make_booking(session=session) for _ in range(3)]
    data = {"action": "cancel_bookings", "_selected_action": [b.pk for b in bookings],
            "post": "yes", "reason": "Studio closed"}  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        response = desk.post(CHANGELIST, data)

    assert response.status_code == 302
    assert BookingRequest.objects.filter(status=BookingStatus.CANCELLED).count() == 3
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]


def test_a_post_that_falls_through_to_the_list_still_shows_it(desk, session):
    # An action chosen with nothing ticked: Django says so and shows the list.
    wanted = make_booking(session=session)
    response = desk.post(CHANGELIST, {"action": "cancel_bookings", "index": "0"}, follow=True)

    assert response.status_code == 200
    assert [b.pk for b in response.context["cl"].result_list] == [wanted.pk]
    assert response.context["cl"].result_count == 1
