"""The admin home's notice of client cancellations: the business hears of them in
the admin as well as by email.

Each staff member sees their businesses' recent client cancellations, newest
first, and how many are new since they last looked at the admin home
(`CancellationsSeen`, one row per user, moved forward on each look).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

# How far back, and how many, the admin home lists.
RECENT = timedelta(days=30)
LIST_LENGTH = 10


class CancellationsSeen(models.Model):
    """When a staff member last looked at the admin home's client cancellations."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cancellations_seen"
    )
    seen_at = models.DateTimeField()

    class Meta:
        app_label = "booking"
        verbose_name = "client cancellations last seen"
        verbose_name_plural = "client cancellations last seen"

    def __str__(self) -> str:
        return f"{self.user} at {self.seen_at:%Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class CancellationNotice:
    bookings: list[Any]  # newest first, with their session and business
    new_count: int  # cancelled since the user last looked (all of them, not only those listed)
    since: datetime | None  # when they last looked; None the first time

    @property
    def several_businesses(self) -> bool:
        """Do the listed bookings belong to more than one business (then name each)?"""
        return len({booking.session.business_id for booking in self.bookings}) > 1


def client_cancellations(user: Any, *, now: datetime | None = None) -> CancellationNotice:
    """The user's businesses' client cancellations of the last RECENT, newest first, and
    how many came since the user last looked; then records this look. Four queries,
    whatever the number of bookings or businesses."""
    from booking.models import BookingRequest, BookingStatus

    now = now or timezone.now()
    cancelled = BookingRequest.objects.for_user(user).filter(
        status=BookingStatus.CANCELLED, cancelled_by_client=True, cancelled_at__gte=now - RECENT
    )
    seen = CancellationsSeen.objects.filter(user=user).values_list("seen_at", flat=True).first()
    bookings = list(
        cancelled.select_related("session__business").order_by("-cancelled_at", "-pk")[:LIST_LENGTH]
    )
    new = cancelled.filter(cancelled_at__gt=seen) if seen else cancelled
    new_count = new.count() if bookings else 0
    if seen is None:
        # A second tab's first look may have created the row meanwhile: either is right.
        CancellationsSeen.objects.get_or_create(user=user, defaults={"seen_at": now})
    else:
        CancellationsSeen.objects.filter(user=user).update(seen_at=now)
    return CancellationNotice(bookings=bookings, new_count=new_count, since=seen)
