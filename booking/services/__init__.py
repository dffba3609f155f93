"""The booking service layer: every state change of a booking goes through here.

Interfaces (admin, APIs, public page, commands) parse input, authorise, call one
of these, and render the result or the refusal (`booking.services.exceptions`).
"""

from booking.services.actions import ACTIONS, Action
from booking.services.lifecycle import (
    approve_bookings,
    cancel_booking_as_client,
    cancel_bookings,
    clean_reason,
    ensure_permitted,
    purge_bookings,
    reject_bookings,
    restore_bookings,
    soft_delete_bookings,
)
from booking.services.results import BulkResult, Skip

__all__ = [
    "ACTIONS",
    "Action",
    "BulkResult",
    "Skip",
    "approve_bookings",
    "cancel_booking_as_client",
    "cancel_bookings",
    "clean_reason",
    "ensure_permitted",
    "purge_bookings",
    "reject_bookings",
    "restore_bookings",
    "soft_delete_bookings",
]
