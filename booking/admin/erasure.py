"""The superuser's "Erase client's personal data" action on the bookings.

Erasure is per client, not per booking: the selected bookings name their
clients (`services.erasure.clients_of`: by email address, else by phone
number), and one `services.erasure.erase_clients` call erases each of them
everywhere: every booking of theirs in every business (purged ones included),
their historical records, their emails and the export files that hold them.
The page is the shared confirmation page (`booking.admin.confirmation`): it
lists the clients with a dry run's counts (read-only: no lock, no write), asks
for ERASE typed, and then erases only the clients it showed, in one transaction.

Messages name counts only: a message naming the client would be stored (in the
session) after their data was erased.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext

from booking.admin.confirmation import ConfirmationForm, confirmation_page, from_change_form
from booking.audit import RequestContext
from booking.services import erasure as service
from booking.services import exceptions as exc
from booking.services.erasure import MAX_CLIENTS, Client

__all__ = ["MAX_CLIENTS", "erase_client_data"]

TYPED_CONFIRMATION = "ERASE"
TEMPLATE = "admin/booking/erasure_confirmation.html"
CLIENT_FIELD = "client"
WARNING = (
    "Each client below loses their name, email address and phone number on every booking of "
    "theirs in every business (soft-deleted and purged ones included), in every historical "
    "record and in their emails; mentions of their email address and phone number are removed "
    "from other bookings' reasons and emails, and background export files holding them are "
    "deleted. Statuses, who acted and when stay in the audit trail, with this erasure recorded."
)
REASON_HELP = (
    f"Recorded in the history of every erased booking; if left empty: "
    f"“{service.DEFAULT_REASON}”. Do not repeat the client's details here."
)


def _erase(
    clients: list[Client], request: HttpRequest, *, reason: str = "", dry_run: bool = False
) -> list[service.ErasureResult]:
    return service.erase_clients(
        [client.ref for client in clients],
        actor=request.user,
        reason=reason,
        context=RequestContext.from_request(request),
        dry_run=dry_run,
    )


def _totals(results: list[service.ErasureResult]) -> str:
    changed: Counter[str] = Counter()
    for result in results:
        changed.update(result.changed)
    return ", ".join(f"{count} {name}" for name, count in changed.items())


def _run(
    modeladmin: Any, request: HttpRequest, clients: list[Client], form: ConfirmationForm
) -> None:
    shown = set(request.POST.getlist(CLIENT_FIELD))
    chosen = [client for client in clients if client.key in shown]
    try:
        results = _erase(chosen, request, reason=form.cleaned_data["reason"])
    except exc.BookingError as error:
        modeladmin.message_user(request, error.message, messages.ERROR)
        return
    text = ngettext(
        "Erased the personal data of %(count)d client",
        "Erased the personal data of %(count)d clients",
        len(chosen),
    ) % {"count": len(chosen)}
    if results:
        text += f" ({_totals(results)})"
    text += "."
    left_out = len(shown) - len(chosen)
    if left_out:
        text += " " + ngettext(
            "%(count)d client shown on the confirmation page is no longer selected; "
            "they were left alone.",
            "%(count)d clients shown on the confirmation page are no longer selected; "
            "they were left alone.",
            left_out,
        ) % {"count": left_out}
    modeladmin.message_user(request, text, messages.SUCCESS if not left_out else messages.WARNING)


def confirm_or_erase(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet
) -> HttpResponse | None:
    """Render the confirmation page, or erase on `post=yes` with ERASE typed."""
    rows = (
        queryset.order_by("pk")
        .values_list("reference", "client_name", "client_email", "client_phone")
        .iterator(chunk_size=500)
    )
    try:
        clients = service.clients_of(rows)
    except exc.BookingError as error:
        modeladmin.message_user(request, error.message, messages.ERROR)
        return None
    if not clients:
        modeladmin.message_user(
            request,
            "The selected bookings hold no personal data (already erased); nothing to do.",
            messages.WARNING,
        )
        return None

    confirmed = request.POST.get("post") == "yes"
    form = ConfirmationForm(
        request.POST if confirmed else None,
        typed_confirmation=TYPED_CONFIRMATION,
        reason_help=REASON_HELP,
    )
    if confirmed and form.is_valid():
        _run(modeladmin, request, clients, form)
        return None
    try:
        results = _erase(clients, request, dry_run=True)
    except exc.BookingError as error:
        modeladmin.message_user(request, error.message, messages.ERROR)
        return None
    return confirmation_page(
        modeladmin,
        request,
        title="Erase clients' personal data",
        action_name="erase_client_data",
        form=form,
        danger=WARNING,
        hidden=[(CLIENT_FIELD, client.key) for client in clients],
        original=queryset.first() if from_change_form(request) else None,
        confirm_label=ngettext(
            "Yes, erase the personal data of %(count)d client",
            "Yes, erase the personal data of %(count)d clients",
            len(clients),
        )
        % {"count": len(clients)},
        template=TEMPLATE,
        previews=list(zip(clients, results, strict=True)),
    )


@admin.action(
    description="Erase this client's personal data",
    description_plural="Erase the personal data of the selected bookings' clients",
    permissions=["erase"],
    location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
)
def erase_client_data(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet
) -> HttpResponse | None:
    return confirm_or_erase(modeladmin, request, queryset)
