"""The booking life cycle: the only code that changes a booking's state.

- `engine`: the shape every change follows (select, lock in primary-key order,
  re-check the rule under the lock, change in one `UPDATE` per batch, record the
  history, queue the emails), the reason's validation and the permission guard;
- `status`: approve, reject and cancel as staff;
- `deletion`: soft delete, restore and purge;
- `moves`: moving bookings to another session of the same business;
- `client`: a client's own cancellation;
- `attendance`: attended and no-show (with the no-show fee), and fee waivers.

Every operation is bulk first (one booking is a bulk call of one); its staff
actions are declared in `booking.services.actions`.
"""

from booking.services.lifecycle.client import cancel_booking_as_client
from booking.services.lifecycle.deletion import (
    purge_bookings,
    restore_bookings,
    soft_delete_bookings,
)
from booking.services.lifecycle.engine import (
    GONE,
    Selection,
    StaffService,
    clean_reason,
    ensure_permitted,
    requires,
)
from booking.services.lifecycle.moves import move_bookings
from booking.services.lifecycle.status import approve_bookings, cancel_bookings, reject_bookings

__all__ = [
    "GONE",
    "Selection",
    "StaffService",
    "approve_bookings",
    "cancel_booking_as_client",
    "cancel_bookings",
    "clean_reason",
    "ensure_permitted",
    "move_bookings",
    "purge_bookings",
    "reject_bookings",
    "requires",
    "restore_bookings",
    "soft_delete_bookings",
]
