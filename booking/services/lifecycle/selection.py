"""A bulk call's selection: resolved to keys once, then each batch locked under its filters.

The engine (see its module) takes ids, one booking, or a queryset. A queryset is
resolved to primary keys once, unlocked, in one statement within the actor's
scope; then each batch's locking statement is the same query narrowed to the
batch's keys, so the caller's filters are checked again under the lock.

A filter on a list of booking keys (`pk__in=[…]`: the admin's ticked rows) is
handled apart. Django sends it as one parameter per key; this resolves it as one
array (`ids.pk_in`) and leaves it out of the batches' statements: a row's key
never changes and a batch's keys came from the list, so checking it again under
the lock would decide nothing, and sending 10 000 keys with each of 10 batches
cost as much as the batches themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.db.models.expressions import Col
from django.db.models.lookups import In
from django.db.models.sql.where import AND, WhereNode

from booking.actors import Actor
from booking.models import BookingQuerySet, BookingRequest
from booking.services.ids import AnyOf, pk_in


def resolve(selection: QuerySet[BookingRequest], actor: Actor) -> list[int]:
    """The selection's primary keys within the actor's scope, sorted (one statement)."""
    rows = _key_lists(scoped(selection, actor), _as_array)
    return sorted(set(rows.order_by().values_list("pk", flat=True)))


def _as_array(node: Any) -> Any:
    """The same key list as one array parameter (`pk_in`); kept as it is unless every
    key is an integer (`pk__in=[1, None]` stays Django's, which drops the None)."""
    keys = list(node.rhs)
    if not all(isinstance(pk, int) and not isinstance(pk, bool) for pk in keys):
        return node
    return AnyOf(node.lhs, keys)


def batch_of(
    selection: QuerySet[BookingRequest], actor: Actor, ids: tuple[int, ...]
) -> BookingQuerySet:
    """The batch's rows that still match the selection: its query (less its key
    lists) narrowed to `ids`, loading plain bookings (every field, no joins), for
    the batch's `select_for_update`."""
    rows = _key_lists(scoped(selection, actor), lambda node: None).filter(pk_in(ids))
    return rows.select_related(None).defer(None)


def scoped(selection: QuerySet[BookingRequest], actor: Actor) -> BookingQuerySet:
    """The selection within the actor's scope, as a query that can take row locks."""
    if isinstance(selection, BookingQuerySet) and _lockable(selection):
        rows = selection
    else:
        rows = BookingRequest.all_objects.filter(pk__in=selection.order_by().values("pk"))
    return rows.for_user(actor) if actor is not None else rows


def _lockable(selection: QuerySet[BookingRequest]) -> bool:
    """Can the selection's own query take row locks and load whole bookings? (Not with
    DISTINCT, grouping, a union, a slice, `values()` or annotations: those are locked
    through a subquery of their keys.)"""
    query = selection.query
    return not (
        query.distinct
        or query.combinator
        or query.is_sliced
        or query.group_by is not None
        or query.values_select
        or query.annotations
    )


def _key_lists(rows: BookingQuerySet, replace: Callable[[Any], Any]) -> BookingQuerySet:
    """`rows` with each top-level filter on a list of booking keys replaced by
    `replace(filter)` (left out where it returns None)."""
    where = rows.query.where
    if where.connector != AND or where.negated:
        return rows
    table = rows.query.base_table
    if not any(_is_key_list(child, table) for child in where.children):
        return rows
    kept = []
    for child in where.children:
        replaced = replace(child) if _is_key_list(child, table) else child
        if replaced is not None:
            kept.append(replaced)
    rows = rows.all()  # a copy, whose query is its own
    rows.query.where = WhereNode(kept, AND)
    return rows


def _is_key_list(node: object, table: str | None) -> bool:
    """Is `node` "the booking's primary key is one of these (non-empty) literal values"?"""
    if not isinstance(node, (In, AnyOf)) or not isinstance(node.rhs, (list, tuple, set)):
        return False
    column = node.lhs
    return (
        bool(node.rhs)
        and isinstance(column, Col)
        and column.alias == table
        and column.target is BookingRequest._meta.pk
    )
