"""Export files are kept for a while, not for ever.

A background export's file holds client data, so it is deleted (row and file)
`EXPORT_RETENTION_DAYS` days after the export was asked for (default 7), by
`manage.py bookings purge-deleted`, the retention job operators schedule; and
at once when an erasure touches a booking the file contains
(`booking.services.erasure`). Downloads streamed to a browser are out of reach:
they live on the user's machine.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet

from booking.exports.models import ExportJob
from booking.exports.resources import AuditResource, BookingResource

DEFAULT_RETENTION_DAYS = 7
SCAN_CHUNK = 100  # jobs read at a time (a selection can hold 100 000 ids)


def retention_days() -> int:
    return getattr(settings, "EXPORT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)


def expired_jobs(*, now: datetime, days: int | None = None) -> QuerySet[ExportJob]:
    """Jobs asked for more than `days` (default: the setting) days before `now`."""
    cutoff = now - timedelta(days=retention_days() if days is None else days)
    return ExportJob.objects.filter(created_at__lt=cutoff)


def jobs_holding(booking_ids: Collection[int]) -> list[int]:
    """Ids of the jobs whose file holds (or will hold) any of these bookings, or
    their audit trail."""
    wanted = set(booking_ids)
    if not wanted:
        return []
    jobs = ExportJob.objects.filter(
        table__in=[BookingResource.name, AuditResource.name]
    ).values_list("pk", "selection")
    return [pk for pk, selection in jobs.iterator(chunk_size=SCAN_CHUNK) if wanted & set(selection)]


def delete_jobs(jobs: QuerySet[ExportJob]) -> int:
    """Delete these jobs; their files follow once the transaction commits."""
    _, per_model = jobs.delete()
    return per_model.get(ExportJob._meta.label, 0)


def delete_jobs_holding(booking_ids: Collection[int]) -> int:
    """Delete the jobs whose file holds any of these bookings (files after commit)."""
    return delete_jobs(ExportJob.objects.filter(pk__in=jobs_holding(booking_ids)))
