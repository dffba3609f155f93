"""What anyone holding a booking's reference may see of it: no client personal data.

The public page and the client API both describe a booking with `Summary`:
whether it can be cancelled now (by the same pure rule the cancellation applies
under the lock), the deadline and the session's time in the business's time
zone, and the policy in words. The API's JSON of it is
`booking.api.contract.client` (the `ClientBooking` shape).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cached_property

from django.utils import dateformat, timezone

from booking import clock
from booking.models import BookingRequest, BookingSettings, Business
from booking.services import charges, rules
from booking.services import exceptions as exc
from booking.services.fees import Quote
from booking.services.policy import Terms, terms_of
from booking.services.rules import Refusal

WORDS_FORMAT = "D j M, H:i"  # "Tue 3 Dec, 07:00"
LONG_FORMAT = "l j F Y, H:i"  # "Tuesday 3 December 2026, 07:00"


def in_words(moment: datetime, tz: tzinfo) -> str:
    return dateformat.format(clock.localtime(moment, tz), WORDS_FORMAT)


@dataclass(frozen=True)
class Summary:
    """A booking as anyone holding its reference may see it: no client personal data."""

    booking: BookingRequest
    now: datetime
    refusal: Refusal | None

    @classmethod
    def of(cls, booking: BookingRequest, *, now: datetime | None = None) -> Summary:
        now = now or timezone.now()
        return cls(booking, now, rules.check_client_cancel(booking, now=now))

    @property
    def business(self) -> Business:
        return self.booking.session.business

    @property
    def policy(self) -> BookingSettings:
        return self.business.booking_settings

    @property
    def terms(self) -> Terms:
        """The terms the booking was made under (its snapshot): deadline, fees, policy text."""
        return terms_of(self.booking)

    @cached_property
    def quote(self) -> Quote:
        """What cancelling now costs: what the page states and the cancel charges."""
        return charges.cancellation_quote(self.booking, now=self.now)

    @property
    def free_until_words(self) -> str:
        free_until = self.quote.free_until
        return in_words(free_until, self.business.tzinfo) if free_until else ""

    @property
    def can_cancel(self) -> bool:
        return self.refusal is None

    @property
    def deadline(self) -> datetime:
        return rules.cancellation_deadline(self.booking)

    def local(self, moment: datetime) -> datetime:
        return clock.localtime(moment, self.business.tzinfo)

    @property
    def starts_at(self) -> datetime:
        return self.local(self.booking.session.starts_at)

    @property
    def starts_words(self) -> str:
        return dateformat.format(self.starts_at, LONG_FORMAT)

    def long_words(self, moment: datetime) -> str:
        return dateformat.format(self.local(moment), LONG_FORMAT)

    @property
    def deadline_local(self) -> datetime:
        return self.local(self.deadline)

    @property
    def deadline_words(self) -> str:
        return in_words(self.deadline, self.business.tzinfo)

    @property
    def policy_words(self) -> str:
        if not self.terms.allow_client_cancellation:
            return "This business does not take cancellations online; please contact them."
        hours = self.terms.cancellation_deadline_hours
        if hours == 0:
            return "You can cancel online until the session starts."
        unit = "hour" if hours == 1 else "hours"
        return f"You can cancel online up to {hours} {unit} before the session starts."

    @property
    def session_over(self) -> bool:
        """The session has started (or taken place): nothing is left to cancel."""
        return self.now >= self.booking.session.starts_at

    @property
    def deadline_passed(self) -> bool:
        return self.refusal is not None and self.refusal.error is exc.DeadlinePassed

    @property
    def session_cancelled(self) -> bool:
        """The business cancelled the whole session: the booking went with it, at no fee."""
        return self.booking.session.is_cancelled
