"""Receivers: a business always has its settings; history rows carry their origin."""

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from booking.audit import RequestContext
from booking.models import BookingSettings, Business


@receiver(post_save, sender=Business)
def create_booking_settings(
    sender: type[Business], instance: Business, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    # Fixtures (raw) carry their own settings row.
    if created and not raw:
        BookingSettings.objects.get_or_create(business=instance)


@receiver(pre_create_historical_record)
def record_request_origin(sender: Any, instance: Any, history_instance: Any, **kwargs: Any) -> None:
    """Fill ip_address / user_agent from the service's context or the current request."""
    context: RequestContext | None = getattr(instance, "_history_context", None)
    if context is None:
        request = getattr(HistoricalRecords.context, "request", None)
        if request is None:
            return
        context = RequestContext.from_request(request)
    history_instance.ip_address = context.ip_address
    history_instance.user_agent = context.user_agent
