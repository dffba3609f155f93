"""The waitlist in the admin: its entries, and a session's queue on the session's page.

Staff add a client on the add page (the service `waitlist.join` does it, so a
session with a free spot offers it at once); an entry is read only afterwards:
its state changes through the two actions, "remove" and "offer now", each one
call of the service (`remove_entries`, `offer_now`) with its own permission.
Everything is tenant-scoped (`TenantAdmin`), through the entry's session.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst

from booking.admin.tenancy import ScopedRelatedFieldListFilter, TenantAdmin
from booking.audit import RequestContext
from booking.models import Session, SessionStatus, WaitlistEntry, WaitlistStatus
from booking.services import waitlist
from booking.services.exceptions import BookingError
from booking.times import business_time_html
from booking.waitlist.models import WaitlistQuerySet

ADD_FIELDS = ["session", "client_name", "client_email", "client_phone"]
SHOWN_FIELDS = [
    "reference",
    "session",
    "client_name",
    "client_email",
    "client_phone",
    "status",
    "created_at",
    "offered_at",
    "offer_expires_at",
    "booking_link",
]


class WaitlistEntryForm(forms.ModelForm):
    """The add form: the service's refusals, checked first, are the form's errors."""

    class Meta:
        model = WaitlistEntry
        fields = ADD_FIELDS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        session, email = data.get("session"), data.get("client_email")
        if session is not None and email:
            refusal = waitlist.why_not_join(session, email, now=timezone.now())
            if refusal:
                raise ValidationError(capfirst(refusal) + ".", code="refused")
        return data


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(TenantAdmin):
    tenant_path = "session__business"
    form = WaitlistEntryForm
    list_display = ["reference", "client_name", "client_email", "session_link", "status",
                    "created_local", "offer_ends_local", "booking_link"]  # fmt: skip
    list_filter = [
        "status",
        ("session__business", ScopedRelatedFieldListFilter),
        "created_at",
    ]
    list_select_related = ["session__business", "booking"]
    search_fields = ["=reference", "client_name", "client_email", "client_phone", "session__title"]
    ordering = ["-created_at", "-pk"]
    autocomplete_fields = ["session"]
    show_full_result_count = False
    actions = ["remove_entries", "offer_now"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(ADD_FIELDS) if obj is None else list(SHOWN_FIELDS)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Once made, an entry changes only through the actions (the service).
        return [] if obj is None else list(SHOWN_FIELDS)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # "remove" keeps the entry and its history

    def has_remove_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("booking.change_waitlistentry")

    def has_offer_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("booking.offer_waitlistentry")

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict:
        location = action_location or ActionLocation.CHANGE_LIST
        actions = super().get_actions(request, action_location=location)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """A new entry is the service's (`waitlist.join`): checked under the session's
        lock, recorded with the user, offered a free spot at once."""
        if change:
            raise PermissionDenied("waitlist entries change through their actions")
        data = form.cleaned_data
        try:
            entry = waitlist.join(
                data["session"], client_name=data["client_name"],
                client_email=data["client_email"], client_phone=data["client_phone"],
                actor=request.user, context=RequestContext.from_request(request),
            )  # fmt: skip
        except BookingError as error:  # a race the form's check could not see
            raise PermissionDenied(error.message) from error
        for field in WaitlistEntry._meta.concrete_fields:
            setattr(obj, field.attname, getattr(entry, field.attname))
        obj._state.adding = False

    @admin.display(description="Session", ordering="session__starts_at")
    def session_link(self, entry: WaitlistEntry) -> str:
        url = reverse("admin:booking_session_change", args=[entry.session_id])
        return format_html('<a href="{}">{}</a>', url, entry.session)

    @admin.display(description="Added", ordering="created_at")
    def created_local(self, entry: WaitlistEntry) -> str:
        return business_time_html(entry.created_at, entry.session)

    @admin.display(description="Offer ends", ordering="offer_expires_at")
    def offer_ends_local(self, entry: WaitlistEntry) -> str:
        if entry.status != WaitlistStatus.OFFERED or entry.offer_expires_at is None:
            return "—"
        return business_time_html(entry.offer_expires_at, entry.session)

    @admin.display(description="Booking")
    def booking_link(self, entry: WaitlistEntry) -> str:
        if entry.booking is None:
            return "—"
        url = reverse("admin:booking_bookingrequest_change", args=[entry.booking_id])
        return format_html('<a href="{}">{}</a>', url, entry.booking.reference)

    @admin.action(
        description="Remove from the waitlist",
        permissions=["remove"],
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def remove_entries(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._run(request, lambda entries, **kw: waitlist.remove_entries(entries, **kw), queryset)

    @admin.action(
        description="Offer a free spot now (out of turn)",
        permissions=["offer"],
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def offer_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._run(request, lambda entries, **kw: waitlist.offer_now(entries, **kw), queryset)

    def _run(self, request: HttpRequest, service: Any, queryset: QuerySet) -> None:
        entries = cast(WaitlistQuerySet, queryset).for_user(request.user)
        try:
            result = service(entries, actor=request.user,
                             context=RequestContext.from_request(request))  # fmt: skip
        except BookingError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        level = messages.WARNING if result.skipped else messages.SUCCESS
        self.message_user(request, result.summary() + ".", level)


INLINE_FIELDS = ("entry_link", "client_name", "client_email", "status", "created_at",
                 "offer_expires_at")  # fmt: skip


class WaitlistInline(admin.TabularInline):
    """A session's waitlist, in queue order (read only: entries change through their admin)."""

    model = WaitlistEntry
    extra = 0
    can_delete = False
    fields = INLINE_FIELDS
    readonly_fields = INLINE_FIELDS
    ordering = ["created_at", "pk"]
    verbose_name_plural = "waitlist"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return cast(WaitlistQuerySet, super().get_queryset(request)).for_user(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("booking.view_waitlistentry") or request.user.has_perm(
            "booking.change_waitlistentry"
        )

    @admin.display(description="Reference")
    def entry_link(self, entry: WaitlistEntry) -> str:
        url = reverse("admin:booking_waitlistentry_change", args=[entry.pk])
        return format_html('<a href="{}">{}</a>', url, entry.reference)


def spots_summary(session: Session) -> str:
    """ "3 booked / 4 capacity · 2 waiting, 1 offered" and a link to add a client."""
    if session.pk is None:
        return "—"
    counts = waitlist.queue_counts(session)
    if session.status == SessionStatus.CANCELLED:  # its queue takes no one
        return format_html(
            "{} booked / {} capacity · {} waiting, {} offered",
            counts.booked, session.capacity, counts.waiting, counts.offered,
        )  # fmt: skip
    url = reverse("admin:booking_waitlistentry_add") + f"?session={session.pk}"
    return format_html(
        '{} booked / {} capacity · {} waiting, {} offered · <a href="{}">Add to the waitlist</a>',
        counts.booked, session.capacity, counts.waiting, counts.offered, url,
    )  # fmt: skip
