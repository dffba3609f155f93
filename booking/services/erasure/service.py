"""Erase clients' personal data: bulk first, one transaction, and a dry run that only reads.

`erase_clients([ClientRef(email=…), ClientRef(phone=…)], actor=…)` erases each
client everywhere (see `booking.services.erasure`); `erase_client_data(email=…)`
is a call of one. `clients_of(bookings)` names the clients of a selection of
bookings, as the admin's action does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from booking.actors import Actor
from booking.audit import SYSTEM, RequestContext
from booking.models import BookingRequest, Business
from booking.phones import MIN_PHONE_DIGITS, digits, national_digits, search_forms
from booking.services import exceptions as exc
from booking.services.erasure.steps import (
    DEFAULT_REASON,
    ERASED_NAME,
    ERASURE_STEPS,
    PHONE_SEPARATORS,
    Erasure,
    ErasureResult,
)
from booking.services.identity import normalize_email
from booking.services.lifecycle import clean_reason

# An erasure answers one person's request: a selection naming more clients
# than this is a mistake (select across every booking, say), not a request.
MAX_CLIENTS = 20


@dataclass(frozen=True)
class ClientRef:
    """Whom to erase: by email address, or by phone number (never both)."""

    email: str = ""
    phone: str = ""


@dataclass
class Client:
    """One client named by a selection of bookings: erased by email, or by phone without one."""

    key: str  # "email:ada@example.com" or "phone:447700900123"
    email: str
    phone: str
    names: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)  # the selected bookings of theirs

    @property
    def label(self) -> str:
        return self.email or self.phone

    @property
    def ref(self) -> ClientRef:
        return ClientRef(email=self.email) if self.email else ClientRef(phone=self.phone)


def clients_of(rows: Iterable[tuple[str, str, str, str]]) -> list[Client]:
    """The clients of (reference, name, email, phone) rows, in order of appearance.

    Bookings already erased (no email, no phone) name nobody. More than
    `MAX_CLIENTS` is refused (InvalidInput) before the rest is read.
    """
    clients: dict[str, Client] = {}
    for reference, name, email, phone in rows:
        if email:
            key = f"email:{normalize_email(email)}"
        elif phone:
            key = f"phone:{national_digits(phone)}"
        else:
            continue
        client = clients.get(key)
        if client is None:
            if len(clients) == MAX_CLIENTS:
                raise exc.InvalidInput(
                    f"The selection names more than {MAX_CLIENTS} clients; nothing was erased. "
                    f"Erasure answers one client's request: select their bookings "
                    f"(search by their email address or phone number)."
                )
            client = clients[key] = Client(key, email.strip(), "" if email else phone.strip())
        client.names.add(name)
        client.references.append(reference)
    return list(clients.values())


def _valid(client: ClientRef) -> ClientRef:
    email, phone = client.email, client.phone
    if not isinstance(email, str) or not isinstance(phone, str):
        raise exc.InvalidInput("email and phone must be strings")
    email, phone = email.strip(), phone.strip()
    if bool(email) == bool(phone):
        raise exc.InvalidInput("give either an email address or a phone number")
    if phone and len(digits(phone)) < MIN_PHONE_DIGITS:
        raise exc.InvalidInput(f"a phone number needs at least {MIN_PHONE_DIGITS} digits")
    return ClientRef(email=email, phone=phone)


def erase_clients(
    clients: Sequence[ClientRef],
    *,
    actor: Actor,
    reason: object = "",
    context: RequestContext = SYSTEM,
    dry_run: bool = False,
    now: datetime | None = None,
) -> list[ErasureResult]:
    """Erase these clients' personal data from every table that holds it; one result each.

    Identify each by `email` (trimmed, case-insensitive) or `phone` (any format,
    as admin search reads it). `actor` must be a superuser, or None for the
    system (the `bookings erase` command). Every input is checked before anything
    is read. One transaction for all; rows are locked and changed in batches.
    Irreversible. A dry run reads the same rows and computes the same counts but
    takes no lock and writes nothing (the admin's confirmation page and the
    command's `--dry-run` use it).
    """
    if actor is not None and not getattr(actor, "is_superuser", False):
        raise exc.NotPermitted("only a superuser may erase a client's personal data")
    refs = [_valid(client) for client in clients]
    reason = clean_reason(reason) or DEFAULT_REASON
    now = now or timezone.now()
    recorded_actor = actor if actor is not None and actor.is_authenticated else None
    results = []
    with contextlib.nullcontext() if dry_run else transaction.atomic():
        for ref in refs:
            erasure = Erasure(
                actor=recorded_actor, reason=reason, context=context, now=now, dry_run=dry_run
            )
            find_client(erasure, email=ref.email, phone=ref.phone)
            erasure.compile()
            changed = {name: step(erasure) for name, step in ERASURE_STEPS.items()}
            results.append(
                ErasureResult(booking_ids=erasure.booking_ids, changed=changed, dry_run=dry_run)
            )
    return results


def erase_client_data(
    *,
    email: str = "",
    phone: str = "",
    actor: Actor,
    reason: object = "",
    context: RequestContext = SYSTEM,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ErasureResult:
    """Erase one client's personal data: `erase_clients` of one."""
    [result] = erase_clients(
        [ClientRef(email=email, phone=phone)],
        actor=actor,
        reason=reason,
        context=context,
        dry_run=dry_run,
        now=now,
    )
    return result


def find_client(erasure: Erasure, *, email: str = "", phone: str = "") -> None:
    """Fill the erasure's bookings and the client's stored details (every spelling of them)."""
    bookings = BookingRequest.all_objects
    records = BookingRequest.history.model.objects
    if email:
        email = email.strip()
        live = bookings.with_emails([email])  # through the search index
        past = records.filter(client_email__iexact=email)
        wanted = normalize_email(email)

        def matches(stored: str, stored_e164: str = "") -> bool:
            return normalize_email(stored) == wanted

        column = "client_email"
    else:
        # Any spelling: the E.164 forms the number may mean (read with each
        # business's country), or the same digits (unparsable numbers, records
        # written before E.164 was stored).
        forms = search_forms(phone, Business.objects.values_list("country", flat=True).distinct())
        tail = digits(phone)[-MIN_PHONE_DIGITS:]
        by_phone = Q(client_phone_e164__in=forms) | Q(
            client_phone__regex=PHONE_SEPARATORS.join(tail) + r"\D*$"
        )
        live = bookings.filter(by_phone)
        past = records.filter(by_phone)

        def matches(stored: str, stored_e164: str = "") -> bool:
            return stored_e164 in forms or digits(stored) == digits(phone)

        column = "client_phone"
    found: set[int] = set()
    for queryset in (live, past):
        rows = queryset.values_list(
            "id", column, "client_name", "client_email", "client_phone", "client_phone_e164"
        )
        for pk, stored, name, stored_email, stored_phone, e164 in rows.distinct().iterator():
            if not matches(stored, e164):
                continue
            found.add(pk)
            erasure.names.add(name)
            erasure.emails.add(stored_email)
            if stored_phone:
                erasure.phones.add(stored_phone)
    erasure.emails.discard("")
    erasure.names.discard(ERASED_NAME)
    if email:
        erasure.emails.add(email)
    else:
        erasure.phones.add(phone)
    erasure.booking_ids = sorted(found)
