"""The booking domain's data: bookings here; businesses, sessions and the rest in their packages.

State changes of a booking never happen here: they live in `booking.services`.
The models only describe the data, its invariants and the read vocabulary
(QuerySet methods named as states).

Every model of the app is importable from here (`from booking.models import
Business, Session, BookingRequest`), wherever it is declared: each domain's
models live in their own module (`booking/businesses/models.py`,
`booking/sessions/models.py`, `booking/fees/models.py`, ...), import nothing
from this one (their relations name `"booking.<Model>"`), and are imported
here so that they register with the app (label `booking`) and are re-exported.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from booking.businesses.models import MAX_DEADLINE_HOURS, BookingSettings, Business
from booking.phones import search_forms, to_e164
from booking.records import (
    MONEY_DIGITS,
    MONEY_PLACES,
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    audited,
    draw_reference,
)
from booking.search import BookingSearch, contains_any, contains_every

# validate_session_time: the migrations name it as `booking.models.validate_session_time`.
from booking.sessions.models import SESSION_YEARS, Session, SessionStatus, validate_session_time
from booking.tenancy import TenantQuerySet

if TYPE_CHECKING:
    from booking.actors import User
    from booking.audit import RequestContext

REASON_MAX_LENGTH = 1000
REFERENCE_ATTEMPTS = 5


def generate_reference() -> str:
    """The migrations name it (`booking.models.generate_reference`); bookings and waitlist
    entries draw from the same alphabet (`booking.records`)."""
    return draw_reference()


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
# A seat taken, what "booked" means on every staff page and in the API: an active
# booking, or one whose client came or did not show (a past class is as full as it
# was, not "0 booked"). Attendance is marked only once a session started, so for a
# session still open to bookings the seated ones are exactly the active ones.
SEATED_STATUSES = (*ACTIVE_STATUSES, BookingStatus.ATTENDED, BookingStatus.NO_SHOW)


class BookingQuerySet(TenantQuerySet["BookingRequest"]):
    business_path = "session__business"

    def live(self) -> BookingQuerySet:
        return self.filter(is_deleted=False)

    def deleted(self) -> BookingQuerySet:
        return self.filter(is_deleted=True)

    def active(self) -> BookingQuerySet:
        return self.filter(status__in=ACTIVE_STATUSES)

    def seated(self) -> BookingQuerySet:
        """Holding a seat: see SEATED_STATUSES (live bookings: chain `live()`)."""
        return self.filter(status__in=SEATED_STATUSES)

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

    def containing(self, *texts: str) -> BookingQuerySet:
        """Bookings whose reference, client name, email or phone holds each of `texts`
        (any case): the admin's search of words (`booking.search`)."""
        return self.filter(contains_every(texts, using=self.db))

    def with_emails(self, emails: Iterable[str]) -> BookingQuerySet:
        """Bookings whose client email is one of `emails`, ignoring case. `iexact`
        compares UPPER() forms, which no B-tree holds: the search's index finds the
        candidates (`booking.search.contains_any`), `iexact` keeps the address's."""
        emails = list(emails)
        exact = reduce(or_, (Q(client_email__iexact=email) for email in emails), Q(pk__in=[]))
        return self.filter(contains_any(emails, using=self.db), exact)

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
        "booking.Session", on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    reference = models.CharField(
        max_length=REFERENCE_LENGTH, unique=True, editable=False, default=generate_reference
    )
    client_name = models.CharField(max_length=200)
    # Searched (and found by address, `with_emails`) through `booking.search`.
    client_email = models.EmailField()
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
        db_index=False,  # indexed in Meta where set
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
        db_index=False,  # indexed in Meta where set
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
        db_index=False,  # indexed in Meta where set
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
        # Each index gets an entry for every booking a status change writes (such an
        # update is never HOT): only indexes a query uses are kept. A status alone is
        # read through (is_deleted, status); the client's email is found through the
        # search (`with_emails`), whose trigram index is not on this table
        # (`booking.search`); the reference's LIKE twin is dropped (migration 0018).
        indexes = [
            models.Index(fields=["is_deleted", "status"], name="booking_deleted_status_idx"),
            models.Index(fields=["is_deleted", "deleted_at"], name="booking_deleted_at_idx"),
            # A session's bookings, and which are live and in which state: a tenant's
            # list filtered by status is counted from this index alone.
            models.Index(
                fields=["session", "is_deleted", "status"], name="booking_session_state_idx"
            ),
            # The default order (newest first; the staff API's lists), read backwards.
            models.Index(fields=["created_at", "id"], name="booking_created_idx"),
            # The admin home's recent client cancellations (booking.admin_site), newest first.
            models.Index(
                fields=["cancelled_at"],
                condition=Q(cancelled_by_client=True),
                name="booking_client_cancelled_idx",
            ),
            models.Index(fields=["client_phone_e164"], name="booking_client_phone_e164_idx"),
            # Who cancelled, deleted or waived: read only when a user is deleted (SET_NULL
            # updates and the foreign key's check look the user up). Only the rows that
            # name one are indexed, so a status change that names nobody adds no entry.
            *(
                models.Index(
                    fields=[name],
                    condition=Q(**{f"{name}__isnull": False}),
                    name=f"booking_{name}_idx",
                )
                for name in ("cancelled_by", "deleted_by", "fee_waived_by")
            ),
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


# The app's models that live in their own packages and that nothing above uses
# (the email outbox, background export jobs, fee tiers, what staff have seen):
# importing them here registers them with the app.
from booking.emails.models import OutboxEmail  # noqa: E402
from booking.exports.models import ExportJob  # noqa: E402
from booking.fees.models import CancellationFeeRule  # noqa: E402
from booking.notices import CancellationsSeen  # noqa: E402
from booking.sessions.jobs import SessionCancellationJob  # noqa: E402
from booking.waitlist.models import WaitlistEntry, WaitlistMode, WaitlistStatus  # noqa: E402

__all__ = [
    "ACTIVE_STATUSES",
    "MAX_DEADLINE_HOURS",
    "REASON_MAX_LENGTH",
    "REFERENCE_ALPHABET",
    "REFERENCE_LENGTH",
    "SESSION_YEARS",
    "BookingQuerySet",
    "BookingRequest",
    "BookingSearch",
    "BookingSettings",
    "BookingStatus",
    "Business",
    "CancellationFeeRule",
    "CancellationsSeen",
    "ExportJob",
    "FeeStatus",
    "OutboxEmail",
    "Session",
    "SessionCancellationJob",
    "SessionStatus",
    "WaitlistEntry",
    "WaitlistMode",
    "WaitlistStatus",
    "generate_reference",
    "validate_session_time",
]
