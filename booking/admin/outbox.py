"""The emails in the admin: on each booking's change page, and as their own list.

Both are read-only: an email's content is a record of what was sent. The one
action is "resend" for failed emails (its own permission), which hands them back
to the worker through `booking.emails.outbox.resend`. The list is tenant-scoped
through the email's business (kept after a purge, when the booking is gone).

A business's staff who may view its bookings may view their emails too (the
emails are part of a booking's record), so the email links on a booking's page
open for them. An HTML body is shown rendered, in an iframe sandboxed with no
permissions at all (no scripts, forms, popups or same-origin access), never as
source and never inline in the admin's own page.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.contrib.admin import ActionLocation
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from booking.admin.strict import StrictChangeListMixin
from booking.admin.tenancy import ReadOnlyBookingInline
from booking.emails import outbox, rendering
from booking.emails.models import EmailStatus, OutboxEmail, OutboxQuerySet
from booking.models import BookingRequest

# An email still to be rendered (a bulk change's: see booking.emails.rendering).
NOT_WRITTEN = "(written by the worker as it sends the email)"
DRAFT_NOTE = "(not sent yet: as the worker would write it now)"

STATUS_COLOURS = {
    EmailStatus.QUEUED: "#8a6d00",
    EmailStatus.SENDING: "#8a6d00",
    EmailStatus.SENT: "#1f5fbf",
    EmailStatus.DELIVERED: "#1b7a3a",
    EmailStatus.FAILED: "#b42318",
    EmailStatus.BOUNCED: "#b42318",
    EmailStatus.COMPLAINED: "#b42318",
}


class StatusBadge:
    """The email's status in its colour, for the list and both read-only views."""

    @admin.display(description="status", ordering="status")
    def status_badge(self, email: OutboxEmail) -> str:
        colour = STATUS_COLOURS.get(EmailStatus(email.status), "inherit")
        return format_html(
            '<strong style="color:{}">{}</strong>', colour, email.get_status_display()
        )


class SubjectLine:
    """The subject, for the list and the booking page's emails."""

    @admin.display(description="subject", ordering="subject")
    def subject_line(self, email: OutboxEmail) -> str:
        """A bulk change's email is written by the worker as it sends it: until then
        this says so, rather than render each row here (queries per row)."""
        return NOT_WRITTEN if email.render is not None else email.subject


class EmailOutboxInline(SubjectLine, StatusBadge, ReadOnlyBookingInline):
    """The booking's emails and their delivery states (for the booking change page)."""

    model = OutboxEmail
    fk_name = "booking"
    show_change_link = True
    fields = ("created_at", "kind", "subject_line", "recipient", "status_badge", "attempts",
              "sent_at", "last_event_at", "last_error")  # fmt: skip
    readonly_fields = fields
    ordering = ("created_at", "pk")
    verbose_name = "email"
    verbose_name_plural = "emails"


@admin.register(OutboxEmail)
class OutboxEmailAdmin(StrictChangeListMixin, SubjectLine, StatusBadge, admin.ModelAdmin):
    list_display = ("created_at", "reference", "kind", "subject_line", "recipient", "status_badge",
                    "attempts", "sent_at", "business")  # fmt: skip
    list_filter = ("status", "kind", ("business", admin.RelatedOnlyFieldListFilter))
    search_fields = ("=reference", "recipient", "=provider_message_id")
    list_select_related = ("business",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["resend_emails"]
    fieldsets = (
        (None, {"fields": ("kind", "booking_link", "business", "recipient", "reply_to")}),
        ("Delivery", {"fields": ("status_badge", "attempts", "last_error", "provider_message_id",
                                 "created_at", "next_attempt_at", "sent_at", "last_event_at")}),
        ("Content", {"fields": ("subject_shown", "text_shown", "html_preview")}),
    )  # fmt: skip
    readonly_fields = ("kind", "booking_link", "business", "recipient", "reply_to", "status_badge",
                       "attempts", "last_error", "provider_message_id", "created_at",
                       "next_attempt_at", "sent_at", "last_event_at", "subject_shown",
                       "text_shown", "html_preview")  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboxEmail]:
        return cast(OutboxQuerySet, super().get_queryset(request)).for_user(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Their own permission, or the booking view permission (the list is scoped)."""
        user = request.user
        return user.has_perm("booking.view_outboxemail") or user.has_perm(
            "booking.view_bookingrequest"
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("booking.resend_outboxemail")

    @staticmethod
    def _written(email: OutboxEmail) -> OutboxEmail:
        """The email as sent, or, still to be written, as the worker would write it now."""
        if not hasattr(email, "_written"):
            email._written = rendering.preview(email)  # type: ignore[attr-defined]
        return cast(OutboxEmail, email._written)  # type: ignore[attr-defined]

    @admin.display(description="subject")
    def subject_shown(self, email: OutboxEmail) -> str:
        subject = self._written(email).subject
        return f"{subject} {DRAFT_NOTE}" if email.render is not None else subject

    @admin.display(description="text body")
    def text_shown(self, email: OutboxEmail) -> str:
        return self._written(email).text_body

    @admin.display(description="HTML body")
    def html_preview(self, email: OutboxEmail) -> str:
        email = self._written(email)
        if not email.html_body:
            return "-"
        return format_html(
            '<iframe class="email-preview" sandbox="" referrerpolicy="no-referrer" '
            'title="The email as the recipient sees it" srcdoc="{}" '
            'style="width:100%;max-width:46rem;height:32rem;border:1px solid #ccc;'
            'background:#fff"></iframe>',
            email.html_body,
        )

    @admin.display(description="booking")
    def booking_link(self, email: OutboxEmail) -> str:
        booking_id = email.booking_id
        if booking_id is None:
            return email.reference
        if not BookingRequest.all_objects.filter(pk=booking_id).exists():
            return f"{email.reference} (purged)"
        try:
            url = reverse("admin:booking_bookingrequest_change", args=[booking_id])
        except NoReverseMatch:
            return email.reference
        return format_html('<a href="{}">{}</a>', url, email.reference)

    @admin.action(
        description="Resend this email",
        description_plural="Resend the selected failed emails",
        permissions=["resend"],
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def resend_emails(self, request: HttpRequest, queryset: QuerySet[OutboxEmail]) -> None:
        selected = queryset.count()
        count = outbox.resend(queryset)
        message = ngettext("%d failed email queued again.", "%d failed emails queued again.",
                           count) % count  # fmt: skip
        if selected > count:
            message += f" {selected - count} not failed, left as they are."
        self.message_user(request, message)
