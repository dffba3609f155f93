"""Businesses and their policy: staff membership is for superusers to grant."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest

from booking.admin.tenancy import TenantAdmin
from booking.models import BookingSettings, Business


class BookingSettingsInline(admin.StackedInline):
    model = BookingSettings
    can_delete = False
    max_num = 1
    min_num = 1
    verbose_name_plural = "booking settings (cancellation and deletion policy)"


@admin.register(Business)
class BusinessAdmin(TenantAdmin):
    tenant_path = "id"
    list_display = [
        "name",
        "slug",
        "contact_email",
        "contact_phone",
        "timezone",
        "currency",
        "country",
    ]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["staff"]
    inlines = [BookingSettingsInline]

    def get_fields(self, request: HttpRequest, obj: Business | None = None) -> Any:
        fields = [
            "name",
            "slug",
            "contact_email",
            "contact_phone",
            "timezone",
            "currency",
            "country",
            "staff",
        ]
        if not request.user.is_superuser:
            # Who may see a business's data is the superuser's decision alone.
            fields.remove("staff")
        return fields

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "staff":
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A new business has no staff yet: only a superuser could ever see it.
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Business | None = None) -> bool:
        return request.user.is_superuser
