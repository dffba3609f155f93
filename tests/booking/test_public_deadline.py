"""The client's deadline: exactly at its boundary, and across daylight-saving changes.

The deadline is `starts_at - cancellation_deadline_hours` in elapsed time; the
page words it in the business's time zone, where the clock may have moved.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache

from booking import services
from booking.api.contract.client import refusal_details
from booking.audit import RequestContext
from booking.models import BookingStatus
from booking.services.exceptions import DeadlinePassed
from booking.services.lifecycle.client import Proof
from booking.services.summary import Summary
from tests.factories import make_booking, make_business, make_session

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
MICROSECOND = timedelta(microseconds=1)


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def london_booking(starts_at, *, hours=24):
    business = make_business(timezone_name="Europe/London", cancellation_deadline_hours=hours)
    return make_booking(session=make_session(business=business, starts_at=starts_at))


def cancel_at(booking, now):
    return services.cancel_booking_as_client(
        reference=booking.reference,
        proof=Proof(email=booking.client_email),
        context=RequestContext(ip_address="203.0.113.1", user_agent=""),
        now=now,
    )


# Spring forward: 29 March 2026, 01:00 UTC. A 10:00 BST session; 24 hours earlier
# is 09:00 GMT on the clock. Fall back: 25 October 2026, 01:00 UTC. A 10:00 GMT
# session; 24 hours earlier is 11:00 BST on the clock.
DST_CASES = [
    pytest.param(datetime(2026, 3, 29, 9, 0, tzinfo=UTC), "Sat 28 Mar, 09:00", id="spring-forward"),
    pytest.param(datetime(2026, 10, 25, 10, 0, tzinfo=UTC), "Sat 24 Oct, 11:00", id="fall-back"),
    pytest.param(datetime(2026, 7, 1, 9, 0, tzinfo=UTC), "Tue 30 Jun, 10:00", id="summer"),
]


@pytest.mark.parametrize(("starts_at", "words"), DST_CASES)
def test_deadline_is_24_real_hours_worded_in_local_time(starts_at, words):
    booking = london_booking(starts_at)
    summary = Summary.of(booking, now=starts_at - timedelta(days=3))
    assert summary.deadline == starts_at - timedelta(hours=24)
    assert summary.deadline_words == words


def test_the_dst_cases_do_cross_a_change():
    for starts_at in (
        datetime(2026, 3, 29, 9, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 10, 0, tzinfo=UTC),
    ):
        before = (starts_at - timedelta(hours=24)).astimezone(LONDON).utcoffset()
        assert before != starts_at.astimezone(LONDON).utcoffset()


@pytest.mark.parametrize(("starts_at", "words"), DST_CASES)
def test_cancelling_exactly_at_the_deadline_is_allowed(starts_at, words):
    booking = london_booking(starts_at)
    deadline = starts_at - timedelta(hours=24)
    assert Summary.of(booking, now=deadline).can_cancel
    cancelled = cancel_at(booking, deadline)
    assert cancelled.status == BookingStatus.CANCELLED
    assert cancelled.cancelled_at == deadline


@pytest.mark.parametrize(("starts_at", "words"), DST_CASES)
def test_one_microsecond_after_the_deadline_is_refused(starts_at, words):
    booking = london_booking(starts_at)
    late = starts_at - timedelta(hours=24) + MICROSECOND
    summary = Summary.of(booking, now=late)
    assert not summary.can_cancel
    assert summary.deadline_passed
    with pytest.raises(DeadlinePassed):
        cancel_at(booking, late)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING


def test_the_wall_clock_hour_lost_in_spring_is_not_a_grace_hour():
    """09:30 GMT on the 28th is 24½ clock-hours but 23½ real hours before 10:00 BST."""
    booking = london_booking(datetime(2026, 3, 29, 9, 0, tzinfo=UTC))
    with pytest.raises(DeadlinePassed):
        cancel_at(booking, datetime(2026, 3, 28, 9, 30, tzinfo=UTC))


def test_a_zero_hour_policy_allows_cancelling_until_the_start():
    starts_at = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)
    booking = london_booking(starts_at, hours=0)
    assert Summary.of(booking, now=starts_at).policy_words == (
        "You can cancel online until the session starts."
    )
    assert cancel_at(booking, starts_at).status == BookingStatus.CANCELLED


def test_deadline_refusal_details_use_the_business_time_zone():
    starts_at = datetime(2026, 10, 25, 10, 0, tzinfo=UTC)
    booking = london_booking(starts_at)
    now = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    details = refusal_details(Summary.of(booking, now=now), DeadlinePassed("late"))
    assert details["session_time"] == "2026-10-25T10:00:00+00:00"
    assert details["current_time"] == "2026-10-24T13:00:00+01:00"
    assert details["cancellation_deadline"] == "2026-10-24T11:00:00+01:00"
    assert set(details["contact_info"]) == {"business", "email", "phone"}
