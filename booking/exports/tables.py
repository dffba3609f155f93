"""What each export contains: one column list per table, read straight from `values_list`.

Every export path (the streaming writers, the background jobs and the
django-import-export resources behind the admin's button and action) reads its
rows from a `Table`, so a column is declared once and looks the same in CSV,
XLSX and JSON. Rows come from one `values_list` query over the caller's
queryset (its filters and tenant scope kept), fetched in chunks with
`iterator()`: no model instances, no per-row queries.

Cells are converted in one of two modes:

- "text" (CSV, JSON): datetimes become ISO 8601 strings in UTC;
- "native" (XLSX): datetimes become naive UTC datetimes (Excel has no time
  zones; the headers say "UTC"), and characters XML cannot hold are dropped.

In both modes text is escaped against formula injection and numbers, booleans
and empty values stay what they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import Lag
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from booking.exports.escaping import escape_text
from booking.models import BookingRequest, BookingStatus, Session

CHUNK_SIZE = 2000

HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}


class Kind(StrEnum):
    TEXT = "text"
    INT = "int"
    BOOL = "bool"
    DATETIME = "datetime"


@dataclass(frozen=True)
class Column:
    name: str  # the field's name in the resource and the key in JSON
    header: str  # the column's title in CSV and XLSX
    source: str  # a values_list lookup or an annotation of the table's queryset
    kind: Kind = Kind.TEXT
    labels: Mapping[str, str] | None = None  # stored value → readable label


def _text(value: Any) -> Any:
    if value is None or value == "":
        return ""
    return escape_text(str(value))


def _xlsx_text(value: Any) -> Any:
    text = _text(value)
    return ILLEGAL_CHARACTERS_RE.sub("", text) if text else text


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _naive_utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None


def _same(value: Any) -> Any:
    return value


def _converter(column: Column, *, native: bool) -> Callable[[Any], Any]:
    text = _xlsx_text if native else _text
    if column.labels is not None:
        labels = column.labels
        return lambda value: text(labels.get(value, value))
    if column.kind is Kind.TEXT:
        return text
    if column.kind is Kind.DATETIME:
        return _naive_utc if native else _iso
    return _same


@dataclass(frozen=True)
class Table:
    """An export's columns and the query that feeds them."""

    name: str
    title: str
    columns: tuple[Column, ...]
    prepare: Callable[[QuerySet], QuerySet] = lambda queryset: queryset

    def only(self, names: list[str] | None) -> Table:
        """The table with just the named columns (in the table's order); all when None."""
        if not names:
            return self
        return replace(self, columns=tuple(c for c in self.columns if c.name in set(names)))

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    def values(
        self, queryset: QuerySet, *, order_by: tuple[str, ...] = (), chunk_size: int = CHUNK_SIZE
    ) -> Iterator[tuple]:
        """The raw rows: one `values_list` query, fetched in chunks."""
        prepared = self.prepare(queryset)
        if order_by:
            prepared = prepared.order_by(*order_by)
        sources = [column.source for column in self.columns]
        return prepared.values_list(*sources).iterator(chunk_size=chunk_size)

    def converters(self, *, native: bool) -> list[Callable[[Any], Any]]:
        return [_converter(column, native=native) for column in self.columns]

    def rows(
        self, queryset: QuerySet, *, native: bool = False, order_by: tuple[str, ...] = ()
    ) -> Iterator[list[Any]]:
        """The cells, converted and escaped, one list per row."""
        converters = self.converters(native=native)
        for raw in self.values(queryset, order_by=order_by):
            yield [convert(value) for convert, value in zip(converters, raw, strict=True)]


STATUS_LABELS = dict(BookingStatus.choices)

BOOKINGS = Table(
    name="bookings",
    title="Bookings",
    columns=(
        Column("id", "ID", "pk", Kind.INT),
        Column("reference", "Reference", "reference"),
        Column("business", "Business", "session__business__name"),
        Column("business_slug", "Business slug", "session__business__slug"),
        Column("session_title", "Session", "session__title"),
        Column("session_starts_at", "Session start (UTC)", "session__starts_at", Kind.DATETIME),
        Column("client_name", "Client name", "client_name"),
        Column("client_email", "Client email", "client_email"),
        Column("client_phone", "Client phone", "client_phone"),
        Column("status", "Status", "status", labels=STATUS_LABELS),
        Column("created_at", "Created (UTC)", "created_at", Kind.DATETIME),
        Column("updated_at", "Updated (UTC)", "updated_at", Kind.DATETIME),
        Column("cancelled_at", "Cancelled (UTC)", "cancelled_at", Kind.DATETIME),
        Column("cancelled_by", "Cancelled by", "cancelled_by__username"),
        Column("cancelled_by_client", "Cancelled by client", "cancelled_by_client", Kind.BOOL),
        Column("cancellation_reason", "Cancellation reason", "cancellation_reason"),
        Column("is_deleted", "Deleted", "is_deleted", Kind.BOOL),
        Column("deleted_at", "Deleted (UTC)", "deleted_at", Kind.DATETIME),
        Column("deleted_by", "Deleted by", "deleted_by__username"),
        Column("deletion_reason", "Deletion reason", "deletion_reason"),
    ),
)


def _with_status_before(history: QuerySet) -> QuerySet:
    """Each record's previous status, from the record before it of the same booking.

    A window function (LAG over the booking's records in time order) computes it
    in the export's own query. It sees the records the queryset selects, so
    select whole bookings (as the export paths do), not a slice of one's history.
    """
    return history.annotate(
        status_before=Window(
            Lag("status"),
            partition_by=[F("id")],
            order_by=[F("history_date").asc(), F("history_id").asc()],
        )
    ).order_by("history_date", "history_id")


AUDIT = Table(
    name="audit",
    title="Audit trail",
    columns=(
        Column("history_id", "Record", "history_id", Kind.INT),
        Column("booking_id", "Booking ID", "id", Kind.INT),
        Column("reference", "Reference", "reference"),
        Column("business", "Business", "session__business__name"),
        Column("at", "When (UTC)", "history_date", Kind.DATETIME),
        Column("change", "Change", "history_type", labels=HISTORY_TYPES),
        Column("user", "User", "history_user__username"),
        Column("reason", "Reason", "history_change_reason"),
        Column("ip_address", "IP address", "ip_address"),
        Column("user_agent", "User agent", "user_agent"),
        Column("status_before", "Status before", "status_before", labels=STATUS_LABELS),
        Column("status_after", "Status after", "status", labels=STATUS_LABELS),
        Column("is_deleted", "Deleted after", "is_deleted", Kind.BOOL),
    ),
    prepare=_with_status_before,
)


def _with_booking_counts(sessions: QuerySet) -> QuerySet:
    live = Q(bookings__is_deleted=False)
    return sessions.annotate(
        live_bookings=Count("bookings", filter=live),
        cancelled_bookings=Count(
            "bookings", filter=live & Q(bookings__status=BookingStatus.CANCELLED)
        ),
    )


SESSIONS = Table(
    name="sessions",
    title="Sessions",
    columns=(
        Column("id", "ID", "pk", Kind.INT),
        Column("business", "Business", "business__name"),
        Column("title", "Title", "title"),
        Column("starts_at", "Start (UTC)", "starts_at", Kind.DATETIME),
        Column("ends_at", "End (UTC)", "ends_at", Kind.DATETIME),
        Column("capacity", "Capacity", "capacity", Kind.INT),
        Column("bookings", "Bookings", "live_bookings", Kind.INT),
        Column("cancellations", "Cancellations", "cancelled_bookings", Kind.INT),
    ),
    prepare=_with_booking_counts,
)

TABLES = {table.name: table for table in (BOOKINGS, AUDIT, SESSIONS)}


def audit_of(bookings: QuerySet[BookingRequest]) -> QuerySet:
    """Every historical record of the given bookings (their whole history)."""
    return BookingRequest.history.filter(id__in=bookings.order_by().values("pk"))


def source_queryset(table: Table, user: Any) -> QuerySet:
    """Everything `user` may export from `table`: the tenant scope, nothing else."""
    if table.name == BOOKINGS.name:
        return BookingRequest.all_objects.for_user(user)
    if table.name == SESSIONS.name:
        return Session.objects.for_user(user)
    return audit_for_user(user)


def audit_for_user(user: Any) -> QuerySet:
    """The audit trail of the user's businesses, purged bookings' final records included."""
    history = BookingRequest.history.all()
    if not (user.is_active and user.is_staff):
        return history.none()
    if user.is_superuser:
        return history
    return history.filter(session__business__staff=user)
