"""What each email says: outbox rows built from a booking and the templates.

Every email has a subject, a plain-text body and an HTML body, rendered from
`booking/emails/<name>_subject.txt`, `<name>.txt` and `<name>.html` (the app's
templates; a project overrides one by putting a file of the same name in its
own `templates/` directory, which Django searches first). Times are shown in
the business's time zone. A template that fails to render is logged and
replaced by a built-in plain body, so a broken override never stops an email
(nor the state change that queues it).

A client's own cancellation and a link request are rendered when they are
queued; a bulk change's rows are rendered by the worker before it sends them
(`booking.emails.rendering`). Either way the email keeps its own copy of what
it says, so it can still be sent, shown and audited after its booking was purged.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import dateformat, timezone, translation
from django.utils.html import escape, linebreaks

from booking import clock
from booking.emails.models import EmailKind, OutboxEmail
from booking.models import BookingRequest, Session
from booking.services import charges, links, rules
from booking.services.policy import terms_of
from booking.waitlist.models import WaitlistEntry

logger = logging.getLogger(__name__)

TEMPLATES = {
    EmailKind.CLIENT_CANCELLED: "booking/emails/booking_cancelled",
    EmailKind.STAFF_CANCELLED: "booking/emails/booking_cancelled",
    EmailKind.SESSION_CANCELLED: "booking/emails/booking_cancelled",
    EmailKind.BUSINESS_NOTICE: "booking/emails/business_cancellation_notice",
    EmailKind.REMOVED: "booking/emails/booking_removed",
    EmailKind.MOVED: "booking/emails/booking_moved",
    EmailKind.CANCEL_LINK: "booking/emails/cancellation_link",
    EmailKind.NO_SHOW_FEE: "booking/emails/no_show_fee",
    EmailKind.RESTORED: "booking/emails/booking_restored",
    EmailKind.WAITLIST_OFFER: "booking/emails/waitlist_offer",
    EmailKind.WAITLIST_BOOKED: "booking/emails/waitlist_booked",
    EmailKind.WAITLIST_CLOSED: "booking/emails/waitlist_closed",
}

HEADLINES = {
    EmailKind.CLIENT_CANCELLED: "you cancelled your booking",
    EmailKind.STAFF_CANCELLED: "your booking was cancelled",
    EmailKind.SESSION_CANCELLED: "your session was cancelled",
    EmailKind.BUSINESS_NOTICE: "a client cancelled their booking",
    EmailKind.REMOVED: "your booking was removed",
    EmailKind.MOVED: "your booking was moved",
    EmailKind.CANCEL_LINK: "your cancellation link",
    EmailKind.NO_SHOW_FEE: "a no-show fee for your booking",
    EmailKind.RESTORED: "your place is back",
    EmailKind.WAITLIST_OFFER: "a spot is free for you",
    EmailKind.WAITLIST_BOOKED: "you're booked from the waitlist",
    EmailKind.WAITLIST_CLOSED: "the session you were waiting for is cancelled",
}

# The emails that may mention the fee policy: those about the client's own
# cancellation. A booking the studio cancelled or removed never owes a fee.
CLIENT_FEE_KINDS = frozenset(
    {EmailKind.CLIENT_CANCELLED, EmailKind.BUSINESS_NOTICE, EmailKind.CANCEL_LINK}
)

TIME_FORMAT = "l j F Y, H:i"
SUBJECT_MAX_LENGTH = 255


def build(
    booking: BookingRequest,
    kind: EmailKind,
    *,
    dedupe_key: str,
    batch: uuid.UUID,
    now: datetime,
    purged: bool = False,
    reason: str | None = None,
    previous: Session | None = None,
) -> OutboxEmail:
    """An unsaved outbox row for one email about `booking` (its session, business and
    settings loaded, as the lifecycle's locked rows are)."""
    business = booking.session.business
    to_business = kind == EmailKind.BUSINESS_NOTICE
    context = email_context(booking, kind, now=now, purged=purged, reason=reason)
    if previous is not None:  # a move: the session it was in
        context["previous_title"] = previous.title
        context["previous_when"] = local_time(previous.starts_at, business.timezone)
    subject, text_body, html_body = render(kind, context)
    return OutboxEmail(
        kind=kind,
        booking=booking,
        business=business,
        reference=booking.reference,
        recipient=business.contact_email if to_business else booking.client_email,
        reply_to=booking.client_email if to_business else business.contact_email,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        dedupe_key=dedupe_key[:64],
        batch=batch,
        created_at=now,
        updated_at=now,
        next_attempt_at=now,
    )


def build_offer(
    entry: WaitlistEntry, *, dedupe_key: str, batch: uuid.UUID, now: datetime
) -> OutboxEmail:
    """An unsaved outbox row offering a freed spot to a waitlist entry (session and
    business loaded). It names the entry's reference: there is no booking yet."""
    assert entry.offer_expires_at is not None  # an offer always has its end
    claim_url = links.claim_url(entry)
    expires_when = local_time(entry.offer_expires_at, entry.session.business.timezone)
    email = _to_waitlist_client(
        entry, EmailKind.WAITLIST_OFFER, {"expires_when": expires_when, "claim_url": claim_url},
        dedupe_key=dedupe_key, batch=batch, now=now,
    )  # fmt: skip
    if claim_url not in email.text_body:  # a failed or careless override must still carry it
        email.text_body += f"\nTake the spot or pass it on: {claim_url}\n"
    return email


def build_waitlist_closed(
    entry: WaitlistEntry, *, reason: str, dedupe_key: str, batch: uuid.UUID, now: datetime
) -> OutboxEmail:
    """An unsaved outbox row telling a waitlist entry's client that the business cancelled
    the session they were waiting for (session and business loaded; no booking to name)."""
    return _to_waitlist_client(entry, EmailKind.WAITLIST_CLOSED, {"reason": reason},
                               dedupe_key=dedupe_key, batch=batch, now=now)  # fmt: skip


def _to_waitlist_client(
    entry: WaitlistEntry,
    kind: EmailKind,
    extra: dict[str, str],
    *,
    dedupe_key: str,
    batch: uuid.UUID,
    now: datetime,
) -> OutboxEmail:
    """An unsaved outbox row of `kind` to a waitlist entry's client, its context the
    session's and business's plus `extra` (no booking, so no fee or cancel link)."""
    session = entry.session
    business = session.business
    context = {
        "kind": str(kind),
        "headline": HEADLINES[kind],
        "reference": entry.reference,
        "client_name": entry.client_name,
        "session_title": session.title,
        "timezone_name": business.timezone,
        "when": local_time(session.starts_at, business.timezone),
        "when_short": local_time(session.starts_at, business.timezone, "j M H:i"),
        "reason": "",
        "fee_words": "",
        "fee_policy": "",
        "cancel_url": "",
        "business_name": business.name,
        "business_email": business.contact_email,
        "business_phone": business.contact_phone,
        "site_url": settings.SITE_URL,
        **extra,
    }
    subject, text_body, html_body = render(kind, context)
    return OutboxEmail(
        kind=kind,
        business=business,
        reference=entry.reference,
        recipient=entry.client_email,
        reply_to=business.contact_email,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        dedupe_key=dedupe_key[:64],
        batch=batch,
        created_at=now,
        updated_at=now,
        next_attempt_at=now,
    )


def email_context(
    booking: BookingRequest,
    kind: EmailKind,
    *,
    now: datetime,
    purged: bool = False,
    reason: str | None = None,
) -> dict[str, Any]:
    """Everything a template may show, as plain values (no lazy queries in templates)."""
    session = booking.session
    business = session.business
    removed = kind == EmailKind.REMOVED
    if reason is None:
        reason = booking.deletion_reason if removed else booking.cancellation_reason
    cancellable = not removed and rules.check_client_cancel(booking, now=now) is None
    deadline = rules.cancellation_deadline(booking)
    if kind == EmailKind.CANCEL_LINK:
        # What cancelling now would cost: the page states the same before the click.
        fee_words = charges.cancellation_quote(booking, now=now).words + " if you cancel now"
    elif kind in CLIENT_FEE_KINDS or (booking.fee_amount or 0) > 0:
        fee_words = "" if removed else charges.fee_words(booking)
    else:  # the studio cancelled and charged nothing: no word of fees
        fee_words = ""
    return {
        "kind": str(kind),
        "headline": HEADLINES[kind],
        "by_client": kind in (EmailKind.CLIENT_CANCELLED, EmailKind.BUSINESS_NOTICE),
        # The business cancelled the whole session: the wording says so.
        "session_cancelled": kind == EmailKind.SESSION_CANCELLED,
        "purged": purged,
        "reference": booking.reference,
        "client_name": booking.client_name,
        "client_email": booking.client_email,
        "client_phone": booking.client_phone,
        "status": booking.get_status_display(),
        "session_title": session.title,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "timezone_name": business.timezone,
        # Pre-formatted in the business's time zone (the `date` filter, which an
        # override may use on starts_at, costs more than the rest of an email).
        "when": local_time(session.starts_at, business.timezone),
        "deadline_when": local_time(deadline, business.timezone),
        "when_short": local_time(session.starts_at, business.timezone, "j M H:i"),
        "reason": reason,
        # Fees are the client's concern only about their own cancellation (or a fee
        # staff charged); never when the studio cancelled or removed the booking.
        "fee_policy": terms_of(booking).cancellation_fee_policy if kind in CLIENT_FEE_KINDS else "",
        "fee_words": fee_words,
        "deadline": deadline,
        "business_name": business.name,
        "business_email": business.contact_email,
        "business_phone": business.contact_phone,
        "cancel_url": links.cancel_url(booking) if cancellable else "",
        "site_url": settings.SITE_URL,
    }


def render(kind: EmailKind, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) in the business's time zone, each with a built-in fallback."""
    base = TEMPLATES[kind]
    with timezone.override(context["timezone_name"]):
        subject = _render(f"{base}_subject.txt", context)
        text = _render(f"{base}.txt", context)
        html = _render(f"{base}.html", context)
    subject = " ".join((subject or fallback_subject(context)).split())[:SUBJECT_MAX_LENGTH]
    text = text or fallback_text(context)
    html = html or fallback_html(text)
    return subject, text.strip() + "\n", html


def _render(template_name: str, context: dict[str, Any]) -> str | None:
    try:
        return render_to_string(template_name, context)
    # A project's override is code we have not seen: whatever it raises (a syntax
    # error, a missing template, a failing filter) must cost the email its
    # styling, never the booking's state change.
    except Exception:
        logger.exception(
            "Email template %s failed to render; using the built-in body", template_name
        )
        return None


def local_time(moment: datetime, timezone_name: str, pattern: str = TIME_FORMAT) -> str:
    """E.g. "Tuesday 5 March 2030, 18:00" in the business's time zone."""
    return _local_time(moment, timezone_name, pattern, translation.get_language())


# Formatting is slow (localised names); a bulk action's bookings share few sessions.
@lru_cache(maxsize=512)
def _local_time(moment: datetime, timezone_name: str, pattern: str, language: str | None) -> str:
    return dateformat.format(clock.localtime(moment, ZoneInfo(timezone_name)), pattern)


def fallback_subject(context: dict[str, Any]) -> str:
    return f"{context['business_name']}: {context['headline']} ({context['reference']})"


def fallback_text(context: dict[str, Any]) -> str:
    """The facts every email carries, without a template."""
    lines = [
        f"{context['business_name']}: {context['headline']}.",
        "",
        f"Booking reference: {context['reference']}",
        f"Session: {context['session_title']}",
        f"Starts: {context['when']} ({context['timezone_name']})",
    ]
    if context.get("expires_when"):  # a waitlist offer
        lines.append(f"Offer open until: {context['expires_when']} ({context['timezone_name']})")
    if context["kind"] == EmailKind.BUSINESS_NOTICE:
        lines.append(f"Client: {context['client_name']} <{context['client_email']}>")
    if context["reason"]:
        lines.append(f"Reason: {context['reason']}")
    if context["fee_words"]:
        lines.append(f"Fee: {context['fee_words']}")
    if context["fee_policy"]:
        lines.append(f"Cancellation fee policy: {context['fee_policy']}")
    if context["cancel_url"]:
        lines += ["", f"To cancel this booking: {context['cancel_url']}"]
    contacts = " / ".join(c for c in (context["business_email"], context["business_phone"]) if c)
    if contacts:
        lines += ["", f"Questions? Contact {context['business_name']}: {contacts}"]
    return "\n".join(lines) + "\n"


def fallback_html(text: str) -> str:
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8"></head>'
        f"<body>{linebreaks(escape(text))}</body></html>\n"
    )
