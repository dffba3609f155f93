"""A client's answer to an offer: claim the spot, or pass it on.

Both take the entry's reference and the signed link's token (proof that the
client received the offer), and run in one transaction: the session is locked
first (as everywhere), then the entry; the offer is re-checked under the locks.
Both are idempotent: a second claim of a claimed offer returns it unchanged, a
second decline likewise; the `Answered` they return says which, decided under
the locks (so two clicks at once get one "done" and one "already done"). An
offer found lapsed is marked expired and its spot passed on there and then,
before the refusal is raised.

`find_offer` and `describe` only read: the claim page's GET (which link
scanners fetch) uses them and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from booking.audit import SYSTEM, RequestContext
from booking.emails.messages import local_time
from booking.models import Session, SessionStatus
from booking.services import exceptions as exc
from booking.services import links, notifications
from booking.services.rules import Refusal
from booking.services.text import normalize_reference
from booking.services.waitlist import spots
from booking.services.waitlist.offers import book, fill, record
from booking.waitlist.models import WaitlistEntry, WaitlistStatus

NOT_FOUND = "no waitlist offer has this reference"
ENDED = {
    WaitlistStatus.WAITING: "no spot has been offered to you yet",
    WaitlistStatus.EXPIRED: "this offer has ended and the spot was passed on",
    WaitlistStatus.DECLINED: "you passed this spot on",
    WaitlistStatus.REMOVED: "this waitlist entry was removed by the business",
    WaitlistStatus.CLAIMED: "you have already taken this spot",
}


@dataclass(frozen=True)
class Answered:
    """What `claim` / `decline` did: the entry, and whether this call changed it."""

    entry: WaitlistEntry
    changed: bool


def find_offer(reference: object) -> WaitlistEntry:
    """The entry with this reference (session, business and settings loaded), or 404.

    Reads only: nothing is locked or changed."""
    ref = normalize_reference(reference)
    entry = (
        WaitlistEntry.objects.select_related("session__business__booking_settings", "booking")
        .filter(reference=ref)
        .first()
        if ref
        else None
    )
    if entry is None:
        raise exc.BookingNotFound(NOT_FOUND)
    return entry


@dataclass(frozen=True)
class OfferSummary:
    """What the claim page shows of an entry, in the business's time zone."""

    reference: str
    client_name: str
    status: str  # a WaitlistStatus value
    session_title: str
    when: str
    timezone_name: str
    expires_when: str  # "" unless offered
    can_answer: bool  # an open offer: claim and decline are possible now
    refusal: str  # why not, when not
    booking_reference: str  # the booking a claim created, else ""
    business_name: str
    business_email: str
    business_phone: str


def describe(entry: WaitlistEntry, *, now: datetime | None = None) -> OfferSummary:
    """The claim page's view of an entry found by `find_offer` (reads only)."""
    now = now or timezone.now()
    session = entry.session
    business = session.business
    refusal = check_offer(entry, session, now=now)
    expires = entry.offer_expires_at
    return OfferSummary(
        reference=entry.reference,
        client_name=entry.client_name,
        status=entry.status,
        session_title=session.title,
        when=local_time(session.starts_at, business.timezone),
        timezone_name=business.timezone,
        expires_when=local_time(expires, business.timezone) if expires else "",
        can_answer=refusal is None,
        refusal=refusal.message if refusal else "",
        booking_reference=entry.booking.reference if entry.booking else "",
        business_name=business.name,
        business_email=business.contact_email,
        business_phone=business.contact_phone,
    )


def check_offer(entry: WaitlistEntry, session: Session, *, now: datetime) -> Refusal | None:
    """May the entry's client claim or decline its offer now, and if not, why?"""
    if entry.status != WaitlistStatus.OFFERED:
        return Refusal(ENDED[WaitlistStatus(entry.status)], exc.InvalidTransition)
    if not entry.offer_is_open(now=now):
        return Refusal(ENDED[WaitlistStatus.EXPIRED], exc.InvalidTransition)
    if session.status == SessionStatus.CANCELLED:
        return Refusal("the session was cancelled", exc.InvalidTransition)
    if session.starts_at <= now:
        return Refusal("the session has already started", exc.InvalidTransition)
    return None


def _lock(reference: object, token: object) -> tuple[WaitlistEntry, Session]:
    """The entry and its session, locked (session first); the token checked."""
    found = find_offer(reference)
    session = spots.lock_sessions([found.session_id])[found.session_id]
    entry = WaitlistEntry.objects.select_for_update(of=("self",)).get(pk=found.pk)
    WaitlistEntry.session.field.set_cached_value(entry, session)
    if links.check_claim_token(token, entry) is not links.TokenCheck.VALID:
        raise exc.IdentityNotVerified("this link is not valid for this offer")
    return entry, session


def _expire_lapsed(entry: WaitlistEntry, session: Session, *, context: RequestContext,
                   now: datetime) -> None:  # fmt: skip
    if entry.status == WaitlistStatus.OFFERED and not entry.offer_is_open(now=now):
        record(entry, {"status": WaitlistStatus.EXPIRED}, actor=None,
               reason="the offer ended unclaimed", context=context)  # fmt: skip
        fill(session, now=now, actor=None, context=context)


def claim(
    reference: object,
    *,
    token: object,
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> Answered:
    """Take an offered spot: an approved booking (new reference, emailed) for the client.

    Under the session's lock the offer must still be open and the session must
    have room besides the spot this offer holds; otherwise a refusal (409) says
    why. A claimed entry holds its booking (`entry.booking`). Inverse: the client
    cancels the booking (which offers the spot to the next entry).
    """
    now = now or timezone.now()
    with transaction.atomic():
        entry, session = _lock(reference, token)
        if entry.status == WaitlistStatus.CLAIMED:
            return Answered(entry, changed=False)  # a double submit: already done
        refusal = check_offer(entry, session, now=now)
        if refusal is None and spots.room_in(session, now=now, excluding=entry) < 1:
            refusal = Refusal("the session is full", exc.InvalidTransition)
        if refusal is None:
            booking = book(entry, session, reason="booked from the waitlist: claimed",
                           context=context, now=now)  # fmt: skip
            record(entry, {"status": WaitlistStatus.CLAIMED, "booking": booking}, actor=None,
                   reason="claimed the offered spot", context=context)  # fmt: skip
            notifications.waitlist_bookings([entry], now=now)
            return Answered(entry, changed=True)
        _expire_lapsed(entry, session, context=context, now=now)
    raise refusal.error(refusal.message)


def decline(
    reference: object,
    *,
    token: object,
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> Answered:
    """Pass an offered spot on: the entry is `declined` and, in the same transaction,
    the spot is offered to the next waiting entry. A declined entry leaves the
    waitlist for good (staff may add the client again)."""
    now = now or timezone.now()
    with transaction.atomic():
        entry, session = _lock(reference, token)
        if entry.status == WaitlistStatus.DECLINED:
            return Answered(entry, changed=False)  # a double submit: already done
        refusal = check_offer(entry, session, now=now)
        if refusal is None:
            record(entry, {"status": WaitlistStatus.DECLINED}, actor=None,
                   reason="passed the offered spot on", context=context)  # fmt: skip
            fill(session, now=now, actor=None, context=context)
            return Answered(entry, changed=True)
        _expire_lapsed(entry, session, context=context, now=now)
    raise refusal.error(refusal.message)
