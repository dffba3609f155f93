"""A business's sessions: what clients book, when, for how many, at what price.

Part of the app's data layer (`booking.models` imports this module to register
the model and re-exports it): it imports nothing from `booking.models`, and
names its business as `"booking.Business"`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from booking.records import MONEY_DIGITS, MONEY_PLACES, NOT_NEGATIVE, audited
from booking.tenancy import TenantQuerySet
from booking.times import business_time

# Times every page can render: sessions within this century.
SESSION_YEARS = (2000, 2100)


def validate_session_time(value: datetime) -> None:
    first, last = SESSION_YEARS
    if not first <= value.year <= last:
        raise ValidationError(
            f"Enter a time between the years {first} and {last}.", code="out_of_range"
        )


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"


class SessionQuerySet(TenantQuerySet["Session"]):
    def upcoming(self, *, now: datetime) -> SessionQuerySet:
        return self.filter(starts_at__gt=now)

    def scheduled(self) -> SessionQuerySet:
        return self.filter(status=SessionStatus.SCHEDULED)


class Session(models.Model):
    business = models.ForeignKey(
        "booking.Business", on_delete=models.CASCADE, related_name="sessions"
    )
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField(db_index=True, validators=[validate_session_time])
    ends_at = models.DateTimeField(validators=[validate_session_time])
    capacity = models.PositiveIntegerField(default=10, validators=[MinValueValidator(1)])
    price = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=Decimal(0),
        validators=[NOT_NEGATIVE],
        help_text="In the business's currency; cancellation and no-show fees are shares of it.",
    )
    # Cancelled by the business (`booking.services.sessions`): listed as such, no new bookings.
    status = models.CharField(max_length=16, choices=SessionStatus, default=SessionStatus.SCHEDULED)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, "+", null=True, blank=True, editable=False
    )
    cancellation_reason = models.TextField(blank=True, default="", editable=False)

    objects = SessionQuerySet.as_manager()
    history = audited()

    class Meta:
        ordering = ["starts_at"]
        permissions = [("cancel_session", "Can cancel sessions (and their bookings)")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="session_capacity_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="session_price_not_negative"),
        ]

    def __str__(self) -> str:
        cancelled = " — cancelled" if self.is_cancelled else ""
        return f"{self.title} ({business_time(self.starts_at, self.business)}){cancelled}"

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError(
                {"ends_at": "The session must end after it starts."}, code="ends_before_start"
            )
