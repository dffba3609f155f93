"""django-import-export resources and formats for the admin's export button and action.

The resources read their rows from the same `Table`s as the streaming
writers, so an export looks the same whichever path made it. They are
export-only: bookings change through the service layer, never by import.

Use them on a ModelAdmin with `resource_classes = [BookingResource,
AuditResource]` and `formats = EXPORT_FORMATS` (see `booking.exports.admin`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from import_export import resources
from import_export.fields import Field
from import_export.formats import base_formats

from booking.exports.escaping import escape_cell
from booking.exports.tables import AUDIT, BOOKINGS, SESSIONS, Table, audit_of
from booking.models import BookingRequest


class TableResource(resources.Resource):
    """A read-only resource whose fields are a `Table`'s columns."""

    table: Table

    @classmethod
    def get_display_name(cls) -> str:
        """The name in the admin's export form's resource choice."""
        return cls.table.title

    def iter_queryset(self, queryset: QuerySet) -> Any:
        return self.table.values(self.rows_of(queryset))

    def rows_of(self, queryset: QuerySet) -> QuerySet:
        """The queryset the table reads: the caller's, as given."""
        return queryset

    def export_resource(self, instance: Any, selected_fields: Any = None, **kwargs: Any) -> list:
        # `instance` is a raw values_list row; XLSX (a binary format) asks for
        # native types, the text formats for strings.
        converters = self._converters(native=bool(kwargs.get("force_native_type")))
        wanted = {field.column_name for field in self.get_export_fields(selected_fields)}
        return [
            convert(value)
            for column, convert, value in zip(self.table.columns, converters, instance, strict=True)
            if column.header in wanted
        ]

    def get_export_headers(self, selected_fields: Any = None) -> list[str]:
        wanted = {field.column_name for field in self.get_export_fields(selected_fields)}
        return [header for header in self.table.headers if header in wanted]

    def _converters(self, *, native: bool) -> list:
        cache = self.__dict__.setdefault("_converter_cache", {})
        if native not in cache:
            cache[native] = self.table.converters(native=native)
        return cache[native]

    def import_data(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("exports only: bookings change through the service layer")


def _resource_class(
    name: str, table: Table, doc: str, base: type[TableResource] = TableResource
) -> type[TableResource]:
    attrs: dict[str, Any] = {
        column.name: Field(attribute=column.name, column_name=column.header, readonly=True)
        for column in table.columns
    }
    attrs.update(
        table=table,
        __doc__=doc,
        __module__=__name__,
        Meta=type("Meta", (), {"name": table.title, "export_order": tuple(table.names)}),
    )
    return type(name, (base,), attrs)


BookingResource = _resource_class(
    "BookingResource",
    BOOKINGS,
    "Bookings with business, session, readable status and every cancellation/deletion field.",
)


class _AuditResource(TableResource):
    def rows_of(self, queryset: QuerySet) -> QuerySet:
        # Offered on the bookings change list: the queryset is bookings, the
        # rows are their historical records.
        if queryset.model is BookingRequest:
            return audit_of(queryset)
        return queryset


AuditResource = _resource_class(
    "AuditResource",
    AUDIT,
    "The audit trail: user, reason, IP, user agent, status before and after.",
    base=_AuditResource,
)

SessionResource = _resource_class(
    "SessionResource", SESSIONS, "Sessions with their live bookings and cancellations."
)


class _EscapingFormat:
    """Replaces import-export's escaping (strips `=` only, stringifies every cell)."""

    def _escape_formulae(self, dataset: Any) -> None:
        for _ in range(len(dataset)):
            row = dataset.lpop()
            dataset.append([escape_cell(cell) for cell in row])


class CSV(_EscapingFormat, base_formats.CSV):
    pass


class XLSX(_EscapingFormat, base_formats.XLSX):
    pass


class JSON(_EscapingFormat, base_formats.JSON):
    pass


EXPORT_FORMATS = [CSV, XLSX, JSON]
