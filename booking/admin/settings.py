"""Each business's cancellation and deletion policy (created with the business),
with its late-cancellation fee tiers edited inline."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from booking.admin.tenancy import TenantAdmin
from booking.models import BookingSettings, CancellationFeeRule


class FeeRuleInline(admin.TabularInline):
    """The fee tiers: of those whose hours have not yet been reached, the tightest wins.

    Editing them changes the terms of new bookings only: each booking keeps the
    policy it was made under (its snapshot).
    """

    model = CancellationFeeRule
    extra = 0
    fields = ["hours_before", "percent", "fixed_fee"]
    verbose_name_plural = (
        "late-cancellation fee tiers (fewer than N hours before the start: "
        "percent of the price plus a fixed fee; the smallest N that applies wins)"
    )

    # The tiers are part of the policy: whoever may edit the policy edits them.
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("booking.view_bookingsettings") or self._may_edit(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request)

    def _may_edit(self, request: HttpRequest) -> bool:
        return request.user.has_perm("booking.change_bookingsettings")


@admin.register(BookingSettings)
class BookingSettingsAdmin(TenantAdmin):
    list_display = [
        "business",
        "allow_client_cancellation",
        "cancellation_deadline_hours",
        "send_cancellation_emails",
        "allow_admin_deletion",
        "require_deletion_reason",
        "no_show_fee_percent",
    ]
    inlines = [FeeRuleInline]
    list_select_related = ["business"]
    search_fields = ["business__name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "business"] if obj is not None and "business" not in fields else fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created with its business

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
