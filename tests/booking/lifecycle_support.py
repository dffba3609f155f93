"""What the life-cycle tests share: the statuses, the staff status actions, a re-read."""

from __future__ import annotations

from booking import services
from booking.models import BookingRequest, BookingStatus

P, A, R, C = (
    BookingStatus.PENDING,
    BookingStatus.APPROVED,
    BookingStatus.REJECTED,
    BookingStatus.CANCELLED,
)
STATUS_ACTIONS = {
    "approve": (services.approve_bookings, A),
    "reject": (services.reject_bookings, R),
    "cancel": (services.cancel_bookings, C),
}
ALLOWED = {(P, A), (P, R), (P, C), (A, C)}


def refetch(booking: BookingRequest) -> BookingRequest:
    return BookingRequest.all_objects.get(pk=booking.pk)
