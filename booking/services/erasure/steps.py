"""The steps of an erasure: one function per table that holds a client's data.

Each step takes the `Erasure` (whose data, which bookings, how to redact text)
and returns how many rows it changed, or, in a dry run, would change: a dry run
reads the same rows and computes the same redactions, but locks nothing and
writes nothing. A new table holding client data is one more step appended to
`ERASURE_STEPS`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce
from itertools import batched
from operator import or_
from typing import Any, TypeVar

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q, QuerySet

from booking.actors import Actor
from booking.audit import RequestContext
from booking.emails.models import EmailStatus, OutboxEmail
from booking.exports import retention
from booking.models import BookingRequest
from booking.phones import MIN_PHONE_DIGITS, national_digits
from booking.services import history
from booking.services.identity import normalize_email
from booking.waitlist.models import WaitlistEntry

BATCH_SIZE = 1000
M = TypeVar("M", bound=Model)
ERASED_NAME = "[erased]"
REDACTED = "[erased]"
NOT_SENT = "Not sent: the client's personal data was erased."
DEFAULT_REASON = "Personal data erased on the client's request"
MIN_NAME_LENGTH = 3  # shorter names would redact ordinary words
REASON_FIELDS = ("cancellation_reason", "deletion_reason")
CLIENT_FIELDS = ("client_name", "client_email", "client_phone", "client_phone_e164")
HISTORY_REASON_FIELDS = (*REASON_FIELDS, "history_change_reason")
PHONE_SEPARATORS = r"[-\s()./]*"  # between a phone's digits; valid in Python and PostgreSQL


def _redaction_digits(phone: str) -> str:
    """The digits a text mentioning this number surely contains: its national digits.

    A number may be written with or without its country code, and with a trunk
    "0" instead, so only the national significant digits are certain.
    """
    return national_digits(phone)


@dataclass
class Erasure:
    """One erasure request: whose data, which bookings, and how to redact text."""

    actor: Actor
    reason: str
    context: RequestContext
    now: datetime
    dry_run: bool = False
    booking_ids: list[int] = field(default_factory=list)  # live and purged bookings
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    # Bookings whose live row or historical records changed (exports holding them go).
    touched: set[int] = field(default_factory=set)
    # Bookings given a historical record of the erasure (a dry run counts what it would add).
    recorded: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._patterns: list[re.Pattern[str]] = []

    def compile(self) -> None:
        texts = [email for email in self.emails if email]
        texts += [name for name in self.names if len(name.strip()) >= MIN_NAME_LENGTH]
        # As written in HTML email bodies too ("O&#x27;Brien").
        texts += [html.escape(text) for text in texts if html.escape(text) != text]
        literals = [re.escape(text) for text in sorted(set(texts), key=len, reverse=True)]
        self._patterns = [re.compile("|".join(literals), re.IGNORECASE)] if literals else []
        # Longest numbers first, so that one number's tail does not split another's match.
        for number in sorted({_redaction_digits(phone) for phone in self.phones}, key=len)[::-1]:
            if len(number) >= MIN_PHONE_DIGITS:
                self._patterns.append(re.compile(PHONE_SEPARATORS.join(number)))

    def redact(self, text: str) -> str:
        for pattern in self._patterns:
            text = pattern.sub(REDACTED, text)
        return text

    def text_mentions(self, field_name: str) -> Q:
        """Rows whose `field_name` may mention the email or phone (checked by `redact`)."""
        conditions = [Q(**{f"{field_name}__icontains": email}) for email in self.emails if email]
        for phone in self.phones:
            tail = national_digits(phone)[-MIN_PHONE_DIGITS:]
            if len(tail) == MIN_PHONE_DIGITS:
                conditions.append(Q(**{f"{field_name}__regex": PHONE_SEPARATORS.join(tail)}))
        return reduce(or_, conditions, Q(pk__in=[]))

    def batches(self, ids: Iterable[int]) -> Iterator[tuple[int, ...]]:
        return batched(sorted(ids), BATCH_SIZE)

    def locked(self, rows: QuerySet[M]) -> list[M]:
        """The rows to change, locked in primary-key order; read without a lock in a dry run."""
        if not self.dry_run:
            rows = rows.select_for_update(of=("self",))
        return list(rows.order_by("pk"))


@dataclass
class ErasureResult:
    booking_ids: list[int]
    changed: dict[str, int]  # step name → rows changed
    dry_run: bool = False

    def summary(self) -> str:
        verb = "Would erase" if self.dry_run else "Erased"
        counts = ", ".join(f"{count} {name}" for name, count in self.changed.items())
        return f"{verb} the personal data of {len(self.booking_ids)} bookings ({counts})."


def _redact_rows(erasure: Erasure, rows: Iterable[Any], fields: tuple[str, ...]) -> list[Any]:
    changed = []
    for row in rows:
        before = [getattr(row, name) for name in fields]
        for name in fields:
            value = getattr(row, name)
            if value:
                setattr(row, name, erasure.redact(value))
        if [getattr(row, name) for name in fields] != before:
            changed.append(row)
    return changed


def erase_bookings(erasure: Erasure) -> int:
    """Live rows: the client's bookings lose name, email and phone; any booking's
    reasons lose the client's details. Each changed booking gets a history record."""
    mentioned = BookingRequest.all_objects.filter(
        reduce(or_, (erasure.text_mentions(name) for name in REASON_FIELDS))
    ).values_list("pk", flat=True)
    targets = set(erasure.booking_ids)
    changed_count = 0
    for ids in erasure.batches(targets | set(mentioned)):
        locked = erasure.locked(BookingRequest.all_objects.filter(pk__in=ids))
        changed = {b.pk: b for b in _redact_rows(erasure, locked, REASON_FIELDS)}
        for booking in locked:
            if booking.pk in targets:
                booking.client_name, booking.client_email = ERASED_NAME, ""
                booking.client_phone = booking.client_phone_e164 = ""
                changed[booking.pk] = booking
        rows = list(changed.values())
        erasure.touched.update(changed)
        erasure.recorded.update(changed)
        changed_count += len(rows)
        if erasure.dry_run:
            continue
        for booking in rows:
            booking.updated_at = erasure.now
        BookingRequest.all_objects.bulk_update(
            rows,
            [*CLIENT_FIELDS, *REASON_FIELDS, "updated_at"],
            batch_size=BATCH_SIZE,
        )
        history.record_changes(
            rows,
            actor=erasure.actor,
            reason=erasure.reason,
            context=erasure.context,
            when=erasure.now,
        )
    return changed_count


def erase_booking_history(erasure: Erasure) -> int:
    """Historical records: the client's details and their own IP and user agent go;
    who acted, when and the status stay."""
    records = BookingRequest.history.model.objects
    changed = 0
    erasure.touched.update(erasure.booking_ids)
    for ids in erasure.batches(erasure.booking_ids):
        if erasure.dry_run:
            # What the update would match: the records there, and the erasure's own.
            changed += records.filter(id__in=ids).count() + len(erasure.recorded.intersection(ids))
            continue
        changed += records.filter(id__in=ids).update(
            client_name=ERASED_NAME, client_email="", client_phone="", client_phone_e164=""
        )
        # A change without a logged-in user that came from a request was the client's own.
        records.filter(id__in=ids, history_user__isnull=True, ip_address__isnull=False).update(
            ip_address=None, user_agent=""
        )
    mentions = reduce(or_, (erasure.text_mentions(name) for name in HISTORY_REASON_FIELDS))
    if erasure.names:
        by_name = reduce(
            or_,
            (
                Q(**{f"{reason}__icontains": name})
                for reason in HISTORY_REASON_FIELDS
                for name in erasure.names
                if len(name.strip()) >= MIN_NAME_LENGTH
            ),
            Q(pk__in=[]),
        )
        mentions |= Q(id__in=erasure.booking_ids) & by_name
    candidates = records.filter(mentions).order_by("history_id").iterator(chunk_size=BATCH_SIZE)
    for batch in batched(candidates, BATCH_SIZE):
        rows = _redact_rows(erasure, batch, HISTORY_REASON_FIELDS)
        if not erasure.dry_run:
            records.bulk_update(rows, list(HISTORY_REASON_FIELDS), batch_size=BATCH_SIZE)
        erasure.touched.update(row.id for row in rows)
        changed += len(rows)
    return changed


OUTBOX_TEXT_FIELDS = ("subject", "text_body", "html_body", "last_error")
# The free text a row still to be rendered carries (what staff wrote), by key.
RENDER_FIELDS = ("render__reason",)
UNSENT = (EmailStatus.QUEUED, EmailStatus.SENDING)


def _redact_render(erasure: Erasure, emails: Iterable[OutboxEmail]) -> list[OutboxEmail]:
    """Rows still to be rendered whose `render` mentions the client, redacted in place.

    The worker renders them later from it (and from historical records the erasure
    scrubs too), so what they will say loses the client here.
    """
    changed = []
    for email in emails:
        if not isinstance(email.render, dict):
            continue
        render = {
            key: erasure.redact(value) if isinstance(value, str) else value
            for key, value in email.render.items()
        }
        if render != email.render:
            email.render = render
            changed.append(email)
    return changed


def _empty(email: OutboxEmail, addresses: set[str]) -> None:
    """One of the client's own emails: nothing of theirs stays, and it is never sent."""
    if normalize_email(email.recipient) in addresses:
        email.recipient = ""
    if normalize_email(email.reply_to) in addresses:
        email.reply_to = ""
    email.subject = email.text_body = email.html_body = REDACTED
    email.render = None  # never rendered from the client's data now
    if email.status in UNSENT:
        email.status, email.last_error = EmailStatus.FAILED, NOT_SENT
        email.next_attempt_at = None


def erase_outbox(erasure: Erasure) -> int:
    """Emails: the client's own are emptied (and never sent), others lose mentions.

    The client's own: any email of their bookings (the id outlives a purge: the
    column has no constraint) or addressed to, or replying to, one of their
    addresses. They keep their kind, business, reference, status, attempts and
    times; the business's own address stays where it was the recipient. Others
    lose mentions in their text, and, while still to be rendered, in their `render`.
    """
    emails = OutboxEmail.objects
    addressed = reduce(
        or_,
        (Q(recipient__iexact=e) | Q(reply_to__iexact=e) for e in erasure.emails),
        Q(pk__in=[]),
    )
    own = set(emails.filter(addressed).values_list("pk", flat=True))
    for ids in erasure.batches(erasure.booking_ids):
        own.update(emails.filter(booking_id__in=ids).values_list("pk", flat=True))
    mentions = reduce(
        or_, (erasure.text_mentions(name) for name in (*OUTBOX_TEXT_FIELDS, *RENDER_FIELDS))
    )
    mentioned = set(emails.filter(mentions).values_list("pk", flat=True))
    addresses = {normalize_email(e) for e in erasure.emails}

    changed = 0
    for ids in erasure.batches(own | mentioned):
        locked = erasure.locked(emails.filter(pk__in=ids))
        redacted = _redact_rows(erasure, locked, OUTBOX_TEXT_FIELDS)
        by_pk = {email.pk: email for email in [*redacted, *_redact_render(erasure, locked)]}
        for email in locked:
            if email.pk in own:
                _empty(email, addresses)
                by_pk[email.pk] = email
        rows = list(by_pk.values())
        changed += len(rows)
        if erasure.dry_run:
            continue
        for email in rows:
            email.updated_at = erasure.now
        emails.bulk_update(
            rows,
            [
                "recipient",
                "reply_to",
                *OUTBOX_TEXT_FIELDS,
                "render",
                "status",
                "next_attempt_at",
                "updated_at",
            ],
            batch_size=BATCH_SIZE,
        )
    return changed


def _own_entries(erasure: Erasure) -> list[int]:
    """The client's waitlist entries: by email, by phone (any format), or by their booking."""
    candidates = WaitlistEntry.objects.filter(
        reduce(or_, (Q(client_email__iexact=e) for e in erasure.emails if e), Q(pk__in=[]))
        | erasure.text_mentions("client_phone")
        | Q(booking_id__in=erasure.booking_ids)
    )
    emails = {normalize_email(e) for e in erasure.emails if e}
    phones = {national_digits(p) for p in erasure.phones} - {""}
    booked = set(erasure.booking_ids)
    return [
        pk
        for pk, email, phone, booking_id in candidates.values_list(
            "pk", "client_email", "client_phone", "booking_id"
        )
        if normalize_email(email) in emails
        or (phone and national_digits(phone) in phones)
        or booking_id in booked
    ]


def erase_waitlist(erasure: Erasure) -> int:
    """Waitlist entries: the client's own lose name, email and phone, in the row and in
    every historical record; each gets a record of the erasure (who, why, from where)."""
    ids = _own_entries(erasure)
    records = WaitlistEntry.history.model.objects
    changed = 0
    for batch in erasure.batches(ids):
        locked = erasure.locked(WaitlistEntry.objects.filter(pk__in=batch))
        changed += len(locked) + records.filter(id__in=batch).count()
        if erasure.dry_run:
            continue
        records.filter(id__in=batch).update(
            client_name=ERASED_NAME, client_email="", client_phone=""
        )
        for entry in locked:
            entry.client_name, entry.client_email, entry.client_phone = ERASED_NAME, "", ""
        WaitlistEntry.objects.bulk_update(locked, ["client_name", "client_email", "client_phone"])
        WaitlistEntry.history.bulk_history_create(
            locked,
            update=True,
            default_user=erasure.actor,
            default_change_reason=erasure.reason,
            default_date=erasure.now,
            custom_historical_attrs=erasure.context.as_history_attrs(),
        )
    return changed


def erase_admin_log(erasure: Erasure) -> int:
    """The admin's log entries of the client's bookings name them (`str(booking)`)."""
    if not apps.is_installed("django.contrib.admin"):
        return 0
    from django.contrib.admin.models import LogEntry

    content_type = ContentType.objects.get_for_model(BookingRequest)
    changed = 0
    for ids in erasure.batches(erasure.booking_ids):
        entries = LogEntry.objects.filter(
            content_type=content_type, object_id__in=[str(pk) for pk in ids]
        )
        rows = _redact_rows(erasure, entries, ("object_repr",))
        if not erasure.dry_run:
            LogEntry.objects.bulk_update(rows, ["object_repr"], batch_size=BATCH_SIZE)
        changed += len(rows)
    return changed


def erase_export_files(erasure: Erasure) -> int:
    """Background exports holding a changed booking: rows now, files after commit."""
    if erasure.dry_run:
        return len(retention.jobs_holding(erasure.touched))
    return retention.delete_jobs_holding(erasure.touched)


ErasureStep = Callable[[Erasure], int]

ERASURE_STEPS: dict[str, ErasureStep] = {
    "bookings": erase_bookings,
    "historical records": erase_booking_history,
    "emails": erase_outbox,
    "waitlist entries and their records": erase_waitlist,
    "admin log entries": erase_admin_log,
    "export files": erase_export_files,
}
"""One step per table holding client data, run in this order in one transaction."""
