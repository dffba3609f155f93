"""The staff API's contract: its shapes and its endpoints under /api/booking/manage/.

The actions a PATCH or DELETE takes, and their options, come from the action
table (`booking.services.actions`): a new action appears here, in the parsing
and in the document without an edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from booking.api.contract.common import (
    DATETIME,
    MONEY,
    REASON,
    REFERENCE,
    SESSION_STATE,
    STATUS,
    USER,
)
from booking.api.contract.endpoints import SESSION, SESSION_AND_CSRF, Answer, Endpoint, Operation
from booking.api.contract.types import (
    Anything,
    Array,
    Bool,
    Const,
    Enum,
    Id,
    Int,
    Shape,
    Str,
    Type,
    nullable,
)
from booking.models import FeeStatus
from booking.phones import MIN_PHONE_DIGITS, digits
from booking.services.actions import Option, api_actions, asked_options
from booking.services.exceptions import InvalidInput

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100

# The actions of PATCH, by name; DELETE's one needs the reference as confirmation.
PATCH_ACTIONS = tuple(action.name for action in api_actions("PATCH"))
(DELETE_ACTION,) = api_actions("DELETE")
# The options a body may set: those any of the method's actions declares (an
# action ignores options it does not take, as `Action.run` does).
PATCH_OPTIONS = asked_options(api_actions("PATCH"))
DELETE_OPTIONS = DELETE_ACTION.asked_options


@dataclass(frozen=True, kw_only=True)
class Phone(Str):
    """A phone number to search by, in any format: at least MIN_PHONE_DIGITS digits."""

    min_length: int | None = 1

    def parse(self, name: str, value: Any) -> str:
        phone = super().parse(name, value)
        if len(digits(phone)) < MIN_PHONE_DIGITS:
            raise InvalidInput(
                f"{name} must be a phone number of at least {MIN_PHONE_DIGITS} digits"
            )
        return phone


def option_type(option: Option) -> Type:
    """An action's option in a body: a flag is a boolean (its default shown), a session an id."""
    if option.kind == "session":
        return Id(description=option.description, default=option.default)
    return Bool(description=option.description, default=option.default, show_default=True)


STAFF_BOOKING = Shape(
    name="StaffBooking",
    fields={
        "id": Int(source="pk"),
        "reference": REFERENCE,
        "status": STATUS,
        "client_name": Str(),
        "client_email": Str(),
        "client_phone": Str(),
        "session": Shape(
            fields={
                "id": Int(source="pk"),
                "title": Str(),
                "starts_at": DATETIME,
                **SESSION_STATE,
            },
        ),
        "business": Str(source="session.business.slug", description="The business's slug."),
        "created_at": DATETIME,
        "updated_at": DATETIME,
        "cancelled_at": nullable(DATETIME),
        "cancelled_by": nullable(USER),
        "cancellation_reason": Str(),
        "cancelled_by_client": Bool(),
        "is_deleted": Bool(),
        "deleted_at": nullable(DATETIME),
        "deleted_by": nullable(USER),
        "deletion_reason": Str(),
        # A fee is a ledger fact: the amount as a string ("12.50"), null until decided.
        "fee_amount": nullable(MONEY),
        "fee_status": Enum(values=tuple(FeeStatus.values)),
        "fee_waived_at": nullable(DATETIME),
        "fee_waived_by": nullable(USER),
        "fee_waiver_reason": Str(),
    },
)
# One record of a booking's audit trail (`booking.api.staff.serializers.Entry`).
HISTORY_ENTRY = Shape(
    name="HistoryEntry",
    fields={
        "id": Int(source="record.history_id"),
        "at": DATETIME(source="record.history_date"),
        "type": Enum(values=("created", "changed", "purged")),
        "user": nullable(USER, source="record.history_user"),
        "reason": Str(source=lambda entry: entry.record.history_change_reason or ""),
        "ip_address": nullable(Str(), source="record.ip_address"),
        "changes": Array(of=Shape(fields={"field": Str(), "old": Anything(), "new": Anything()})),
    },
)
BOOKING_LIST = Shape(
    name="BookingList",
    fields={
        "bookings": Array(of=STAFF_BOOKING),
        "total_count": Int(minimum=0),
        "filters": Shape(
            fields={
                "status": nullable(STATUS),
                "include_deleted": Bool(),
                "business": nullable(Str()),
                "phone": nullable(Str()),
            }
        ),
        "pagination": Shape(
            fields={
                "page": Int(minimum=1),
                "page_size": Int(minimum=1, maximum=MAX_PAGE_SIZE),
                "num_pages": Int(minimum=1),
                "next": nullable(Str()),
                "previous": nullable(Str()),
            }
        ),
    },
)
BOOKING_DETAIL = Shape(
    name="BookingDetail",
    fields={"booking": STAFF_BOOKING, "history": Array(of=HISTORY_ENTRY)},
)
ACTION_RESULT = Shape(
    name="ActionResult",
    fields={"success": Const(value=True), "message": Str(), "booking": STAFF_BOOKING},
)

LIST_QUERY = Shape(
    fields={
        "status": STATUS(description="Only bookings in this status."),
        "include_deleted": Bool(
            description="true: soft-deleted bookings too. Default: live bookings only."
        ),
        "business": Str(
            min_length=1,
            default=None,
            description="Only this business's bookings (its slug; one of the caller's).",
        ),
        "phone": Phone(
            default=None,
            description="Only bookings with this client phone number, in any format: a number "
            "without a country code is read with each of the caller's businesses' "
            "countries, and matched by its digits too.",
        ),
        "page": Int(minimum=1, default=1, description="Page number, from 1."),
        "page_size": Int(
            minimum=1,
            maximum=MAX_PAGE_SIZE,
            default=DEFAULT_PAGE_SIZE,
            description=f"Bookings per page (default {DEFAULT_PAGE_SIZE}).",
        ),
    },
    optional=("status", "include_deleted", "business", "phone", "page", "page_size"),
)
ACTION_REQUEST = Shape(
    name="ActionRequest",
    fields={
        "action": Enum(values=PATCH_ACTIONS),
        "reason": REASON,
        **{option.name: option_type(option) for option in PATCH_OPTIONS},
    },
    optional=("reason", *(option.name for option in PATCH_OPTIONS)),
)
PURGE_REQUEST = Shape(
    name="PurgeRequest",
    fields={
        "confirm": Str(description="Must equal the booking's reference."),
        "reason": REASON(description="Why (required by most businesses' policy)."),
        **{option.name: option_type(option) for option in DELETE_OPTIONS},
    },
    optional=("confirm", "reason", *(option.name for option in DELETE_OPTIONS)),
)

STAFF_ERRORS = (
    Answer(401, "Not logged in."),
    Answer(403, "Not staff, lacking the permission, the business's policy, or a CSRF refusal."),
)
UNKNOWN_BOOKING = Answer(404, "Unknown booking, or another business's (the same answer).")

BOOKINGS = Endpoint(
    route="booking/manage/",
    name="staff-bookings",
    tag="staff",
    operations=(
        Operation(
            method="GET",
            operation_id="listBookings",
            summary="The bookings of the caller's businesses, newest first, a page at a time.",
            security=SESSION,
            query=LIST_QUERY,
            answers=(
                Answer(200, "A page of bookings.", BOOKING_LIST),
                Answer(400, "Unknown, repeated or malformed parameter, or not your business."),
                *STAFF_ERRORS,
                Answer(404, "No such page."),
            ),
        ),
    ),
)
BOOKING = Endpoint(
    route="booking/manage/<int:booking_id>/",
    name="staff-booking",
    tag="staff",
    path_params={"booking_id": Int(minimum=1)},
    operations=(
        Operation(
            method="GET",
            operation_id="getBooking",
            summary="One booking (soft-deleted too) with its audit trail, newest first.",
            security=SESSION,
            answers=(
                Answer(200, "The booking and its history.", BOOKING_DETAIL),
                *STAFF_ERRORS,
                UNKNOWN_BOOKING,
            ),
        ),
        Operation(
            method="PATCH",
            operation_id="actOnBooking",
            summary="Approve, reject, cancel, soft-delete or restore one booking.",
            security=SESSION_AND_CSRF,
            body=ACTION_REQUEST,
            body_required=True,
            answers=(
                Answer(200, "Done: the booking as it is now.", ACTION_RESULT),
                Answer(400, "Malformed body, unknown action or field, reason missing or too long."),
                *STAFF_ERRORS,
                UNKNOWN_BOOKING,
                Answer(409, "The booking's state does not allow it (e.g. already cancelled)."),
            ),
        ),
        Operation(
            method="DELETE",
            operation_id="purgeBooking",
            summary="Delete one booking permanently (the audit trail keeps its last state).",
            description="`confirm` must equal the booking's reference, in the JSON body or the "
            "query string; `reason` where the business requires one.",
            security=SESSION_AND_CSRF,
            body=PURGE_REQUEST,
            body_or_query=True,
            answers=(
                Answer(200, "Purged: the booking as it was.", ACTION_RESULT),
                Answer(400, "Missing or wrong confirmation, malformed input, reason missing."),
                *STAFF_ERRORS,
                UNKNOWN_BOOKING,
            ),
        ),
    ),
)

ENDPOINTS = (BOOKINGS, BOOKING)
