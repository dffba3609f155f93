"""The emails a state change owes, written to the outbox in the caller's transaction.

The lifecycle services call these inside their transaction, once per batch, so
that an email exists exactly when the change it reports was committed; the
outbox rows are sent by a task enqueued on commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from booking.models import BookingRequest


def bookings_cancelled(
    bookings: Sequence[BookingRequest], *, by_client: bool, notify_client: bool
) -> None:
    """Queue the cancellation emails: the client's, and the business's for a client's own."""


def bookings_removed(bookings: Sequence[BookingRequest], *, purged: bool) -> None:
    """Queue the notice to clients whose active future booking staff removed."""


def cancellation_link_requested(booking: BookingRequest) -> None:
    """Queue an email with a signed cancellation link to the booking's own address."""
