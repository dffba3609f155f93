"""Background export jobs: what the `exports` task runs, and who may download the result.

A job remembers the ids of what was selected (`ExportResource.selected_ids`)
and reads them back in chunks within its owner's scope as it is when it runs;
the resource renders the rows and the writers serialise them, as for an export
made in the request.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from itertools import batched, chain
from typing import Any

from django.core.files import File
from django.utils import timezone

from booking.actors import User
from booking.exports.models import ExportJob
from booking.exports.resources import (
    RESOURCES,
    BookingResource,
    ExportResource,
    SessionResource,
    field_names,
    rendered_rows,
)
from booking.exports.writers import FORMATS, Format, write_file
from booking.models import BookingRequest, Session

JOB_CHUNK = 1000  # ids per query when a job reads its selection


def job_rows(job: ExportJob, exporter: ExportResource, fmt: Format) -> Iterator[list[Any]]:
    """The job's rows, its selection read in chunks of ids within the owner's scope now."""
    scoped = exporter.scope(job.owner)
    return chain.from_iterable(
        rendered_rows(
            exporter, exporter.of_ids(scoped, ids), fields=job.columns or None, native=fmt.native
        )
        for ids in batched(job.selection, JOB_CHUNK)
    )


def still_in_scope(job: ExportJob, user: User) -> bool:
    """True while every live row the job's file was made from is still `user`'s to see.

    Someone removed from a business keeps their finished jobs in the list, but no
    longer downloads a file holding that business's rows.
    """
    if user.is_superuser:
        return True
    sessions = job.table == SessionResource.name
    everything = Session.objects.all() if sessions else BookingRequest.all_objects.all()
    visible = (SessionResource if sessions else BookingResource).scope(user)
    for ids in batched(job.selection, JOB_CHUNK):
        outside = everything.filter(pk__in=ids).exclude(
            pk__in=visible.filter(pk__in=ids).values("pk")
        )
        if outside.exists():
            return False
    return True


def run_job(job: ExportJob) -> ExportJob:
    """Write the job's file (called by the task worker)."""
    exporter, fmt = RESOURCES[job.table](), FORMATS[job.format]
    fields = job.columns or None
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING)
    counted = _Counter(job_rows(job, exporter, fmt))
    with tempfile.TemporaryFile() as target:
        write_file(
            fmt,
            title=exporter.get_display_name(),
            headers=exporter.get_export_headers(selected_fields=fields),
            names=field_names(exporter, fields),
            rows=counted,
            target=target,
        )
        target.seek(0)
        job.file.save(job.filename, File(target), save=False)
    job.status = ExportJob.Status.DONE
    job.row_count = counted.count
    job.finished_at = timezone.now()
    saved = ExportJob.objects.filter(pk=job.pk).update(
        file=job.file.name, status=job.status, row_count=job.row_count, finished_at=job.finished_at
    )
    if not saved:
        # Deleted while it ran (an erasure, retention): its file must not outlive it.
        job.file.delete(save=False)
    return job


class _Counter:
    """Passes rows through, counting them."""

    def __init__(self, rows: Iterator[list[Any]]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[list[Any]]:
        for row in self.rows:
            self.count += 1
            yield row
