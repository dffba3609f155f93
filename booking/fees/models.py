"""A business's late-cancellation fee tiers, part of its booking settings."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from booking.records import MONEY_DIGITS, MONEY_PLACES, NOT_NEGATIVE, PERCENT_VALIDATORS, audited


class CancellationFeeRule(models.Model):
    """One tier of a business's late-cancellation fees.

    A cancellation made when fewer than `hours_before` hours remain before the
    session starts costs `price * percent / 100 + fixed_fee`; of the tiers that
    apply, the one with the smallest `hours_before` wins (`booking.services.fees`).
    """

    booking_settings = models.ForeignKey(
        "booking.BookingSettings", on_delete=models.CASCADE, related_name="fee_rules"
    )
    hours_before = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(8760)],
        help_text="Applies when fewer than this many hours remain before the session starts.",
    )
    percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=PERCENT_VALIDATORS,
        help_text="Share of the session's price (0-100 %).",
    )
    fixed_fee = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=Decimal(0),
        validators=[NOT_NEGATIVE],
        help_text="Added to the share, in the business's currency.",
    )

    history = audited()

    class Meta:
        ordering = ["booking_settings", "-hours_before"]
        verbose_name = "cancellation fee tier"
        constraints = [
            models.UniqueConstraint(
                fields=["booking_settings", "hours_before"], name="fee_rule_unique_hours"
            ),
            models.CheckConstraint(condition=Q(hours_before__gte=1), name="fee_rule_hours_min"),
            models.CheckConstraint(
                condition=Q(percent__gte=0, percent__lte=100), name="fee_rule_percent_range"
            ),
            models.CheckConstraint(condition=Q(fixed_fee__gte=0), name="fee_rule_fixed_fee_min"),
        ]

    def __str__(self) -> str:
        return f"under {self.hours_before} h: {self.percent} % + {self.fixed_fee}"
