"""The email outbox: one row per email a state change owes somebody.

A row is written in the same transaction as the change it reports (so it exists
exactly when the change was committed) and keeps its own copy of the
reference, recipient, subject and bodies, so that it outlives its booking.

Why `booking` has no database constraint: a purge deletes bookings with a raw
delete (no collector), so a constrained foreign key would make the purge fail,
and Django refuses `DB_SET_NULL` here because `BookingRequest`'s own relations
use Python-level `on_delete` (checks fields.E323 / models.E050). So the column
keeps the purged booking's id: no join finds it any more (the admin shows the
copied reference), and it still matches the id in the booking's final
historical record, which is what support needs to correlate the two.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone

from booking.tenancy import TenantQuerySet


class EmailKind(models.TextChoices):
    CLIENT_CANCELLED = "client_cancelled", "Client cancelled (to client)"
    STAFF_CANCELLED = "staff_cancelled", "Staff cancelled (to client)"
    SESSION_CANCELLED = "session_cancelled", "Session cancelled by the business (to client)"
    BUSINESS_NOTICE = "business_notice", "Client cancelled (to business)"
    REMOVED = "removed", "Booking removed (to client)"
    MOVED = "moved", "Booking moved to another session (to client)"
    CANCEL_LINK = "cancel_link", "Cancellation link (to client)"
    NO_SHOW_FEE = "no_show_fee", "No-show fee (to client)"
    RESTORED = "restored", "Booking restored (to client)"
    WAITLIST_OFFER = "waitlist_offer", "Waitlist: a spot is free (to client)"
    WAITLIST_BOOKED = "waitlist_booked", "Waitlist: booked from the waitlist (to client)"
    WAITLIST_CLOSED = "waitlist_closed", "Waitlist: the business cancelled the session (to client)"


class EmailStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    DELIVERED = "delivered", "Delivered"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Complained (spam)"


class OutboxQuerySet(TenantQuerySet["OutboxEmail"]):
    business_path = "business"

    def queued(self) -> OutboxQuerySet:
        return self.filter(status=EmailStatus.QUEUED)

    def failed(self) -> OutboxQuerySet:
        return self.filter(status=EmailStatus.FAILED)

    def stranded(self, *, before: datetime) -> OutboxQuerySet:
        """Rows a crash may have left behind: due (or claimed) before `before` and unsent."""
        return self.filter(
            Q(status=EmailStatus.QUEUED, next_attempt_at__lt=before)
            | Q(status=EmailStatus.SENDING, updated_at__lt=before)
        )


class OutboxEmail(models.Model):
    kind = models.CharField(max_length=32, choices=EmailKind.choices)
    booking = models.ForeignKey(
        "booking.BookingRequest",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="emails",
        help_text="The booking's id; it outlives a purge (see the module docstring).",
    )
    # The tenant scope, kept after a purge (the booking's business at queue time).
    business = models.ForeignKey(
        "booking.Business", on_delete=models.CASCADE, related_name="emails"
    )
    reference = models.CharField(max_length=16, help_text="The booking's reference.")
    recipient = models.EmailField(max_length=254)
    reply_to = models.EmailField(max_length=254, blank=True, default="")
    subject = models.CharField(max_length=255)
    text_body = models.TextField()
    html_body = models.TextField()
    # What makes this email unique besides booking, kind and recipient: the state
    # change it reports (e.g. the cancellation's timestamp), so a double submit or
    # a hook that runs twice cannot queue the same email twice.
    dedupe_key = models.CharField(max_length=64)
    # Set while the worker has still to render the subject and bodies (a bulk change
    # queues its rows unrendered, see booking.emails.rendering): what the templates
    # need beyond the booking's recorded state. None once rendered.
    render = models.JSONField(null=True, blank=True, editable=False)
    # The rows queued together, sent by one task.
    batch = models.UUIDField(default=uuid.uuid4, db_index=True, editable=False)

    status = models.CharField(
        max_length=16, choices=EmailStatus.choices, default=EmailStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    provider_message_id = models.CharField(max_length=255, blank=True, default="")

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When a queued email is due (a retry's backoff)."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(
        null=True, blank=True, help_text="Time of the provider's latest tracking event."
    )

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "email"
        verbose_name_plural = "emails"
        permissions = [("resend_outboxemail", "Can resend failed emails")]
        constraints = [
            models.UniqueConstraint(
                fields=["reference", "kind", "recipient", "dedupe_key"], name="outbox_email_once"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_status_due_idx"),
            models.Index(fields=["provider_message_id"], name="outbox_message_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient} ({self.get_status_display()})"
