"""Editing a booking's details (client contact, session): never its state.

The admin's change form edits these; a plain `obj.save()` there would write
every column of a row read without a lock, and so silently undo a cancel or a
soft delete committed meanwhile. Here the row is locked and only the edited
fields are written onto its current state.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from booking.actors import Actor
from booking.audit import SYSTEM, RequestContext
from booking.models import BookingRequest, Session
from booking.services import exceptions as exc
from booking.services.lifecycle import clean_reason
from booking.services.rules import check_takes_bookings

EDITABLE_FIELDS = frozenset({"session", "client_name", "client_email", "client_phone"})


def update_booking_details(
    booking_id: int,
    *,
    actor: Actor,
    changes: Mapping[str, object],
    reason: object = "",
    context: RequestContext = SYSTEM,
) -> BookingRequest:
    """Write `changes` (editable fields only) onto the locked, current row.

    One transaction; one historical record with user, reason, IP and user agent.
    A soft-deleted booking is read-only until restored (InvalidTransition).
    """
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise exc.InvalidInput(f"not editable: {', '.join(sorted(unknown))}")
    reason = clean_reason(reason)
    with transaction.atomic():
        rows = BookingRequest.all_objects.select_for_update(of=("self",))
        if actor is not None:
            rows = rows.for_user(actor)
        booking = rows.filter(pk=booking_id).first()
        if booking is None:
            raise exc.BookingNotFound("booking not found")
        if booking.is_deleted:
            raise exc.InvalidTransition("deleted; restore it first")
        if not changes:
            return booking
        _check_session_change(booking, changes.get("session", booking.session))
        for name, value in changes.items():
            setattr(booking, name, value)
        booking.updated_at = timezone.now()
        booking._history_user = actor
        booking._change_reason = reason or "Details edited"
        booking._history_context = context
        booking.save(update_fields=[*changes, "updated_at"])
    return booking


def _check_session_change(booking: BookingRequest, session: object) -> None:
    """Another session must be one that takes bookings (a cancelled one takes none)."""
    if not isinstance(session, Session) or session.pk == booking.session_id:
        return
    refusal = check_takes_bookings(session)
    if refusal is not None:
        refusal.raise_error()
