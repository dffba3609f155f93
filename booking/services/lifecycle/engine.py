"""The engine of every booking state change: select, lock, re-check, change, record.

Each service of this package is an `Operation` (a rule and a change) run by
`run`, in one transaction:

1. resolve the selection to primary keys (the caller's queryset keeps its
   filters and tenant scope, and the actor's scope is applied again here); a
   queryset is resolved and locked by one `SELECT … FOR UPDATE` (after its
   sessions', see below), so its filters hold under the lock and its parameters
   are not sent again per batch;
2. per batch, lock the rows in primary-key order (`select_for_update`), so that
   two concurrent calls on one booking cannot both succeed (a queryset's rows
   are locked already: the batch loads them);
3. re-check the rule for each locked booking under the lock, splitting the batch
   into bookings to change and bookings skipped with their reason;
4. change the batch (`update`: one conditional `UPDATE` and one historical
   record per booking with user, reason, IP and user agent, in batched inserts);
5. write the emails' outbox rows in the same transaction (sent after commit).

An operation that frees spots (cancel, reject, soft delete, purge, move away)
or counts them (restore) first locks the selection's sessions, in primary-key
order, before any booking (sessions before bookings, on every path). After the
batches, the sessions in which a booking stopped holding a spot are handed to
the waitlist (`waitlist.offer_freed_spots`), in the same transaction: this is
the one place where every path that frees a spot offers it.

Queries per call are bounded by the number of batches, never by rows (and by
the sessions that have someone waiting, for the waitlist).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import wraps
from itertools import batched
from typing import Any, Protocol, cast

from django.db import transaction
from django.db.models import Field, ForeignKey, QuerySet
from django.utils import timezone

from booking.actors import Actor
from booking.audit import SYSTEM, RequestContext
from booking.models import BookingQuerySet, BookingRequest, Business, Session
from booking.services import charges, history
from booking.services import exceptions as exc
from booking.services.ids import pk_in
from booking.services.results import BulkResult, Skip
from booking.services.rules import Refusal
from booking.services.text import clean_reason as clean_reason  # re-exported
from booking.services.waitlist import offer_freed_spots, spots

BATCH_SIZE = 1000

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


def selected_ids(bookings: Selection) -> list[int]:
    """The selection's primary keys, sorted (`run` resolves a queryset with `lock_selection`)."""
    if isinstance(bookings, BookingRequest):
        return [bookings.pk]
    if isinstance(bookings, QuerySet):
        return sorted(bookings.order_by().values_list("pk", flat=True).distinct())
    return sorted({int(pk) for pk in bookings})


def lock_selection(selection: QuerySet[BookingRequest], actor: Actor) -> list[int]:
    """Resolve a queryset to primary keys and lock its rows, in one statement.

    The caller's filters (and the actor's scope) are the `WHERE` of the locking
    `SELECT … FOR UPDATE`: a row changed by a concurrent transaction is checked
    against them again once its lock is granted (PostgreSQL re-reads it), so a
    booking restored while "purge the deleted ones" waited is not purged. The
    selection is sent once, however many batches follow (an admin's ticked ids
    are one parameter each). Rows are locked in primary-key order, as batches are.
    """
    rows = _scoped(selection, actor)
    return list(rows.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))


def _scoped(selection: QuerySet[BookingRequest], actor: Actor) -> BookingQuerySet:
    """The selection within the actor's scope, as a query that can take row locks."""
    if isinstance(selection, BookingQuerySet) and _lockable(selection):
        rows = selection
    else:
        rows = BookingRequest.all_objects.filter(pk__in=selection.order_by().values("pk"))
    return rows.for_user(actor) if actor is not None else rows


def _lockable(selection: QuerySet[BookingRequest]) -> bool:
    """Can the selection's own query take row locks? (Not with DISTINCT, grouping, a
    union or a slice: those are locked through a subquery of their keys.)"""
    query = selection.query
    return not (query.distinct or query.combinator or query.is_sliced or query.group_by is not None)


def lock(
    ids: tuple[int, ...],
    actor: Actor,
    *,
    with_policy: bool,
    locked_already: bool = False,
) -> list[BookingRequest]:
    """The batch's bookings, locked in primary-key order (unless `lock_selection` did)."""
    rows = BookingRequest.all_objects.filter(pk_in(ids))
    if not locked_already:
        if actor is not None:
            rows = rows.for_user(actor)
        rows = rows.select_for_update(of=("self",))
    locked = list(rows.order_by("pk"))
    if not with_policy:
        return locked
    # Rules about policy read each booking's session, business and settings. They
    # come in two more queries, one object per session and per business rather
    # than one per booking (joining them into the locking query cost twice as
    # much), and unlocked: nothing here changes them.
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
    return locked


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
    selection = bookings if isinstance(bookings, QuerySet) else None
    freed: set[int] = set()
    locked_sessions: set[int] = set()
    with transaction.atomic():
        spots_change = operation.frees_spots or operation.counts_spots
        if selection is None:
            ids = selected_ids(bookings)
            if ids and spots_change:
                locked_sessions = set(lock_sessions_of(ids))
        else:
            if spots_change:  # sessions first: the selection's, before its bookings
                locked_sessions = set(lock_sessions_of(_scoped(selection, actor)))
            ids = lock_selection(selection, actor)
        for batch in batched(ids, BATCH_SIZE):
            locked = lock(batch, actor, with_policy=operation.reads_policy,
                          locked_already=selection is not None)  # fmt: skip
            found = {booking.pk for booking in locked}
            result.skipped.extend(Skip(None, pk, GONE) for pk in batch if pk not in found)
            ready = []
            for booking in locked:
                refusal = operation.check(booking)
                if refusal is None:
                    ready.append(booking)
                else:
                    result.skipped.append(Skip(booking, booking.pk, refusal))
            if ready:
                if operation.frees_spots:
                    freed.update(b.session_id for b in ready if holds_spot(b))
                operation.apply(ready)
                result.done.extend(ready)
        if freed:
            # A session not locked up front (its booking moved meanwhile) is left to
            # the expiry sweep: locking it now, after bookings, could deadlock.
            offer_freed_spots(freed & locked_sessions, now=now, context=context)
    return result


def room_counter(now: datetime) -> Callable[[BookingRequest], bool]:
    """For a `counts_spots` operation's check: does this booking fit its (locked)
    session? Each session's room is counted once, then each fitting booking takes one."""
    rooms: dict[int, int] = {}

    def fits(booking: BookingRequest) -> bool:
        if booking.session_id not in rooms:
            rooms.update(spots.rooms([booking.session_id], now=now))
        if rooms[booking.session_id] < 1:
            return False
        rooms[booking.session_id] -= 1
        return True

    return fits


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


def update(
    bookings: list[BookingRequest],
    fields: dict[str, Any],
    *,
    actor: Actor,
    reason: str,
    context: RequestContext,
    now: datetime,
) -> None:
    fields = {**fields, "updated_at": now}
    BookingRequest.all_objects.filter(pk_in([b.pk for b in bookings])).update(**fields)
    assign(bookings, fields)
    history.record_changes(bookings, actor=actor, reason=reason, context=context, when=now)


def assign(bookings: list[BookingRequest], fields: dict[str, Any]) -> None:
    """Set `fields` on the in-memory bookings as the `UPDATE` set them in the database.

    A relation (`cancelled_by`) gets its id and its cached object directly: the
    descriptor's checks, per booking, cost more than the `UPDATE` itself.
    """
    plain: dict[str, Any] = {}
    related: list[tuple[ForeignKey, Any]] = []
    by_descriptor: dict[str, Any] = {}
    for name, value in fields.items():
        field = cast(Field, BookingRequest._meta.get_field(name))
        if isinstance(field, ForeignKey) and name == field.name:
            plain[field.attname] = None if value is None else value.pk
            related.append((field, value))
        elif isinstance(field, ForeignKey):  # an id (`session_id`): the descriptor drops the object
            by_descriptor[name] = value
        else:
            plain[field.attname] = value
    for booking in bookings:
        booking.__dict__.update(plain)
        for field, value in related:
            field.set_cached_value(booking, value)
        for name, value in by_descriptor.items():
            setattr(booking, name, value)


def update_with_fees(
    bookings: list[BookingRequest],
    fields: dict[str, Any],
    fee_of: Callable[[BookingRequest], Decimal],
    *,
    actor: Actor,
    reason: str,
    context: RequestContext,
    now: datetime,
) -> None:
    """`update` the locked bookings with `fields` and each one's fee (`charges.fee_fields`).

    One `UPDATE` per distinct amount (a batch's bookings share few sessions and
    prices), still one historical record per booking.
    """
    groups: dict[Decimal, list[BookingRequest]] = defaultdict(list)
    for booking in bookings:
        groups[fee_of(booking)].append(booking)
    for amount, group in groups.items():
        update(group, {**fields, **charges.fee_fields(amount)},
               actor=actor, reason=reason, context=context, now=now)  # fmt: skip
