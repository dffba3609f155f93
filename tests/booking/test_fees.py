"""The fee rules as tables (no database): tiers, boundaries, DST, rounding, no-shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from booking import money
from booking.services import fees
from booking.services.policy import FeeTier, Terms

START = datetime(2026, 6, 10, 18, 0, tzinfo=UTC)
# The studio's tiers: free until 48 h, half from 48 h to 24 h, full plus 5.00 under 24 h.
STUDIO = (FeeTier(48, Decimal(50)), FeeTier(24, Decimal(100), Decimal("5.00")))


def terms(
    *,
    tiers: tuple[FeeTier, ...] = STUDIO,
    price: str = "25.00",
    currency: str = "USD",
    no_show_percent: str = "100",
    no_show_fixed: str = "0",
) -> Terms:
    return Terms(
        cancellation_deadline_hours=24,
        allow_client_cancellation=True,
        fee_rules=tiers,
        no_show_fee_percent=Decimal(no_show_percent),
        no_show_fixed_fee=Decimal(no_show_fixed),
        price=Decimal(price),
        currency=currency,
    )


def quote_at(hours_before: float, **kwargs: object) -> fees.Quote:
    now = START - timedelta(hours=hours_before)
    return fees.quote_cancellation(terms(**kwargs), starts_at=START, now=now)  # type: ignore[arg-type]


# Hours before the start -> the fee (25.00 USD price, the studio's tiers).
TIER_TABLE = [
    (100, "0.00"),
    (48.001, "0.00"),
    (48, "0.00"),  # exactly 48 hours remain: not fewer than 48, still free
    (47.999, "12.50"),
    (30, "12.50"),
    (24, "12.50"),  # exactly 24 hours: the half tier, not yet the full one
    (23.999, "30.00"),  # the tightest tier wins: 25.00 + 5.00
    (1, "30.00"),
    (0, "30.00"),
    (-2, "30.00"),  # after the start every tier applies; the tightest still wins
]


@pytest.mark.parametrize(("hours_before", "fee"), TIER_TABLE)
def test_the_tightest_applicable_tier_decides_the_fee(hours_before, fee):
    assert quote_at(hours_before).fee == Decimal(fee)


def test_tiers_in_any_order_give_the_same_fee():
    reversed_tiers = tuple(reversed(STUDIO))

    assert quote_at(30, tiers=reversed_tiers).fee == Decimal("12.50")
    assert quote_at(10, tiers=reversed_tiers).fee == Decimal("30.00")


@pytest.mark.parametrize(
    ("tiers", "hours_before", "fee"),
    [
        ((), 1, "0.00"),  # no tiers: never a fee
        ((FeeTier(24, Decimal(100)),), 2, "25.00"),  # 100 % is the whole price
        ((FeeTier(24, Decimal(0), Decimal("7.50")),), 2, "7.50"),  # a fixed fee alone
        ((FeeTier(48, Decimal(0)), FeeTier(12, Decimal(50))), 20, "0.00"),  # a free tier wins
    ],
)
def test_tier_shapes(tiers, hours_before, fee):
    assert quote_at(hours_before, tiers=tiers).fee == Decimal(fee)


def test_a_free_session_costs_nothing_to_cancel_late():
    quote = quote_at(1, price="0.00", tiers=(FeeTier(24, Decimal(100)),))

    assert quote.fee == Decimal("0.00") and not quote.late
    assert quote.words == "No fee applies"


@pytest.mark.parametrize(
    ("price", "percent", "currency", "fee"),
    [
        ("19.99", "50", "USD", "10.00"),  # 9.995 rounds half up
        ("19.97", "50", "USD", "9.99"),  # 9.985 -> 9.99 (half up, not to even)
        ("0.01", "50", "USD", "0.01"),  # 0.005 -> 0.01
        ("12.33", "33.33", "EUR", "4.11"),  # 4.109589 -> 4.11
        ("1999.00", "50", "JPY", "1000.00"),  # yen have no minor unit: 999.5 -> 1000
        ("1001.00", "33", "JPY", "330.00"),  # 330.33 -> 330
    ],
)
def test_fees_round_half_up_to_the_currencys_minor_unit(price, percent, currency, fee):
    quote = quote_at(1, price=price, currency=currency, tiers=(FeeTier(24, Decimal(percent)),))

    assert quote.fee == Decimal(fee)
    assert quote.fee_text == fee


@pytest.mark.parametrize(
    ("zone", "start", "hours_before", "fee"),
    [
        # New York springs forward on 8 March 2026 (02:00 -> 03:00): 24 real hours
        # before Sunday 9 March 10:00 EDT is Saturday 09:00 EST, not 10:00.
        ("America/New_York", datetime(2026, 3, 9, 10, 0), 24, "12.50"),
        ("America/New_York", datetime(2026, 3, 9, 10, 0), 23.99, "30.00"),
        # It falls back on 1 November 2026: 24 real hours before Monday 2 November
        # 10:00 EST is Sunday 1 November 11:00 EST.
        ("America/New_York", datetime(2026, 11, 2, 10, 0), 24, "12.50"),
        ("America/New_York", datetime(2026, 11, 2, 10, 0), 23.99, "30.00"),
        ("Europe/Berlin", datetime(2026, 3, 30, 9, 0), 48, "0.00"),
        ("Europe/Berlin", datetime(2026, 3, 30, 9, 0), 47.99, "12.50"),
    ],
)
def test_hours_are_elapsed_time_across_daylight_saving_changes(zone, start, hours_before, fee):
    tz = ZoneInfo(zone)
    starts_at = start.replace(tzinfo=tz)
    # `now` in the same zone: Python would subtract wall-clock times within it.
    now = (starts_at.astimezone(UTC) - timedelta(hours=hours_before)).astimezone(tz)

    quote = fees.quote_cancellation(terms(), starts_at=starts_at, now=now)

    assert quote.fee == Decimal(fee)


def test_free_until_across_a_daylight_saving_change_is_48_real_hours_before():
    tz = ZoneInfo("America/New_York")
    starts_at = datetime(2026, 3, 9, 10, 0, tzinfo=tz)  # EDT
    now = datetime(2026, 3, 1, 12, 0, tzinfo=tz)

    quote = fees.quote_cancellation(terms(), starts_at=starts_at, now=now)

    assert quote.free_until == datetime(2026, 3, 7, 9, 0, tzinfo=tz)  # EST, 48 real hours
    assert quote.as_json(tz)["free_until"] == "2026-03-07T09:00:00-05:00"


@pytest.mark.parametrize(
    ("hours_before", "free_until"),
    [
        (100, START - timedelta(hours=48)),  # free now; the half tier starts after 48 h
        (48, START - timedelta(hours=48)),  # the boundary itself is still free
        (30, None),  # a fee applies now
    ],
)
def test_free_until_is_the_last_free_moment(hours_before, free_until):
    assert quote_at(hours_before).free_until == free_until


def test_free_until_skips_free_tiers():
    tiers = (FeeTier(72, Decimal(0)), FeeTier(24, Decimal(50)))

    assert quote_at(100, tiers=tiers).free_until == START - timedelta(hours=24)


def test_free_until_is_null_when_no_fee_lies_ahead():
    assert quote_at(100, tiers=()).free_until is None
    assert quote_at(100, price="0.00", tiers=(FeeTier(24, Decimal(100)),)).free_until is None


def test_the_quote_speaks_of_the_fee():
    late, free = quote_at(30), quote_at(100)

    assert late.late and late.words == "A late-cancellation fee of 12.50 USD applies"
    assert not free.late and free.words == "No fee applies"
    assert late.as_json() == {"fee": "12.50", "currency": "USD", "late": True, "free_until": None}
    assert free.as_json()["free_until"] == "2026-06-08T18:00:00+00:00"


@pytest.mark.parametrize(
    ("price", "percent", "fixed", "currency", "fee"),
    [
        ("25.00", "100", "0", "USD", "25.00"),
        ("25.00", "50", "2.50", "USD", "15.00"),
        ("25.00", "0", "0", "USD", "0.00"),
        ("0.00", "100", "0", "USD", "0.00"),
        ("0.00", "100", "10.00", "EUR", "10.00"),
        ("1999.00", "50", "0", "JPY", "1000.00"),
    ],
)
def test_no_show_fee(price, percent, fixed, currency, fee):
    no_show = terms(price=price, currency=currency, no_show_percent=percent, no_show_fixed=fixed)

    assert fees.no_show_fee(no_show) == Decimal(fee)


def test_terms_survive_a_snapshot_round_trip():
    original = terms(no_show_fixed="3.50")

    assert Terms.from_snapshot(original.as_snapshot()) == original


@pytest.mark.parametrize("code", ["USD", "JPY", "EUR"])
def test_currencies_with_up_to_two_decimals_are_accepted(code):
    money.validate_currency(code)  # raises nothing


@pytest.mark.parametrize("code", ["usd", "ZZZ", "BHD", ""])
def test_unknown_or_three_decimal_currencies_are_refused(code):
    with pytest.raises(ValidationError):
        money.validate_currency(code)
