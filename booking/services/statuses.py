"""One declaration per booking status: where it may go, and the words every page uses for it.

The transition table of the rules, the rules' "already …" refusals, the
timeline's name for a change to the status and the public page's word for it
all read this one mapping, so a new status is one entry here (a test fails when
a `BookingStatus` has none).
"""

from __future__ import annotations

from dataclasses import dataclass

from booking.models import BookingStatus


@dataclass(frozen=True, kw_only=True)
class StatusDeclaration:
    moves_to: frozenset[BookingStatus]  # the statuses it may change to
    already: str  # the refusal of a change to it when the booking is there: "already approved"
    event: str  # the timeline's words for a change to it: "Approved"
    client_word: str  # the public page's words for it: "Confirmed"
    # Fields a change to it sets beside the status (the timeline names the change alone).
    companions: frozenset[str] = frozenset()


STATUSES: dict[BookingStatus, StatusDeclaration] = {
    BookingStatus.PENDING: StatusDeclaration(
        moves_to=frozenset(
            {BookingStatus.APPROVED, BookingStatus.REJECTED, BookingStatus.CANCELLED}
        ),
        already="already pending",
        event="Back to pending",
        client_word="Awaiting confirmation",
    ),
    BookingStatus.APPROVED: StatusDeclaration(
        # Attended / no-show only once the session has started (`rules.check_attendance`).
        moves_to=frozenset(
            {BookingStatus.CANCELLED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW}
        ),
        already="already approved",
        event="Approved",
        client_word="Confirmed",
    ),
    BookingStatus.REJECTED: StatusDeclaration(
        moves_to=frozenset(),
        already="already rejected",
        event="Rejected",
        client_word="Declined",
    ),
    BookingStatus.CANCELLED: StatusDeclaration(
        moves_to=frozenset(),
        already="already cancelled",
        event="Cancelled",
        client_word="Cancelled",
        companions=frozenset(
            {"cancelled_at", "cancelled_by", "cancelled_by_client", "cancellation_reason"}
        ),
    ),
    BookingStatus.ATTENDED: StatusDeclaration(
        moves_to=frozenset(),
        already="already marked attended",
        event="Attended",
        client_word="Attended",
    ),
    BookingStatus.NO_SHOW: StatusDeclaration(
        moves_to=frozenset(),
        already="already marked as a no-show",
        event="No-show",
        client_word="Missed (no-show)",
        companions=frozenset({"fee_amount", "fee_status"}),
    ),
}
