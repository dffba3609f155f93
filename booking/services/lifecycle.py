"""The booking life cycle: the only code that changes a booking's state.

Every operation is bulk first (one booking is a bulk call of one) and follows
one shape, in one transaction:

1. resolve the selection to primary keys (the caller's queryset keeps its
   filters and tenant scope, and the actor's scope is applied again here);
2. per batch, lock the rows in primary-key order (`select_for_update`), so that
   two concurrent calls on one booking cannot both succeed;
3. re-check the rule for each locked booking under the lock, splitting the batch
   into bookings to change and bookings skipped with their reason;
4. change the batch with one conditional `update()` and write one historical
   record per booking (user, reason, IP, user agent) in batched inserts;
5. write the emails' outbox rows in the same transaction (sent after commit).

Queries per call are bounded by the number of batches, never by rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from itertools import batched
from typing import Any, Protocol, cast

from django.db import models, transaction
from django.db.models import ProtectedError, QuerySet
from django.utils import timezone

from booking.audit import SYSTEM, RequestContext
from booking.models import REASON_MAX_LENGTH, BookingRequest, BookingStatus, Business, Session
from booking.services import exceptions as exc
from booking.services import history, notifications, rules
from booking.services.ids import pk_in
from booking.services.results import BulkResult, Skip
from booking.services.rules import Refusal
from booking.services.text import storable

BATCH_SIZE = 1000

GONE = Refusal("no longer exists, changed meanwhile or is not yours", exc.BookingNotFound)

Selection = QuerySet[BookingRequest] | BookingRequest | Iterable[int]


def clean_reason(reason: object) -> str:
    """A reason is free text of at most 1000 characters: refused, never truncated."""
    if reason is None:
        return ""
    if not isinstance(reason, str):
        raise exc.InvalidInput("reason must be a string")
    reason = storable("reason", reason).strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise exc.ReasonTooLong(
            f"reason is {len(reason)} characters long; the limit is {REASON_MAX_LENGTH}"
        )
    return reason


def ensure_permitted(actor: Any, permission: str, *, to: str) -> None:
    """Staff need `permission` ("to cancel"); `actor=None` is the system (commands, clients)."""
    if actor is not None and not actor.has_perm(permission):
        raise exc.NotPermitted(f"you do not have permission to {to} bookings")


class StaffService(Protocol):
    """A bulk service staff call, guarded by one permission (see `requires`)."""

    permission: str

    def __call__(self, bookings: Selection, /, *, actor: Any, **kwargs: Any) -> BulkResult: ...


def requires(permission: str, *, to: str) -> Callable[[Callable[..., BulkResult]], StaffService]:
    """Guard a staff service: the actor must be logged in and hold `permission`.

    Checked before anything else (a user who may not act learns nothing about the
    input or the bookings). The codename is kept on the function as `.permission`,
    where the action table (`booking.services.actions`) reads it: it is written
    once, here.
    """

    def decorate(service: Callable[..., BulkResult]) -> StaffService:
        @wraps(service)
        def guarded(bookings: Selection, /, *, actor: Any, **kwargs: Any) -> BulkResult:
            ensure_permitted(_actor(actor), permission, to=to)
            return service(bookings, actor=actor, **kwargs)

        checked = cast(StaffService, guarded)
        checked.permission = permission
        return checked

    return decorate


def _actor(actor: Any) -> Any:
    """None is the system (commands, a client's own cancellation); anyone else must log in.

    An anonymous user is refused rather than mistaken for the system, which
    would skip the permission check and the tenant scope.
    """
    if actor is None:
        return None
    if not actor.is_authenticated:
        raise exc.NotPermitted("log in to manage bookings")
    return actor


def _selected_ids(bookings: Selection) -> list[int]:
    if isinstance(bookings, BookingRequest):
        return [bookings.pk]
    if isinstance(bookings, QuerySet):
        return sorted(bookings.order_by().values_list("pk", flat=True).distinct())
    return sorted({int(pk) for pk in bookings})


def _lock(
    ids: tuple[int, ...],
    actor: Any,
    selection: QuerySet[BookingRequest] | None,
    *,
    with_policy: bool,
) -> list[BookingRequest]:
    rows = BookingRequest.all_objects.filter(pk_in(ids))
    if selection is not None:
        # The caller's filters hold under the lock too: a booking restored after
        # "purge the deleted ones" was resolved to ids is no longer purged.
        rows = rows.filter(pk__in=selection.order_by().values("pk"))
    if actor is not None:
        rows = rows.for_user(actor)
    locked = list(rows.select_for_update(of=("self",)).order_by("pk"))
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
class _Operation:
    verb: str
    check: Callable[[BookingRequest], Refusal | None]
    apply: Callable[[list[BookingRequest]], None]
    # Whether `check` or `apply` read the bookings' sessions and business policy
    # (the deadline, the deletion switches, whether emails are sent). Without it,
    # the batch loads the bookings alone, and a caller reading `.session` on a
    # result loads it on demand.
    reads_policy: bool = True


def _run(operation: _Operation, bookings: Selection, *, actor: Any) -> BulkResult:
    result = BulkResult(verb=operation.verb)
    ids = _selected_ids(bookings)
    selection = bookings if isinstance(bookings, QuerySet) else None
    with transaction.atomic():
        for batch in batched(ids, BATCH_SIZE):
            locked = _lock(batch, actor, selection, with_policy=operation.reads_policy)
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
                operation.apply(ready)
                result.done.extend(ready)
    return result


def _update(
    bookings: list[BookingRequest],
    fields: dict[str, Any],
    *,
    actor: Any,
    reason: str,
    context: RequestContext,
    now: datetime,
) -> None:
    fields = {**fields, "updated_at": now}
    BookingRequest.all_objects.filter(pk_in([b.pk for b in bookings])).update(**fields)
    for booking in bookings:
        for name, value in fields.items():
            setattr(booking, name, value)
    history.record_changes(bookings, actor=actor, reason=reason, context=context, when=now)


def _set_status(
    bookings: Selection,
    target: str,
    verb: str,
    *,
    actor: Any,
    reason: object,
    context: RequestContext,
    now: datetime | None,
) -> BulkResult:
    reason = clean_reason(reason)
    actor = _actor(actor)
    now = now or timezone.now()

    def apply(ready: list[BookingRequest]) -> None:
        _update(ready, {"status": target}, actor=actor, reason=reason, context=context, now=now)

    return _run(
        _Operation(verb, lambda b: rules.check_status_change(b, target), apply, reads_policy=False),
        bookings,
        actor=actor,
    )


@requires("booking.change_bookingrequest", to="approve")
def approve_bookings(
    bookings: Selection,
    *,
    actor: Any,
    reason: object = "",
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> BulkResult:
    """Approve pending bookings. Inverse: none (an approved booking can be cancelled)."""
    return _set_status(
        bookings, BookingStatus.APPROVED, "approved",
        actor=actor, reason=reason, context=context, now=now,
    )  # fmt: skip


@requires("booking.change_bookingrequest", to="reject")
def reject_bookings(
    bookings: Selection,
    *,
    actor: Any,
    reason: object = "",
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> BulkResult:
    """Reject pending bookings. Final: a rejected booking changes status no more."""
    return _set_status(
        bookings, BookingStatus.REJECTED, "rejected",
        actor=actor, reason=reason, context=context, now=now,
    )  # fmt: skip


@requires("booking.cancel_bookingrequest", to="cancel")
def cancel_bookings(
    bookings: Selection,
    *,
    actor: Any,
    reason: object = "",
    context: RequestContext = SYSTEM,
    notify_client: bool = True,
    now: datetime | None = None,
) -> BulkResult:
    """Cancel pending or approved bookings as staff.

    Records cancelled_at/by and the reason; one history record each; queues the
    cancellation emails (when the business sends them and `notify_client`) in the
    same transaction, delivered after commit. Final: there is no un-cancel.
    """
    actor = _actor(actor)
    reason = clean_reason(reason)
    now = now or timezone.now()

    def apply(ready: list[BookingRequest]) -> None:
        _update(
            ready,
            {
                "status": BookingStatus.CANCELLED,
                "cancelled_at": now,
                "cancelled_by": actor,
                "cancelled_by_client": False,
                "cancellation_reason": reason,
            },
            actor=actor, reason=reason, context=context, now=now,
        )  # fmt: skip
        notifications.bookings_cancelled(ready, by_client=False, notify_client=notify_client)

    check = lambda b: rules.check_status_change(b, BookingStatus.CANCELLED)  # noqa: E731
    # A staff cancellation's rule is about status alone; the policy only says
    # whether the client is emailed.
    operation = _Operation("cancelled", check, apply, reads_policy=notify_client)
    return _run(operation, bookings, actor=actor)


@requires("booking.soft_delete_bookingrequest", to="soft-delete")
def soft_delete_bookings(
    bookings: Selection,
    *,
    actor: Any,
    reason: object = "",
    context: RequestContext = SYSTEM,
    notify_client: bool = True,
    now: datetime | None = None,
) -> BulkResult:
    """Hide bookings from every live view, keeping them whole. Inverse: `restore_bookings`.

    Refused where the business disallows deletion, and without a reason where it
    requires one. Clients of active future bookings are told (unless
    `notify_client` is off).
    """
    actor = _actor(actor)
    reason = clean_reason(reason)
    now = now or timezone.now()

    def apply(ready: list[BookingRequest]) -> None:
        notifiable = [b for b in ready if rules.is_active_future(b, now=now)]
        _update(
            ready,
            {"is_deleted": True, "deleted_at": now, "deleted_by": actor, "deletion_reason": reason},
            actor=actor, reason=reason, context=context, now=now,
        )  # fmt: skip
        if notify_client:
            notifications.bookings_removed(notifiable, purged=False)

    check = lambda b: rules.check_soft_delete(b, reason=reason)  # noqa: E731
    return _run(_Operation("soft-deleted", check, apply), bookings, actor=actor)


@requires("booking.restore_bookingrequest", to="restore")
def restore_bookings(
    bookings: Selection,
    *,
    actor: Any,
    reason: object = "",
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> BulkResult:
    """Bring soft-deleted bookings back, clearing the deletion fields. Inverse of soft delete."""
    actor = _actor(actor)
    reason = clean_reason(reason)
    now = now or timezone.now()

    def apply(ready: list[BookingRequest]) -> None:
        _update(
            ready,
            {"is_deleted": False, "deleted_at": None, "deleted_by": None, "deletion_reason": ""},
            actor=actor, reason=reason, context=context, now=now,
        )  # fmt: skip

    operation = _Operation("restored", rules.check_restore, apply, reads_policy=False)
    return _run(operation, bookings, actor=actor)


@requires("booking.purge_bookingrequest", to="purge")
def purge_bookings(
    bookings: Selection,
    *,
    actor: Any,
    reason: object = "",
    confirmed: bool = False,
    context: RequestContext = SYSTEM,
    notify_client: bool = True,
    now: datetime | None = None,
) -> BulkResult:
    """Delete bookings permanently. There is no inverse.

    Needs the purge permission, an explicit confirmation, the business's
    `allow_admin_deletion` and a reason where required. The audit trail keeps a
    final "-" record of each purged booking with user, reason, IP and user agent.
    """
    actor = _actor(actor)
    reason = clean_reason(reason)
    if not confirmed:
        raise exc.ConfirmationRequired("purging needs an explicit confirmation")
    now = now or timezone.now()

    def apply(ready: list[BookingRequest]) -> None:
        notifiable = [b for b in ready if not b.is_deleted and rules.is_active_future(b, now=now)]
        history.record_deletions(ready, actor=actor, reason=reason, context=context, when=now)
        if notify_client:
            notifications.bookings_removed(notifiable, purged=True, reason=reason)
        _delete(ready)

    check = lambda b: rules.check_purge(b, reason=reason)  # noqa: E731
    return _run(_Operation("purged", check, apply), bookings, actor=actor)


def _delete(bookings: list[BookingRequest]) -> None:
    """Delete locked bookings whose "-" history is written, honouring every on_delete.

    A raw delete: Django's collector would fetch each row again and let
    simple-history insert a second record per row. Rows of other models that
    point at a booking (an email outbox, say) get what their foreign key's
    on_delete asks for, in one query per relation, as the collector would.
    """
    ids = [booking.pk for booking in bookings]
    for relation in BookingRequest._meta.related_objects:
        field = relation.field
        if isinstance(relation, models.ManyToManyRel) and relation.through is not None:
            through = relation.through._base_manager
            reverse_name = cast(models.ManyToManyField, field).m2m_reverse_field_name()
            through.filter(**{f"{reverse_name}__in": ids}).delete()
            continue
        dependants = relation.related_model._base_manager.filter(**{f"{field.name}__in": ids})
        if relation.on_delete is models.CASCADE:
            dependants.delete()
        elif relation.on_delete is models.SET_NULL:
            dependants.update(**{field.name: None})
        elif relation.on_delete in (models.PROTECT, models.RESTRICT):
            if dependants.exists():
                raise ProtectedError(
                    f"{relation.related_model._meta.verbose_name_plural} refer to these bookings",
                    set(dependants),
                )
        elif relation.on_delete is not models.DO_NOTHING:
            raise NotImplementedError(f"purge does not handle {relation.on_delete} on {field}")
    doomed = BookingRequest.all_objects.filter(pk__in=ids)
    doomed._raw_delete(doomed.db)


def cancel_booking_as_client(
    *,
    reference: str,
    verify: Callable[[BookingRequest], bool],
    reason: object = "",
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> BookingRequest:
    """A client cancels their own booking, within the business's policy.

    `verify` proves the client's identity against the locked booking (contact
    details, or a signed link); it runs before any policy check so that nothing
    about the booking is revealed to someone who cannot prove it is theirs.
    Raises BookingNotFound, IdentityNotVerified, PolicyForbids, DeadlinePassed or
    InvalidTransition (a double submit); the client and the business are emailed
    after commit.
    """
    reason = clean_reason(reason)
    now = now or timezone.now()
    # References are read aloud and typed by hand: accept lower case and stray spaces.
    booking = (
        BookingRequest.objects.filter(reference=reference.strip().upper()).only("pk").first()
        if isinstance(reference, str)
        else None
    )
    if booking is None:
        raise exc.BookingNotFound("booking not found")

    def check(locked: BookingRequest) -> Refusal | None:
        if locked.is_deleted:
            return Refusal("booking not found", exc.BookingNotFound)
        if not verify(locked):
            return Refusal("the contact details do not match this booking", exc.IdentityNotVerified)
        return rules.check_client_cancel(locked, now=now)

    def apply(ready: list[BookingRequest]) -> None:
        _update(
            ready,
            {
                "status": BookingStatus.CANCELLED,
                "cancelled_at": now,
                "cancelled_by": None,
                "cancelled_by_client": True,
                "cancellation_reason": reason,
            },
            actor=None, reason=reason, context=context, now=now,
        )  # fmt: skip
        notifications.bookings_cancelled(ready, by_client=True, notify_client=True)

    return _run(_Operation("cancelled", check, apply), [booking.pk], actor=None).raise_for_single()
