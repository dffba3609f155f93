"""Writing a batch of locked bookings: one `UPDATE` per batch (per fee amount), one
historical record per booking, and the in-memory bookings set as the database now has them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from django.db.models import Field, ForeignKey

from booking.actors import Actor
from booking.audit import RequestContext
from booking.models import BookingRequest
from booking.services import charges, history
from booking.services.ids import pk_in


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
