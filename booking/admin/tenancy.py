"""Tenant isolation for every admin page, including the side paths Django takes.

`Model.objects.for_user(user)` is the tenant scope. `get_queryset` covers change
lists, change forms, actions and autocomplete; these close the rest:

- foreign-key choices (`get_field_queryset`): Django builds them from the
  related model's default manager, so a forged POST could attach another
  business's session;
- the raw-id widget's label, which Django looks up through the default manager;
- related-field filters in the sidebar (`ScopedRelatedFieldListFilter`);
- simple-history's history page, which falls back to the latest historical
  record when the object is outside the queryset, and its per-version page,
  which saves a posted form even when reverting is disabled.

A page about one object (its change form, its history, one of its versions)
is shown in the time zone of the object's business (`booking.times`).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import ValidationError
from django.db.models import ForeignKey, Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

from booking.admin.history import describe, short_user_agent
from booking.admin.strict import StrictChangeListMixin
from booking.models import Business
from booking.services.text import is_id
from booking.tenancy import TenantQuerySet
from booking.times import business_time


def scoped(queryset: QuerySet, request: HttpRequest) -> QuerySet:
    """The rows of `queryset` the user may see, when its model is tenant-scoped."""
    if isinstance(queryset, TenantQuerySet):
        return queryset.for_user(request.user)
    return queryset


def one_business(request: HttpRequest) -> bool:
    """Does the user see exactly one business? (One query, once per request.)"""
    if not hasattr(request, "_sees_one_business"):
        visible = Business.objects.for_user(request.user).values_list("pk", flat=True)[:2]
        request._sees_one_business = len(visible) == 1  # type: ignore[attr-defined]
    return request._sees_one_business  # type: ignore[attr-defined]


class ScopedForeignKeyRawIdWidget(ForeignKeyRawIdWidget):
    """The raw-id widget, whose label never names a row outside the user's scope."""

    def __init__(self, *args: Any, queryset: QuerySet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queryset = queryset

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        key = self.rel.get_related_field().name
        try:
            self.queryset.get(**{key: value})
        except (ValueError, ValidationError, self.queryset.model.DoesNotExist):
            return "", ""
        return super().label_and_url_for_value(value)


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A sidebar filter listing only the related rows the user may see."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> list:
        related = field.remote_field.model
        ordering = self.field_admin_ordering(field, request, model_admin) or ()
        rows = scoped(related._default_manager.all(), request).order_by(*ordering)
        return [(row.pk, str(row)) for row in rows]


class ReadableChanges(HistoricalRecordContextHelper):
    """History values as people read them: choice labels, Yes/No, times in the
    business's zone, and "—" for nothing."""

    def prepare_delta_change_value(self, change: Any, value: Any) -> Any:
        value = super().prepare_delta_change_value(change, value)
        field = self.model._meta.get_field(change.field)
        if value is None or value == "" or (isinstance(value, DeletedObject) and value.pk is None):
            return "—"
        if getattr(field, "choices", None):
            return dict(field.flatchoices).get(value, value)
        if isinstance(value, bool):
            return "Yes" if value else "No"
        if isinstance(value, datetime):
            # The history page runs in the business's zone (TenantAdmin.history_view).
            return business_time(value, timezone.get_current_timezone())
        return value


def list_zone(request: HttpRequest) -> tzinfo | None:
    """The zone a list's date hierarchy and date filters count days in: the zone of
    the user's businesses when they share one (a studio's evening class is on its own
    day, as its row shows), else UTC."""
    businesses = Business.objects.for_user(request.user)
    zones = businesses.values_list("timezone", flat=True).order_by("timezone")
    first, last = zones.first(), zones.last()  # two short reads, whatever their number
    return ZoneInfo(first) if first is not None and first == last else None


class TenantAdmin(StrictChangeListMixin, SimpleHistoryAdmin):
    """A ModelAdmin whose every page, form choice and history view is tenant-scoped.

    `tenant_path` is the lookup from the model (and its historical model) to
    the business; `manager_name` picks the manager the admin lists.
    """

    tenant_path = "business"
    manager_name = "objects"
    object_history_template = "admin/booking/object_history.html"
    object_history_list_template = "admin/booking/history_list.html"

    # --- Rows -------------------------------------------------------------
    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        # Lists are the widest pages: at a laptop's 1366 px the navigation sidebar would
        # leave a table about 700 px and push its last columns (a session's status) out
        # of sight; Home and the breadcrumbs lead everywhere it does. Days (the date
        # hierarchy, "Today") are the business's, as the rows' times are.
        context = {"is_nav_sidebar_enabled": False, **(extra_context or {})}
        return self.in_zone(list_zone(request), super().changelist_view, request, context)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = getattr(self.model, self.manager_name).for_user(request.user)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    # --- The business's time zone ------------------------------------------
    def business_of(self, obj: Any) -> Business | None:
        """The business `obj` belongs to, following `tenant_path`."""
        if obj is None or self.tenant_path in ("id", "pk"):
            return obj
        for name in self.tenant_path.split("__"):
            obj = getattr(obj, name, None)
            if obj is None:
                return None
        return obj

    def object_business(self, request: HttpRequest, object_id: str | None) -> Business | None:
        """The business of the page's object (also of a purged one, through its latest
        record); on an add page, the user's business when they have only one."""
        if object_id is None:
            businesses = list(Business.objects.for_user(request.user)[:2])
            return businesses[0] if len(businesses) == 1 else None
        try:
            obj = self.get_object(request, unquote(object_id))
            if obj is None:
                pk_name = self.model._meta.pk.attname
                record = self.model.history.filter(**{pk_name: unquote(object_id)}).first()
                obj = record.instance if record is not None else None
        except (ValueError, ValidationError):
            return None
        return self.business_of(obj)

    def in_zone(self, zone: tzinfo | None, view: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        """Run and render `view` with `zone` as the current time zone."""
        if zone is None:
            return view(*args, **kwargs)
        try:
            with timezone.override(zone):
                response = view(*args, **kwargs)
                if callable(getattr(response, "render", None)):
                    response.render()
        except OverflowError:
            # A row written from the shell with a time no form accepts (year 9999 in a
            # zone ahead of UTC): show a read-only page in UTC rather than fail it.
            request = args[0] if args else None
            if request is None or request.method not in ("GET", "HEAD"):
                raise
            return view(*args, **kwargs)
        return response

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        business = self.object_business(request, object_id)
        zone = business.tzinfo if business is not None else None
        view = super().changeform_view
        return self.in_zone(zone, view, request, object_id, form_url, extra_context)

    # --- Form choices -----------------------------------------------------
    def get_field_queryset(self, db: str | None, db_field: Any, request: HttpRequest) -> Any:
        queryset = super().get_field_queryset(db, db_field, request)
        if queryset is None:
            queryset = db_field.remote_field.model._default_manager.using(db).all()
        return scoped(queryset, request)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if "widget" not in kwargs and db_field.name in self.raw_id_fields:
            kwargs["queryset"] = self.get_field_queryset(kwargs.get("using"), db_field, request)
            kwargs["widget"] = ScopedForeignKeyRawIdWidget(
                db_field.remote_field,
                self.admin_site,
                using=kwargs.get("using"),
                queryset=kwargs["queryset"],
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- History ----------------------------------------------------------
    def get_historical_record_context_helper(self, request: HttpRequest, record: Any) -> Any:
        return ReadableChanges(self.model, record)

    def get_history_queryset(
        self, request: HttpRequest, history_manager: Any, pk_name: str, object_id: Any
    ) -> QuerySet:
        # simple-history calls select_related() with no names when the model has no
        # foreign key, which Django 6.1 deprecates: name them, or none at all.
        records = history_manager.filter(**{pk_name: object_id}).select_related("history_user")
        foreign_keys = [
            field.name
            for field in history_manager.model.tracked_fields
            if isinstance(field, ForeignKey)
        ]
        return records.select_related(*foreign_keys) if foreign_keys else records

    def set_history_delta_changes(
        self, request: HttpRequest, historical_records: Any, foreign_keys_are_objs: bool = True
    ) -> None:
        """simple-history's changed values (`history_delta_changes`), plus what each
        record did in words (`history_label`: "Deleted", "Restored", … as the timeline)
        and a short user agent (`user_agent_short`)."""
        records = list(historical_records)
        for record, older in zip(records, [*records[1:], None], strict=False):
            record.user_agent_short = short_user_agent(getattr(record, "user_agent", "") or "")
            if older is None:
                record.history_label = describe(record, None)[0]
                continue
            delta = record.diff_against(older, foreign_keys_are_objs=foreign_keys_are_objs)
            helper = self.get_historical_record_context_helper(request, record)
            record.history_delta_changes = helper.context_for_delta_changes(delta)
            record.history_label = describe(record, [change.field for change in delta.changes])[0]

    def scope_history(self, records: QuerySet, request: HttpRequest) -> QuerySet:
        """Historical records whose business the user may see."""
        visible = Business.objects.for_user(request.user).values("pk")
        return records.filter(**{f"{self.tenant_path}__in": visible})

    def history_visible(self, request: HttpRequest, object_id: str) -> bool:
        """May the user read this object's history? Also for a purged object,
        through its latest historical record."""
        pk_name = self.model._meta.pk.attname
        if self.get_queryset(request).filter(**{pk_name: object_id}).exists():
            return True
        records = self.model.history.filter(**{pk_name: object_id}).order_by("-history_date")
        latest = records.values("history_id")[:1]
        return self.scope_history(
            self.model.history.filter(history_id__in=latest), request
        ).exists()

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        try:
            visible = self.history_visible(request, unquote(object_id))
        except (ValueError, ValidationError):
            visible = False
        if not visible:
            raise Http404
        business = self.object_business(request, object_id)
        context = {
            **(extra_context or {}),
            "business": business,
            "object_exists": self.object_exists(request, object_id),
        }
        zone = business.tzinfo if business is not None else None
        return self.in_zone(zone, super().history_view, request, object_id, context)

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict | None = None,
    ) -> HttpResponse:
        # Reverting would change state outside the service layer: read only.
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        if not is_id(version_id):
            raise Http404
        try:
            visible = self.history_visible(request, unquote(object_id))
        except (ValueError, ValidationError):
            visible = False
        if not visible:
            raise Http404
        request._viewing_history_version = True  # type: ignore[attr-defined]
        business = self.object_business(request, object_id)
        zone = business.tzinfo if business is not None else None
        context = {**(extra_context or {}), "object_exists": self.object_exists(request, object_id)}
        view = super().history_form_view
        return self.in_zone(zone, view, request, object_id, version_id, context)

    def object_exists(self, request: HttpRequest, object_id: str) -> bool:
        """Is the object still there (not purged), for links to its change form?"""
        return self.get_queryset(request).filter(pk=unquote(object_id)).exists()

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        readonly = super().get_readonly_fields(request, obj)
        if getattr(request, "_viewing_history_version", False):
            # Every field, plus the admin's computed read-only entries.
            fields = [field.name for field in self.model._meta.fields] + [
                field.name for field in self.model._meta.many_to_many
            ]
            return fields + [name for name in readonly if name not in fields]
        return readonly


class ReadOnlyBookingInline(admin.TabularInline):
    """An inline of rows about bookings, shown to whoever may see the bookings.

    Read only: rows are made by the services (bookings, emails), never in a form.
    """

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        return user.has_perm("booking.view_bookingrequest") or user.has_perm(
            "booking.change_bookingrequest"
        )
