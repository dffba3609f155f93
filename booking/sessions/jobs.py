"""A large session's cancellation, run on the worker: its bookings in locked chunks.

A session with more active bookings than `SESSION_CANCEL_BACKGROUND_THRESHOLD`
is marked cancelled at once (so it takes no new bookings), and its bookings are
cancelled by a task (`booking.sessions.tasks`) that records its progress here:
how many were to be cancelled when it was queued (`total`), how many it has
cancelled (`done_count`) and how many it could not (`failed_count`, the last
reason in `error`). Each chunk commits its bookings and its counts together,
so the counts tell the truth after a crash too.

Part of the data layer: it imports nothing above `booking.models`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class SessionCancellationJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    session = models.ForeignKey(
        "booking.Session", on_delete=models.CASCADE, related_name="cancellation_jobs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, "+", null=True, blank=True
    )
    # What every booking's cancellation records: the session's reason and origin.
    reason = models.TextField()
    notify_client = models.BooleanField(default=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(default=0)
    done_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "booking"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Cancellation of session #{self.session_id}: {self.progress}"

    @property
    def is_finished(self) -> bool:
        return self.status == self.Status.DONE

    @property
    def progress(self) -> str:
        """ "1200 / 1500 bookings cancelled, 0 failures (running)"."""
        failures = "failure" if self.failed_count == 1 else "failures"
        return (
            f"{self.done_count} / {self.total} bookings cancelled, "
            f"{self.failed_count} {failures} ({self.get_status_display().lower()})"
        )
