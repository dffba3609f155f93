"""Receivers: a business always has its settings; a new booking records its terms;
history rows carry their origin."""

from typing import Any
from weakref import WeakKeyDictionary

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from booking.audit import RequestContext
from booking.models import BookingRequest, BookingSettings, Business
from booking.services.policy import snapshot_terms

BATCH_SIZE = 2000
# A business's country before the save in progress (pre_save to post_save).
_country_before: WeakKeyDictionary[Business, str | None] = WeakKeyDictionary()


@receiver(post_save, sender=Business)
def create_booking_settings(
    sender: type[Business], instance: Business, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    # Fixtures (raw) carry their own settings row.
    if created and not raw:
        BookingSettings.objects.get_or_create(business=instance)


@receiver(pre_save, sender=BookingRequest)
def snapshot_new_booking_terms(
    sender: type[BookingRequest], instance: BookingRequest, raw: bool = False, **kwargs: Any
) -> None:
    """Every booking saved new keeps the terms it was made under (unless its creator
    wrote them already); paths that insert in bulk call `snapshot_terms` themselves."""
    if instance._state.adding and not raw and instance.policy_snapshot is None:
        snapshot_terms([instance])


@receiver(pre_save, sender=Business)
def remember_country(sender: type[Business], instance: Business, **kwargs: Any) -> None:
    if instance.pk is None or kwargs.get("raw"):
        return
    before = Business.objects.filter(pk=instance.pk).values_list("country", flat=True).first()
    _country_before[instance] = before


@receiver(post_save, sender=Business)
def reread_phone_numbers(sender: type[Business], instance: Business, **kwargs: Any) -> None:
    """A business's changed country re-reads the E.164 form of its bookings' numbers."""
    before = _country_before.pop(instance, None)
    if before is None or before == instance.country:
        return
    bookings = BookingRequest.all_objects.filter(session__business=instance).exclude(
        client_phone=""
    )
    batch = []
    for booking in bookings.only("pk", "client_phone").iterator(chunk_size=BATCH_SIZE):
        booking.sync_phone(instance.country)
        batch.append(booking)
    BookingRequest.all_objects.bulk_update(batch, ["client_phone_e164"], batch_size=BATCH_SIZE)


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
