"""The public page's wording: each refusal, and a session the business cancelled."""

from __future__ import annotations

from dataclasses import dataclass

from booking.models import BookingRequest, BookingStatus
from booking.services import exceptions as exc
from booking.services.links import TokenCheck
from booking.services.statuses import STATUSES
from booking.services.summary import Summary

# The client's words for each status, declared with the status.
STATUS_WORDS = {status: declaration.client_word for status, declaration in STATUSES.items()}

TOKEN_NOTICES = {
    TokenCheck.EXPIRED: "This cancellation link has expired.",
    TokenCheck.USED: "This cancellation link has already been used or no longer applies.",
    TokenCheck.INVALID: "This cancellation link is not valid.",
}


@dataclass(frozen=True)
class Notice:
    """A message on the page; `contact` adds the business's details.

    `at_form`: about what the client typed, so it is shown inside the form they
    just sent (the page opens there), not at the top of a long page.
    """

    title: str
    text: str
    contact: bool = False
    kind: str = "error"
    at_form: bool = False


def wait_words(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


UNAVAILABLE = Notice(
    "Please try again in a few minutes",
    "We cannot check your request right now, so nothing has been changed. "
    "Please try again in a few minutes, or contact the business.",
)
IP_LOCKED = Notice(
    "Too many attempts",
    "For your security, booking look-ups from your network are paused after many "
    "attempts that did not match a booking. Try again in {wait}.",
)


def session_cancelled_notice(summary: Summary) -> Notice:
    """The business cancelled the session: said so, with its reason and whom to ask."""
    session = summary.booking.session
    reason = session.cancellation_reason.strip()
    if reason:
        reason = f" Their reason: {reason}" + ("" if reason.endswith((".", "!", "?")) else ".")
    return Notice(
        f"{summary.business.name} cancelled this session",
        f"{session.title} on {summary.starts_words} ({summary.business.timezone} time) "
        f"will not take place, so your booking is cancelled; there is nothing for you "
        f"to do and no fee to pay.{reason} Questions, or would you like another session? "
        "Contact the business:",
        contact=True,
        kind="info",
    )


def notice_for(error: exc.BookingError, summary: Summary) -> Notice:
    """The page's wording of a refusal (the API sends the service's own message)."""
    business = summary.business.name
    if isinstance(error, exc.ServiceUnavailable):
        return UNAVAILABLE
    if isinstance(error, exc.RateLimited):
        wait = wait_words(int(error.details.get("retry_after", 60)))
        return Notice(
            "Too many attempts",
            f"For your security, cancelling this booking online is paused after several "
            f"attempts with details that did not match. Try again in {wait}, or ask for a "
            f"cancellation link by email below.",
        )
    if isinstance(error, exc.IdentityNotVerified):
        return Notice(
            "Those details don't match this booking",
            "Check the email address or phone number you booked with and try again, "
            "or ask for a cancellation link by email below.",
            at_form=True,
        )
    if summary.session_cancelled:
        return session_cancelled_notice(summary)
    if isinstance(error, exc.DeadlinePassed) and summary.session_over:
        return Notice(
            "This session has already taken place",
            f"{summary.booking.session.title} was on {summary.starts_words} "
            f"({summary.business.timezone} time), so there is nothing left to cancel. "
            "Questions? Contact the business:",
            contact=True,
            kind="info",
        )
    if isinstance(error, exc.DeadlinePassed):
        return Notice(
            "It is too late to cancel online",
            f"The deadline to cancel online was {summary.deadline_words} "
            f"({summary.business.timezone} time). Please contact {business} directly.",
            contact=True,
        )
    if isinstance(error, exc.PolicyForbids):
        return Notice(
            "Online cancellation is turned off",
            f"{business} does not take cancellations online. Please contact them directly.",
            contact=True,
        )
    if isinstance(error, exc.FeeChanged):
        return Notice(
            "The cancellation fee has changed",
            f"Nothing was cancelled. {summary.quote.words} if you cancel now; "
            f"press the button again to cancel on these terms.",
        )
    if isinstance(error, exc.InvalidTransition):
        if summary.booking.status == BookingStatus.CANCELLED:
            return Notice("Already cancelled", "This booking is already cancelled.", kind="info")
        return Notice(
            "Nothing to cancel",
            f"This booking is {STATUS_WORDS[BookingStatus(summary.booking.status)].lower()}, "
            f"so there is nothing to cancel.",
            kind="info",
        )
    return Notice("Please check your input", error.message, at_form=True)


def status_words(booking: BookingRequest) -> str:
    if booking.session.is_cancelled and booking.status == BookingStatus.CANCELLED:
        return "Cancelled by the business"
    return STATUS_WORDS[BookingStatus(booking.status)]
