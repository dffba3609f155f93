"""The export button and action of the booking change list (django-import-export).

    class BookingRequestAdmin(StreamingExportMixin, TenantAdmin): ...

django-import-export supplies the button (`…/bookingrequest/export/`), the
action (`export_admin_action`), the format and field choice form and the
permission check (`booking.export_bookingrequest`, from
`IMPORT_EXPORT_EXPORT_PERMISSION_CODE`). This mixin changes what it must:

- the file is made by `booking.exports.service.export_response`: streamed in
  bounded memory from chunked `values_list` queries, or handed to a background
  job above EXPORT_STREAM_MAX_ROWS rows (the user lands on "My exports");
- the action with "select all N bookings" (select_across) does not post one
  hidden field per booking (which breaks past Django's 1000-field limit): it
  sends the user to the export button's page with the change list's filters,
  which recomputes the same queryset there;
- a posted selection is validated against the admin's own scoped queryset (all
  bookings of the user's businesses, soft-deleted included), never the whole
  table as import-export's deprecated `get_valid_export_item_pks` does;
- import-export's `get_actions(request)` predates Django 6.1's `action_location`:
  called with it, it raises; called by Django without it, it warns
  (RemovedInDjango2028Warning) and switches off every change-form action. So
  this mixin offers the export action itself, on the change list only;
- the admin keeps its own templates: import-export's change form adds an
  "Export" button that saves the form before exporting, and its change list
  template would replace the model's own `change_list.html` (which renders the
  Export button among its object tools).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import ActionLocation
from django.contrib.admin.options import IS_POPUP_VAR, IncorrectLookupParameters
from django.core.exceptions import BadRequest, FieldError, PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from import_export.admin import ExportActionMixin

from booking.exports.resources import EXPORT_FORMATS, AuditResource, BookingResource
from booking.exports.views import export_or_queue
from booking.exports.writers import FORMATS
from booking.services.text import is_id


class StreamingExportMixin(ExportActionMixin):
    resource_classes = [BookingResource, AuditResource]
    export_formats = EXPORT_FORMATS
    # Django's own lookup (admin/<app>/<model>/change_form.html), no export button there.
    change_form_template = None
    show_change_form_export = False

    def init_change_list_template(self) -> None:
        # Keep Django's lookup of admin/<app>/<model>/change_list.html, which
        # renders the Export link (see templates/admin/booking/bookingrequest/).
        self.ie_base_change_list_template = "admin/change_list.html"

    # --- The action -------------------------------------------------------
    def get_actions(
        self, request: HttpRequest, action_location: ActionLocation = ActionLocation.CHANGE_LIST
    ) -> dict:
        # Skip ExportActionMixin.get_actions (no action_location; see the module).
        actions = super(ExportActionMixin, self).get_actions(
            request, action_location=action_location
        )
        if (
            action_location == ActionLocation.CHANGE_LIST
            and self.actions is not None
            and IS_POPUP_VAR not in request.GET
            and self.has_export_permission(request)
        ):
            action = self.get_action("export_admin_action", action_location)
            actions[action.name] = action
        return actions

    @admin.action(description="Export selected %(verbose_name_plural)s")
    def export_admin_action(self, request: HttpRequest, queryset: QuerySet) -> HttpResponseBase:
        if not self.has_export_permission(request):
            raise PermissionDenied
        if request.POST.get("select_across") == "1":
            opts = self.model._meta
            url = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_export")
            query = request.GET.urlencode()
            return HttpResponseRedirect(f"{url}?{query}" if query else url)
        return super().export_admin_action(request, queryset)

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponseBase:
        # No "Export" on the change form: skip import-export's `_export-item` handling.
        return super(ExportActionMixin, self).response_change(request, obj)

    def get_export_queryset(self, request: HttpRequest) -> QuerySet:
        # The change list turns unknown filters into "?e=1"; import-export lets them raise.
        try:
            return super().get_export_queryset(request)
        except (IncorrectLookupParameters, FieldError, ValidationError) as error:
            raise BadRequest("The change list's filters in this address are not valid.") from error

    def get_valid_export_item_pks(self, request: HttpRequest) -> Any:
        posted = [pk for pk in request.POST.getlist("export_items") if is_id(pk)]
        return self.get_queryset(request).filter(pk__in=posted).values_list("pk", flat=True)

    # --- The file -----------------------------------------------------------
    def _do_file_export(
        self, file_format: Any, request: HttpRequest, queryset: QuerySet, export_form: Any = None
    ) -> HttpResponseBase:
        if not self.has_export_permission(request):
            raise PermissionDenied
        resource = self.choose_export_resource_class(export_form, request)
        columns = self.get_export_resource_fields_from_form(export_form)
        return export_or_queue(
            request,
            queryset,
            table=resource.table,
            fmt=FORMATS[file_format.get_extension()],
            columns=columns,
            description=f"{resource.table.title} from the change list",
        )
