"""Rendering queued emails outside the state change's transaction.

A bulk state change (staff cancelling, deleting, restoring or moving bookings,
marking no-shows) writes its outbox rows in its transaction, as always (the row
exists exactly when the change was committed, and its uniqueness rule drops a
duplicate), but without their subject and bodies: rendering 10 000 emails
there would hold the bookings' row locks for seconds. Such a row carries
`render`: what the templates need beyond the booking's state (the reason staff
gave, a move's previous session). The worker renders it when it claims the row
(`render_pending`), before sending, and stores what it sent; the row then looks
like any other. A crash between the commit and the worker changes nothing: the
row is queued, and the sweep hands it to a worker again.

The booking is rendered as it stood when the email was queued: its historical
record of that moment (every change writes one in its transaction; a purge
writes the booking's final one before deleting it), with its session and
business as they are now. With history switched off, the booking as it stands.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field

from booking.emails import messages
from booking.emails.models import EmailKind, OutboxEmail
from booking.models import BookingRequest, Session


def render_pending(emails: Sequence[OutboxEmail]) -> list[OutboxEmail]:
    """Render the rows among `emails` that wait for it, store what they say, and
    return the rows to send: all but those whose rendering was withdrawn meanwhile.

    Only an erasure withdraws it (it empties the client's own rows and clears
    their `render`): such a row, claimed before the erasure and rendered here
    perhaps from records read before it committed, is neither stored nor sent.
    """
    pending = [email for email in emails if email.render is not None]
    if not pending:
        return list(emails)
    _render(pending)
    withdrawn = {email.pk for email in pending} - _store(pending)
    return [email for email in emails if email.pk not in withdrawn]


def preview(email: OutboxEmail) -> OutboxEmail:
    """The email as the worker would write it now, stored nowhere (for the admin's
    page of one email still to be rendered); the email itself if it is written."""
    if email.render is None:
        return email
    draft = copy.copy(email)
    _render([draft])
    return draft


def _render(pending: list[OutboxEmail]) -> None:
    """Write each row's subject and bodies in memory (and clear its `render`)."""
    states = _bookings_as_queued(pending)
    for email in pending:
        kind, params = EmailKind(email.kind), email.render or {}
        booking = states.get(email.pk)
        if booking is None:  # neither the booking nor its history is left: the built-in body
            context = _bare_context(email)
            text = messages.fallback_text(context)
            email.subject = messages.fallback_subject(context)
            email.text_body, email.html_body = text, messages.fallback_html(text)
        else:
            context = messages.email_context(
                booking,
                kind,
                now=email.created_at,
                reason=params.get("reason"),
                purged=bool(params.get("purged")),
            )
            context.update({k: v for k, v in params.items() if k.startswith("previous_")})
            email.subject, email.text_body, email.html_body = messages.render(kind, context)
        email.render = None


def _bookings_as_queued(emails: list[OutboxEmail]) -> dict[int, BookingRequest]:
    """Each email's booking as it stood when the email was queued, its session and
    business (with settings) attached; keyed by the email's id."""
    ids = {email.booking_id for email in emails if email.booking_id is not None}
    current = BookingRequest.all_objects.in_bulk(ids)
    history = _history(emails, ids)
    states: dict[int, BookingRequest] = {}
    for email in emails:
        if email.booking_id is None:
            continue
        records = [
            r for r in history.get(email.booking_id, []) if r.history_date <= email.created_at
        ]
        now = current.get(email.booking_id)
        booking = _from_record(records[-1], now) if records else now
        if booking is not None:
            states[email.pk] = booking
    sessions = Session.objects.select_related("business__booking_settings").in_bulk(
        {booking.session_id for booking in states.values()}
    )
    for pk, booking in list(states.items()):
        if booking.session_id not in sessions:
            del states[pk]
            continue
        BookingRequest.session.field.set_cached_value(booking, sessions[booking.session_id])
    return states


def _from_record(record: Any, current: BookingRequest | None) -> BookingRequest:
    """The booking as its historical record has it (the record's tracked fields; the
    terms booked under, which history leaves out and which never change, from the
    booking while it exists). Built here rather than by simple-history's `instance`,
    which would fetch the left-out field with one query per record."""
    tracked = type(record).tracked_fields
    booking = BookingRequest(**{field.attname: getattr(record, field.attname) for field in tracked})
    booking.policy_snapshot = current.policy_snapshot if current is not None else None
    booking._state.adding = False
    return booking


def _history(emails: list[OutboxEmail], ids: set[int]) -> dict[int, list[Any]]:
    """The bookings' historical records up to the latest email's time, oldest first."""
    by_booking: dict[int, list[Any]] = {}
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True) or not ids:
        return by_booking
    latest = max(email.created_at for email in emails)
    records = BookingRequest.history.filter(id__in=ids, history_date__lte=latest)
    for record in records.order_by("id", "history_date", "history_id"):
        by_booking.setdefault(record.id, []).append(record)
    return by_booking


def _bare_context(email: OutboxEmail) -> dict[str, Any]:
    """What the row itself knows, for the built-in body (its booking and session are gone)."""
    business = email.business
    return {
        "kind": str(email.kind), "headline": messages.HEADLINES[EmailKind(email.kind)],
        "reference": email.reference, "business_name": business.name,
        "business_email": business.contact_email, "business_phone": business.contact_phone,
        "timezone_name": business.timezone, "session_title": "", "when": "",
        "reason": (email.render or {}).get("reason") or "", "fee_words": "", "fee_policy": "",
        "cancel_url": "", "client_name": "", "client_email": email.recipient,
    }  # fmt: skip


def _column(name: str) -> str:
    return str(cast(Field, OutboxEmail._meta.get_field(name)).column)


def _store(emails: list[OutboxEmail]) -> set[int]:
    """Save the rendered subject and bodies where the row still waits for them; their ids.

    The rows are locked first, so an erasure running now either finished (their
    `render` is cleared: they are left alone) or waits for this to commit.
    """
    meta, quote = OutboxEmail._meta, connection.ops.quote_name
    columns = [quote(_column(name)) for name in ("subject", "text_body", "html_body")]
    render = quote(_column("render"))
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {' = %s, '.join(columns)} = %s, {render} = NULL "
        f"WHERE id = %s AND {render} IS NOT NULL"
    )
    with transaction.atomic():
        waiting = set(
            OutboxEmail.objects.filter(pk__in=[e.pk for e in emails], render__isnull=False)
            .select_for_update()
            .values_list("pk", flat=True)
        )
        with connection.cursor() as cursor:
            rows = [(e.subject, e.text_body, e.html_body, e.pk) for e in emails if e.pk in waiting]
            cursor.executemany(sql, rows)
    return waiting
