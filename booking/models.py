"""The booking domain's data: businesses, their policy, sessions and bookings.

State changes of a booking never happen here: they live in `booking.services`.
The models only describe the data, its invariants and the read vocabulary
(QuerySet methods named as states).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from booking import money
from booking.phones import default_country, search_forms, to_e164, validate_country
from booking.records import (
    MONEY_DIGITS,
    MONEY_PLACES,
    NOT_NEGATIVE,
    PERCENT_VALIDATORS,
    audited,
)
from booking.tenancy import TenantQuerySet
from booking.times import business_time

if TYPE_CHECKING:
    from booking.actors import User
    from booking.audit import RequestContext

# No 0/O/1/I: a reference is read aloud and typed from paper. 32 symbols ** 8 = 2**40.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8
REASON_MAX_LENGTH = 1000
REFERENCE_ATTEMPTS = 5


def generate_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


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
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        from django.core.exceptions import ValidationError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"timezone": f"Unknown time zone {self.timezone!r}."}) from None

    @property
    def tzinfo(self):
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.timezone)


class BookingSettingsQuerySet(TenantQuerySet["BookingSettings"]):
    def get_by_natural_key(self, slug: str) -> BookingSettings:
        return self.get(business__slug=slug)


# Values every page can render: a deadline of at most a year, sessions within this century.
MAX_DEADLINE_HOURS = 8760
SESSION_YEARS = (2000, 2100)


def validate_session_time(value: datetime) -> None:
    first, last = SESSION_YEARS
    if not first <= value.year <= last:
        raise ValidationError(
            f"Enter a time between the years {first} and {last}.", code="out_of_range"
        )


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

    objects = BookingSettingsQuerySet.as_manager()
    history = audited()

    class Meta:
        verbose_name = "booking settings"
        verbose_name_plural = "booking settings"

    def __str__(self) -> str:
        return f"Booking settings of {self.business}"

    def natural_key(self) -> tuple[str]:
        return self.business.natural_key()

    natural_key.dependencies = ["booking.business"]  # type: ignore[attr-defined]


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"


class SessionQuerySet(TenantQuerySet["Session"]):
    def upcoming(self, *, now: datetime) -> SessionQuerySet:
        return self.filter(starts_at__gt=now)

    def scheduled(self) -> SessionQuerySet:
        return self.filter(status=SessionStatus.SCHEDULED)


class Session(models.Model):
    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="sessions")
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


class BookingStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"
    ATTENDED = "attended", "Attended"
    NO_SHOW = "no_show", "No-show"


class FeeStatus(models.TextChoices):
    """A fee is a ledger fact: owed (recorded, not collected here) or waived by staff."""

    NONE = "none", "No fee"
    OWED = "owed", "Owed"
    WAIVED = "waived", "Waived"


ACTIVE_STATUSES = (BookingStatus.PENDING, BookingStatus.APPROVED)


class BookingQuerySet(TenantQuerySet["BookingRequest"]):
    business_path = "session__business"

    def live(self) -> BookingQuerySet:
        return self.filter(is_deleted=False)

    def deleted(self) -> BookingQuerySet:
        return self.filter(is_deleted=True)

    def active(self) -> BookingQuerySet:
        return self.filter(status__in=ACTIVE_STATUSES)

    def upcoming(self, *, now: datetime) -> BookingQuerySet:
        return self.filter(session__starts_at__gt=now)

    def purgeable(self, *, older_than: datetime) -> BookingQuerySet:
        """Soft-deleted before `older_than`: what the retention job purges."""
        return self.deleted().filter(deleted_at__lt=older_than)

    def with_phone(self, query: str, *, user: User) -> BookingQuerySet:
        """Bookings whose phone is `query` in any format, read with the countries of
        `user`'s businesses (`booking.phones.search_forms`): an indexed E.164 match."""
        countries = Business.objects.for_user(user).values_list("country", flat=True).distinct()
        return self.filter(client_phone_e164__in=search_forms(query, countries))

    def with_related(self) -> BookingQuerySet:
        return self.select_related("session__business__booking_settings")


class LiveBookingManager(models.Manager.from_queryset(BookingQuerySet)):  # type: ignore[misc]
    """`BookingRequest.objects`: soft-deleted bookings are hidden."""

    def get_queryset(self) -> BookingQuerySet:
        return super().get_queryset().filter(is_deleted=False)


AllBookingManager = models.Manager.from_queryset(BookingQuerySet)


class BookingRequest(models.Model):
    # Indexed by booking_session_state_idx (session, is_deleted, status), which serves
    # every lookup by session: a second index would only slow each write.
    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    reference = models.CharField(
        max_length=REFERENCE_LENGTH, unique=True, editable=False, default=generate_reference
    )
    client_name = models.CharField(max_length=200)
    client_email = models.EmailField()  # indexed in Meta (no LIKE index: no query wants one)
    client_phone = models.CharField(max_length=40, blank=True, default="")
    # E.164 ("+447700900123") read with the business's country, "" if unparsable; set
    # by `save` (bulk writers call `sync_phone`). Identity and phone search compare it.
    client_phone_e164 = models.CharField(max_length=20, blank=True, default="", editable=False)
    status = models.CharField(
        max_length=16, choices=BookingStatus.choices, default=BookingStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cancellation_reason = models.TextField(
        blank=True, default="", validators=[MaxLengthValidator(REASON_MAX_LENGTH)]
    )
    cancelled_by_client = models.BooleanField(default=False)

    is_deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    deletion_reason = models.TextField(
        blank=True, default="", validators=[MaxLengthValidator(REASON_MAX_LENGTH)]
    )

    # The terms the booking was made under (`booking.services.policy`); null for
    # bookings made before snapshots existed, which follow the current settings.
    policy_snapshot = models.JSONField(null=True, blank=True, editable=False)
    fee_amount = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True
    )
    fee_status = models.CharField(max_length=8, choices=FeeStatus.choices, default=FeeStatus.NONE)
    fee_waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    fee_waived_at = models.DateTimeField(null=True, blank=True)
    fee_waiver_reason = models.TextField(
        blank=True, default="", validators=[MaxLengthValidator(REASON_MAX_LENGTH)]
    )

    objects = LiveBookingManager()
    all_objects = AllBookingManager()

    # Set on an instance before save(): simple-history's documented hooks for the
    # record's user and reason, and our signal's request origin (booking.signals).
    _history_user: User | None
    _change_reason: str
    _history_context: RequestContext
    # The historical table is read by booking (id), date, user and session; its
    # copies of the other indexes served no query and slowed every bulk change.
    # The snapshot never changes after creation: copying it into every record would
    # only grow the trail (the live row keeps it).
    history = audited(
        no_db_index=["reference", "client_email", "cancelled_by", "deleted_by", "fee_waived_by"],
        excluded_fields=["policy_snapshot"],
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "booking"
        verbose_name_plural = "bookings"
        permissions = [
            ("cancel_bookingrequest", "Can cancel bookings"),
            ("soft_delete_bookingrequest", "Can soft-delete bookings"),
            ("restore_bookingrequest", "Can restore soft-deleted bookings"),
            ("purge_bookingrequest", "Can permanently delete (purge) bookings"),
            ("export_bookingrequest", "Can export bookings"),
            ("waive_fee_bookingrequest", "Can waive cancellation and no-show fees"),
            ("move_bookingrequest", "Can move bookings to another session"),
        ]
        indexes = [
            models.Index(fields=["is_deleted", "status"], name="booking_deleted_status_idx"),
            models.Index(fields=["status"], name="booking_status_idx"),
            models.Index(fields=["is_deleted", "deleted_at"], name="booking_deleted_at_idx"),
            # A session's bookings, and which are live and in which state: a tenant's
            # list filtered by status is counted from this index alone.
            models.Index(
                fields=["session", "is_deleted", "status"], name="booking_session_state_idx"
            ),
            models.Index(fields=["client_email"], name="booking_client_email_idx"),
            # The default order (newest first; the staff API's lists), read backwards.
            models.Index(fields=["created_at", "id"], name="booking_created_idx"),
            # The admin home's recent client cancellations (booking.admin_site), newest first.
            models.Index(
                fields=["cancelled_at"],
                condition=Q(cancelled_by_client=True),
                name="booking_client_cancelled_idx",
            ),
            models.Index(fields=["client_phone_e164"], name="booking_client_phone_e164_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} — {self.client_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert with a fresh reference while the drawn one is taken (2**40 makes it rare).

        A reference is the system's, never the caller's (it is not editable), so
        a collision on insert draws another one, up to REFERENCE_ATTEMPTS times.
        Each attempt runs in a savepoint so that a collision does not break the
        caller's transaction. (A new booking's policy snapshot is written on
        pre_save, in `booking.signals`.)

        A save that writes `client_phone` or `session` also writes `client_phone_e164`.
        """
        update_fields = kwargs.get("update_fields")
        if update_fields is None or {"client_phone", "session"} & set(update_fields):
            self.sync_phone()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "client_phone_e164"}
        if not self._state.adding:
            return super().save(*args, **kwargs)
        for attempt in range(1, REFERENCE_ATTEMPTS + 1):
            try:
                with transaction.atomic(using=kwargs.get("using")):
                    return super().save(*args, **kwargs)
            except IntegrityError:
                bookings = BookingRequest.all_objects.using(kwargs.get("using"))
                taken = bookings.filter(reference=self.reference).exists()
                if not taken or attempt == REFERENCE_ATTEMPTS:
                    raise
                self.reference = generate_reference()

    def sync_phone(self, country: str | None = None) -> None:
        """Set `client_phone_e164` from `client_phone` (for writers that bypass `save`)."""
        if country is None:
            country = self.session.business.country if self.client_phone else ""
        self.client_phone_e164 = to_e164(self.client_phone, country)

    @property
    def business(self) -> Business:
        return self.session.business

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


# The app's models that live in their own packages (the email outbox, background
# export jobs): importing them here registers them with the app. They import
# nothing from this module (their relations name "booking.<Model>"), so there
# is no cycle.
from booking.emails.models import OutboxEmail  # noqa: E402, F401
from booking.exports.models import ExportJob  # noqa: E402, F401

# A business's late-cancellation fee tiers (booking/fees/models.py) belong to the app.
from booking.fees.models import CancellationFeeRule  # noqa: E402, F401

# When each staff member last looked at the admin home's client cancellations.
from booking.notices import CancellationsSeen  # noqa: E402, F401
