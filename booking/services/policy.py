"""The terms a booking was made under: a snapshot of the policy at creation.

A booking's deadline and fees come from its `policy_snapshot`, written once when
it is created, so that editing the business's policy (or the session's price)
never changes the terms of bookings already made. Bookings made before
snapshots existed have none and follow the business's current settings.

`snapshot_terms` is the one function that writes snapshots: `BookingRequest.save()`
calls it for a new booking without one, and paths that insert in bulk
(`bulk_create` skips `save()`) call it themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from booking.fees.models import CancellationFeeRule
from booking.models import BookingRequest, BookingSettings, Session
from booking.money import as_text

SNAPSHOT_VERSION = 1


@dataclass(frozen=True)
class FeeTier:
    """Fewer than `hours_before` hours left: `percent` % of the price plus `fixed_fee`."""

    hours_before: int
    percent: Decimal
    fixed_fee: Decimal = Decimal(0)


@dataclass(frozen=True)
class Terms:
    """Everything that decides a booking's deadline and fees."""

    cancellation_deadline_hours: int
    allow_client_cancellation: bool
    fee_rules: tuple[FeeTier, ...]
    no_show_fee_percent: Decimal
    no_show_fixed_fee: Decimal
    price: Decimal
    currency: str
    cancellation_fee_policy: str = ""

    @classmethod
    def current(cls, session: Session, rules: Iterable[CancellationFeeRule] | None = None) -> Terms:
        """The terms a booking of `session` gets now (reads the fee rules unless given)."""
        business = session.business
        settings: BookingSettings = business.booking_settings
        if rules is None:
            rules = _tiers_of(settings)
        return cls(
            cancellation_deadline_hours=settings.cancellation_deadline_hours,
            allow_client_cancellation=settings.allow_client_cancellation,
            fee_rules=tuple(
                sorted(
                    (FeeTier(r.hours_before, r.percent, r.fixed_fee) for r in rules),
                    key=lambda tier: -tier.hours_before,
                )
            ),
            no_show_fee_percent=settings.no_show_fee_percent,
            no_show_fixed_fee=settings.no_show_fixed_fee,
            price=session.price,
            currency=business.currency,
            cancellation_fee_policy=settings.cancellation_fee_policy,
        )

    def as_snapshot(self) -> dict[str, Any]:
        """JSON: amounts and percentages as strings, so no float ever touches them."""
        return {
            "version": SNAPSHOT_VERSION,
            "cancellation_deadline_hours": self.cancellation_deadline_hours,
            "allow_client_cancellation": self.allow_client_cancellation,
            "fee_rules": [
                {
                    "hours_before": tier.hours_before,
                    "percent": as_text(tier.percent),
                    "fixed_fee": as_text(tier.fixed_fee),
                }
                for tier in self.fee_rules
            ],
            "no_show_fee_percent": as_text(self.no_show_fee_percent),
            "no_show_fixed_fee": as_text(self.no_show_fixed_fee),
            "price": as_text(self.price),
            "currency": self.currency,
            "cancellation_fee_policy": self.cancellation_fee_policy,
        }

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> Terms:
        return cls(
            cancellation_deadline_hours=int(data["cancellation_deadline_hours"]),
            allow_client_cancellation=bool(data["allow_client_cancellation"]),
            fee_rules=tuple(
                FeeTier(int(r["hours_before"]), Decimal(r["percent"]), Decimal(r["fixed_fee"]))
                for r in data["fee_rules"]
            ),
            no_show_fee_percent=Decimal(data["no_show_fee_percent"]),
            no_show_fixed_fee=Decimal(data["no_show_fixed_fee"]),
            price=Decimal(data["price"]),
            currency=data["currency"],
            cancellation_fee_policy=data.get("cancellation_fee_policy", ""),
        )


def _tiers_of(settings: BookingSettings) -> list[CancellationFeeRule]:
    """The settings' fee rules, read once per settings object.

    Bookings of one business share its settings object when loaded in bulk
    (the services' locked batches), so bookings without a snapshot cost one
    query per business rather than one each. Unsaved settings have no tiers.
    """
    if settings.pk is None:
        return []
    cached = settings.__dict__.get("_fee_rules")
    if cached is None:
        cached = settings.__dict__["_fee_rules"] = list(settings.fee_rules.all())
    return cached


def terms_of(booking: BookingRequest) -> Terms:
    """The booking's terms: its snapshot, else (made before snapshots) the current settings.

    Cached on the instance: a snapshot never changes once written.
    """
    cached = booking.__dict__.get("_terms")
    if cached is not None:
        return cached
    if booking.policy_snapshot:
        terms = Terms.from_snapshot(booking.policy_snapshot)
    else:
        terms = Terms.current(booking.session)
    booking.__dict__["_terms"] = terms
    return terms


def snapshot_terms(bookings: Iterable[BookingRequest]) -> None:
    """Write each unsaved booking's `policy_snapshot` from its session's current terms.

    Bookings that already carry a snapshot keep it. Sessions, businesses and
    their settings are read through the bookings (load them with
    `select_related` when there are many); the fee rules of all their
    businesses come in one query.
    """
    pending = [booking for booking in bookings if booking.policy_snapshot is None]
    if not pending:
        return
    settings_ids = {booking.session.business.booking_settings.pk for booking in pending}
    rules: dict[int, list[CancellationFeeRule]] = {pk: [] for pk in settings_ids}
    for rule in CancellationFeeRule.objects.filter(booking_settings__in=settings_ids):
        rules[rule.booking_settings_id].append(rule)
    snapshots: dict[int, dict[str, Any]] = {}
    for booking in pending:
        session = booking.session
        if id(session) not in snapshots:
            settings_id = session.business.booking_settings.pk
            snapshots[id(session)] = Terms.current(session, rules[settings_id]).as_snapshot()
        booking.policy_snapshot = snapshots[id(session)]


def describe(terms: Terms, *, snapshot: bool) -> str:
    """The terms in one line for staff: deadline, tiers, no-show fee, price."""
    tiers = "; ".join(
        f"under {tier.hours_before} h: {tier.percent.normalize():f} %"
        + (f" + {tier.fixed_fee} {terms.currency}" if tier.fixed_fee else "")
        for tier in terms.fee_rules
    )
    parts = [
        f"price {terms.price} {terms.currency}",
        f"cancel online until {terms.cancellation_deadline_hours} h before"
        if terms.allow_client_cancellation
        else "no online cancellation",
        f"late fees: {tiers}" if tiers else "no late-cancellation fee",
        f"no-show: {terms.no_show_fee_percent.normalize():f} %"
        + (f" + {terms.no_show_fixed_fee} {terms.currency}" if terms.no_show_fixed_fee else ""),
    ]
    origin = "as booked" if snapshot else "current policy (booked before snapshots)"
    return f"{'; '.join(parts)} ({origin})"
