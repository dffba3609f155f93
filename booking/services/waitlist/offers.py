"""Freed spots go to the waitlist: offers, automatic enrolments, and expiry.

`offer_freed_spots` runs inside the transaction that freed the spots (the
life cycle's engine calls it after a cancel, rejection, soft delete, purge or
move away), with the sessions already locked. It recounts each session's room
under that lock rather than trusting a number of freed spots, so it is
idempotent and also catches up on any spot a crash or a race left unoffered.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from booking.actors import Actor
from booking.audit import SYSTEM, RequestContext
from booking.models import BookingRequest, BookingStatus, Session
from booking.services import history, notifications
from booking.services.waitlist import spots
from booking.waitlist.models import WaitlistEntry, WaitlistMode, WaitlistStatus


def record(
    entry: WaitlistEntry,
    fields: dict[str, object],
    *,
    actor: Actor,
    reason: str,
    context: RequestContext,
) -> None:
    """Change a locked entry and write its historical record (user, reason, IP, UA)."""
    for name, value in fields.items():
        setattr(entry, name, value)
    entry._history_user = actor
    entry._change_reason = reason
    entry._history_context = context
    entry.save(update_fields=list(fields))


def book(
    entry: WaitlistEntry, session: Session, *, reason: str, context: RequestContext, now: datetime
) -> BookingRequest:
    """An approved booking for the entry's client (its session locked, room counted)."""
    booking = BookingRequest(
        session=session,
        client_name=entry.client_name,
        client_email=entry.client_email,
        client_phone=entry.client_phone,
        status=BookingStatus.APPROVED,
        created_at=now,
    )
    booking._history_user = None  # the client's (or the system's) doing, never a browsing user's
    booking._change_reason = reason
    booking._history_context = context
    booking.save()
    return booking


def offer_window(session: Session, *, now: datetime) -> datetime:
    """When an offer made now ends: the business's claim hours, never after the start."""
    hours = session.business.booking_settings.waitlist_claim_hours
    return min(now + timedelta(hours=hours), session.starts_at)


def offer(entries: list[WaitlistEntry], session: Session, *, reason: str,
          actor: Actor, context: RequestContext, now: datetime) -> None:  # fmt: skip
    """Offer `session`'s spot to each locked entry, email each, and have the worker
    pass the spot on when the offer ends.

    One `UPDATE` and one batch of historical records for all of them (a session
    cancelled in bulk may free many spots at once), not a `save()` each."""
    if not entries:
        return
    expires = offer_window(session, now=now)
    fields = {"status": WaitlistStatus.OFFERED, "offered_at": now, "offer_expires_at": expires}
    for entry in entries:
        WaitlistEntry.session.field.set_cached_value(entry, session)
    history.update_and_record(entries, fields, actor=actor, reason=reason, context=context,
                              when=now)  # fmt: skip
    notifications.waitlist_offers(entries, now=now)
    transaction.on_commit(lambda: schedule_expiry(expires), robust=True)


def enrol(entries: list[WaitlistEntry], session: Session, *, reason: str,
          actor: Actor, context: RequestContext, now: datetime) -> None:  # fmt: skip
    """Book each locked entry into `session` at once (automatic mode), and email it."""
    for entry in entries:
        booking = book(entry, session, reason=reason, context=context, now=now)
        fields = {"status": WaitlistStatus.CLAIMED, "booking": booking}
        record(entry, fields, actor=actor, reason=reason, context=context)
    notifications.waitlist_bookings(entries, now=now)


def offer_freed_spots(
    sessions: Iterable[Session | int],
    *,
    now: datetime | None = None,
    context: RequestContext = SYSTEM,
) -> list[WaitlistEntry]:
    """Give each free spot of these sessions to their first waiting entries.

    Call it inside the transaction that freed the spots. For each session that
    takes offers (scheduled, not started, waitlist not off) and has someone
    waiting: lock it (a no-op where the caller holds the lock), count its room
    (capacity less active bookings and open offers) and hand that many of the
    first waiting entries (by `created_at`) an offer (`offer` mode: a claim
    window of `waitlist_claim_hours`, never past the start, and an email with a
    signed claim link) or a booking (`auto` mode: approved at once, emailed).
    Recorded as the system's doing. Returns the entries offered or booked.
    """
    now = now or timezone.now()
    candidates = spots.with_waiting_clients(spots.session_ids(sessions), now=now)
    changed: list[WaitlistEntry] = []
    for session in spots.lock_sessions(candidates).values():
        changed += fill(session, now=now, actor=None, context=context)
    return changed


def fill(
    session: Session, *, now: datetime, actor: Actor, context: RequestContext
) -> list[WaitlistEntry]:
    """Hand the room of one locked session to its first waiting entries."""
    if not spots.takes_offers(session, now=now):
        return []
    room = spots.room_in(session, now=now)
    if room < 1:
        return []
    queue = WaitlistEntry.objects.filter(session=session).waiting()
    entries = list(queue.select_for_update(of=("self",))[:room])
    if session.business.booking_settings.waitlist_mode == WaitlistMode.AUTO:
        enrol(entries, session, reason="a spot came free: booked from the waitlist",
              actor=actor, context=context, now=now)  # fmt: skip
    else:
        offer(entries, session, reason="a spot came free: offered",
              actor=actor, context=context, now=now)  # fmt: skip
    return entries


def expire_offers(*, now: datetime | None = None, context: RequestContext = SYSTEM) -> int:
    """Close every offer whose window has passed and pass its spot on; returns how many.

    One transaction per session (its lock held briefly): the lapsed offers are
    marked `expired` (one historical record each), then the session's room goes
    to the next waiting entries. Sessions with someone waiting and a free spot
    that no offer holds (a spot freed while the waitlist was off, say) are filled
    too. Entries still waiting when their session has started are closed
    (`close_started`). Running it twice, or on several hosts at once, changes
    nothing more.
    """
    now = now or timezone.now()
    lapsed = WaitlistEntry.objects.lapsed(now=now)
    ids = set(lapsed.values_list("session_id", flat=True).distinct())
    ids |= set(spots.with_waiting_clients(spots.sessions_with_room(now=now), now=now))
    expired = 0
    for session_id in sorted(ids):
        with transaction.atomic():
            locked = spots.lock_sessions([session_id])
            if not locked:
                continue
            session = locked[session_id]
            due = WaitlistEntry.objects.filter(session=session).lapsed(now=now)
            for entry in due.select_for_update(of=("self",)).order_by("pk"):
                record(entry, {"status": WaitlistStatus.EXPIRED}, actor=None,
                       reason="the offer ended unclaimed", context=context)  # fmt: skip
                expired += 1
            fill(session, now=now, actor=None, context=context)
    close_started(now=now, context=context)
    return expired


STARTED = "the session started before a spot came free"


def close_started(*, now: datetime, context: RequestContext = SYSTEM) -> int:
    """Close the entries still waiting in sessions that have started; returns how many.

    Once a class has begun no spot can be offered (an offer never outlives the
    start), so the queue is over: each entry becomes `removed` with the reason
    recorded, one transaction per session under its lock. No email: the client
    knows when the class was, and a studio does not write to say no spot came up.
    """
    waiting = WaitlistEntry.objects.filter(
        status=WaitlistStatus.WAITING, session__starts_at__lte=now
    )
    closed = 0
    for session_id in sorted(set(waiting.values_list("session_id", flat=True).distinct())):
        with transaction.atomic():
            if not spots.lock_sessions([session_id]):
                continue
            queue = waiting.filter(session_id=session_id).select_for_update(of=("self",))
            for entry in queue.order_by("pk"):
                record(entry, {"status": WaitlistStatus.REMOVED}, actor=None,
                       reason=STARTED, context=context)  # fmt: skip
                closed += 1
    return closed


def schedule_expiry(when: datetime) -> None:
    """Have the worker pass on the offers that end at `when`, a second after."""
    pass_on_expired_offers.using(run_after=when + timedelta(seconds=1)).enqueue()


@task()
def pass_on_expired_offers() -> int:
    """The worker's task (the `default` queue), enqueued for the end of each offer;
    the outbox sweep's loop runs `expire_offers` every minute as well."""
    return expire_offers(context=RequestContext(user_agent="worker: waitlist expiry"))
