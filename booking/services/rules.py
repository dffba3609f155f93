"""Pure rules: may this action happen to this booking now, and if not, why?

No database access: every function takes the booking (with its session,
business and settings loaded) and `now` explicitly and returns None when the
action is allowed, or a `Refusal`. Confirmation pages use them to preview; the
services re-check them under the row lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from booking.models import (
    ACTIVE_STATUSES,
    BookingRequest,
    BookingSettings,
    BookingStatus,
    Session,
    SessionStatus,
)
from booking.services import exceptions as exc
from booking.services.policy import terms_of
from booking.services.statuses import STATUSES


@dataclass(frozen=True)
class Refusal:
    message: str
    error: type[exc.BookingError]

    def raise_error(self, **details: object) -> None:
        raise self.error(self.message, **details)


# Which statuses each status may move to (declared with the status's words).
TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    status: declaration.moves_to for status, declaration in STATUSES.items()
}

DELETED = Refusal("deleted; restore it first", exc.InvalidTransition)
SESSION_IS_CANCELLED = Refusal(
    "its session is cancelled: it takes no new or moved bookings", exc.InvalidTransition
)


def policy_of(booking: BookingRequest) -> BookingSettings:
    return booking.session.business.booking_settings


def check_status_change(booking: BookingRequest, target: str) -> Refusal | None:
    if booking.is_deleted:
        return DELETED
    if booking.status == target:
        return Refusal(STATUSES[BookingStatus(target)].already, exc.InvalidTransition)
    if target not in TRANSITIONS[BookingStatus(booking.status)]:
        current, wanted = booking.get_status_display().lower(), BookingStatus(target).label.lower()
        return Refusal(f"cannot go from {current} to {wanted}", exc.InvalidTransition)
    return None


def check_approve(booking: BookingRequest) -> Refusal | None:
    """Approve a pending booking, unless the business cancelled its session."""
    refusal = check_status_change(booking, BookingStatus.APPROVED)
    if refusal is None and booking.session.is_cancelled:
        return SESSION_IS_CANCELLED
    return refusal


def check_attendance(booking: BookingRequest, target: str, *, now: datetime) -> Refusal | None:
    """Attended or no-show: an approved booking, once its session has started."""
    refusal = check_status_change(booking, target)
    if refusal:
        return refusal
    if booking.session.starts_at > now:
        return Refusal("the session has not started yet", exc.InvalidTransition)
    return None


def check_reason_required(booking: BookingRequest, reason: str) -> Refusal | None:
    if policy_of(booking).require_deletion_reason and not reason:
        return Refusal("a reason is required by this business", exc.ReasonRequired)
    return None


def check_deletion_allowed(booking: BookingRequest) -> Refusal | None:
    if not policy_of(booking).allow_admin_deletion:
        return Refusal("deletion disabled for this business", exc.PolicyForbids)
    return None


def check_soft_delete(booking: BookingRequest, *, reason: str) -> Refusal | None:
    # A missing required reason is bad input, reported before the policy.
    refusal = check_reason_required(booking, reason) or check_deletion_allowed(booking)
    if refusal:
        return refusal
    if booking.is_deleted:
        return Refusal("already deleted", exc.InvalidTransition)
    return None


def check_restore(booking: BookingRequest) -> Refusal | None:
    if not booking.is_deleted:
        return Refusal("not deleted", exc.InvalidTransition)
    if booking.status in ACTIVE_STATUSES and booking.session.is_cancelled:
        # It would be a place in a class that will not take place.
        return SESSION_IS_CANCELLED
    return None


def check_purge(booking: BookingRequest, *, reason: str) -> Refusal | None:
    return check_reason_required(booking, reason) or check_deletion_allowed(booking)


def cancellation_deadline(booking: BookingRequest) -> datetime:
    """The last moment a client may cancel: session start minus the booking's terms' hours.

    The hours come from the booking's policy snapshot (`policy.terms_of`). They
    are elapsed time, not wall-clock time: across a daylight-saving change in
    the business's time zone, "24 hours before" is still 24 real hours.
    """
    hours = terms_of(booking).cancellation_deadline_hours
    # Python subtracts wall-clock time within one zone, so go through UTC first.
    try:
        return booking.session.starts_at.astimezone(UTC) - timedelta(hours=hours)
    except OverflowError:  # a row no form accepts (hours > 8760, a session in year 1)
        return datetime.min.replace(tzinfo=UTC)


SESSION_CANCELLED = Refusal("the business cancelled this session", exc.InvalidTransition)


def check_client_cancel(booking: BookingRequest, *, now: datetime) -> Refusal | None:
    if booking.is_deleted:
        return Refusal("booking not found", exc.BookingNotFound)
    if booking.session.is_cancelled:  # nothing left for the client to cancel
        return SESSION_CANCELLED
    if not terms_of(booking).allow_client_cancellation:
        return Refusal(
            "this business does not allow cancelling online; please contact them",
            exc.PolicyForbids,
        )
    refusal = check_status_change(booking, BookingStatus.CANCELLED)
    if refusal:
        return refusal
    if now > cancellation_deadline(booking):
        return Refusal("the cancellation deadline has passed", exc.DeadlinePassed)
    return None


def is_active_future(booking: BookingRequest, *, now: datetime) -> bool:
    """A booking whose client still expects to attend: worth telling of its removal."""
    return booking.status in ACTIVE_STATUSES and booking.session.starts_at > now


def check_movable(booking: BookingRequest) -> Refusal | None:
    """Only an active booking (pending or approved, not deleted) moves to another session."""
    if booking.is_deleted:
        return DELETED
    if booking.status not in ACTIVE_STATUSES:
        return Refusal(f"{booking.get_status_display().lower()}: only active bookings move",
                       exc.InvalidTransition)  # fmt: skip
    return None


def check_takes_bookings(session: Session) -> Refusal | None:
    """A session the business cancelled takes no new or moved bookings (every path asks)."""
    if session.status != SessionStatus.SCHEDULED:
        return Refusal(
            "the session is cancelled: it takes no new or moved bookings", exc.InvalidTransition
        )
    return None


def check_move_target(target: Session, *, now: datetime) -> Refusal | None:
    """A booking moves only into a scheduled session that has not started."""
    if check_takes_bookings(target) is not None:
        return Refusal("the target session is cancelled", exc.InvalidTransition)
    if target.starts_at <= now:
        return Refusal("the target session has already started", exc.InvalidTransition)
    return None


def check_move(booking: BookingRequest, target: Session) -> Refusal | None:
    """The rule for one booking against a valid target (room is counted under the lock)."""
    refusal = check_movable(booking)
    if refusal is not None:
        return refusal
    if booking.session.business_id != target.business_id:
        return Refusal("the target session is another business's", exc.InvalidInput)
    if booking.session_id == target.pk:
        return Refusal("already in that session", exc.InvalidTransition)
    return None
