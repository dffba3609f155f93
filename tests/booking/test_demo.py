"""Demo data: the fixture, `manage.py demo` and `manage.py bookings create-*`."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from booking.models import BookingRequest, BookingStatus, Business, FeeStatus, Session
from tests.factories import make_booking, make_business, make_session

DEMO_SLUG = "johnny-bravo-fitness-center"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_sessions(business):
    output = run("bookings", "create-sessions", "--business-slug", business.slug, "--count", "7")

    assert "Created 7 sessions" in output
    assert business.sessions.count() == 7
    record = Session.history.filter(business_id=business.pk).first()
    assert (record.history_type, record.user_agent) == ("+", "manage.py bookings create-sessions")


def test_create_sessions_spreads_them_around_now(business):
    run("bookings", "create-sessions", "--business-slug", business.slug, "--count", "60")
    now = timezone.now()
    sessions = business.sessions.all()

    assert sessions.filter(starts_at__lt=now).exists()
    assert sessions.filter(starts_at__gt=now, starts_at__lt=now + timedelta(hours=24)).exists()
    assert sessions.filter(starts_at__gt=now + timedelta(hours=25)).exists()
    assert all(s.ends_at > s.starts_at for s in sessions)


def test_create_bookings_mixes_statuses_with_one_history_record_each(business):
    make_session(business=business, capacity=80)

    output = run(
        "bookings", "create-bookings", "--business-slug", business.slug, "--count", "80",
        "--seed", "3",
    )  # fmt: skip

    bookings = BookingRequest.all_objects.filter(session__business=business)  # a few deleted
    assert "Created 80 bookings" in output and bookings.count() == 80
    # A future session: nobody has attended or missed it yet.
    attendance = {BookingStatus.ATTENDED, BookingStatus.NO_SHOW}
    assert set(bookings.values_list("status", flat=True)) == set(BookingStatus.values) - attendance
    assert BookingRequest.history.filter(history_type="+").count() == 80
    cancelled = bookings.filter(status=BookingStatus.CANCELLED).first()
    assert cancelled.cancelled_at and cancelled.cancellation_reason


def test_create_bookings_makes_sessions_when_there_are_none(business):
    run("bookings", "create-bookings", "--business-slug", business.slug, "--count", "16")

    assert business.sessions.exists()
    assert BookingRequest.all_objects.filter(session__business=business).count() == 16


@pytest.mark.parametrize("subcommand", ["create-sessions", "create-bookings"])
def test_dry_run_creates_nothing(business, subcommand):
    output = run("bookings", subcommand, "--business-slug", business.slug, "--dry-run")

    assert output.startswith("Would create")
    assert not Session.objects.exists() and not BookingRequest.all_objects.exists()


@pytest.mark.parametrize("subcommand", ["create-sessions", "create-bookings"])
def test_unknown_slug_is_a_clear_error(business, subcommand):
    with pytest.raises(CommandError, match=r"No business with slug 'nope' \(known: johnny"):
        run("bookings", subcommand, "--business-slug", "nope")


@pytest.mark.parametrize("count", ["0", "-3", "many"])
def test_count_must_be_a_positive_whole_number(business, count):
    with pytest.raises(CommandError):
        run("bookings", "create-sessions", "--business-slug", business.slug, "--count", count)
    assert not Session.objects.exists()


def test_a_subcommand_is_required(db):
    with pytest.raises(CommandError):
        run("bookings")


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def test_demo_loads_the_business_its_data_and_logins(db, debug, settings):
    # The fixture's password hash is PBKDF2 (the tests otherwise hash with MD5, for speed).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    output = run("demo")

    business = Business.objects.get(slug=DEMO_SLUG)
    assert business.booking_settings.cancellation_deadline_hours == 24
    # and the past class showing fees, and the two waitlist classes (full, past)
    assert business.sessions.count() == 56 + 1 + 2
    assert BookingRequest.all_objects.filter(session__business=business).count() == 280 + 6 + 13
    desk = get_user_model().objects.get(username="desk")
    assert desk.is_staff and not desk.is_superuser
    assert list(desk.businesses.all()) == [business]
    assert desk.check_password("desk-demo-2026")
    assert desk.has_perm("booking.purge_bookingrequest")
    assert desk.has_perm("booking.resend_outboxemail")
    assert "http://127.0.0.1:8000/admin/" in output  # SITE_URL's default
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("admin")
    assert "admin / admin" in output and "desk / desk-demo-2026" in output


def test_demo_is_idempotent(db, debug):
    run("demo")
    counts = (Business.objects.count(), Session.objects.count(), BookingRequest.objects.count())

    output = run("demo")

    assert (
        Business.objects.count(),
        Session.objects.count(),
        BookingRequest.objects.count(),
    ) == counts
    assert get_user_model().objects.filter(username="admin").count() == 1
    assert "Loaded" not in output and "Created" not in output


def test_demo_never_overwrites_an_existing_business(db, debug):
    mine = make_business(slug="my-studio", name="My Studio")

    run("demo")

    assert Business.objects.get(pk=mine.pk).slug == "my-studio"
    assert Business.objects.get(slug=DEMO_SLUG).pk != mine.pk
    assert mine.booking_settings.pk != Business.objects.get(slug=DEMO_SLUG).booking_settings.pk


def test_demo_refuses_to_run_in_production(db, settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.delenv("DEMO_ALLOW_PRODUCTION", raising=False)

    with pytest.raises(CommandError, match="DEBUG=1"):
        run("demo")
    assert not Business.objects.exists()


def test_bookings_of_past_sessions_were_attended_or_missed(business):
    make_session(business=business, starts_in=-timedelta(days=2), price="20.00", capacity=60)

    run("bookings", "create-bookings", "--business-slug", business.slug, "--count", "60")

    bookings = BookingRequest.objects.filter(session__business=business)
    assert not bookings.filter(status=BookingStatus.APPROVED).exists()
    no_shows = bookings.filter(status=BookingStatus.NO_SHOW)
    assert bookings.filter(status=BookingStatus.ATTENDED).exists() and no_shows.exists()
    assert all(b.fee_amount == Decimal("20.00") for b in no_shows)  # 100 % by default


def test_demo_has_prices_fee_tiers_fees_owed_a_waiver_and_a_no_show(db, debug):
    run("demo")

    business = Business.objects.get(slug=DEMO_SLUG)
    tiers = business.booking_settings.fee_rules.values_list("hours_before", "percent", "fixed_fee")
    assert sorted(tiers) == [(24, Decimal(100), Decimal(5)), (48, Decimal(50), Decimal(0))]
    assert not business.sessions.filter(price=0).exists()
    bookings = BookingRequest.objects.filter(session__business=business)
    examples = bookings.filter(session__title="Sunday Long Ride")
    owed = {b.client_name: b.fee_amount for b in examples.filter(fee_status=FeeStatus.OWED)}
    # A 20.00 class: half under 48 hours, the full price plus 5.00 under 24, a no-show in full.
    assert owed == {
        "Alan Turing": Decimal("10.00"),
        "Linus Torvalds": Decimal("25.00"),
        "Radia Perlman": Decimal("20.00"),
    }
    waived = examples.get(fee_status=FeeStatus.WAIVED)
    assert (waived.client_name, waived.fee_amount) == ("Hedy Lamarr", Decimal("10.00"))
    assert waived.fee_waiver_reason
    assert examples.get(client_name="Grace Hopper").fee_amount == Decimal("0.00")


def test_demo_prints_links_to_the_site_url(db, debug, settings):
    settings.SITE_URL = "http://127.0.0.1:8101"
    output = run("demo")
    assert "Demo logins at http://127.0.0.1:8101/admin/" in output
    assert "A client's cancel page: http://127.0.0.1:8101/booking/cancel/" in output
    assert ":8000" not in output


def test_create_bookings_names_the_few_rows_it_made(business):
    make_session(business=business)
    output = run("bookings", "create-bookings", "--business-slug", business.slug, "--count", "1")
    booking = BookingRequest.all_objects.get()
    assert f"  id {booking.pk}: {booking.reference}" in output


def seated(session):
    return BookingRequest.objects.filter(session=session).seated().count()


def test_create_bookings_fills_sessions_no_further_than_their_capacity(business):
    """Counted as the waitlist counts spots (bookings holding a seat, open offers)."""
    small = make_session(business=business, capacity=3, starts_in=timedelta(days=2))
    large = make_session(business=business, capacity=60, starts_in=timedelta(days=3))
    make_booking(session=small, status=BookingStatus.APPROVED)
    past = make_session(business=business, capacity=2, starts_in=timedelta(days=-2))
    make_booking(session=past, status=BookingStatus.ATTENDED)

    run("bookings", "create-bookings", "--business-slug", business.slug, "--count", "45",
        "--seed", "5")  # fmt: skip

    assert BookingRequest.all_objects.filter(session__business=business).count() == 45 + 2
    assert seated(small) <= 3 and seated(past) <= 2 and seated(large) <= 60
    assert seated(small) + seated(past) + seated(large) > 5  # the small ones filled, not skipped


def test_create_bookings_seats_the_rest_in_new_sessions_when_the_sessions_are_full(business):
    full = make_session(business=business, capacity=2)
    for _ in range(2):
        make_booking(session=full, status=BookingStatus.PENDING)

    output = run("bookings", "create-bookings", "--business-slug", business.slug, "--count", "20",
                 "--seed", "1")  # fmt: skip

    assert BookingRequest.all_objects.filter(session=full).count() == 2  # none added there
    added = business.sessions.exclude(pk=full.pk)
    assert added.exists() and all(seated(session) <= session.capacity for session in added)
    assert BookingRequest.all_objects.filter(session__in=added).count() == 20
    assert f"and {added.count()} sessions to seat them" in output


def test_building_bookings_without_more_sessions_refuses_when_all_are_full(business):
    import random

    from booking.demo import build_bookings
    from booking.services.exceptions import InvalidInput

    full = make_session(business=business, capacity=2)
    with pytest.raises(InvalidInput, match="no room"):
        build_bookings([full], count=1, now=timezone.now(), rng=random.Random(1), room={full.pk: 0})
