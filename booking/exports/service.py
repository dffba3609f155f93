"""Exports: a user, what they selected and a format in; a download or a background job out.

The one export path. Every caller (the admin's Export button and action, the
"My exports" page) passes plain arguments: the user, the queryset they
selected (the change list's, or `selection(user, ...)` for simple filters),
the resource, the format and optionally some of its fields. `export` returns a
`Download` the caller turns into a response, or, above
`EXPORT_STREAM_MAX_ROWS` rows, the `ExportJob` it queued on the `exports` task
queue; the job writes its file the same way.

The rows are never materialised: the resource reads them with one chunked
query and renders each (`booking.exports.resources`), the writers serialise
them (`booking.exports.writers`): CSV and JSON as streamed text chunks, XLSX
into a temporary file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from booking.actors import User
from booking.exports.models import ExportJob
from booking.exports.resources import (
    BookingResource,
    ExportOnlyResource,
    ExportResource,
    field_names,
    rendered_rows,
)
from booking.exports.tasks import run_export_job
from booking.exports.writers import FORMATS, Format, text_chunks, write_file

DEFAULT_STREAM_MAX_ROWS = 20_000


def stream_max_rows() -> int:
    return getattr(settings, "EXPORT_STREAM_MAX_ROWS", DEFAULT_STREAM_MAX_ROWS)


@dataclass(frozen=True)
class Download:
    """A finished export: text chunks to stream (CSV, JSON) or a binary file at its start."""

    filename: str
    content_type: str
    chunks: Iterator[str] | None = None
    file: IO[bytes] | None = None


def selection(
    user: User,
    resource: type[ExportResource] = BookingResource,
    *,
    business: str = "",
    include_deleted: bool = False,
) -> QuerySet:
    """What `user` may export from `resource`, narrowed to one business (a slug) and,
    for bookings, to live ones unless `include_deleted`."""
    return resource.narrow(resource.scope(user), business=business, include_deleted=include_deleted)


def download(
    resource: ExportOnlyResource,
    source: Any,
    fmt: Format,
    *,
    fields: list[str] | None = None,
    name: str,
) -> Download:
    """The whole export of `source` (a queryset, or the report's rows) as a `Download`."""
    headers = resource.get_export_headers(selected_fields=fields)
    names = field_names(resource, fields)
    rows = rendered_rows(resource, source, fields=fields, native=fmt.native)
    filename = f"{name}-{timezone.localdate():%Y-%m-%d}.{fmt.extension}"
    if fmt.name == "xlsx":
        target = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
        title = resource.get_display_name()
        write_file(fmt, title=title, headers=headers, names=names, rows=rows, target=target)
        target.seek(0)
        return Download(filename, fmt.content_type, file=target)
    chunks = text_chunks(fmt, headers=headers, names=names, rows=rows)
    return Download(filename, fmt.content_type, chunks=chunks)


def export(
    *,
    user: User,
    queryset: QuerySet,
    resource: type[ExportResource] = BookingResource,
    fmt: Format | str = "csv",
    fields: list[str] | None = None,
    description: str = "",
) -> Download | ExportJob:
    """Export `queryset` (within `user`'s scope) now, or queue it when too large for a request.

    `fields` picks some of the resource's fields by name (all when None).
    Returns the `Download`, or the `ExportJob` whose file `user` downloads from
    "My exports" when it is ready.
    """
    fmt = FORMATS[fmt] if isinstance(fmt, str) else fmt
    exporter = resource()
    if exporter.count(queryset) <= stream_max_rows():
        return download(exporter, queryset, fmt, fields=fields, name=resource.name)
    return start_job(
        owner=user,
        resource=resource,
        fmt=fmt,
        queryset=queryset,
        fields=fields,
        description=description,
    )


def start_job(
    *,
    owner: User,
    resource: type[ExportResource],
    fmt: Format,
    queryset: QuerySet,
    fields: list[str] | None = None,
    description: str = "",
) -> ExportJob:
    """Record the selection and queue the export on the `exports` queue (after commit)."""
    if owner.pk is None:
        raise ValueError("A background export needs a signed-in owner.")
    with transaction.atomic():
        job = ExportJob.objects.create(
            owner_id=owner.pk,
            table=resource.name,
            format=fmt.name,
            selection=resource.selected_ids(queryset),
            columns=list(fields or []),
            description=description[:200],
        )
        # The database backend stores the task in this transaction: it runs
        # only once the job row is committed.
        run_export_job.enqueue(job.pk)
    return job
