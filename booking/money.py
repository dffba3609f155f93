"""Money: amounts are `Decimal`, rounded half-up to their currency's minor unit.

How many decimal places a currency has (2 for USD, 0 for JPY) comes from Babel,
which ships the Unicode CLDR's currency data; it is maintained with each CLDR
release, so no table of ours goes stale. Prices and fees are stored with two
decimal places, so a business may use the currencies whose minor unit has at
most two digits (three-digit ones such as BHD could not price a session in
their own minor unit).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision, list_currencies
from django.core.exceptions import ValidationError

STORED_PLACES = 2
HUNDRED = Decimal(100)
ZERO = Decimal("0.00")


def minor_unit_digits(currency: str) -> int:
    """Decimal places of the currency's minor unit (CLDR): USD 2, JPY 0, BHD 3."""
    return get_currency_precision(currency)


def validate_currency(code: str) -> None:
    """An ISO 4217 code Babel knows whose minor unit fits the stored two places."""
    if code not in list_currencies():
        raise ValidationError(f"{code!r} is not an ISO 4217 currency code (e.g. USD, EUR).")
    if minor_unit_digits(code) > STORED_PLACES:
        raise ValidationError(
            f"{code} has {minor_unit_digits(code)} decimal places; "
            f"prices here have at most {STORED_PLACES}."
        )


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit, kept with two places (12.5 → 12.50).

    JPY 1234.5 → 1235.00: a whole number of yen, written like every stored amount.
    """
    unit = Decimal(1).scaleb(-minor_unit_digits(currency))
    return amount.quantize(unit, rounding=ROUND_HALF_UP).quantize(Decimal("0.01"))


def share(amount: Decimal, percent: Decimal) -> Decimal:
    """`percent` % of `amount`, exact (rounding happens once, on the total)."""
    return amount * percent / HUNDRED


def as_text(amount: Decimal) -> str:
    """An amount (or a percentage) as the APIs and snapshots write it: two decimals ("12.50")."""
    return f"{amount.quantize(Decimal('0.01')):f}"
