"""The policy snapshot: every booking keeps the terms it was made under."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from booking import demo
from booking.models import BookingRequest
from booking.services import fees, rules
from booking.services.policy import FeeTier, Terms, terms_of
from tests.factories import make_booking, make_business, make_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def studio():
    return make_business(
        currency="EUR",
        cancellation_deadline_hours=24,
        cancellation_fee_policy="Late cancellations pay half.",
        no_show_fee_percent=Decimal(80),
        fee_rules=((48, "50", "0"), (12, "100", "5.00")),
    )


def test_a_new_booking_records_the_terms_it_was_made_under(studio):
    session = make_session(business=studio, price="20.00")

    booking = make_booking(session=session)

    booking.refresh_from_db()
    assert booking.policy_snapshot == {
        "version": 1,
        "cancellation_deadline_hours": 24,
        "allow_client_cancellation": True,
        "fee_rules": [
            {"hours_before": 48, "percent": "50.00", "fixed_fee": "0.00"},
            {"hours_before": 12, "percent": "100.00", "fixed_fee": "5.00"},
        ],
        "no_show_fee_percent": "80.00",
        "no_show_fixed_fee": "0.00",
        "price": "20.00",
        "currency": "EUR",
        "cancellation_fee_policy": "Late cancellations pay half.",
    }


def test_editing_the_policy_never_changes_an_existing_bookings_terms(studio):
    session = make_session(business=studio, price="20.00", starts_in=timedelta(hours=30))
    booking = make_booking(session=session)
    now = timezone.now()
    before = (rules.cancellation_deadline(booking), quote(booking, now), terms_of(booking))

    settings = studio.booking_settings
    settings.cancellation_deadline_hours = 2
    settings.allow_client_cancellation = False
    settings.no_show_fee_percent = Decimal(0)
    settings.save()
    settings.fee_rules.all().delete()
    settings.fee_rules.create(hours_before=72, percent=Decimal(100))
    session.price = Decimal("99.00")
    session.save()
    studio.currency = "USD"
    studio.save()

    again = BookingRequest.objects.get(pk=booking.pk)
    assert (rules.cancellation_deadline(again), quote(again, now), terms_of(again)) == before
    assert quote(again, now).fee == Decimal("10.00")  # 50 % of the 20.00 booked
    assert rules.check_client_cancel(again, now=now) is None  # cancelling online still allowed
    # A booking made now gets the new terms.
    fresh = make_booking(session=session, client_email="new@example.com")
    assert quote(fresh, now).fee == Decimal("99.00")
    assert rules.check_client_cancel(fresh, now=now) is not None


def test_a_booking_made_before_snapshots_follows_the_current_settings(studio):
    session = make_session(business=studio, price="20.00", starts_in=timedelta(hours=30))
    booking = make_booking(session=session)
    BookingRequest.objects.filter(pk=booking.pk).update(policy_snapshot=None)
    settings = studio.booking_settings
    settings.cancellation_deadline_hours = 3
    settings.save()

    legacy = BookingRequest.objects.get(pk=booking.pk)

    assert legacy.policy_snapshot is None
    assert terms_of(legacy) == Terms.current(session)
    assert rules.cancellation_deadline(legacy) == session.starts_at - timedelta(hours=3)
    assert terms_of(legacy).fee_rules == (
        FeeTier(48, Decimal(50)),
        FeeTier(12, Decimal(100), Decimal(5)),
    )


def test_bulk_created_demo_bookings_carry_snapshots_and_owe_fees_by_the_rules(studio):
    sessions = demo.create_sessions(studio, count=12, seed=1)

    bookings = demo.create_bookings(studio, count=200, seed=1)

    assert all(booking.policy_snapshot for booking in bookings)
    assert {b.policy_snapshot["price"] for b in bookings} == {str(s.price) for s in sessions}
    for booking in BookingRequest.objects.filter(fee_amount__isnull=False):
        if booking.status == "cancelled":
            expected = fees.quote_cancellation(
                terms_of(booking), starts_at=booking.session.starts_at, now=booking.cancelled_at
            ).fee
        else:
            expected = fees.no_show_fee(terms_of(booking))
        assert booking.fee_amount == expected


def test_snapshots_are_read_with_one_query_for_the_fee_rules(studio, django_assert_num_queries):
    sessions = [make_session(business=studio, price=f"{n}.00") for n in range(1, 4)]
    unsaved = [
        BookingRequest(session=s, client_name="A", client_email="a@example.com") for s in sessions
    ]

    with django_assert_num_queries(1):
        demo.policy.snapshot_terms(unsaved * 5)

    assert [b.policy_snapshot["price"] for b in unsaved] == ["1.00", "2.00", "3.00"]


def quote(booking: BookingRequest, now):
    return fees.quote_cancellation(terms_of(booking), starts_at=booking.session.starts_at, now=now)
