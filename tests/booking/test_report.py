"""The cancellation report: its numbers on a known data set, scope, filters, chart, exports."""

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from booking.exports.report import cancellation_report
from booking.models import BookingRequest
from tests.factories import make_booking, make_business, make_session, make_staff

URL = reverse("booking_exports:cancellation_report")
RANGE = {"start": "2030-03-01", "end": "2030-03-31"}


def at(day, hour, minute=0):
    return datetime(2030, 3, day, hour, minute, tzinfo=UTC)


def cancelled(session, when, *, by_client, reason="", **fields):
    return make_booking(
        session=session,
        status="cancelled",
        cancelled_at=when,
        cancelled_by_client=by_client,
        cancellation_reason=reason,
        **fields,
    )


@pytest.fixture
def known(business, other_business):
    """Two businesses; the second in New York with a 48-hour deadline."""
    other_business.timezone = "America/New_York"
    other_business.save()
    other_business.booking_settings.cancellation_deadline_hours = 48
    other_business.booking_settings.save()

    s1 = make_session(business=business, starts_at=at(6, 10))  # week of Mon 4 March
    make_booking(session=s1)
    cancelled(s1, at(1, 8), by_client=True, reason="Feeling unwell")  # early
    cancelled(s1, at(6, 9), by_client=True, reason="Feeling unwell")  # late: 1 h before
    cancelled(s1, at(5, 12), by_client=False, reason="Instructor ill")  # late: 22 h before
    cancelled(s1, at(5, 12), by_client=False, reason="test", is_deleted=True)  # not counted
    s2 = make_session(business=business, starts_at=at(12, 18))  # week of Mon 11 March
    make_booking(session=s2, status="approved")
    make_booking(session=s2, status="rejected")

    # 03:00 UTC on Monday 11 March is 23:00 on Sunday 10 March in New York.
    s3 = make_session(business=other_business, starts_at=at(11, 3))
    cancelled(s3, at(11, 3) - timedelta(hours=30), by_client=True, reason="=Travelling")
    make_booking(session=s3, status="approved")


def test_report_numbers_on_a_known_data_set(known):
    rows = cancellation_report(
        BookingRequest.objects.all(), start=date(2030, 3, 1), end=date(2030, 3, 31)
    )
    table = [
        (r.business, r.iso_week, r.bookings, r.by_client, r.by_staff, r.late, r.rate, r.reasons)
        for r in rows
    ]
    assert table == [
        (
            "Johnny Bravo Fitness Center",
            "2030-W10",
            4,
            2,
            1,
            2,
            75.0,
            [("Feeling unwell", 2), ("Instructor ill", 1)],
        ),
        ("Johnny Bravo Fitness Center", "2030-W11", 2, 0, 0, 0, 0.0, []),
        ("Other Studio", "2030-W10", 2, 1, 0, 1, 50.0, [("=Travelling", 1)]),
    ]
    assert rows[0].week_start == date(2030, 3, 4)


def test_date_range_is_in_the_business_time_zone(known):
    # Sunday 10 March (local) only: the New York session counts, Johnny's week 11 does not.
    rows = cancellation_report(
        BookingRequest.objects.all(), start=date(2030, 3, 10), end=date(2030, 3, 10)
    )
    assert [(r.business, r.bookings) for r in rows] == [("Other Studio", 2)]


def test_report_queries_do_not_grow_with_bookings(known, business):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            cancellation_report(BookingRequest.objects.all())
        return len(captured)

    before = queries()
    session = make_session(business=business, starts_at=at(20, 10))
    for n in range(25):
        cancelled(session, at(19, 10), by_client=bool(n % 2), reason=f"reason {n % 4}")
    assert queries() == before == 7  # time zones + (counts, reasons, waitlist) per zone


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_page_shows_chart_and_table_of_the_users_businesses_only(staff_client, known):
    response = staff_client.get(URL, RANGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('<svg class="cancellation-chart"') == 1
    assert "Johnny Bravo Fitness Center" in page
    assert "Other Studio" not in page
    assert "75.0" in page and "Feeling unwell (2)" in page
    assert "admin/booking/report" not in page or "format=csv" in page


def test_superuser_filters_by_business(client, superuser, known):
    client.force_login(superuser)
    both = client.get(URL, RANGE).content.decode()
    assert both.count('<svg class="cancellation-chart"') == 2
    one = client.get(URL, {**RANGE, "business": "other-studio"}).content.decode()
    assert one.count('<svg class="cancellation-chart"') == 1
    assert "Feeling unwell" not in one


def test_staff_cannot_pick_another_business(staff_client, known):
    response = staff_client.get(URL, {**RANGE, "business": "other-studio"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert '<svg class="cancellation-chart"' not in response.content.decode()


def test_reversed_range_is_an_error(staff_client, known):
    response = staff_client.get(URL, {"start": "2030-03-31", "end": "2030-03-01"})
    assert "must not be after" in response.content.decode()


def test_default_range_is_recent_weeks(staff_client, business):
    from django.utils import timezone

    session = make_session(business=business, starts_at=timezone.now() - timedelta(days=3))
    make_booking(session=session)
    old = make_session(business=business, starts_at=timezone.now() - timedelta(days=200))
    make_booking(session=old)
    response = staff_client.get(URL)
    assert response.context["form"].is_valid()
    assert sum(row.bookings for row in response.context["rows"]) == 1


def _download(client, fmt, **params):
    response = client.get(URL, {**RANGE, "format": fmt, **params})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_report_exports_csv_xlsx_json_escaping_formulas_in_csv_only(client, superuser, known):
    client.force_login(superuser)
    rows = list(csv.reader(io.StringIO(_download(client, "csv").decode("utf-8-sig"))))
    assert rows[0][:4] == ["Business", "ISO week", "Week starts", "Bookings"]
    assert rows[1] == [
        "Johnny Bravo Fitness Center",
        "2030-W10",
        "2030-03-04",
        "4",
        "2",
        "1",
        "2",
        "75.0",
        "Feeling unwell (2); Instructor ill (1)",
        "0",
        "USD",
        "0.00",
        "0.00",
        "0",
        "3",  # spots freed: all three cancellations came before the start
        "0",
        "0",
        "0",
        "0",
    ]
    assert rows[3][8] == "'=Travelling (1)"

    sheet = load_workbook(io.BytesIO(_download(client, "xlsx"))).active
    first = list(next(sheet.iter_rows(min_row=2, values_only=True)))
    assert first[2] == datetime(2030, 3, 4)  # a date cell
    assert first[3:8] == [4, 2, 1, 2, 75.0]
    last = next(sheet.iter_rows(min_row=4))
    assert (last[8].value, last[8].data_type) == ("=Travelling (1)", "s")  # text, not a formula

    data = json.loads(_download(client, "json"))
    assert data[2]["most_common_reasons"] == "=Travelling (1)"
    assert data[2]["cancellation_rate"] == 50.0
    assert data[1]["cancellation_rate"] == 0.0


def test_report_export_is_scoped(staff_client, known):
    data = json.loads(_download(staff_client, "json"))
    assert {row["business"] for row in data} == {"Johnny Bravo Fitness Center"}


def test_report_download_needs_the_export_permission(client, business, known):
    viewer = make_staff(businesses=(business,), permissions=["view_bookingrequest"])
    client.force_login(viewer)
    assert client.get(URL, RANGE).status_code == 200
    assert client.get(URL, {**RANGE, "format": "csv"}).status_code == 403


def test_report_needs_the_view_permission(client, business):
    nobody = make_staff(businesses=(business,), permissions=[])
    client.force_login(nobody)
    assert client.get(URL).status_code == 403


def test_unknown_format_is_not_found(staff_client, known):
    assert staff_client.get(URL, {**RANGE, "format": "pdf"}).status_code == 404


def test_week_without_bookings_is_a_gap_in_the_chart(client, superuser):
    business = make_business(slug="gappy", name="Gappy")
    for day in (4, 25):
        make_booking(session=make_session(business=business, starts_at=at(day, 10)))
    client.force_login(superuser)
    page = client.get(URL, RANGE).content.decode()
    assert page.count("<rect") >= 2 and "18 Mar" in page


@pytest.mark.parametrize("end", ["9999-12-31", "3000-01-01"])
def test_dates_beyond_any_session_are_a_form_error(staff_client, known, end):
    response = staff_client.get(URL, {"start": "2026-01-01", "end": end})

    assert response.status_code == 200
    assert "Choose dates between 1900 and 2999." in response.content.decode()


def _week_labels_of_chart(page: str) -> list[str]:
    start = page.index('<svg class="cancellation-chart"')
    svg = page[start : page.index("</svg>", start)]
    return [
        text.split(">", 1)[1].split("<", 1)[0]
        for text in svg.split("<text")[1:]
        if 'font-size="10"' in text.split(">", 1)[0]
    ]


def test_chart_and_table_name_the_weeks_alike(staff_client, known):
    page = staff_client.get(URL, RANGE).content.decode()

    chart = _week_labels_of_chart(page)
    table = page[page.index('id="report-table"') :]
    assert chart == ["2030-W10", "04 Mar", "2030-W11", "11 Mar"]
    for label in chart:
        assert label in table


def test_the_chart_legend_says_what_the_late_mark_is(staff_client, known):
    page = staff_client.get(URL, RANGE).content.decode()

    assert "Late cancellations (dark cap)" in page
    assert "Late (mark)" not in page


def test_a_long_reason_without_spaces_may_wrap(staff_client, business):
    session = make_session(business=business, starts_at=at(6, 10))
    cancelled(session, at(1, 8), by_client=True, reason="x" * 1000)

    page = staff_client.get(URL, RANGE).content.decode()

    assert '<td class="reasons">' + "x" * 1000 in page
    assert "td.reasons { overflow-wrap: anywhere;" in page  # measured in tests/browser too


def test_the_report_counts_no_shows_and_sums_fees_owed_and_waived(business):
    session = make_session(business=business, starts_at=at(6, 10), price="20.00")
    cancelled(session, at(5, 20), by_client=True, fee_amount=Decimal("10.00"), fee_status="owed")
    cancelled(session, at(5, 21), by_client=True, fee_amount=Decimal("10.00"), fee_status="waived")
    make_booking(session=session, status="no_show", fee_amount=Decimal("20.00"), fee_status="owed")
    make_booking(session=session, status="attended")

    [row] = cancellation_report(BookingRequest.objects.all())

    assert (row.no_shows, row.fees_owed, row.fees_waived) == (1, Decimal("30.00"), Decimal("10.00"))
    assert row.currency == "USD"


def test_a_session_cancelled_by_the_business_inside_the_deadline_is_not_late(business):
    """The business's own cancellation of a whole session is not a client's late one;
    a client's, or the desk's on a client's behalf, inside the deadline is."""
    from booking.services.sessions import cancel_sessions

    session = make_session(business=business, starts_at=at(6, 10))  # 24-hour deadline
    cancelled(session, at(6, 8), by_client=True)  # late, by the client
    cancelled(session, at(6, 7), by_client=False, reason="Client phoned")  # late, at the desk
    make_booking(session=session, status="approved")
    make_booking(session=session, status="pending")
    cancel_sessions([session.pk], actor=None, reason="Instructor ill", now=at(6, 9))

    [row] = cancellation_report(BookingRequest.objects.all())

    assert (row.bookings, row.by_client, row.by_staff, row.by_session) == (4, 1, 3, 2)
    assert row.late == 2


def test_lateness_follows_the_deadline_the_booking_was_made_under(business):
    """Booked under a 48-hour deadline, a cancellation 30 hours before is late even after
    the business shortened its deadline to 24 hours; booked under 24 hours, one 30 hours
    before is not late even after the business lengthened it to 48. Bookings without a
    snapshot (made before snapshots) follow the current deadline, as their fees do."""
    settings = business.booking_settings
    session = make_session(business=business, starts_at=at(6, 10))
    settings.cancellation_deadline_hours = 48
    settings.save()
    cancelled(session, at(5, 4), by_client=True)  # under 48 h, 30 h before: late
    settings.cancellation_deadline_hours = 24
    settings.save()
    cancelled(session, at(5, 4), by_client=True)  # under 24 h, 30 h before: on time
    old = cancelled(session, at(5, 4), by_client=True)
    BookingRequest.objects.filter(pk=old.pk).update(policy_snapshot=None)  # current: 24 h
    assert cancellation_report(BookingRequest.objects.all())[0].late == 1

    settings.cancellation_deadline_hours = 48
    settings.save()
    # The snapshots keep their terms; the booking without one follows the new 48 hours.
    assert cancellation_report(BookingRequest.objects.all())[0].late == 2
