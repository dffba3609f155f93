"""Delivery tracking: the provider's webhook events update the outbox rows.

Anymail's tracking webhook (mounted under `/anymail/`, e.g.
`/anymail/postmark/tracking/`, protected by `ANYMAIL_WEBHOOK_SECRET` as HTTP
basic auth) normalises each provider's events and sends its `tracking` signal;
this receiver finds the row by the provider's message id and records
`delivered`, `bounced` or `complained` (a rejection after acceptance ends
`failed`). Events may arrive late or out of order: one older than the row's
latest event is ignored. Opens, clicks and deferrals change nothing.
"""

from __future__ import annotations

from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType, tracking
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

from booking.emails.models import EmailStatus, OutboxEmail

STATUSES = {
    EventType.DELIVERED: EmailStatus.DELIVERED,
    EventType.BOUNCED: EmailStatus.BOUNCED,
    EventType.COMPLAINED: EmailStatus.COMPLAINED,
    EventType.REJECTED: EmailStatus.FAILED,
    EventType.FAILED: EmailStatus.FAILED,
}
# Only emails the provider accepted can be delivered, bounce or be complained about.
TRACKED = [EmailStatus.SENT, EmailStatus.DELIVERED, EmailStatus.BOUNCED,
           EmailStatus.COMPLAINED, EmailStatus.FAILED]  # fmt: skip


@receiver(tracking, dispatch_uid="booking.emails.tracking")
def record_tracking_event(
    sender: Any, event: AnymailTrackingEvent, esp_name: str, **_: Any
) -> None:
    status = STATUSES.get(event.event_type)
    if status is None or not event.message_id:
        return
    when = event.timestamp or timezone.now()
    fields: dict[str, Any] = {"status": status, "last_event_at": when, "updated_at": timezone.now()}
    if status in (EmailStatus.BOUNCED, EmailStatus.COMPLAINED, EmailStatus.FAILED):
        detail = event.description or event.mta_response or event.reject_reason or status
        fields["last_error"] = f"{esp_name} {event.event_type}: {detail}"[:2000]
    OutboxEmail.objects.filter(
        Q(last_event_at__isnull=True) | Q(last_event_at__lte=when),
        provider_message_id=str(event.message_id),
        status__in=TRACKED,
    ).update(**fields)
