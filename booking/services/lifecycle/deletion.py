"""Deletion as staff: soft delete, restore, and purge (the only hard delete)."""

from __future__ import annotations

from datetime import datetime

from django.db import connections, models, router
from django.db.models import ProtectedError

from booking.actors import Actor
from booking.audit import SYSTEM, RequestContext
from booking.models import BookingRequest
from booking.services import exceptions as exc
from booking.services import history, notifications, rules
from booking.services.ids import any_of
from booking.services.lifecycle.engine import (
    Change,
    Operation,
    RoomCounter,
    Selection,
    requires,
)
from booking.services.results import BulkResult
from booking.services.rules import Refusal

FULL = Refusal("the session is full", exc.InvalidTransition)


@requires("booking.soft_delete_bookingrequest", to="soft-delete")
def soft_delete_bookings(
    bookings: Selection,
    *,
    actor: Actor,
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
    change = Change.begin(actor=actor, reason=reason, context=context, now=now)

    def apply(ready: list[BookingRequest]) -> None:
        notifiable = [b for b in ready if rules.is_active_future(b, now=change.now)]
        fields = {"is_deleted": True, "deleted_at": change.now, "deleted_by": change.actor}
        change.update(ready, {**fields, "deletion_reason": change.reason})
        if notify_client:
            notifications.bookings_removed(notifiable, purged=False)

    check = lambda b: rules.check_soft_delete(b, reason=change.reason)  # noqa: E731
    return change.run(Operation("soft-deleted", check, apply, frees_spots=True), bookings)


@requires("booking.restore_bookingrequest", to="restore")
def restore_bookings(
    bookings: Selection,
    *,
    actor: Actor,
    reason: object = "",
    context: RequestContext = SYSTEM,
    notify_client: bool = True,
    now: datetime | None = None,
) -> BulkResult:
    """Bring soft-deleted bookings back, clearing the deletion fields. Inverse of soft delete.

    With `notify_client`, the client of each restored active future booking is
    told their place is back (where the business sends emails).
    """
    change = Change.begin(actor=actor, reason=reason, context=context, now=now)

    def apply(ready: list[BookingRequest]) -> None:
        change.update(
            ready,
            {"is_deleted": False, "deleted_at": None, "deleted_by": None, "deletion_reason": ""},
        )
        if notify_client:
            back = [b for b in ready if rules.is_active_future(b, now=change.now)]
            notifications.bookings_restored(back, reason=change.reason, now=change.now)

    fits = RoomCounter(change.now)

    def check(booking: BookingRequest) -> Refusal | None:
        # An active booking comes back only into a spot nobody holds (counted under
        # the session's lock, taken first in each batch); a cancelled one takes no spot.
        refusal = rules.check_restore(booking)
        if refusal is None and booking.is_active and not fits(booking):
            return FULL
        return refusal

    # The policy (and the session) are read only to tell clients their place is back.
    operation = Operation("restored", check, apply, reads_policy=notify_client,
                          counts_spots=True, begin_batch=fits.forget)  # fmt: skip
    return change.run(operation, bookings)


@requires("booking.purge_bookingrequest", to="purge")
def purge_bookings(
    bookings: Selection,
    *,
    actor: Actor,
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
    change = Change.begin(actor=actor, reason=reason, context=context, now=now)
    if not confirmed:
        raise exc.ConfirmationRequired("purging needs an explicit confirmation")

    def apply(ready: list[BookingRequest]) -> None:
        notifiable = [
            b for b in ready if not b.is_deleted and rules.is_active_future(b, now=change.now)
        ]
        history.record_deletions(ready, actor=change.actor, reason=change.reason,
                                 context=change.context, when=change.now)  # fmt: skip
        if notify_client:
            notifications.bookings_removed(notifiable, purged=True, reason=change.reason)
        _delete_rows(ready)

    check = lambda b: rules.check_purge(b, reason=change.reason)  # noqa: E731
    return change.run(Operation("purged", check, apply, frees_spots=True), bookings)


def pointing_relations() -> list[models.ForeignObjectRel]:
    """Every relation that points at bookings: another model's foreign key or
    one-to-one, and a many-to-many's own table (whose rows cascade). The ones
    Django's deletion collector visits, found through the public `_meta` API."""
    return [
        field
        for field in BookingRequest._meta.get_fields(include_hidden=True)
        if isinstance(field, models.ForeignObjectRel) and (field.one_to_many or field.one_to_one)
    ]


def _delete_rows(bookings: list[BookingRequest]) -> None:
    """Delete locked bookings whose "-" history is written, honouring every on_delete.

    Not `QuerySet.delete()`: Django's collector would fetch each row again and
    let simple-history insert a second record per row. Rows of other models that
    point at a booking (an email outbox, say) get what their foreign key's
    on_delete asks for, in one query per relation, as the collector would; then
    one DELETE per batch removes the bookings.
    """
    ids = [booking.pk for booking in bookings]
    for relation in pointing_relations():
        field = relation.field
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
    connection = connections[router.db_for_write(BookingRequest)]
    quote = connection.ops.quote_name
    where, params = any_of(connection, quote(str(BookingRequest._meta.pk.column)), ids)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {quote(BookingRequest._meta.db_table)} WHERE {where}", params)
