"""What a bulk operation did: the bookings it changed, and those it skipped and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.utils.text import capfirst

from booking.models import BookingRequest
from booking.services.rules import Refusal


@dataclass(frozen=True)
class Skip:
    booking: BookingRequest | None
    booking_id: int
    refusal: Refusal

    @property
    def reason(self) -> str:
        return self.refusal.message


@dataclass
class BulkResult:
    """The outcome of one service call: `done` changed, `skipped` left as they were."""

    verb: str  # past participle: "cancelled", "soft-deleted", …
    done: list[BookingRequest] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)

    @property
    def done_count(self) -> int:
        return len(self.done)

    @property
    def skipped_count(self) -> int:
        return len(self.skipped)

    def skip_reasons(self) -> Counter[str]:
        return Counter(skip.reason for skip in self.skipped)

    def summary(self) -> str:
        """One line for a person: "12 cancelled; 3 skipped: already cancelled"."""
        text = f"{self.done_count} {self.verb}"
        if self.skipped:
            reasons = ", ".join(
                f"{count} {reason}" if len(self.skip_reasons()) > 1 else reason
                for reason, count in self.skip_reasons().most_common()
            )
            text += f"; {self.skipped_count} skipped: {reasons}"
        return capfirst(text)

    def raise_for_single(self) -> BookingRequest:
        """For a call on one booking: its changed row, or the refusal as an exception."""
        if self.done:
            return self.done[0]
        if self.skipped:
            skip = self.skipped[0]
            raise skip.refusal.error(skip.reason, booking=skip.booking)
        from booking.services.exceptions import BookingNotFound

        raise BookingNotFound("booking not found")
