"""A business and its booking policy: who it is, where it is, and its rules.

Part of the app's data layer (`booking.models` imports this module to register
the models and re-exports them): it imports nothing from `booking.models`, and
other models name these as `"booking.Business"` / `"booking.BookingSettings"`.
"""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from booking import money
from booking.phones import default_country, validate_country
from booking.records import MONEY_DIGITS, MONEY_PLACES, NOT_NEGATIVE, PERCENT_VALIDATORS, audited
from booking.tenancy import TenantQuerySet
from booking.waitlist.models import WaitlistMode

# The longest cancellation deadline every page can render: a year.
MAX_DEADLINE_HOURS = 8760


class BusinessQuerySet(TenantQuerySet["Business"]):
    business_path = "pk"

    def get_by_natural_key(self, slug: str) -> Business:
        return self.get(slug=slug)


class Business(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    timezone = models.CharField(
        max_length=64, default="UTC", help_text="IANA time zone name, e.g. Europe/Berlin."
    )
    currency = models.CharField(
        max_length=3,
        default="USD",
        validators=[money.validate_currency],
        help_text="ISO 4217 code of the prices and fees, e.g. USD, EUR, JPY.",
    )
    country = models.CharField(
        max_length=2,
        default=default_country,
        validators=[validate_country],
        help_text=(
            "ISO 3166-1 alpha-2 code, e.g. US or GB: the country of phone numbers "
            "written without a country code."
        ),
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="businesses",
        help_text="Staff users who may see and manage this business's bookings.",
    )

    objects = BusinessQuerySet.as_manager()
    history = audited(m2m_fields=[staff])

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "businesses"

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        """Fixtures name a business by its slug, so loading one never overwrites another's row."""
        return (self.slug,)

    def clean(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"timezone": f"Unknown time zone {self.timezone!r}."}) from None

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class BookingSettingsQuerySet(TenantQuerySet["BookingSettings"]):
    def get_by_natural_key(self, slug: str) -> BookingSettings:
        return self.get(business__slug=slug)


class BookingSettings(models.Model):
    """A business's cancellation and deletion policy (one per business)."""

    business = models.OneToOneField(
        Business, on_delete=models.CASCADE, related_name="booking_settings"
    )
    allow_client_cancellation = models.BooleanField(default=True)
    cancellation_deadline_hours = models.PositiveIntegerField(
        default=24,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_DEADLINE_HOURS)],
        help_text="Clients may cancel until this many hours before the session starts.",
    )
    send_cancellation_emails = models.BooleanField(default=True)
    cancellation_fee_policy = models.TextField(blank=True, default="")
    allow_admin_deletion = models.BooleanField(default=True)
    require_deletion_reason = models.BooleanField(default=True)
    no_show_fee_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(100),
        validators=PERCENT_VALIDATORS,
        help_text="A no-show owes this share of the session's price (0-100 %)…",
    )
    no_show_fixed_fee = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=Decimal(0),
        validators=[NOT_NEGATIVE],
        help_text="… plus this fixed amount, in the business's currency.",
    )
    waitlist_mode = models.CharField(max_length=8, choices=WaitlistMode, default=WaitlistMode.OFFER)
    waitlist_claim_hours = models.PositiveIntegerField(
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DEADLINE_HOURS)],
        help_text="How long a freed spot stays offered (never past the session's start).",
    )

    objects = BookingSettingsQuerySet.as_manager()
    history = audited()

    class Meta:
        verbose_name = "booking settings"
        verbose_name_plural = "booking settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(waitlist_claim_hours__gte=1), name="settings_claim_hours_min"
            ),
        ]

    def __str__(self) -> str:
        return f"Booking settings of {self.business}"

    def natural_key(self) -> tuple[str]:
        return self.business.natural_key()

    natural_key.dependencies = ["booking.business"]  # type: ignore[attr-defined]
