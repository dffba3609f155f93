"""Pure fee rules: what cancelling (or not turning up) costs under a booking's terms.

No database: every function takes the `Terms` (a booking's policy snapshot) and
the times explicitly, so the public page's quote, the API's quote and the charge
made by the cancellation all come from `quote_cancellation` and agree.

- A cancellation made when fewer than `hours_before` hours remain before the
  session starts costs `price * percent / 100 + fixed_fee` of that tier; when
  several tiers apply, the one with the smallest `hours_before` wins; when none
  applies the fee is 0.
- Hours are elapsed time: across a daylight-saving change "24 hours before" is
  still 24 real hours, as for the cancellation deadline (`rules.cancellation_deadline`).
- Amounts are `Decimal`, rounded half-up to the currency's minor unit once, on
  the total (`booking.money.round_money`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from booking import money
from booking.services.policy import FeeTier, Terms


@dataclass(frozen=True)
class Quote:
    """The fee cancelling now would cost, and until when cancelling is free."""

    fee: Decimal
    currency: str
    tier: FeeTier | None
    # The last free moment, when cancelling is free now and a fee lies ahead.
    free_until: datetime | None

    @property
    def late(self) -> bool:
        """A fee applies now."""
        return self.fee > 0

    @property
    def fee_text(self) -> str:
        return money.as_text(self.fee)

    @property
    def words(self) -> str:
        """ "No fee applies" / "A late-cancellation fee of 12.50 USD applies"."""
        if not self.late:
            return "No fee applies"
        return f"A late-cancellation fee of {self.fee_text} {self.currency} applies"

    def as_json(self, tz: tzinfo = UTC) -> dict[str, Any]:
        return {
            "fee": self.fee_text,
            "currency": self.currency,
            "late": self.late,
            "free_until": self.free_until.astimezone(tz).isoformat() if self.free_until else None,
        }


def _remaining(starts_at: datetime, now: datetime) -> timedelta:
    # Within one zone Python subtracts wall-clock times; in UTC it is elapsed time.
    return starts_at.astimezone(UTC) - now.astimezone(UTC)


def tier_in_force(tiers: tuple[FeeTier, ...], remaining: timedelta) -> FeeTier | None:
    """Of the tiers with more than `remaining` hours, the tightest; None when none applies."""
    applicable = [tier for tier in tiers if remaining < timedelta(hours=tier.hours_before)]
    return min(applicable, key=lambda tier: tier.hours_before, default=None)


def tier_fee(terms: Terms, tier: FeeTier | None) -> Decimal:
    if tier is None:
        return money.ZERO
    total = money.share(terms.price, tier.percent) + tier.fixed_fee
    return money.round_money(total, terms.currency)


def quote_cancellation(terms: Terms, *, starts_at: datetime, now: datetime) -> Quote:
    """The fee of cancelling at `now` a booking of a session starting at `starts_at`."""
    tier = tier_in_force(terms.fee_rules, _remaining(starts_at, now))
    fee = tier_fee(terms, tier)
    return Quote(fee, terms.currency, tier, None if fee else _free_until(terms, starts_at, now))


def _free_until(terms: Terms, starts_at: datetime, now: datetime) -> datetime | None:
    """The last moment from now on at which cancelling is still free, if a fee lies ahead.

    Tier boundaries are `starts_at - hours_before`: at the boundary itself
    exactly `hours_before` hours remain, which is not fewer, so it is still free.
    """
    start = starts_at.astimezone(UTC)
    ahead = []
    for tier in terms.fee_rules:
        boundary = start - timedelta(hours=tier.hours_before)
        # The tier wins just after its boundary; is that fee positive?
        if boundary >= now.astimezone(UTC) and tier_fee(terms, tier) > 0:
            ahead.append(boundary)
    return min(ahead, default=None)


def no_show_fee(terms: Terms) -> Decimal:
    """A no-show owes `price * no_show_fee_percent / 100 + no_show_fixed_fee`."""
    total = money.share(terms.price, terms.no_show_fee_percent) + terms.no_show_fixed_fee
    return money.round_money(total, terms.currency)
