"""What BookingRequestAdmin mixes in for its export button and action (wired by the admin's owner).

    class BookingRequestAdmin(StreamingExportMixin, ExportActionMixin, admin.ModelAdmin): ...

django-import-export supplies the button (`…/bookingrequest/export/`), the
action, the format and field choice form and the permission check
(`booking.export_bookingrequest`); this mixin changes three things:

- the file is made by `booking.exports.service.export_response`: streamed in
  bounded memory from chunked `values_list` queries, or handed to a background
  job above EXPORT_STREAM_MAX_ROWS rows (the user lands on "My exports");
- the action with "select all N bookings" (select_across) does not post one
  hidden field per booking (which breaks past Django's 1000-field limit): it
  sends the user to the export button's page with the change list's filters,
  which recomputes the same queryset there;
- a posted selection is validated against the admin's own scoped queryset (all
  bookings of the user's businesses, soft-deleted included), never the whole
  table as import-export's deprecated `get_valid_export_item_pks` does.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse

from booking.exports.models import ExportJob
from booking.exports.resources import EXPORT_FORMATS, AuditResource, BookingResource
from booking.exports.service import export_response
from booking.exports.writers import FORMATS


class StreamingExportMixin:
    resource_classes = [BookingResource, AuditResource]
    export_formats = EXPORT_FORMATS

    def _do_file_export(
        self, file_format: Any, request: HttpRequest, queryset: QuerySet, export_form: Any = None
    ) -> HttpResponseBase:
        if not self.has_export_permission(request):  # type: ignore[attr-defined]
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        resource = self.choose_export_resource_class(export_form, request)  # type: ignore[attr-defined]
        columns = self.get_export_resource_fields_from_form(export_form)  # type: ignore[attr-defined]
        result = export_response(
            request,
            queryset,
            table=resource.table,
            fmt=FORMATS[file_format.get_extension()],
            columns=columns,
            description=f"{resource.table.title} from the change list",
        )
        if isinstance(result, ExportJob):
            messages.info(
                request,
                f"This export is large, so it is being prepared in the background "
                f"(export #{result.pk}). Download it here when it is ready.",
            )
            return redirect("booking_exports:jobs")
        return result

    def export_admin_action(self, request: HttpRequest, queryset: QuerySet) -> HttpResponseBase:
        if request.POST.get("select_across") == "1":
            opts = self.model._meta  # type: ignore[attr-defined]
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_export")
            query = request.GET.urlencode()
            return HttpResponseRedirect(f"{url}?{query}" if query else url)
        return super().export_admin_action(request, queryset)  # type: ignore[misc]

    def get_valid_export_item_pks(self, request: HttpRequest) -> Any:
        posted = [pk for pk in request.POST.getlist("export_items") if pk.isdigit()]
        return self.get_queryset(request).filter(pk__in=posted).values_list("pk", flat=True)  # type: ignore[attr-defined]
