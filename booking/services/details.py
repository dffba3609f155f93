"""Adding a booking, and editing its details (client contact, session): never its state.

The admin's change form edits these; a plain `obj.save()` there would write
every column of a row read without a lock, and so silently undo a cancel or a
soft delete committed meanwhile. Here the row is locked and only the edited
fields are written onto its current state.

A session's spots hold here too: a new booking, or an active one whose session
changes, needs a spot nobody holds (active bookings and open waitlist offers),
counted under the session's lock, taken before the booking's (sessions first,
as everywhere); the spot an edit leaves is offered to the old session's
waitlist in the same transaction.
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
from booking.services.waitlist import offer_freed_spots, spots

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
    now = timezone.now()
    with transaction.atomic():
        moving = _lock_sessions_of_move(booking_id, changes.get("session"))
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
        left = booking.session_id
        target = changes.get("session")
        if isinstance(target, Session) and target.pk != left:
            if left not in moving:
                raise exc.InvalidTransition("the booking changed meanwhile; try again")
            if booking.is_active and spots.room_in(target, now=now) < 1:
                raise exc.InvalidTransition("the session is full")
        for name, value in changes.items():
            setattr(booking, name, value)
        booking.updated_at = timezone.now()
        booking._history_user = actor
        booking._change_reason = reason or "Details edited"
        booking._history_context = context
        booking.save(update_fields=[*changes, "updated_at"])
        if booking.session_id != left:
            offer_freed_spots([left], now=now, context=context)
    return booking


def _lock_sessions_of_move(booking_id: int, session: object) -> set[int]:
    """When the session changes: lock the booking's current and new sessions (pk order)."""
    if not isinstance(session, Session):
        return set()
    current = BookingRequest.all_objects.filter(pk=booking_id).values_list("session_id", flat=True)
    return set(spots.lock_sessions([*current, session.pk]))


def add_booking(booking: BookingRequest, *, actor: Actor, context: RequestContext = SYSTEM,
                ) -> BookingRequest:  # fmt: skip
    """Save a new booking (the admin's add form) into a spot nobody holds.

    Its session is locked first and its room counted (active bookings and open
    waitlist offers); a full one refuses (InvalidTransition). One "+" record.
    """
    with transaction.atomic():
        session = spots.lock_sessions([booking.session_id]).get(booking.session_id)
        if session is None:
            raise exc.InvalidInput("the session does not exist")
        refusal = check_takes_bookings(session)
        if refusal is not None:
            refusal.raise_error()
        if booking.is_active and spots.room_in(session, now=timezone.now()) < 1:
            raise exc.InvalidTransition("the session is full")
        booking._history_user = actor
        booking._history_context = context
        booking.save()
    return booking


def _check_session_change(booking: BookingRequest, session: object) -> None:
    """Another session must be one that takes bookings (a cancelled one takes none)."""
    if not isinstance(session, Session) or session.pk == booking.session_id:
        return
    refusal = check_takes_bookings(session)
    if refusal is not None:
        refusal.raise_error()
