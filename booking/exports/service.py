"""Export a queryset: stream it when a request can hold it, else queue a background job.

The caller passes the queryset to export: the admin's change-list queryset (its
filters, search and tenant scope) or `export_queryset_for(request, ...)`. The
rows are never materialised: CSV and JSON stream from chunked `values_list`
queries, XLSX is written by openpyxl's write-only workbook into a temporary
file that is then streamed. Above `EXPORT_STREAM_MAX_ROWS` rows the export
runs on the `exports` task queue and the user downloads the file when ready.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from itertools import batched, chain
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone

from booking.exports.models import ExportJob
from booking.exports.tables import (
    AUDIT,
    BOOKINGS,
    SESSIONS,
    TABLES,
    Table,
    audit_of,
    source_queryset,
)
from booking.exports.writers import FORMATS, Format, csv_chunks, json_chunks, write_file
from booking.models import BookingQuerySet, BookingRequest, Session

DEFAULT_STREAM_MAX_ROWS = 20_000
JOB_CHUNK = 1000  # ids per query when a job reads its selection


def stream_max_rows() -> int:
    return getattr(settings, "EXPORT_STREAM_MAX_ROWS", DEFAULT_STREAM_MAX_ROWS)


def export_queryset_for(
    request: HttpRequest,
    table: Table = BOOKINGS,
    *,
    business: str = "",
    include_deleted: bool = False,
) -> QuerySet:
    """What the request's user may export from `table`, narrowed by simple filters.

    Bookings: `BookingRequest.all_objects.for_user(user)`, live ones only unless
    `include_deleted`; `business` is a business slug.
    """
    queryset = source_queryset(table, request.user)
    if table.name == BOOKINGS.name:
        if not include_deleted:
            queryset = cast(BookingQuerySet, queryset).live()
        if business:
            queryset = queryset.filter(session__business__slug=business)
    elif table.name == AUDIT.name:
        if business:
            queryset = queryset.filter(session__business__slug=business)
    elif business:
        queryset = queryset.filter(business__slug=business)
    return queryset


def filename_for(table: Table, fmt: Format) -> str:
    return f"{table.name}-{timezone.localdate():%Y-%m-%d}.{fmt.extension}"


def _rows_source(table: Table, queryset: QuerySet) -> QuerySet:
    if table.name == AUDIT.name and queryset.model is BookingRequest:
        return audit_of(queryset)
    return queryset


def stream_response(table: Table, queryset: QuerySet, fmt: Format) -> HttpResponseBase:
    """The whole export as a download, in bounded memory, without per-row queries."""
    source = _rows_source(table, queryset)
    rows = table.rows(source, native=fmt.native)
    filename = filename_for(table, fmt)
    if fmt.name == "xlsx":
        target = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
        write_file(
            fmt,
            title=table.title,
            headers=table.headers,
            names=table.names,
            rows=rows,
            target=target,
        )
        target.seek(0)
        return FileResponse(
            target, as_attachment=True, filename=filename, content_type=fmt.content_type
        )
    chunks = (
        csv_chunks(table.headers, rows) if fmt.name == "csv" else json_chunks(table.names, rows)
    )
    response = StreamingHttpResponse(chunks, content_type=fmt.content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def start_job(
    *,
    owner: Any,
    table: Table,
    fmt: Format,
    queryset: QuerySet,
    columns: list[str] | None = None,
    description: str = "",
) -> ExportJob:
    """Record the selection and queue the export on the `exports` queue (after commit)."""
    from booking.exports.tasks import run_export_job

    ids = list(queryset.order_by("pk").values_list("pk", flat=True).distinct())
    with transaction.atomic():
        job = ExportJob.objects.create(
            owner=owner,
            table=table.name,
            format=fmt.name,
            selection=ids,
            columns=list(columns or []),
            description=description[:200],
        )
        # The database backend stores the task in this transaction: it runs
        # only once the job row is committed.
        run_export_job.enqueue(job.pk)
    return job


def export_response(
    request: HttpRequest,
    queryset: QuerySet,
    *,
    table: Table = BOOKINGS,
    fmt: Format | str = "csv",
    columns: list[str] | None = None,
    description: str = "",
) -> HttpResponseBase | ExportJob:
    """Stream the export of `queryset`, or start a job when it is too large for a request.

    `columns` picks some of the table's columns by name (all when None).
    Returns the response, or the `ExportJob` the caller reports (and redirects
    to the jobs page, `booking_exports:jobs`).
    """
    fmt = FORMATS[fmt] if isinstance(fmt, str) else fmt
    rows = _rows_source(table, queryset).count() if table.name == AUDIT.name else queryset.count()
    if rows <= stream_max_rows():
        return stream_response(table.only(columns), queryset, fmt)
    return start_job(
        owner=request.user,
        table=table,
        fmt=fmt,
        queryset=queryset,
        columns=columns,
        description=description,
    )


def job_rows(job: ExportJob, table: Table, fmt: Format) -> Iterator[list[Any]]:
    """The job's rows, its selection read in chunks of ids within the owner's scope now."""
    scoped = source_queryset(
        BOOKINGS if table.name == AUDIT.name else TABLES[table.name], job.owner
    )
    order = ("id", "history_date", "history_id") if table.name == AUDIT.name else ("pk",)

    def chunk_rows(ids: tuple[int, ...]) -> Iterator[list[Any]]:
        selected = scoped.filter(pk__in=ids)
        source = audit_of(selected) if table.name == AUDIT.name else selected
        return table.rows(source, native=fmt.native, order_by=order)

    return chain.from_iterable(chunk_rows(ids) for ids in batched(job.selection, JOB_CHUNK))


def still_in_scope(job: ExportJob, user: Any) -> bool:
    """True while every live row the job's file was made from is still `user`'s to see.

    Someone removed from a business keeps their finished jobs in the list, but no
    longer downloads a file holding that business's rows.
    """
    if user.is_superuser:
        return True
    sessions = job.table == SESSIONS.name
    everything = Session.objects.all() if sessions else BookingRequest.all_objects.all()
    visible = source_queryset(SESSIONS if sessions else BOOKINGS, user)
    for ids in batched(job.selection, JOB_CHUNK):
        outside = everything.filter(pk__in=ids).exclude(
            pk__in=visible.filter(pk__in=ids).values("pk")
        )
        if outside.exists():
            return False
    return True


def run_job(job: ExportJob) -> ExportJob:
    """Write the job's file (called by the task worker)."""
    from django.core.files import File

    table, fmt = TABLES[job.table].only(job.columns), FORMATS[job.format]
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING)
    counted = _Counter(job_rows(job, table, fmt))
    with tempfile.TemporaryFile() as target:
        write_file(
            fmt,
            title=table.title,
            headers=table.headers,
            names=table.names,
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


__all__ = [
    "AUDIT",
    "BOOKINGS",
    "SESSIONS",
    "export_queryset_for",
    "export_response",
    "run_job",
    "start_job",
    "stream_response",
]
