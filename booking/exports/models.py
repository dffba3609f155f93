"""Background export jobs: an export too large for one request, written to a file.

A job belongs to the user who asked for it; only they see it and download its
file. It remembers what was selected (the ids, taken from the caller's scoped
and filtered queryset when the export was asked for) and applies the owner's
tenant scope again when it runs.

A job's file goes with its row, whatever deletes the row (retention, erasure,
the owner's account being deleted): once the deletion commits.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone


class ExportJobQuerySet(models.QuerySet["ExportJob"]):
    def owned_by(self, user: object) -> ExportJobQuerySet:
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(owner=user)


class ExportJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Running"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs"
    )
    table = models.CharField(max_length=20)  # a key of booking.exports.resources.RESOURCES
    format = models.CharField(max_length=10)  # a key of booking.exports.writers.FORMATS
    selection = models.JSONField(
        default=list, help_text="Primary keys of the selected bookings (or sessions)."
    )
    columns = models.JSONField(
        default=list, blank=True, help_text="Names of the exported columns; empty means all."
    )
    description = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    row_count = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        app_label = "booking"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="exportjob_owner_created_idx")
        ]

    def __str__(self) -> str:
        return f"{self.table} export #{self.pk} ({self.format})"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.DONE and bool(self.file)

    @property
    def filename(self) -> str:
        return f"{self.table}-{self.created_at:%Y-%m-%d}-{self.pk}.{self.format}"


@receiver(post_delete, sender=ExportJob, dispatch_uid="booking.exports.delete_job_file")
def delete_job_file(sender: type[ExportJob], instance: ExportJob, **kwargs: Any) -> None:
    """Delete the job's file after the transaction that deleted the row commits
    (a rolled-back deletion, such as an erasure's dry run, keeps it)."""
    if instance.file and instance.file.name:
        transaction.on_commit(partial(instance.file.storage.delete, instance.file.name))
