"""The engine of every booking state change: select, lock, re-check, change, record.

Each service of this package is an `Operation` (a rule and a change) run by
`run`, one batch of `BATCH_SIZE` bookings per transaction:

1. resolve the selection to primary keys once, unlocked (ids as given; a
   queryset in one statement, within the actor's scope: `selection.resolve`);
2. per batch, in a transaction of its own: lock the batch's sessions when the
   operation frees or counts spots (sessions before bookings, in primary-key
   order, on every path), then the batch's bookings in primary-key order
   (`select_for_update`), so two concurrent calls on one booking cannot both
   succeed. A queryset's filters (and the actor's scope) are the `WHERE` of that
   locking statement, narrowed to the batch's keys (`selection.batch_of`): a row
   changed meanwhile is checked against them again once its lock is granted
   (PostgreSQL re-reads it), so a booking restored while "purge the deleted
   ones" waited is not purged;
3. re-check the rule for each locked booking under the lock, splitting the batch
   into bookings to change and bookings skipped with their reason;
4. change the batch (`writes.update`: one conditional `UPDATE` and one
   historical record per booking with user, reason, IP and user agent);
5. write the emails' outbox rows (sent after commit), and hand the sessions in
   which a booking stopped holding a spot to the waitlist
   (`waitlist.offer_freed_spots`): the one place where every path that frees a
   spot offers it. Then the batch commits.

So each booking's change is atomic with its history, its emails and the offers
of the spot it freed, and a row stays locked for its batch's time only, not for
the whole selection's (10 000 bookings with history and outbox rows cannot be
changed in one transaction in under a second). A selection of one batch or less
(one booking, a page of ticked rows) is one transaction. A failure part-way
raises, leaving the earlier batches committed, each complete and audited;
running the call again finishes the rest, since the rule re-check skips what
was changed already. A caller that needs all or nothing wraps the call in its
own `transaction.atomic()` (the batches are then its savepoints).

Queries per call are bounded by the number of batches, never by rows (and by
the sessions that have someone waiting, for the waitlist).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import wraps
from itertools import batched
from typing import Any, Protocol, cast

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from booking.actors import Actor
from booking.audit import SYSTEM, RequestContext
from booking.models import BookingRequest, Business, Session
from booking.services import exceptions as exc
from booking.services.ids import pk_in
from booking.services.lifecycle import selection
from booking.services.lifecycle.writes import update, update_with_fees
from booking.services.results import BulkResult, Skip
from booking.services.rules import Refusal
from booking.services.text import clean_reason as clean_reason  # re-exported
from booking.services.waitlist import offer_freed_spots, spots

# Bookings per transaction. Each batch costs a commit (on SQLite a WAL checkpoint)
# and a few queries (its sessions, policies, waitlist); 2000 keeps a batch's row
# locks to ~0.2 s on PostgreSQL here (measured: bench/admin.py actions), and 10 000
# ticked bookings cost SQLite 0.72 s in 5 batches against 0.81 s in 10.
BATCH_SIZE = 2000

GONE = Refusal("no longer exists, changed meanwhile or is not yours", exc.BookingNotFound)

Selection = QuerySet[BookingRequest] | BookingRequest | Iterable[int]


def ensure_permitted(actor: Actor, permission: str, *, to: str) -> None:
    """Staff need `permission` ("to cancel"); `actor=None` is the system (commands, clients)."""
    if actor is not None and not actor.has_perm(permission):
        raise exc.NotPermitted(f"you do not have permission to {to} bookings")


class StaffService(Protocol):
    """A bulk service staff call, guarded by one permission (see `requires`)."""

    permission: str

    def __call__(self, bookings: Selection, /, *, actor: Actor, **kwargs: Any) -> BulkResult: ...


def requires(permission: str, *, to: str) -> Callable[[Callable[..., BulkResult]], StaffService]:
    """Guard a staff service: the actor must be logged in and hold `permission`.

    Checked before anything else (a user who may not act learns nothing about the
    input or the bookings). The codename is kept on the function as `.permission`,
    where the action table (`booking.services.actions`) reads it: it is written
    once, here.
    """

    def decorate(service: Callable[..., BulkResult]) -> StaffService:
        @wraps(service)
        def guarded(bookings: Selection, /, *, actor: Actor, **kwargs: Any) -> BulkResult:
            ensure_permitted(as_actor(actor), permission, to=to)
            return service(bookings, actor=actor, **kwargs)

        checked = cast(StaffService, guarded)
        checked.permission = permission
        return checked

    return decorate


def as_actor(actor: Actor) -> Actor:
    """None is the system (commands, a client's own cancellation); anyone else must log in.

    An anonymous user is refused rather than mistaken for the system, which
    would skip the permission check and the tenant scope.
    """
    if actor is None:
        return None
    if not actor.is_authenticated:
        raise exc.NotPermitted("log in to manage bookings")
    return actor


def selected_ids(bookings: Selection, actor: Actor = None) -> list[int]:
    """The selection's primary keys, sorted: resolved once, unlocked (see the module).

    A queryset is resolved within the actor's scope, in one statement
    (`selection.resolve`); ids are taken as given (each batch's locking statement
    applies the scope).
    """
    if isinstance(bookings, BookingRequest):
        return [bookings.pk]
    if isinstance(bookings, QuerySet):
        return selection.resolve(bookings, actor)
    return sorted({int(pk) for pk in bookings})


def lock(
    ids: tuple[int, ...],
    actor: Actor,
    *,
    with_policy: bool,
    among: QuerySet[BookingRequest] | None = None,
) -> list[BookingRequest]:
    """The batch's bookings, locked in primary-key order (those still `among` the
    caller's queryset, whose filters then hold under the lock: `selection.batch_of`)."""
    if among is not None:
        rows = selection.batch_of(among, actor, ids)
    else:
        rows = BookingRequest.all_objects.filter(pk_in(ids))
        if actor is not None:
            rows = rows.for_user(actor)
    locked = list(rows.select_for_update(of=("self",)).order_by("pk"))
    if with_policy:
        load_policy(locked)
    return locked


def load_policy(locked: list[BookingRequest]) -> None:
    """Attach each booking's session, business and settings, which policy rules read.

    They come in two more queries, one object per session and per business rather
    than one per booking (joining them into the locking query cost twice as much),
    and unlocked: nothing here changes them.
    """
    sessions = Session.objects.in_bulk({booking.session_id for booking in locked})
    businesses = Business.objects.select_related("booking_settings").in_bulk(
        {session.business_id for session in sessions.values()}
    )
    # Fill the relations' caches directly: the ids are already right, and the
    # descriptors' checks cost as much as the rest of the loop.
    for session in sessions.values():
        Session.business.field.set_cached_value(session, businesses[session.business_id])
    for booking in locked:
        BookingRequest.session.field.set_cached_value(booking, sessions[booking.session_id])


@dataclass(frozen=True)
class Operation:
    verb: str
    check: Callable[[BookingRequest], Refusal | None]
    apply: Callable[[list[BookingRequest]], None]
    # Whether `check` or `apply` read the bookings' sessions and business policy
    # (the deadline, the deletion switches, whether emails are sent). Without it,
    # the batch loads the bookings alone, and a caller reading `.session` on a
    # result loads it on demand.
    reads_policy: bool = True
    # Whether the change may free spots (a booking that held one no longer does):
    # its sessions are locked first and their freed spots offered to the waitlist.
    frees_spots: bool = False
    # Whether `check` counts the sessions' spots (restore): their rows are locked first.
    counts_spots: bool = False
    # Sessions each batch locks with its bookings' sessions, in one primary-key
    # order (a move's target).
    also_locks: tuple[int, ...] = ()
    # Called in each batch's transaction once its sessions are locked, before its
    # bookings: what `check` counts under those locks is counted again per batch.
    begin_batch: Callable[[], None] | None = None


def lock_sessions_of(
    bookings: Iterable[int] | QuerySet[BookingRequest], *, also: Iterable[int] = ()
) -> list[int]:
    """Lock the sessions of these bookings (ids, or a queryset: one statement either
    way) and `also`, in primary-key order: the first lock of a call that changes
    both sessions' spots and bookings."""
    if isinstance(bookings, QuerySet):
        of_bookings = bookings.order_by().values("session_id")
    else:
        of_bookings = BookingRequest.all_objects.filter(pk_in(tuple(bookings))).values("session_id")
    rows = Session.objects.filter(pk__in=cast(Any, of_bookings))
    also = list(also)
    if also:
        rows = rows | Session.objects.filter(pk__in=also)
    locked = rows.select_for_update(of=("self",)).order_by("pk")
    return list(locked.values_list("pk", flat=True))


def holds_spot(booking: BookingRequest) -> bool:
    return booking.is_active and not booking.is_deleted


def run(
    operation: Operation,
    bookings: Selection,
    *,
    actor: Actor,
    now: datetime | None = None,
    context: RequestContext = SYSTEM,
) -> BulkResult:
    """Run `operation` (see the module); `now` and `context` are the freed spots' offers'."""
    result = BulkResult(verb=operation.verb)
    among = bookings if isinstance(bookings, QuerySet) else None
    for batch in batched(selected_ids(bookings, actor), BATCH_SIZE):
        with transaction.atomic():
            run_batch(operation, batch, result, actor=actor, among=among, now=now,
                      context=context)  # fmt: skip
    return result


def run_batch(
    operation: Operation,
    batch: tuple[int, ...],
    result: BulkResult,
    *,
    actor: Actor,
    among: QuerySet[BookingRequest] | None,
    now: datetime | None,
    context: RequestContext,
) -> None:
    """One batch, in the caller's transaction: lock, re-check, change, offer (the module's 2-5)."""
    locked_sessions: set[int] = set()
    if operation.frees_spots or operation.counts_spots:  # sessions first, then bookings
        locked_sessions = set(lock_sessions_of(batch, also=operation.also_locks))
    if operation.begin_batch is not None:
        operation.begin_batch()
    locked = lock(batch, actor, with_policy=operation.reads_policy, among=among)
    found = {booking.pk for booking in locked}
    result.skipped.extend(Skip(None, pk, GONE) for pk in batch if pk not in found)
    ready = []
    for booking in locked:
        refusal = operation.check(booking)
        if refusal is None:
            ready.append(booking)
        else:
            result.skipped.append(Skip(booking, booking.pk, refusal))
    if not ready:
        return
    freed = {b.session_id for b in ready if holds_spot(b)} if operation.frees_spots else set()
    operation.apply(ready)
    result.done.extend(ready)
    if freed:
        # A session not locked up front (its booking moved meanwhile) is left to
        # the expiry sweep: locking it now, after bookings, could deadlock.
        offer_freed_spots(freed & locked_sessions, now=now, context=context)


class RoomCounter:
    """For a `counts_spots` operation's check: does this booking fit its (locked)
    session? Each session's room is counted once per batch (`forget`, its
    `begin_batch`, counts again under the next batch's locks), then each fitting
    booking takes one."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.rooms: dict[int, int] = {}

    def forget(self) -> None:
        self.rooms.clear()

    def __call__(self, booking: BookingRequest) -> bool:
        if booking.session_id not in self.rooms:
            self.rooms.update(spots.rooms([booking.session_id], now=self.now))
        if self.rooms[booking.session_id] < 1:
            return False
        self.rooms[booking.session_id] -= 1
        return True


@dataclass(frozen=True)
class Change:
    """Who changes bookings, why, from where and when: what one call records on each.

    Every service begins with `Change.begin(...)`, which checks its caller's
    words once (the actor is the system or logged in, the reason is clean text
    within its limit, `now` defaults to the clock), and then changes, records
    and runs through it, so none repeats the actor, reason, context and time.
    """

    actor: Actor
    reason: str
    context: RequestContext
    now: datetime

    @classmethod
    def begin(
        cls, *, actor: Actor, reason: object, context: RequestContext, now: datetime | None
    ) -> Change:
        actor = as_actor(actor)
        return cls(actor, clean_reason(reason), context, now or timezone.now())

    def run(self, operation: Operation, bookings: Selection) -> BulkResult:
        """`operation` on the selection, as this actor (their scope and locks: see `run`)."""
        return run(operation, bookings, actor=self.actor, now=self.now, context=self.context)

    def update(self, bookings: list[BookingRequest], fields: dict[str, Any]) -> None:
        update(bookings, fields, actor=self.actor, reason=self.reason,
               context=self.context, now=self.now)  # fmt: skip

    def update_with_fees(
        self,
        bookings: list[BookingRequest],
        fields: dict[str, Any],
        fee_of: Callable[[BookingRequest], Decimal],
    ) -> None:
        update_with_fees(bookings, fields, fee_of, actor=self.actor, reason=self.reason,
                         context=self.context, now=self.now)  # fmt: skip
