"""Staff's hand on the waitlist: add a client, remove entries, offer a spot now.

Each call is one transaction that locks the sessions first, then the entries
(the order every path follows), is scoped to the actor's businesses (another
business's session or entry is "not yours", as an unknown one is), checks the
actor's permission first, and records each change with user, reason, IP and
user agent. `actor=None` is the system (commands).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from booking.actors import Actor
from booking.audit import SYSTEM, RequestContext
from booking.models import BookingRequest, Session
from booking.services import exceptions as exc
from booking.services import notifications
from booking.services.text import clean_reason, storable
from booking.services.waitlist import spots
from booking.services.waitlist.offers import enrol, fill, offer, record
from booking.waitlist.models import WaitlistEntry, WaitlistMode, WaitlistStatus

NAME_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 254
PHONE_MAX_LENGTH = 40


def permit(actor: Actor, permission: str, *, to: str) -> None:
    """Staff need `permission`; an anonymous user is refused; None is the system."""
    if actor is None:
        return
    if not actor.is_authenticated:
        raise exc.NotPermitted("log in to manage the waitlist")
    if not actor.has_perm(permission):
        raise exc.NotPermitted(f"you do not have permission to {to}")


def _text(name: str, value: object, *, limit: int, required: bool) -> str:
    if not isinstance(value, str):
        raise exc.InvalidInput(f"{name} must be a string")
    value = storable(name, value).strip()
    if required and not value:
        raise exc.InvalidInput(f"{name} is required")
    if len(value) > limit:
        raise exc.InvalidInput(f"{name} is longer than {limit} characters")
    return value


def _email(value: object) -> str:
    email = _text("client_email", value, limit=EMAIL_MAX_LENGTH, required=True)
    try:
        validate_email(email)
    except ValidationError:
        raise exc.InvalidInput("client_email is not a valid email address") from None
    return email


def _session(session: object, actor: Actor) -> Session:
    """The actor's session, locked (refusals: `why_not_join`)."""
    pk = session.pk if isinstance(session, Session) else session
    if isinstance(pk, bool) or not isinstance(pk, int) or pk < 1:
        raise exc.InvalidInput("session must be a session's id")
    if actor is not None and not Session.objects.for_user(actor).filter(pk=pk).exists():
        raise exc.InvalidInput("the session does not exist or is not yours")
    locked = spots.lock_sessions([pk]).get(pk)
    if locked is None:
        raise exc.InvalidInput("the session does not exist or is not yours")
    return locked


def why_not_join(session: Session, email: str, *, now: datetime) -> str:
    """Why this client may not join the session's waitlist now ("" if they may).

    Reads only: the admin's add form shows it before saving; `join` asks again
    under the session's lock."""
    if session.business.booking_settings.waitlist_mode == WaitlistMode.OFF:
        return "this business's waitlist is off"
    if session.is_cancelled:
        return "the session is cancelled"
    if session.starts_at <= now:
        return "the session has already started"
    if WaitlistEntry.objects.filter(session=session, client_email__iexact=email).open().exists():
        return "this client is already on the session's waitlist"
    if BookingRequest.objects.filter(session=session, client_email__iexact=email).active().exists():
        return "this client is already booked in the session"
    return ""


REFUSALS: dict[str, type[exc.BookingError]] = {
    "this business's waitlist is off": exc.PolicyForbids,
}


def join(
    session: object,
    *,
    client_name: object,
    client_email: object,
    client_phone: object = "",
    actor: Actor,
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> WaitlistEntry:
    """Add a client to a session's waitlist (permission `add_waitlistentry`).

    Refused for a client already waiting (or offered) there or already booked
    there, so a double submit adds one entry. Where the session has a free spot
    that no one holds, the new entry is offered it (or booked, in `auto` mode)
    at once, in the same transaction: `entry.status` says which.
    """
    permit(actor, "booking.add_waitlistentry", to="add clients to the waitlist")
    name = _text("client_name", client_name, limit=NAME_MAX_LENGTH, required=True)
    email = _email(client_email)
    phone = _text("client_phone", client_phone, limit=PHONE_MAX_LENGTH, required=False)
    now = now or timezone.now()
    with transaction.atomic():
        locked = _session(session, actor)
        refusal = why_not_join(locked, email, now=now)
        if refusal:
            raise REFUSALS.get(refusal, exc.InvalidTransition)(refusal)
        entry = _insert(locked, name=name, email=email, phone=phone,
                        actor=actor, context=context, now=now)  # fmt: skip
        fill(locked, now=now, actor=None, context=context)
    entry.refresh_from_db()
    return entry


def _insert(session: Session, *, name: str, email: str, phone: str, actor: Actor,
            context: RequestContext, now: datetime) -> WaitlistEntry:  # fmt: skip
    """A new entry with its "+" record; a drawn reference already taken draws again."""
    for attempt in range(5):
        entry = WaitlistEntry(session=session, client_name=name, client_email=email,
                              client_phone=phone, created_at=now)  # fmt: skip
        entry._history_user = actor
        entry._change_reason = "added to the waitlist"
        entry._history_context = context
        try:
            with transaction.atomic():
                entry.save()
            return entry
        except IntegrityError:
            if attempt == 4 or not WaitlistEntry.objects.filter(reference=entry.reference).exists():
                raise
    raise AssertionError("unreachable")


@dataclass
class EntriesResult:
    """What a staff call on entries did: those it changed, and those skipped and why."""

    verb: str
    done: list[WaitlistEntry] = field(default_factory=list)
    skipped: list[tuple[WaitlistEntry, str]] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{len(self.done)} {self.verb}"
        if self.skipped:
            reasons = Counter(reason for _, reason in self.skipped)
            words = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common())
            text += f"; {len(self.skipped)} skipped: {words}"
        return text[0].upper() + text[1:]


def _locked_entries(entries: QuerySet[WaitlistEntry] | Iterable[int], actor: Actor,
                    ) -> tuple[dict[int, Session], list[WaitlistEntry]]:  # fmt: skip
    if isinstance(entries, QuerySet):
        ids = sorted(entries.order_by().values_list("pk", flat=True))
    else:
        ids = sorted({int(pk) for pk in entries})
    rows = WaitlistEntry.objects.filter(pk__in=ids)
    if actor is not None:
        rows = rows.for_user(actor)
    sessions = spots.lock_sessions(rows.values_list("session_id", flat=True).distinct())
    locked = list(
        rows.filter(session__in=list(sessions)).select_for_update(of=("self",)).order_by("pk")
    )
    for entry in locked:
        WaitlistEntry.session.field.set_cached_value(entry, sessions[entry.session_id])
    return sessions, locked


def remove_entries(
    entries: QuerySet[WaitlistEntry] | Iterable[int],
    *,
    actor: Actor,
    reason: object = "",
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> EntriesResult:
    """Take open entries (waiting or offered) off the waitlist (permission
    `change_waitlistentry`); a removed offer's spot goes to the next entry."""
    permit(actor, "booking.change_waitlistentry", to="remove waitlist entries")
    reason = clean_reason(reason)
    now = now or timezone.now()
    result = EntriesResult("removed")
    with transaction.atomic():
        sessions, locked = _locked_entries(entries, actor)
        for entry in locked:
            if not entry.is_open:
                result.skipped.append((entry, f"already {entry.get_status_display().lower()}"))
                continue
            record(entry, {"status": WaitlistStatus.REMOVED}, actor=actor,
                   reason=reason or "removed from the waitlist", context=context)  # fmt: skip
            result.done.append(entry)
        for session in sessions.values():
            fill(session, now=now, actor=None, context=context)
    return result


def offer_now(
    entries: QuerySet[WaitlistEntry] | Iterable[int],
    *,
    actor: Actor,
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> EntriesResult:
    """Offer a free spot to these waiting entries now, out of turn (permission
    `offer_waitlistentry`); in `auto` mode, book them. Each needs a spot that no
    booking or open offer holds; the rest are skipped with the reason."""
    permit(actor, "booking.offer_waitlistentry", to="offer spots to waitlist entries")
    now = now or timezone.now()
    result = EntriesResult("offered")
    with transaction.atomic():
        _, locked = _locked_entries(entries, actor)
        for entry in locked:
            session = entry.session
            why = _why_not_offer(entry, session, now=now)
            if why:
                result.skipped.append((entry, why))
                continue
            act = (
                enrol
                if session.business.booking_settings.waitlist_mode == WaitlistMode.AUTO
                else offer
            )
            act([entry], session, reason="offered by staff", actor=actor, context=context, now=now)
            result.done.append(entry)
    return result


def _why_not_offer(entry: WaitlistEntry, session: Session, *, now: datetime) -> str:
    if entry.status != WaitlistStatus.WAITING:
        return f"already {entry.get_status_display().lower()}"
    if not spots.takes_offers(session, now=now):
        return "the session takes no offers (cancelled, started, or the waitlist is off)"
    if spots.room_in(session, now=now) < 1:
        return "the session has no free spot"
    return ""


def close_waitlists(
    sessions: Iterable[int],
    *,
    actor: Actor,
    reason: str,
    context: RequestContext,
    notify_client: bool = True,
    now: datetime | None = None,
) -> int:
    """Take the open entries of cancelled sessions (locked by the caller) off the
    waitlist (`removed`, the cancellation's reason recorded) and, unless
    `notify_client` is off, email each client that the class is cancelled (in the
    caller's transaction, through the outbox); returns how many. Part of a
    session's cancellation, which its own permission guards. Entries already closed
    are left alone, so running it again changes and sends nothing more."""
    entries = WaitlistEntry.objects.filter(session_id__in=list(sessions)).open()
    locked = list(
        entries.select_related("session__business__booking_settings")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    for entry in locked:
        record(entry, {"status": WaitlistStatus.REMOVED}, actor=actor,
               reason=f"the session was cancelled: {reason}"[:1000], context=context)  # fmt: skip
    if notify_client and locked:
        notifications.waitlist_closed(locked, reason=reason, now=now or timezone.now())
    return len(locked)


@dataclass(frozen=True)
class QueueCounts:
    booked: int  # seats taken (`BookingQuerySet.seated`)
    waiting: int
    offered: int  # open offers


def queue_counts(session: Session, *, now: datetime | None = None) -> QueueCounts:
    """A session's spots and queue, for staff pages (reads only)."""
    now = now or timezone.now()
    entries = WaitlistEntry.objects.filter(session=session)
    return QueueCounts(
        booked=spots.booked_count(session),
        waiting=entries.filter(status=WaitlistStatus.WAITING).count(),
        offered=entries.holding(now=now).count(),
    )
