"""Each business's cancellation and deletion policy (created with the business)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from booking.admin.tenancy import TenantAdmin
from booking.models import BookingSettings


@admin.register(BookingSettings)
class BookingSettingsAdmin(TenantAdmin):
    list_display = [
        "business",
        "allow_client_cancellation",
        "cancellation_deadline_hours",
        "send_cancellation_emails",
        "allow_admin_deletion",
        "require_deletion_reason",
    ]
    list_select_related = ["business"]
    search_fields = ["business__name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "business"] if obj is not None and "business" not in fields else fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created with its business

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
