"""The superuser's "Erase client's personal data" action on the bookings.

Erasure is per client, not per booking: the selected bookings name their
clients (by email address, else by phone number), and
`booking.services.erasure` erases each client everywhere: every booking of
theirs in every business (purged ones included), their historical records,
their emails and the export files that hold them. So the confirmation page
lists the clients with a dry run's exact counts, asks for ERASE typed, and
then erases only the clients it showed, in one transaction.

Messages name counts only: a message naming the client would be stored (in the
session) after their data was erased.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation, helpers
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import ngettext

from booking.admin.confirmation import CHANGE_FORM_ACTION_FIELD
from booking.audit import RequestContext
from booking.models import REASON_MAX_LENGTH
from booking.services import erasure as service
from booking.services import exceptions as exc
from booking.services.identity import normalize_email, parse_phone
from booking.services.text import is_id

# An erasure answers one person's request: a selection naming more clients
# than this is a mistake (select across every booking, say), not a request.
MAX_CLIENTS = 20
TYPED_CONFIRMATION = "ERASE"
TEMPLATE = "admin/booking/erasure_confirmation.html"
CLIENT_FIELD = "client"


@dataclass
class Client:
    """One client named by the selection: erased by email, or by phone without one."""

    key: str  # "email:ada@example.com" or "phone:447700900123", posted back by the page
    email: str
    phone: str
    names: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)  # the selected bookings of theirs

    @property
    def label(self) -> str:
        return self.email or self.phone


class TooManyClients(Exception):
    pass


def clients_of(rows: Iterable[tuple[str, str, str, str]]) -> list[Client]:
    """The clients of (reference, name, email, phone) rows, in order of appearance.

    Bookings already erased (no email, no phone) name nobody.
    """
    clients: dict[str, Client] = {}
    for reference, name, email, phone in rows:
        if email:
            key = f"email:{normalize_email(email)}"
        elif phone:
            key = f"phone:{parse_phone(phone).national}"
        else:
            continue
        client = clients.get(key)
        if client is None:
            if len(clients) == MAX_CLIENTS:
                raise TooManyClients
            client = clients[key] = Client(key, email.strip(), "" if email else phone.strip())
        client.names.add(name)
        client.references.append(reference)
    return list(clients.values())


class ErasureForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=REASON_MAX_LENGTH,
        required=False,
        help_text=f"Recorded in the history of every erased booking; if left empty: "
        f"“{service.DEFAULT_REASON}”. Do not repeat the client's details here.",
    )
    confirmation = forms.CharField(
        label=f"Type {TYPED_CONFIRMATION} to confirm",
        max_length=20,
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_confirmation(self) -> str:
        value = self.cleaned_data["confirmation"]
        if value != TYPED_CONFIRMATION:
            raise ValidationError(f"Type {TYPED_CONFIRMATION} exactly, in capitals, to confirm.")
        return value


def _erase(client: Client, request: HttpRequest, **kwargs: Any) -> service.ErasureResult:
    return service.erase_client_data(
        email=client.email,
        phone="" if client.email else client.phone,
        actor=request.user,
        context=RequestContext.from_request(request),
        **kwargs,
    )


def _totals(results: list[service.ErasureResult]) -> str:
    changed: Counter[str] = Counter()
    for result in results:
        changed.update(result.changed)
    return ", ".join(f"{count} {name}" for name, count in changed.items())


def _run(modeladmin: Any, request: HttpRequest, clients: list[Client], form: ErasureForm) -> None:
    shown = set(request.POST.getlist(CLIENT_FIELD))
    chosen = [client for client in clients if client.key in shown]
    try:
        with transaction.atomic():
            results = [
                _erase(client, request, reason=form.cleaned_data["reason"]) for client in chosen
            ]
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
    from_change_form = CHANGE_FORM_ACTION_FIELD in request.POST
    rows = (
        queryset.order_by("pk")
        .values_list("reference", "client_name", "client_email", "client_phone")
        .iterator(chunk_size=500)
    )
    try:
        clients = clients_of(rows)
    except TooManyClients:
        modeladmin.message_user(
            request,
            f"The selection names more than {MAX_CLIENTS} clients; nothing was erased. "
            f"Erasure answers one client's request: select their bookings "
            f"(search by their email address or phone number).",
            messages.ERROR,
        )
        return None
    if not clients:
        modeladmin.message_user(
            request,
            "The selected bookings hold no personal data (already erased); nothing to do.",
            messages.WARNING,
        )
        return None

    confirmed = request.POST.get("post") == "yes"
    form = ErasureForm(request.POST if confirmed else None)
    if confirmed and form.is_valid():
        _run(modeladmin, request, clients, form)
        return None

    try:
        previews = [(client, _erase(client, request, dry_run=True)) for client in clients]
    except exc.BookingError as error:
        modeladmin.message_user(request, error.message, messages.ERROR)
        return None
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Erase clients' personal data",
        "subtitle": None,
        "opts": opts,
        "previews": previews,
        "action_name": "erase_client_data",
        "action_field": CHANGE_FORM_ACTION_FIELD if from_change_form else "action",
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "client_field": CLIENT_FIELD,
        # Post back what was posted: the change list's filters in the URL and
        # these ids (or the select-across flag) give the same queryset again.
        "posted_ids": [
            pk for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME) if is_id(pk)
        ],
        "select_across": request.POST.get("select_across") == "1" and not from_change_form,
        "original": queryset.first() if from_change_form else None,
        "confirm_label": ngettext(
            "Yes, erase the personal data of %(count)d client",
            "Yes, erase the personal data of %(count)d clients",
            len(clients),
        )
        % {"count": len(clients)},
        "form": form,
        "back_url": request.get_full_path(),
        "media": modeladmin.media + form.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, TEMPLATE, context)


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
