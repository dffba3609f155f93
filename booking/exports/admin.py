"""The export button and action of the booking change list (django-import-export).

    class BookingRequestAdmin(StreamingExportMixin, TenantAdmin): ...

django-import-export supplies the button (`…/bookingrequest/export/`), the
action (`export_admin_action`), the format and field choice form, the change
list's queryset for the export (`get_export_queryset`, its filters and search)
and the permission check (`booking.export_bookingrequest`, from
`IMPORT_EXPORT_EXPORT_PERMISSION_CODE`). This mixin changes, through
import-export's public methods, what it must:

- `export_action` (the export page) hands the chosen resource, format and
  fields to the one export path, `booking.exports.service.export`: the file
  streams in bounded memory, or, above EXPORT_STREAM_MAX_ROWS rows, becomes a
  background job (the user lands on "My exports");
- the page says which of the change list's filters apply and how many
  bookings match; the form labels each field by its column's title and
  offers CSV first (`ExportForm`);
- the action with "select all N bookings" (select_across) does not post one
  hidden field per booking (which breaks past Django's 1000-field limit): it
  sends the user to the export button's page with the change list's filters,
  which recomputes the same queryset there;
- a posted selection is kept only within the change list's queryset (the
  user's businesses, the list's filters), never the whole table as
  import-export's deprecated `get_valid_export_item_pks` would;
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
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import BadRequest, FieldError, PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms import MultipleChoiceField, MultipleHiddenInput
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import capfirst
from import_export.admin import ExportActionMixin
from import_export.formats import base_formats
from import_export.forms import SelectableFieldsExportForm
from import_export.signals import post_export

from booking.exports.resources import AuditResource, BookingResource
from booking.exports.service import stream_max_rows
from booking.exports.views import export_or_queue
from booking.exports.writers import DEFAULT_FORMAT, FORMAT_LABELS, FORMATS
from booking.services.text import is_id

# import-export's formats name the choices and extensions; our writers write the files.
EXPORT_FORMATS = [base_formats.CSV, base_formats.XLSX, base_formats.JSON]


class ExportForm(SelectableFieldsExportForm):
    """import-export's export form, its fields labelled by their columns' titles
    ("Session starts at (UTC)", not "Session Starts At (Session starts at (UTC))"),
    the formats by name, CSV chosen."""

    def __init__(self, formats: list, resources: list, **kwargs: Any) -> None:
        super().__init__(formats, resources, **kwargs)
        self.fields["resource"].label = "Export"
        extensions = [fmt().get_extension() for fmt in formats]
        self.fields["format"].choices = [
            (str(index), FORMAT_LABELS[extension]) for index, extension in enumerate(extensions)
        ]
        self.fields["format"].initial = str(extensions.index(DEFAULT_FORMAT))
        for resource in resources:
            for name, field in resource.fields.items():
                self.fields[
                    self.create_boolean_field_name(resource, name)
                ].label = field.column_name


class StreamingExportMixin(ExportActionMixin):
    resource_classes = [BookingResource, AuditResource]
    export_formats = EXPORT_FORMATS
    export_form_class = ExportForm
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

    # --- The export page ----------------------------------------------------
    def get_export_queryset(self, request: HttpRequest) -> QuerySet:
        # The change list turns unknown filters into "?e=1"; import-export lets them raise.
        try:
            return super().get_export_queryset(request)
        except (IncorrectLookupParameters, FieldError, ValidationError) as error:
            raise BadRequest("The change list's filters in this address are not valid.") from error

    def export_action(self, request: HttpRequest) -> HttpResponseBase:
        """The export page (GET) and the export itself (POST): the change list's queryset,
        narrowed to the ticked bookings when the action's page posts them."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        queryset = self.get_export_queryset(request)
        formats = self.get_export_formats()
        form = self.get_export_form_class()(
            formats, self.get_export_resource_classes(request), data=request.POST or None
        )
        if "export_items" in request.POST:
            posted = [pk for pk in request.POST.getlist("export_items") if is_id(pk)]
            valid = queryset.filter(pk__in=posted).values_list("pk", flat=True)
            form.fields["export_items"] = MultipleChoiceField(
                widget=MultipleHiddenInput, required=False, choices=[(pk, pk) for pk in valid]
            )
        if form.is_valid():
            if "export_items" in request.POST:
                queryset = queryset.filter(pk__in=form.cleaned_data["export_items"])
            resource = self.choose_export_resource_class(form, request)
            file_format = formats[int(form.cleaned_data["format"])]()
            response = export_or_queue(
                request,
                queryset,
                resource=resource,
                fmt=FORMATS[file_format.get_extension()],
                fields=self.get_export_resource_fields_from_form(form),
                description=f"{resource.get_display_name()} from the change list",
            )
            post_export.send(sender=None, model=self.model)
            return response
        context = self.init_request_context_data(request, form)
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.export_template_name], context=context)

    def init_request_context_data(self, request: HttpRequest, form: Any) -> dict[str, Any]:
        """import-export's page context, and what the export will hold: the change list's
        active filters and search, and how many bookings match them."""
        context = super().init_request_context_data(request, form)
        changelist = self.get_changelist_instance(request)
        context["export_filters"] = active_filters(changelist, request)
        context["export_count"] = changelist.result_count
        context["export_in_background"] = changelist.result_count > stream_max_rows()
        return context


def active_filters(changelist: Any, request: HttpRequest) -> list[tuple[str, str]]:
    """(title, choice) of each sidebar filter that narrows the list, the date and the search.

    A filter's first choice is "All" unless it sets `filters_by_default` (the
    deletion state's first choice, "Live", already narrows the list).
    """
    described = []
    for spec in changelist.filter_specs:
        choices = list(spec.choices(changelist))
        chosen = [index for index, choice in enumerate(choices) if choice.get("selected")]
        if chosen and (chosen[0] > 0 or getattr(spec, "filters_by_default", False)):
            described.append((capfirst(str(spec.title)), str(choices[chosen[0]]["display"])))
    if changelist.date_hierarchy:
        path = changelist.date_hierarchy
        parts = [request.GET.get(f"{path}__{part}") for part in ("year", "month", "day")]
        if parts[0]:
            fields = get_fields_from_path(changelist.model, path)
            title = " ".join(str(field.verbose_name) for field in fields)
            described.append((capfirst(title), "-".join(p.zfill(2) for p in parts if p)))
    if changelist.query:
        described.append(("Search", changelist.query))
    return described
