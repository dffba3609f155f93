"""When each staff member last looked at their businesses' client cancellations.

The admin home (`booking.admin_site`) lists them and counts the new ones since
this moment, then moves it forward.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


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
