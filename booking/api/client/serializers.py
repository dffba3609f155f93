"""The client API's JSON of a booking: what anyone holding its reference may see.

Built from the `Summary` the public page shows too (`booking.services.summary`),
so the page and the API agree on whether a booking can be cancelled and until
when; times are in the business's time zone. No client personal data.
"""

from __future__ import annotations

from typing import Any

from booking.models import BookingRequest
from booking.services import charges
from booking.services import exceptions as exc
from booking.services.summary import Summary


def policy_json(summary: Summary) -> dict[str, Any]:
    """The terms the booking was made under (its policy snapshot)."""
    terms = summary.terms
    return {
        "allow_client_cancellation": terms.allow_client_cancellation,
        "cancellation_deadline_hours": terms.cancellation_deadline_hours,
        "cancellation_fee_policy": terms.cancellation_fee_policy,
        "description": summary.policy_words,
    }


def contact_json(summary: Summary) -> dict[str, str]:
    business = summary.business
    return {
        "business": business.name,
        "email": business.contact_email,
        "phone": business.contact_phone,
    }


def booking_json(summary: Summary) -> dict[str, Any]:
    """The public booking object of `GET /api/booking/client/<reference>/`."""
    booking, business = summary.booking, summary.business
    return {
        "booking_reference": booking.reference,
        "status": booking.status,
        "session": {
            "title": booking.session.title,
            "starts_at": summary.starts_at.isoformat(),
            # "cancelled": the business cancelled the session (and so the booking, at no fee).
            "status": booking.session.status,
            "cancellation_reason": booking.session.cancellation_reason,
        },
        "business": {
            "name": business.name,
            "contact_email": business.contact_email,
            "contact_phone": business.contact_phone,
        },
        "can_cancel": summary.can_cancel,
        "cancellation_deadline": summary.deadline_local.isoformat(),
        "policy": policy_json(summary),
        "cancellation_quote": quote_json(summary),
    }


def quote_json(summary: Summary) -> dict[str, Any]:
    """What cancelling now costs: {fee, currency, late, free_until} (`charges`)."""
    return summary.quote.as_json(summary.business.tzinfo)


def refusal_details(summary: Summary, error: exc.BookingError) -> dict[str, Any]:
    """What a client needs beside a refusal: the new quote when the fee changed;
    the policy, the times and whom to call when the policy forbids."""
    if isinstance(error, exc.FeeChanged):
        return {"cancellation_quote": quote_json(summary)}
    if not isinstance(error, exc.PolicyForbids):
        return {}
    return {
        "policy": policy_json(summary),
        "session_time": summary.starts_at.isoformat(),
        "current_time": summary.local(summary.now).isoformat(),
        "cancellation_deadline": summary.deadline_local.isoformat(),
        "contact_info": contact_json(summary),
    }


def cancelled_json(booking: BookingRequest) -> dict[str, Any]:
    """The answer to a client's cancellation."""
    return {
        "success": True,
        "message": "Booking cancelled successfully",
        "booking_reference": booking.reference,
        "status": booking.status,
        "cancelled_at": booking.cancelled_at.isoformat() if booking.cancelled_at else None,
        "cancellation_reason": booking.cancellation_reason,
        "fee": charges.fee_json(booking),
    }
