"""Historical records written in bulk, with user, reason, IP and user agent.

`QuerySet.update()` and raw deletes write no history by themselves; the
services call these in the same transaction, so every changed booking gets
exactly one historical record.

Each batch is one `INSERT … SELECT`: the database copies the bookings' rows,
as they now stand, into the historical table next to the given user, reason,
date, IP and user agent. This writes exactly what simple-history's
`bulk_history_create` would (same columns, same values), but without building
a historical model instance and compiling thousands of parameters per batch,
which was most of a bulk call's time. Unlike `bulk_history_create`, a missing
user stays missing: a client's cancellation (no actor) is recorded without a
user even when a logged-in staff member happens to be browsing the public page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import batched
from typing import Any

from django.conf import settings
from django.db import connections, router
from django.db.models import Model

from booking.actors import Actor
from booking.audit import RequestContext
from booking.models import BookingRequest
from booking.services.ids import any_of

HISTORY_BATCH_SIZE = 1000


def _copy_into_history(
    bookings: Sequence[BookingRequest],
    history_type: str,
    *,
    actor: Actor,
    reason: str,
    context: RequestContext,
    when: datetime,
) -> None:
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True) or not bookings:
        return
    model = BookingRequest.history.model
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    given = {
        "history_date": when,
        "history_user": actor.pk if actor is not None else None,
        "history_change_reason": reason,
        "history_type": history_type,
        **context.as_history_attrs(),
    }
    copied = [
        (field.column, model._meta.get_field(field.name).column) for field in model.tracked_fields
    ]
    targets = [target for _, target in copied] + [model._meta.get_field(n).column for n in given]
    given_values = [
        model._meta.get_field(name).get_db_prep_save(value, connection)
        for name, value in given.items()
    ]
    source = BookingRequest._meta
    prefix = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, targets))}) "
        f"SELECT {', '.join(quote(column) for column, _ in copied)}, "
        f"{', '.join(['%s'] * len(given_values))} "
        f"FROM {quote(source.db_table)} WHERE "
    )
    with connection.cursor() as cursor:
        for batch in batched([booking.pk for booking in bookings], HISTORY_BATCH_SIZE):
            where, params = any_of(connection, quote(str(source.pk.column)), batch)
            cursor.execute(prefix + where, [*given_values, *params])


def record_changes(
    bookings: Sequence[BookingRequest],
    *,
    actor: Actor,
    reason: str,
    context: RequestContext,
    when: datetime,
) -> None:
    """One "~" record per booking, of its row as it now stands in the database."""
    _copy_into_history(bookings, "~", actor=actor, reason=reason, context=context, when=when)


def record_deletions(
    bookings: Sequence[BookingRequest],
    *,
    actor: Actor,
    reason: str,
    context: RequestContext,
    when: datetime,
) -> None:
    """One "-" record per booking about to be purged: the audit trail keeps its final state.

    Call it before the rows are deleted, in the same transaction.
    """
    _copy_into_history(bookings, "-", actor=actor, reason=reason, context=context, when=when)


def update_and_record(
    rows: Sequence[Model],
    fields: dict[str, Any],
    *,
    actor: Actor,
    reason: str,
    context: RequestContext,
    when: datetime,
) -> None:
    """Set `fields` on `rows` of one tracked model (one `UPDATE`, and on the objects) and
    write one "~" record each through simple-history's bulk API, with the audit fields.

    For the few rows of other models a bulk change touches (sessions, waitlist
    entries); bookings, by the thousand, go through `record_changes`.
    """
    if not rows:
        return
    model = type(rows[0])
    model._default_manager.filter(pk__in=[row.pk for row in rows]).update(**fields)
    for row in rows:
        for name, value in fields.items():
            setattr(row, name, value)
    model.history.bulk_history_create(  # type: ignore[attr-defined]
        rows,
        update=True,
        default_user=actor,
        default_change_reason=reason,
        default_date=when,
        custom_historical_attrs=context.as_history_attrs(),
    )
