"""Waitlist entries: clients waiting for a spot in a full session.

A leaf of the data layer like the fee tiers: it names its relations
"booking.<Model>" and imports nothing from `booking.models`, which imports it
to register it. Every change of an entry's state goes through
`booking.services.waitlist`, one `save()` per entry (a session's waitlist is
short), so simple-history records each with its user, reason, IP and user agent.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils import timezone

from booking.records import REFERENCE_LENGTH, audited, draw_reference
from booking.tenancy import TenantQuerySet

if TYPE_CHECKING:
    from booking.actors import User
    from booking.audit import RequestContext


class WaitlistMode(models.TextChoices):
    """What a freed spot in a full session does (a business's `waitlist_mode`)."""

    OFF = "off", "Off: freed spots are not offered"
    OFFER = "offer", "Offer: the first waiting client may claim the spot for a while"
    AUTO = "auto", "Automatic: the first waiting client is booked at once"


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    OFFERED = "offered", "Offered"
    CLAIMED = "claimed", "Claimed"
    EXPIRED = "expired", "Expired"
    DECLINED = "declined", "Declined"
    REMOVED = "removed", "Removed"


# An entry still in the queue: waiting, or holding an offer.
OPEN_STATUSES = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


class WaitlistQuerySet(TenantQuerySet["WaitlistEntry"]):
    business_path = "session__business"

    def waiting(self) -> WaitlistQuerySet:
        """In the queue, first come first served (`created_at`, then id)."""
        return self.filter(status=WaitlistStatus.WAITING).order_by("created_at", "pk")

    def open(self) -> WaitlistQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def holding(self, *, now: datetime) -> WaitlistQuerySet:
        """Offers still open at `now`: each holds one of its session's spots."""
        return self.filter(status=WaitlistStatus.OFFERED, offer_expires_at__gt=now)

    def lapsed(self, *, now: datetime) -> WaitlistQuerySet:
        """Offers whose claim window has closed but that are not yet marked expired."""
        return self.filter(status=WaitlistStatus.OFFERED, offer_expires_at__lte=now)


class WaitlistEntry(models.Model):
    # PROTECT, as a session's bookings: deleting a session would drop its waitlist
    # unseen by the clients on it (cancelling it closes the waitlist and tells them),
    # and a closed entry is the waitlist's history, which the report counts.
    session = models.ForeignKey(
        "booking.Session", on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    reference = models.CharField(
        max_length=REFERENCE_LENGTH, unique=True, editable=False, default=draw_reference
    )
    client_name = models.CharField(max_length=200)
    client_email = models.EmailField()
    client_phone = models.CharField(max_length=40, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    offered_at = models.DateTimeField(null=True, blank=True, editable=False)
    offer_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The booking the entry's claim (or automatic enrolment) created.
    booking = models.ForeignKey(
        "booking.BookingRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="waitlist_entries",
        editable=False,
    )

    objects = WaitlistQuerySet.as_manager()

    # Set before save(): simple-history's hooks for the record's user and reason,
    # and our signal's request origin (booking.signals).
    _history_user: User | None
    _change_reason: str
    _history_context: RequestContext
    history = audited()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "waitlist entry"
        verbose_name_plural = "waitlist entries"
        permissions = [("offer_waitlistentry", "Can offer a freed spot to a waitlist entry")]
        indexes = [
            # A session's queue in order, and its open offers.
            models.Index(fields=["session", "status", "created_at"], name="waitlist_queue_idx"),
            # The expiry sweep: offers whose window has closed.
            models.Index(
                fields=["offer_expires_at"],
                condition=Q(status="offered"),
                name="waitlist_open_offers_idx",
            ),
            models.Index(fields=["client_email"], name="waitlist_client_email_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="offered") | Q(offer_expires_at__isnull=False),
                name="waitlist_offer_has_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} — {self.client_name} ({self.get_status_display().lower()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def offer_is_open(self, *, now: datetime) -> bool:
        """An offer that may still be claimed at `now`."""
        expires = self.offer_expires_at
        return self.status == WaitlistStatus.OFFERED and expires is not None and expires > now
