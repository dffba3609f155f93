"""Moving bookings to another session of the same business (see `engine` for the shape).

In each batch's transaction (see `engine`), the target session's row is locked
first with the sessions that batch moves away from (sessions before bookings,
as every path that locks both does), then the bookings in primary-key order.
Under those locks the target's active bookings (pending or approved, not
deleted) and open waitlist offers are counted, once per batch; each booking
then moves while the target has room, else it is skipped ("the target session
is full"). Two concurrent moves into one last spot queue on the target's lock,
so the second counts the first's booking: capacity holds under any
interleaving. The spots freed in the sessions moved away from go to their
waitlists in the same transaction.

A target of another business (or not the actor's), cancelled, or already
started refuses the whole call before anything changes (in its first batch;
one that becomes so between batches stops the call there, as any failure
does). The historical record of each moved booking holds the new session next
to the previous record's old one (the timeline shows "Moved"); the client is
emailed the old and the new time, in the business's time zone, unless
`notify_client` is off.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from booking.actors import Actor
from booking.audit import SYSTEM, RequestContext
from booking.models import BookingRequest, Session
from booking.services import exceptions as exc
from booking.services import notifications, rules
from booking.services.lifecycle.engine import (
    Change,
    Operation,
    Selection,
    requires,
)
from booking.services.results import BulkResult
from booking.services.rules import Refusal
from booking.services.waitlist import spots

FULL = Refusal("the target session is full", exc.InvalidTransition)


def eligible_targets(actor: Actor, *, now: datetime | None = None) -> Any:
    """Sessions a booking may move to: the actor's, scheduled, not yet started."""
    sessions = Session.objects.scheduled().upcoming(now=now or timezone.now())
    if actor is not None:
        sessions = sessions.for_user(actor)
    return sessions.select_related("business").order_by("starts_at", "pk")


def target_id(session: object) -> int:
    pk = session.pk if isinstance(session, Session) else session
    if isinstance(pk, bool) or not isinstance(pk, int) or pk < 1:
        raise exc.InvalidInput("session must be a session's id")
    return pk


def lock_target(pk: int, actor: Actor, *, now: datetime) -> Session:
    """The target session, locked; refused (nothing changes) unless it may take bookings."""
    rows = Session.objects.filter(pk=pk)
    if actor is not None:
        rows = rows.for_user(actor)
    target = rows.select_related("business").select_for_update(of=("self",)).first()
    if target is None:
        raise exc.InvalidInput("the target session does not exist or is not yours")
    refusal = rules.check_move_target(target, now=now)
    if refusal is not None:
        raise refusal.error(refusal.message)
    return target


@requires("booking.move_bookingrequest", to="move")
def move_bookings(
    bookings: Selection,
    *,
    actor: Actor,
    reason: object = "",
    context: RequestContext = SYSTEM,
    session: object = None,
    notify_client: bool = True,
    now: datetime | None = None,
) -> BulkResult:
    """Move active bookings into `session` (an id or a Session) while it has room."""
    change = Change.begin(actor=actor, reason=reason, context=context, now=now)
    if session is None:
        raise exc.InvalidInput("session is required: the id of the session to move to")
    pk = target_id(session)
    batch = _TargetInBatch(pk, change.actor, now=change.now)

    def check(booking: BookingRequest) -> Refusal | None:
        refusal = rules.check_move(booking, batch.locked)
        if refusal is None:
            if batch.room < 1:
                return FULL
            batch.room -= 1
        return refusal

    def apply(ready: list[BookingRequest]) -> None:
        previous = {booking.pk: booking.session for booking in ready}
        change.update(ready, {"session_id": batch.pk})
        for booking in ready:
            BookingRequest.session.field.set_cached_value(booking, batch.locked)
        if notify_client:
            notifications.bookings_moved(ready, previous=previous, reason=change.reason,
                                         now=change.now)  # fmt: skip

    # Each batch locks the target with the sessions moved away from, in one
    # primary-key order (two moves in opposite directions queue instead of
    # deadlocking); the sessions moved away from offer their freed spots.
    operation = Operation("moved", check, apply, frees_spots=True, also_locks=(pk,),
                          begin_batch=batch.begin)  # fmt: skip
    return change.run(operation, bookings)


class _TargetInBatch:
    """The target session as the current batch locked it, and the room it has left."""

    def __init__(self, pk: int, actor: Actor, *, now: datetime) -> None:
        self.pk, self.actor, self.now = pk, actor, now
        self.target: Session | None = None
        self.room = 0

    def begin(self) -> None:
        """Lock the target (its row is locked already, with the batch's sessions) and
        count its room under that lock: open waitlist offers hold their spots."""
        self.target = lock_target(self.pk, self.actor, now=self.now)
        self.room = spots.room_in(self.target, now=self.now)

    @property
    def locked(self) -> Session:
        assert self.target is not None, "read in a batch, after `begin`"
        return self.target
