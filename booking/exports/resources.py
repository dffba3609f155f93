"""What each export contains: django-import-export resources, one field per column.

Every export (the admin's Export button and action, the "My exports" page, the
background jobs and the cancellation report) renders its rows with these
resources through import-export's public API: `filter_export` prepares the
queryset, `iter_queryset` reads it, `get_export_headers` titles the columns
and `export_resource` renders each row; `booking.exports.writers` then only
serialises the rendered cells into CSV, XLSX or JSON.

A field's `attribute` is a lookup from the exported model
(`session__business__name`), as import-export expects. `ExportResource`
reads every attribute with one `values_list` query fetched in chunks (no
model instances, no per-row queries: 100 000 bookings export in seconds) and
renders each raw row through the fields' widgets (`booking.exports.widgets`).
The resources are export-only: bookings change through the service layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from typing import Any, ClassVar, cast

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import Lag
from import_export import resources
from import_export.fields import Field
from import_export.widgets import FloatWidget

from booking.actors import User
from booking.exports.widgets import (
    BooleanWidget,
    DateWidget,
    IntegerWidget,
    LabelWidget,
    MoneyWidget,
    PhoneWidget,
    TextWidget,
    UtcDateTimeWidget,
    native,
)
from booking.models import (
    BookingQuerySet,
    BookingRequest,
    BookingStatus,
    FeeStatus,
    Session,
    SessionStatus,
)

CHUNK_SIZE = 2000  # rows fetched per round trip
STATUS_LABELS = dict(BookingStatus.choices)
FEE_STATUS_LABELS = dict(FeeStatus.choices)
SESSION_STATUS_LABELS = dict(SessionStatus.choices)
HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}


def text(attribute: str, header: str) -> Field:
    return Field(attribute, header, TextWidget(), readonly=True)


def integer(attribute: str, header: str) -> Field:
    return Field(attribute, header, native(IntegerWidget), readonly=True)


def boolean(attribute: str, header: str) -> Field:
    return Field(attribute, header, native(BooleanWidget), readonly=True)


def utc(attribute: str, header: str) -> Field:
    """A date and time; its header says "(UTC)"."""
    return Field(attribute, f"{header} (UTC)", UtcDateTimeWidget(), readonly=True)


def label(attribute: str, header: str, labels: dict[str, str]) -> Field:
    return Field(attribute, header, LabelWidget(labels), readonly=True)


def money(attribute: str, header: str) -> Field:
    """An amount in the business's currency: a number in every format."""
    return Field(attribute, header, MoneyWidget(), readonly=True)


def phone(attribute: str, header: str) -> Field:
    return Field(attribute, header, PhoneWidget(), readonly=True)


def field_names(resource: resources.Resource, selected_fields: Any = None) -> list[str]:
    """The names of the fields an export writes: the keys of a JSON export."""
    return [resource.get_field_name(field) for field in resource.get_export_fields(selected_fields)]


def rendered_rows(
    resource: resources.Resource, source: Any, *, fields: list[str] | None, native: bool
) -> Iterator[list[Any]]:
    """The rows of `source` as the resource renders them (import-export's `Resource.export`
    loop, without holding the rows in a `tablib.Dataset`)."""
    for row in resource.iter_queryset(resource.filter_export(source)):
        yield resource.export_resource(row, selected_fields=fields, force_native_type=native)


class ExportOnlyResource(resources.Resource):
    """A resource that exports only (bookings change through the service layer),
    titled by its `Meta.name` in the admin's form and on an XLSX sheet."""

    @classmethod
    def get_display_name(cls) -> str:
        return cls._meta.name

    def import_data(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("exports only: bookings change through the service layer")


class ExportResource(ExportOnlyResource):
    """An export-only resource read with one chunked `values_list` query.

    Subclasses declare their fields (in column order), `name` (the key of
    `RESOURCES`, stored on background jobs), `Meta.name` (the title users see)
    and `scope(user)`: everything the user may export from it.
    """

    name: ClassVar[str]

    @classmethod
    def scope(cls, user: User) -> QuerySet:
        raise NotImplementedError

    @classmethod
    def narrow(cls, queryset: QuerySet, *, business: str = "", include_deleted: bool = False):
        """The queryset limited to one business (a slug), live bookings unless `include_deleted`."""
        return queryset.filter(session__business__slug=business) if business else queryset

    def count(self, queryset: QuerySet) -> int:
        """How many rows exporting `queryset` writes."""
        return queryset.count()

    @classmethod
    def selected_ids(cls, queryset: QuerySet) -> list[int]:
        """What a background job remembers of the selection: the ids `of_ids` reads back."""
        return list(queryset.order_by("pk").values_list("pk", flat=True).distinct())

    @classmethod
    def of_ids(cls, scoped: QuerySet, ids: Iterable[int]) -> QuerySet:
        """The rows of `scoped` that `selected_ids` named, in their order."""
        return scoped.filter(pk__in=ids).order_by("pk")

    def iter_queryset(self, queryset: QuerySet) -> Iterator[tuple]:
        lookups = [field.attribute for field in self.fields.values()]
        return queryset.values_list(*lookups).iterator(chunk_size=CHUNK_SIZE)

    def export_resource(self, instance: Any, selected_fields: Any = None, **kwargs: Any) -> list:
        """One raw row (a `values_list` tuple in field order) rendered by the fields' widgets."""
        renderers = self._renderers(selected_fields, bool(kwargs.get("force_native_type")))
        return [render(instance[index]) for index, render in renderers]

    def _renderers(self, selected_fields: Any, force_native_type: bool) -> list[tuple[int, Any]]:
        key = (tuple(selected_fields or ()), force_native_type)
        cache = self.__dict__.setdefault("_renderer_cache", {})
        if key not in cache:
            position = {id(field): index for index, field in enumerate(self.fields.values())}
            cache[key] = [
                (
                    position[id(field)],
                    partial(field.widget.render, force_native_type=True)
                    if force_native_type
                    else field.widget.render,
                )
                for field in self.get_export_fields(selected_fields)
            ]
        return cache[key]


class BookingResource(ExportResource):
    """Bookings with business, session, readable status and every cancellation/deletion field."""

    name = "bookings"

    id = integer("pk", "ID")
    reference = text("reference", "Reference")
    business = text("session__business__name", "Business")
    business_slug = text("session__business__slug", "Business slug")
    session_title = text("session__title", "Session")
    session_starts_at = utc("session__starts_at", "Session starts at")
    session_status = label("session__status", "Session status", SESSION_STATUS_LABELS)
    client_name = text("client_name", "Client name")
    client_email = text("client_email", "Client email")
    client_phone = phone("client_phone", "Client phone")
    status = label("status", "Status", STATUS_LABELS)
    created_at = utc("created_at", "Created at")
    updated_at = utc("updated_at", "Updated at")
    cancelled_at = utc("cancelled_at", "Cancelled at")
    cancelled_by = text("cancelled_by__username", "Cancelled by")
    cancelled_by_client = boolean("cancelled_by_client", "Cancelled by client")
    cancellation_reason = text("cancellation_reason", "Cancellation reason")
    is_deleted = boolean("is_deleted", "Deleted")
    deleted_at = utc("deleted_at", "Deleted at")
    deleted_by = text("deleted_by__username", "Deleted by")
    deletion_reason = text("deletion_reason", "Deletion reason")
    fee_amount = money("fee_amount", "Fee amount")
    fee_status = label("fee_status", "Fee status", FEE_STATUS_LABELS)

    class Meta:
        name = "Bookings"

    @classmethod
    def scope(cls, user: User) -> QuerySet:
        return BookingRequest.all_objects.for_user(user)

    @classmethod
    def narrow(cls, queryset: QuerySet, *, business: str = "", include_deleted: bool = False):
        queryset = queryset if include_deleted else cast(BookingQuerySet, queryset).live()
        return super().narrow(queryset, business=business)


class AuditResource(ExportResource):
    """The audit trail: user, reason, IP, user agent, status before and after.

    Given bookings (the change list's queryset), it exports their whole history.
    """

    name = "audit"

    history_id = integer("history_id", "Record")
    booking_id = integer("id", "Booking ID")
    reference = text("reference", "Reference")
    business = text("session__business__name", "Business")
    at = utc("history_date", "Changed at")
    change = label("history_type", "Change", HISTORY_TYPES)
    user = text("history_user__username", "User")
    reason = text("history_change_reason", "Reason")
    ip_address = text("ip_address", "IP address")
    user_agent = text("user_agent", "User agent")
    status_before = label("status_before", "Status before", STATUS_LABELS)
    status_after = label("status", "Status after", STATUS_LABELS)
    is_deleted = boolean("is_deleted", "Deleted after")

    class Meta:
        name = "Audit trail"

    @classmethod
    def scope(cls, user: User) -> QuerySet:
        """The audit trail of the user's businesses, purged bookings' final records included."""
        history = BookingRequest.history.all()
        if not (user.is_active and user.is_staff):
            return history.none()
        if user.is_superuser:
            return history
        return history.filter(session__business__staff=user)

    def count(self, queryset: QuerySet) -> int:
        return self.records(queryset).count()

    @classmethod
    def selected_ids(cls, queryset: QuerySet) -> list[int]:
        """The bookings' ids (also those of purged bookings, whose records remain)."""
        ids = cls.records(queryset).order_by("id").values_list("id", flat=True).distinct()
        return list(ids)

    @classmethod
    def of_ids(cls, scoped: QuerySet, ids: Iterable[int]) -> QuerySet:
        return scoped.filter(id__in=ids)  # `filter_export` orders them in time

    @staticmethod
    def records(queryset: QuerySet) -> QuerySet:
        """Historical records: the given ones, or those of the given bookings."""
        return audit_of(queryset) if queryset.model is BookingRequest else queryset

    def filter_export(self, queryset: QuerySet, **kwargs: Any) -> QuerySet:
        """The records of the given bookings (or records), each with the status before it.

        A window function (LAG over the booking's records in time order) computes
        that status in the export's own query. It sees the records the queryset
        selects, so select whole bookings (as every export does), not a slice
        of one's history.
        """
        return (
            self.records(queryset)
            .annotate(
                status_before=Window(
                    Lag("status"),
                    partition_by=[F("id")],
                    order_by=[F("history_date").asc(), F("history_id").asc()],
                )
            )
            .order_by("history_date", "history_id")
        )


def audit_of(bookings: QuerySet[BookingRequest]) -> QuerySet:
    """Every historical record of the given bookings (their whole history)."""
    return BookingRequest.history.filter(id__in=bookings.order_by().values("pk"))


class SessionResource(ExportResource):
    """Sessions with their live bookings and cancellations."""

    name = "sessions"

    id = integer("pk", "ID")
    business = text("business__name", "Business")
    title = text("title", "Title")
    starts_at = utc("starts_at", "Starts at")
    ends_at = utc("ends_at", "Ends at")
    capacity = integer("capacity", "Capacity")
    status = label("status", "Status", SESSION_STATUS_LABELS)
    cancellation_reason = text("cancellation_reason", "Cancellation reason")
    bookings = integer("live_bookings", "Bookings")
    cancellations = integer("cancelled_bookings", "Cancellations")

    class Meta:
        name = "Sessions"

    @classmethod
    def scope(cls, user: User) -> QuerySet:
        return Session.objects.for_user(user)

    @classmethod
    def narrow(cls, queryset: QuerySet, *, business: str = "", include_deleted: bool = False):
        return queryset.filter(business__slug=business) if business else queryset

    def filter_export(self, queryset: QuerySet, **kwargs: Any) -> QuerySet:
        live = Q(bookings__is_deleted=False)
        return queryset.annotate(
            live_bookings=Count("bookings", filter=live),
            cancelled_bookings=Count(
                "bookings", filter=live & Q(bookings__status=BookingStatus.CANCELLED)
            ),
        )


RESOURCES: dict[str, type[ExportResource]] = {
    resource.name: resource for resource in (BookingResource, AuditResource, SessionResource)
}


class CancellationReportResource(ExportOnlyResource):
    """The cancellation report's table: one row per business and ISO week (`report.WeekRow`).

    A few rows per business, so import-export's own rendering (each field read
    from the row object) serves.
    """

    business = text("business", "Business")
    iso_week = text("iso_week", "ISO week")
    week_start = Field("week_start", "Week starts", DateWidget(), readonly=True)
    bookings = integer("bookings", "Bookings")
    cancelled_by_client = integer("by_client", "Cancelled by client")
    cancelled_by_staff = integer("by_staff", "Cancelled by staff")
    late_cancellations = integer("late", "Late cancellations")
    cancellation_rate = Field("rate", "Cancellation rate (%)", native(FloatWidget), readonly=True)
    most_common_reasons = text("reasons_text", "Most common reasons")
    no_shows = integer("no_shows", "No-shows")
    currency = text("currency", "Currency")
    fees_owed = money("fees_owed", "Fees owed")
    fees_waived = money("fees_waived", "Fees waived")
    # Last, so the earlier columns keep their places: staff cancellations because
    # the business cancelled the whole session (counted in "Cancelled by staff" too).
    session_cancelled = integer("by_session", "Cancelled by staff: session cancelled")
    # The waitlist: spots freed by cancellations, and what became of the offers.
    spots_freed = integer("freed", "Spots freed")
    waitlist_offered = integer("offered", "Waitlist: offered")
    seats_recovered = integer("claimed", "Waitlist: claimed (seats recovered)")
    waitlist_expired = integer("expired", "Waitlist: expired")
    waitlist_declined = integer("declined", "Waitlist: declined")

    class Meta:
        name = "Cancellation report"
