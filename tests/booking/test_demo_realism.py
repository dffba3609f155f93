"""The demo looks like a real studio's week (issue: demo data that looks real)."""

from __future__ import annotations

from datetime import time
from io import StringIO

import phonenumbers
import pytest
from django.core.management import call_command
from django.utils import timezone

from booking.exports.report import cancellation_report
from booking.models import BookingRequest, BookingStatus, Business
from booking.services.rules import cancellation_deadline

DEMO_SLUG = "johnny-bravo-fitness-center"


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True
    call_command("demo", stdout=StringIO())
    return Business.objects.get(slug=DEMO_SLUG)


def test_classes_run_from_six_to_nine_in_the_studio_zone_around_a_week(demo):
    now = timezone.now()
    sessions = list(demo.sessions.all())
    for session in sessions:
        start = timezone.localtime(session.starts_at, demo.tzinfo)
        end = timezone.localtime(session.ends_at, demo.tzinfo)
        assert time(6) <= start.time() and end.time() <= time(21) and end.date() == start.date()
    past = [s for s in sessions if s.starts_at < now]
    ahead = [s for s in sessions if s.starts_at > now]
    assert past and ahead
    assert any(s.starts_at < now + timezone.timedelta(hours=24) for s in ahead)  # within a deadline
    span = max(s.starts_at for s in sessions) - min(s.starts_at for s in sessions)
    assert timezone.timedelta(days=6) <= span <= timezone.timedelta(days=16)


def test_clients_have_numbers_of_the_studio_country(demo):
    assert demo.country == "US"
    phones = BookingRequest.all_objects.exclude(client_phone="").values_list(
        "client_phone", "client_phone_e164"
    )
    assert phones
    for typed, e164 in phones:
        number = phonenumbers.parse(typed, "US")
        assert phonenumbers.region_code_for_number(number) == "US", typed
        assert e164 == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def test_every_filter_and_view_shows_something_on_day_one(demo):
    now = timezone.now()
    bookings = BookingRequest.all_objects.filter(session__business=demo)
    assert set(bookings.values_list("status", flat=True)) == set(BookingStatus.values)
    assert bookings.filter(is_deleted=True).exists()
    assert not bookings.filter(status=BookingStatus.PENDING, session__starts_at__lt=now).exists()
    cancelled = bookings.filter(status=BookingStatus.CANCELLED)
    assert cancelled.filter(cancelled_by_client=True).exists()
    assert cancelled.filter(cancelled_by_client=False, cancelled_by__username="desk").exists()
    for booking in bookings:
        assert booking.created_at <= now
        assert booking.cancelled_at is None or booking.created_at <= booking.cancelled_at <= now
        assert booking.deleted_at is None or booking.deleted_at <= now
    late = [b for b in cancelled if b.cancelled_at > cancellation_deadline(b)]
    on_time = [b for b in cancelled if b.cancelled_at <= cancellation_deadline(b)]
    assert late and on_time
    assert all(not b.cancelled_by_client for b in late)  # online, a client cannot cancel late
    assert sum(row.late for row in cancellation_report(bookings)) > 0
