"""The "Cancel sessions" action on the Session change list and a session's page.

The page is the shared confirmation page (`booking.admin.confirmation`): it
lists each selected session with its number of active bookings and what will
happen to it, asks for the (required) reason and offers `notify_client`
(ticked by default: a POST without it means "do not notify"). Only on
`post=yes` does one `services.sessions.cancel_sessions` call act, with the
admin's tenant-scoped queryset, under its own lock; it re-checks everything, so
a stale or tampered page changes nothing it should not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext

from booking.admin.confirmation import ConfirmationForm, confirmation_page, from_change_form
from booking.audit import RequestContext
from booking.models import ACTIVE_STATUSES, Session
from booking.services import exceptions as exc
from booking.services.actions import NOTIFY_CLIENT
from booking.services.session_jobs import background_threshold
from booking.services.sessions import ALREADY_CANCELLED, cancel_sessions

TEMPLATE = "admin/booking/session_cancel_confirmation.html"
LIST_LIMIT = 100
REASON_HELP = (
    "Required: told to every client in the cancellation email and recorded in the "
    "history of the session and of each booking. At most 1000 characters."
)


@dataclass(frozen=True)
class SessionOutcome:
    session: Session
    active: int

    @property
    def changes(self) -> bool:
        return not self.session.is_cancelled

    @property
    def text(self) -> str:
        if not self.changes:
            return f"skipped: {ALREADY_CANCELLED}"
        bookings = ngettext(
            "%(count)d active booking", "%(count)d active bookings", self.active
        ) % {"count": self.active}
        if self.active > background_threshold():
            return f"will be cancelled; its {bookings} in the background (progress on its page)"
        return f"will be cancelled, with its {bookings}"


def _form(data: Any) -> ConfirmationForm:
    form = ConfirmationForm(data, reason_help=REASON_HELP, options=[NOTIFY_CLIENT])
    form.fields["reason"].required = True
    return form


def _outcomes(queryset: QuerySet) -> list[SessionOutcome]:
    active = Q(bookings__status__in=ACTIVE_STATUSES, bookings__is_deleted=False)
    sessions = (
        queryset.select_related("business")
        .annotate(active_count=Count("bookings", filter=active))
        .order_by("starts_at", "pk")
    )
    return [SessionOutcome(session, session.active_count) for session in sessions[:LIST_LIMIT]]


def _run(modeladmin: Any, request: HttpRequest, queryset: QuerySet, form: ConfirmationForm) -> None:
    try:
        result = cancel_sessions(
            queryset,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            context=RequestContext.from_request(request),
            notify_client=form.cleaned_data[NOTIFY_CLIENT.name],
        )
    except exc.BookingError as error:
        modeladmin.message_user(request, error.message, messages.ERROR)
        return
    level = messages.SUCCESS if not result.skipped else messages.WARNING
    modeladmin.message_user(request, result.summary(), level)


def confirm_or_cancel(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet
) -> HttpResponse | None:
    """Render the confirmation page, or cancel on `post=yes` with a reason."""
    confirmed = request.POST.get("post") == "yes"
    form = _form(request.POST if confirmed else None)
    if confirmed and form.is_valid():
        _run(modeladmin, request, queryset, form)
        return None
    outcomes = _outcomes(queryset)
    will_change = [outcome for outcome in outcomes if outcome.changes]
    bookings = sum(outcome.active for outcome in will_change)
    return confirmation_page(
        modeladmin,
        request,
        title="Cancel sessions",
        action_name="cancel_sessions",
        form=form,
        posted_ids=[outcome.session.pk for outcome in outcomes],
        original=outcomes[0].session if from_change_form(request) and outcomes else None,
        can_act=bool(will_change),
        confirm_label=ngettext(
            "Yes, cancel %(count)d session", "Yes, cancel %(count)d sessions", len(will_change)
        )
        % {"count": len(will_change)}
        + ngettext(" (%(count)d active booking)", " (%(count)d active bookings)", bookings)
        % {"count": bookings},
        template=TEMPLATE,
        session_outcomes=outcomes,
        sessions_changing=len(will_change),
        bookings_changing=bookings,
    )


@admin.action(
    description="Cancel this session (and its bookings)",
    description_plural="Cancel selected sessions (and their bookings)",
    permissions=["cancel_session"],
    location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
)
def cancel_sessions_action(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet
) -> HttpResponse | None:
    return confirm_or_cancel(modeladmin, request, queryset)


cancel_sessions_action.__name__ = "cancel_sessions"
