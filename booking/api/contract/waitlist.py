"""The staff API's waitlist: a session's queue, and adding a client to it.

`GET /api/booking/manage/waitlist/?session=<id>` lists the session's entries in
queue order with its spots; `POST` with `session`, `client_name`,
`client_email` and `client_phone` adds a client through `waitlist.join` (a
session with a free spot offers it at once: the entry's `status` says so).
"""

from __future__ import annotations

from booking.api.contract.common import DATETIME, REFERENCE, SESSION_STATE
from booking.api.contract.endpoints import SESSION, SESSION_AND_CSRF, Answer, Endpoint, Operation
from booking.api.contract.staff import STAFF_ERRORS
from booking.api.contract.types import Array, Const, Enum, Id, Int, Shape, Str, nullable
from booking.services.waitlist.staff import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, PHONE_MAX_LENGTH
from booking.waitlist.models import WaitlistStatus

SESSION_SUMMARY = Shape(
    fields={"id": Int(source="pk"), "title": Str(), "starts_at": DATETIME, **SESSION_STATE},
)
WAITLIST_ENTRY = Shape(
    name="WaitlistEntry",
    fields={
        "id": Int(source="pk"),
        "reference": REFERENCE,
        "status": Enum(values=tuple(WaitlistStatus.values)),
        "client_name": Str(),
        "client_email": Str(),
        "client_phone": Str(),
        "session": SESSION_SUMMARY,
        "created_at": DATETIME,
        "offered_at": nullable(DATETIME),
        "offer_expires_at": nullable(DATETIME, description="When an open offer ends."),
        "booking": nullable(
            REFERENCE,
            source=lambda entry: entry.booking.reference if entry.booking else None,
            description="The reference of the booking its claim created.",
        ),
    },
)
WAITLIST = Shape(
    name="Waitlist",
    fields={
        "session": SESSION_SUMMARY,
        "spots": Shape(
            fields={
                "capacity": Int(minimum=1),
                "booked": Int(
                    minimum=0,
                    description=(
                        "Seats taken: active bookings (in a past session, also those "
                        "attended or no-show)."
                    ),
                ),
                "waiting": Int(minimum=0),
                "offered": Int(minimum=0, description="Open offers: each holds a spot."),
            }
        ),
        "entries": Array(of=WAITLIST_ENTRY),
    },
)
ADDED = Shape(
    name="WaitlistAdded",
    fields={"success": Const(value=True), "message": Str(), "entry": WAITLIST_ENTRY},
)

LIST_QUERY = Shape(
    fields={"session": Int(minimum=1, description="The session's id (required; one of yours).")},
    optional=("session",),
)
JOIN_REQUEST = Shape(
    name="WaitlistJoinRequest",
    fields={
        "session": Id(description="The session's id (one of yours, scheduled, not started)."),
        "client_name": Str(min_length=1, max_length=NAME_MAX_LENGTH),
        "client_email": Str(min_length=1, max_length=EMAIL_MAX_LENGTH),
        "client_phone": Str(max_length=PHONE_MAX_LENGTH),
    },
    optional=("client_phone",),
)
CONFLICT = "Already waiting or booked there, or the session is cancelled or has started."
UNKNOWN_SESSION = "Missing or malformed input, or a session that is unknown or not yours."

WAITLIST_ENDPOINT = Endpoint(
    route="booking/manage/waitlist/",
    name="staff-waitlist",
    tag="staff",
    operations=(
        Operation(
            method="GET",
            operation_id="getWaitlist",
            summary="A session's waitlist in queue order, with its spots.",
            security=SESSION,
            query=LIST_QUERY,
            answers=(
                Answer(200, "The session's spots and entries.", WAITLIST),
                Answer(400, UNKNOWN_SESSION),
                *STAFF_ERRORS,
            ),
        ),
        Operation(
            method="POST",
            operation_id="joinWaitlist",
            summary="Add a client to a session's waitlist (offered a free spot at once).",
            security=SESSION_AND_CSRF,
            body=JOIN_REQUEST,
            body_required=True,
            answers=(
                Answer(201, "Added: the entry (waiting, or offered / booked at once).", ADDED),
                Answer(400, UNKNOWN_SESSION),
                *STAFF_ERRORS,
                Answer(409, CONFLICT),
            ),
        ),
    ),
)

ENDPOINTS = (WAITLIST_ENDPOINT,)
