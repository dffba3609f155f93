"""The one place a booking's fee is quoted and charged.

`cancellation_quote` is what the client API's GET returns, what the public page
states before the client confirms, and what the cancellation charges under the
row lock: the same function on the same terms (the booking's policy snapshot),
so a cancel right after a quote charges exactly the quoted fee. A client may
send the quoted amount back (`accepted_fee`); when the fee due has changed in
between (a tier boundary passed), nothing changes and the refusal
(`FeeChanged`, 409) carries the new quote.

Amounts are recorded on the booking (`fee_amount`, `fee_status`): `owed` when
above zero. Nothing is collected here; a payment provider would read the owed
fees and settle them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from booking import money
from booking.models import BookingRequest, FeeStatus
from booking.services import exceptions as exc
from booking.services import fees
from booking.services.policy import terms_of

FeeOf = Callable[[BookingRequest], Decimal]
FEE_CHANGED = "the cancellation fee has changed since it was quoted; nothing was cancelled"


def cancellation_quote(booking: BookingRequest, *, now: datetime) -> fees.Quote:
    """What cancelling `booking` at `now` costs, under the terms it was made under."""
    return fees.quote_cancellation(terms_of(booking), starts_at=booking.session.starts_at, now=now)


def no_show_fee(booking: BookingRequest) -> Decimal:
    return fees.no_show_fee(terms_of(booking))


def parse_accepted_fee(value: object) -> Decimal | None:
    """The quoted amount a client accepted ("12.50"), or None when none was sent."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str):
        raise exc.InvalidInput('accepted_fee must be a string such as "12.50"')
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        raise exc.InvalidInput('accepted_fee must be an amount such as "12.50"') from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise exc.InvalidInput("accepted_fee must be an amount with at most two decimals")
    return amount


def fee_fields(amount: Decimal) -> dict[str, Any]:
    """The booking's ledger columns for a decided fee: owed when above zero."""
    return {"fee_amount": amount, "fee_status": FeeStatus.OWED if amount > 0 else FeeStatus.NONE}


def fee_words(booking: BookingRequest) -> str:
    """The fee a cancelled or no-show booking was charged, in a sentence."""
    amount = booking.fee_amount or Decimal(0)
    if amount <= 0:
        return "No fee applies"
    kind = "no-show" if booking.status == "no_show" else "late-cancellation"
    currency = terms_of(booking).currency
    return f"A {kind} fee of {money.as_text(amount)} {currency} applies"


def fee_json(booking: BookingRequest) -> dict[str, str]:
    """The cancel response's `fee`: {"amount": "12.50", "currency": "USD"}."""
    amount = booking.fee_amount if booking.fee_amount is not None else Decimal(0)
    return {"amount": money.as_text(amount), "currency": terms_of(booking).currency}
