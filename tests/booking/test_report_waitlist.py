"""The cancellation report's waitlist columns: spots freed, offered, claimed, expired, declined."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from booking.exports.report import cancellation_report
from booking.models import BookingRequest, BookingStatus, SessionStatus
from booking.waitlist.models import WaitlistEntry, WaitlistStatus
from tests.factories import make_booking, make_session, make_staff

pytestmark = pytest.mark.django_db

URL = reverse("booking_exports:cancellation_report")
RANGE = {"start": "2030-03-01", "end": "2030-03-31"}
START = datetime(2030, 3, 6, 10, tzinfo=UTC)  # a Wednesday: the week of Monday 4 March


def entry(session, name, status, *, offered=True, booking=None):
    offered_at = START - timedelta(days=2) if offered else None
    return WaitlistEntry.objects.create(
        session=session,
        client_name=name,
        client_email=f"{name.lower()}@example.com",
        status=status,
        offered_at=offered_at,
        offer_expires_at=offered_at + timedelta(hours=12) if offered else None,
        booking=booking,
    )


@pytest.fixture
def recovered(business, other_business):
    """A full class of three: two cancelled in time, one too late (after the start).
    Four offers went out: two claimed, one expired, one declined; one client still waits."""
    session = make_session(business=business, starts_at=START, capacity=3)
    make_booking(session=session, status=BookingStatus.ATTENDED)
    for n, when in enumerate([START - timedelta(days=2), START - timedelta(hours=1)]):
        make_booking(session=session, status=BookingStatus.CANCELLED, cancelled_at=when,
                     cancelled_by_client=True, client_email=f"c{n}@x.org")  # fmt: skip
    make_booking(session=session, status=BookingStatus.CANCELLED, client_email="late@x.org",
                 cancelled_at=START + timedelta(minutes=5), cancelled_by_client=False)  # fmt: skip
    for name in ["Cara", "Cleo"]:
        booked = make_booking(session=session, status=BookingStatus.ATTENDED,
                              client_email=f"{name.lower()}@example.com")  # fmt: skip
        entry(session, name, WaitlistStatus.CLAIMED, booking=booked)
    entry(session, "Evan", WaitlistStatus.EXPIRED)
    entry(session, "Dora", WaitlistStatus.DECLINED)
    entry(session, "Will", WaitlistStatus.WAITING, offered=False)
    # The business cancelled another class: its cancellations freed no spot to fill.
    gone = make_session(business=business, starts_at=START + timedelta(days=1))
    gone.status = SessionStatus.CANCELLED
    gone.save(update_fields=["status"])
    make_booking(session=gone, status=BookingStatus.CANCELLED, cancelled_by_client=False,
                 cancelled_at=START - timedelta(days=1))  # fmt: skip
    # Another business's waitlist in the same week.
    theirs = make_session(business=other_business, starts_at=START)
    make_booking(session=theirs, status=BookingStatus.APPROVED)
    entry(theirs, "Otto", WaitlistStatus.EXPIRED)
    return session


def waitlist_columns(row):
    return (row.freed, row.offered, row.claimed, row.expired, row.declined)


def test_a_week_shows_the_spots_freed_and_what_the_waitlist_made_of_them(recovered, business):
    rows = cancellation_report(BookingRequest.objects.filter(session__business=business))
    [week] = rows
    assert week.iso_week == "2030-W10"
    # freed: the two cancellations before the start (not the one after, not the session's)
    assert waitlist_columns(week) == (2, 4, 2, 1, 1)


def test_auto_enrolments_count_as_claimed_but_never_as_offered(business):
    session = make_session(business=business, starts_at=START, capacity=1)
    booked = make_booking(session=session, status=BookingStatus.APPROVED)
    entry(session, "Auto", WaitlistStatus.CLAIMED, offered=False, booking=booked)
    [week] = cancellation_report(BookingRequest.objects.all())
    assert (week.offered, week.claimed) == (0, 1)


def test_each_business_sees_its_own_waitlist(recovered, other_business):
    rows = cancellation_report(BookingRequest.objects.all())
    by_business = {row.business: waitlist_columns(row) for row in rows}
    assert by_business["Other Studio"] == (0, 1, 0, 1, 0)
    assert by_business["Johnny Bravo Fitness Center"] == (2, 4, 2, 1, 1)


def test_the_page_and_its_csv_show_the_columns_to_the_businesss_staff_only(
    client, recovered, business
):
    staff = make_staff(businesses=(business,), permissions=["view_bookingrequest",
                                                             "export_bookingrequest"])  # fmt: skip
    client.force_login(staff)
    page = client.get(URL, RANGE).content.decode()
    assert "Claimed (seats recovered)" in page and "Spots freed" in page
    assert "Other Studio" not in page
    body = client.get(URL, {**RANGE, "format": "csv"})
    content = b"".join(body.streaming_content) if body.streaming else body.content
    header, row = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))[:2]
    columns = dict(zip(header, row, strict=True))
    assert columns["Spots freed"] == "2"
    assert columns["Waitlist: offered"] == "4"
    assert columns["Waitlist: claimed (seats recovered)"] == "2"
    assert columns["Waitlist: expired"] == "1"
    assert columns["Waitlist: declined"] == "1"
