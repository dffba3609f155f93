"""The booking admin: the change list staff work from, and the life-cycle actions.

No state changes here. The actions are generated from the declared table
(`booking.services.actions.ACTIONS`): each goes through `confirm_or_run`, which
previews with the action's rule and acts through its service, and each is
offered only to users holding its declared permission (`get_actions`). Django's
hard delete (the `delete_selected` action and the delete view) is switched off:
purge is the only way to delete a booking. The export button and action come
from `StreamingExportMixin`; superusers also have "Erase client's personal
data" (`booking.admin.erasure`).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin import ActionLocation, helpers
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import smart_split, unescape_string_literal

from booking.admin import confirmation, erasure
from booking.admin.booking_forms import (
    BookingForm,
    DeletedFilter,
    SessionDateFilter,
    SessionTimeFilter,
)
from booking.admin.changelist import ActionFirstChangeList, CappedCountPaginator, ChangeListQuerySet
from booking.admin.history import timeline
from booking.admin.outbox import EmailOutboxInline
from booking.admin.tenancy import ScopedRelatedFieldListFilter, TenantAdmin, one_business
from booking.audit import RequestContext
from booking.exports.admin import StreamingExportMixin
from booking.models import BookingQuerySet, BookingRequest, FeeStatus
from booking.phones import looks_like_phone
from booking.search import contains_any
from booking.services import details, policy
from booking.services.actions import ACTIONS, Action
from booking.services.exceptions import BookingError
from booking.services.text import is_id
from booking.times import business_time_html

BOTH_PLACES = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]


def _admin_action(action: Action) -> Any:
    """The admin action of a declared action, offered on the change list and the change form.

    Who may use it is `get_actions`'s filter, by the action's declared permission.
    """

    @admin.action(
        description=action.description,
        description_plural=action.description_plural,
        location=BOTH_PLACES,
    )
    def run(modeladmin: Any, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return confirmation.confirm_or_run(modeladmin, request, queryset, action)

    run.__name__ = action.admin_name
    return run


def applies(admin_name: str, booking: BookingRequest) -> bool:
    """Would this admin action change this booking now? Its declared rule decides
    (a required reason counts as given: the confirmation page asks for it).
    Actions outside the table (erasure) always apply."""
    action = BY_ADMIN_NAME.get(admin_name)
    return action is None or action.check(booking, confirmation.GIVEN_REASON) is None


BY_ADMIN_NAME = {action.admin_name: action for action in ACTIONS.values()}


def search_words(search_term: str) -> list[str]:
    """The words of a search as Django's admin splits them: at spaces, a quoted phrase whole."""
    words = []
    for word in smart_split(search_term):
        if word.startswith(('"', "'")) and word[0] == word[-1]:
            word = unescape_string_literal(word)
        words.append(word)
    return words


@admin.register(BookingRequest)
class BookingRequestAdmin(StreamingExportMixin, TenantAdmin):
    manager_name = "all_objects"
    tenant_path = "session__business"
    form = BookingForm

    list_display = [
        "reference",
        "client",
        "session_display",
        "business_display",
        "status_badge",
        "markers",
        "created",
    ]
    list_display_links = ["reference"]
    list_filter = [
        "status",
        ("session__business", ScopedRelatedFieldListFilter),
        SessionTimeFilter,
        ("session__starts_at", SessionDateFilter),
        DeletedFilter,
        "fee_status",
    ]
    # The day's schedule: by session start, then booking (one index serves both).
    ordering = ["session__starts_at", "pk"]
    list_select_related = ["session__business"]
    search_fields = ["reference", "client_name", "client_email", "client_phone"]
    search_help_text = "Search by reference, client name, email or phone."
    date_hierarchy = "session__starts_at"
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    # Title and local time of each session, searched by title (SessionAdmin), tenant-scoped.
    autocomplete_fields = ["session"]
    inlines = [EmailOutboxInline]

    readonly_fields = [
        "reference",
        "status",
        "created_at",
        "updated_at",
        "cancelled_at",
        "cancelled_by",
        "cancelled_by_client",
        "cancellation_reason",
        "is_deleted",
        "deleted_at",
        "deleted_by",
        "deletion_reason",
        "fee_amount",
        "fee_status",
        "fee_waived_by",
        "fee_waived_at",
        "fee_waiver_reason",
        "terms",
    ]
    fieldsets = [
        (None, {"fields": ["reference", "session", "status"]}),
        ("Client", {"fields": ["client_name", "client_email", "client_phone"]}),
        (
            "Cancellation",
            {
                "fields": [
                    "cancelled_at",
                    "cancelled_by",
                    "cancelled_by_client",
                    "cancellation_reason",
                ]
            },
        ),
        ("Deletion", {"fields": ["is_deleted", "deleted_at", "deleted_by", "deletion_reason"]}),
        (
            "Fees",
            {
                "fields": [
                    "fee_amount",
                    "fee_status",
                    "fee_waived_by",
                    "fee_waived_at",
                    "fee_waiver_reason",
                    "terms",
                ]
            },
        ),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    actions = [*(_admin_action(action) for action in ACTIONS.values()), erasure.erase_client_data]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ActionFirstChangeList

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """Django's search, read through one index; a phone number is searched whole.

        Words as Django splits them (quotes keep a phrase), each to be in the
        reference, client name, email or phone: one condition per word on the
        fields joined (`BookingQuerySet.containing`), which one trigram index
        serves on PostgreSQL, instead of Django's OR over four columns.

        A term written like a phone number is not split into words ("+49", "151"
        would each match most bookings, and at a chain's scale read them all): it
        matches a booking whose number has the same E.164 form (indexed), whose
        number as stored contains it as typed, or whose reference it is (both
        found through the search index).
        """
        if "\x00" in search_term:  # refused by the strict change list
            return super().get_search_results(request, queryset, search_term)
        bookings = cast(BookingQuerySet, queryset)
        if not looks_like_phone(search_term):
            return bookings.containing(*search_words(search_term)), False
        term = search_term.strip()
        same_number = bookings.with_phone(term, user=request.user)
        as_typed = Q(client_phone__icontains=term) | Q(reference__iexact=term)
        # As typed implies the term is in the searched text: those, and the same
        # number's, are the candidates (each index read once), then each is checked.
        candidates = contains_any([term], using=bookings.db, or_in=same_number.values("pk"))
        return bookings.filter(candidates) & (same_number | bookings.filter(as_typed)), False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        return ChangeListQuerySet(model=queryset.model, query=queryset.query, using=queryset.db)

    # --- Columns for staff of one business ------------------------------------
    def get_list_display(self, request: HttpRequest) -> Any:
        """Staff of one business need no business column: every row would repeat it."""
        columns = super().get_list_display(request)
        if one_business(request):
            return [column for column in columns if column != "business_display"]
        return columns

    # --- Permissions --------------------------------------------------------
    def has_erase_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Purge (an action, with its own permission and confirmation) is the only hard delete.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A deleted booking is read only until it is restored.
        if obj is not None and obj.is_deleted:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Edits go through the service: the row is locked and only the edited
        fields are written, so a cancel or soft delete committed meanwhile stays."""
        if not change:
            try:  # into a spot nobody holds, counted under the session's lock
                details.add_booking(obj, actor=request.user,
                                    context=RequestContext.from_request(request))  # fmt: skip
            except BookingError as error:  # a race the form's check could not see
                raise PermissionDenied(error.message) from error
            return None
        try:
            saved = details.update_booking_details(
                obj.pk,
                actor=request.user,
                changes={name: form.cleaned_data[name] for name in form.changed_data},
                context=RequestContext.from_request(request),
            )
        except BookingError as error:
            raise PermissionDenied(error.message) from error
        form.instance = saved

    def get_actions(
        self, request: HttpRequest, action_location: ActionLocation = ActionLocation.CHANGE_LIST
    ) -> dict:
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        for action in ACTIONS.values():
            if not request.user.has_perm(action.permission):
                actions.pop(action.admin_name, None)
        return actions

    def response_action(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        action_location: ActionLocation = ActionLocation.CHANGE_LIST,
    ) -> HttpResponse | None:
        # A tampered selection (not primary keys) is refused before any query.
        if not all(is_id(pk) for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)):
            self.message_user(
                request, "The selection is not valid; nothing changed.", messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset, action_location=action_location)

    # --- Columns ------------------------------------------------------------
    @admin.display(description="Client", ordering="client_name")
    def client(self, booking: BookingRequest) -> str:
        return format_html(
            "{}<br><small>{}</small>",
            booking.client_name,
            " · ".join(filter(None, [booking.client_email, booking.client_phone])),
        )

    @admin.display(description="Session", ordering="session__starts_at")
    def session_display(self, booking: BookingRequest) -> str:
        session = booking.session
        return format_html(
            "{}<br><small>{}</small>", session.title, business_time_html(session.starts_at, session)
        )

    @admin.display(description="Business", ordering="session__business__name")
    def business_display(self, booking: BookingRequest) -> str:
        return booking.session.business.name

    @admin.display(description="Created", ordering="created_at")
    def created(self, booking: BookingRequest) -> str:
        return business_time_html(booking.created_at, booking.session)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, booking: BookingRequest) -> str:
        return format_html(
            '<span class="booking-badge booking-badge--{}">{}</span>',
            booking.status,
            booking.get_status_display(),
        )

    @admin.display(description="Markers")
    def markers(self, booking: BookingRequest) -> str:
        marks = []
        if booking.session.is_cancelled:
            marks.append(("cancelled", "Session cancelled"))
        elif booking.cancelled_at:
            who = "by client" if booking.cancelled_by_client else "by staff"
            marks.append(("cancelled", f"Cancelled {who}"))
        if booking.is_deleted:
            marks.append(("deleted", "Deleted"))
        if booking.fee_status != FeeStatus.NONE and booking.fee_amount is not None:
            # The amount alone: the currency is the business's, shown on its page.
            marks.append(
                ("fee", f"Fee {booking.get_fee_status_display().lower()}: {booking.fee_amount}")
            )
        return format_html_join(
            " ", '<span class="booking-marker booking-marker--{}">{}</span>', marks
        )

    @admin.display(description="Terms booked under")
    def terms(self, booking: BookingRequest) -> str:
        if booking.pk is None:
            return "Taken from the policy when the booking is saved."
        return policy.describe(policy.terms_of(booking), snapshot=bool(booking.policy_snapshot))

    # --- Change form ----------------------------------------------------------
    def render_change_form(
        self,
        request: HttpRequest,
        context: dict,
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: BookingRequest | None = None,
    ) -> HttpResponse:
        if obj is not None:
            self._offer_what_applies(request, context, obj)
            context["timeline"] = timeline(obj)
            context["history_url"] = reverse("admin:booking_bookingrequest_history", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _offer_what_applies(self, request: HttpRequest, context: dict, obj: BookingRequest) -> None:
        """The change form's action menu lists only the actions that apply to this
        booking's state (a deleted one: Restore, Purge; a live one: no Restore).
        A stale page may still post another: its confirmation page shows why it is skipped."""
        action_form = context.get("action_form")
        if action_form is None:
            return
        field = action_form.fields["action"]
        field.choices = [
            (name, label) for name, label in field.choices if not name or applies(name, obj)
        ]
        if len(field.choices) == 1:
            context["action_form"] = None
