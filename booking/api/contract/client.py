"""The client API's contract: its shapes and its endpoints under /api/booking/client/.

A booking is shown from the `Summary` the public page shows too
(`booking.services.summary`), so the page and the API agree on whether it can be
cancelled and until when; times are in the business's time zone. No client
personal data.
"""

from __future__ import annotations

from typing import Any

from booking.api.contract.common import (
    DATETIME,
    ERROR,
    MONEY,
    REASON,
    REFERENCE,
    SESSION_STATE,
    STATUS,
)
from booking.api.contract.endpoints import Answer, Endpoint, Operation
from booking.api.contract.types import (
    SELF,
    Anything,
    Bool,
    Const,
    Extends,
    Shape,
    Str,
    Type,
    nullable,
)
from booking.services import charges
from booking.services import exceptions as exc
from booking.services.lifecycle.client import EMAIL_MAX_LENGTH, PHONE_MAX_LENGTH
from booking.services.links import MAX_TOKEN_LENGTH
from booking.services.summary import Summary

# The longest amount a client may send as accepted_fee.
FEE_MAX_LENGTH = 20


def policy_json(summary: Summary) -> dict[str, Any]:
    """The terms the booking was made under (its policy snapshot)."""
    terms = summary.terms
    return {
        "allow_client_cancellation": terms.allow_client_cancellation,
        "cancellation_deadline_hours": terms.cancellation_deadline_hours,
        "cancellation_fee_policy": terms.cancellation_fee_policy,
        "description": summary.policy_words,
    }


def quote_json(summary: Summary) -> dict[str, Any]:
    """What cancelling now costs: {fee, currency, late, free_until} (`charges`)."""
    return summary.quote.as_json(summary.business.tzinfo)


CANCELLATION_QUOTE = Shape(
    name="CancellationQuote",
    fields={
        "fee": MONEY,
        "currency": Str(description="ISO 4217, e.g. USD."),
        "late": Bool(description="A fee applies now."),
        "free_until": nullable(
            DATETIME(description="Until when cancelling is free, if a fee lies ahead.")
        ),
    },
)
CLIENT_BOOKING = Shape(
    name="ClientBooking",
    description="What anyone holding the reference may see: no client personal data.",
    closed=False,
    fields={
        "booking_reference": REFERENCE(source="booking.reference"),
        "status": STATUS(source="booking.status"),
        "session": Shape(
            source=SELF,
            closed=False,
            fields={
                "title": Str(source="booking.session.title"),
                "starts_at": DATETIME(source=lambda summary: summary.starts_at.isoformat()),
                **{
                    name: kind(source=f"booking.session.{name}")
                    for name, kind in SESSION_STATE.items()
                },
            },
        ),
        "business": Shape(
            source="business",
            closed=False,
            fields={
                "name": Str(),
                "contact_email": Str(),
                "contact_phone": Str(),
            },
        ),
        "can_cancel": Bool(),
        "cancellation_deadline": DATETIME(
            source=lambda summary: summary.deadline_local.isoformat()
        ),
        "policy": Anything(description="The business's cancellation policy.", source=policy_json),
        "cancellation_quote": CANCELLATION_QUOTE(source=quote_json),
    },
)
CANCEL_REQUEST = Shape(
    name="ClientCancelRequest",
    description="Identity by the booking's email or phone (one of them).",
    closed=False,
    fields={
        "client_email": Str(max_length=EMAIL_MAX_LENGTH),
        "client_phone": Str(max_length=PHONE_MAX_LENGTH),
        "reason": REASON,
        "token": Str(
            max_length=MAX_TOKEN_LENGTH,
            description="The token of a signed cancellation link, instead of contact details.",
        ),
        "accepted_fee": MONEY(
            max_length=FEE_MAX_LENGTH,
            description="The quoted fee the client accepts: when the fee due differs, "
            "nothing changes and the answer is 409 with the new cancellation_quote.",
        ),
    },
    optional=("client_email", "client_phone", "reason", "token", "accepted_fee"),
)
CANCEL_RESULT = Shape(
    name="ClientCancelResult",
    closed=False,
    fields={
        "success": Const(value=True),
        "message": Const(value="Booking cancelled successfully"),
        "booking_reference": REFERENCE(source="reference"),
        "status": Const(value="cancelled"),
        "cancelled_at": DATETIME(source=lambda booking: booking.cancelled_at.isoformat()),
        "cancellation_reason": Str(),
        "fee": Shape(fields={"amount": MONEY, "currency": Str()}, source=charges.fee_json),
    },
)

# What a client needs beside a refusal by the policy (`refusal_details`).
DEADLINE_ERROR = Extends(
    name="DeadlineError",
    base=ERROR,
    description="A deadline refusal says when, by which policy, and whom to call.",
    closed=False,
    fields={
        "policy": Anything(source=policy_json),
        "session_time": DATETIME(source=lambda summary: summary.starts_at.isoformat()),
        "current_time": DATETIME(source=lambda summary: summary.local(summary.now).isoformat()),
        "cancellation_deadline": CLIENT_BOOKING.fields["cancellation_deadline"],
        "contact_info": Shape(
            closed=False,
            fields={
                "business": Str(source="name"),
                "email": Str(source="contact_email"),
                "phone": Str(source="contact_phone"),
            },
            source="business",
        ),
    },
    optional=("policy", "session_time", "current_time", "cancellation_deadline", "contact_info"),
)


def refusal_details(summary: Summary, error: exc.BookingError) -> dict[str, Any]:
    """What a client needs beside a refusal: the new quote when the fee changed;
    the policy, the times and whom to call when the policy forbids."""
    if isinstance(error, exc.FeeChanged):
        return {"cancellation_quote": quote_json(summary)}
    if not isinstance(error, exc.PolicyForbids):
        return {}
    return DEADLINE_ERROR.dump(summary)  # its own fields: the error's are json_error's


CLIENT_REFERENCE: dict[str, Type] = {"reference": REFERENCE}
UNKNOWN_REFERENCE = Answer(404, "Unknown or deleted reference.")

BOOKING = Endpoint(
    route="booking/client/<str:reference>/",
    name="client-booking",
    tag="public",
    path_params=CLIENT_REFERENCE,
    undocumented=("HEAD",),
    operations=(
        Operation(
            method="GET",
            operation_id="getClientBooking",
            summary="A booking as its client may see it, by reference (no login).",
            answers=(
                Answer(200, "The booking, without personal data.", CLIENT_BOOKING),
                UNKNOWN_REFERENCE,
                Answer(429, "This IP has made too many failed attempts or unknown look-ups."),
            ),
        ),
    ),
)
CANCEL = Endpoint(
    route="booking/client/<str:reference>/cancel/",
    name="client-cancel",
    tag="public",
    path_params=CLIENT_REFERENCE,
    operations=(
        Operation(
            method="POST",
            operation_id="cancelClientBooking",
            summary="The client cancels their booking, proving identity by email or phone.",
            body=CANCEL_REQUEST,
            body_required=True,
            answers=(
                Answer(200, "Cancelled.", CANCEL_RESULT),
                Answer(400, "Malformed body, missing contact details, reason too long."),
                Answer(
                    403,
                    "Identity not verified, the policy forbids, or the deadline has passed.",
                    DEADLINE_ERROR,
                ),
                UNKNOWN_REFERENCE,
                Answer(
                    409,
                    "Already cancelled, or not cancellable; or the fee due is not the "
                    "accepted_fee (code fee_changed, with the new cancellation_quote).",
                ),
                Answer(429, "Too many failed verifications of this reference or from this IP."),
                Answer(
                    503, "The rate limiter cannot be reached; nothing changed (see Retry-After)."
                ),
            ),
        ),
    ),
)

ENDPOINTS = (BOOKING, CANCEL)
