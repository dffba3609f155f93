"""The OpenAPI 3.1 description of the JSON APIs (SPEC §8), served at /api/openapi.json.

Built from the same constants the views use (statuses, actions, page sizes, the
reason limit, cookie and header names), and kept true by the test suite:
schemathesis generates requests from it against the application and fails on
any server error or any response this document does not describe.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from booking.api.responses import json_error
from booking.api.staff.params import (
    DEFAULT_PAGE_SIZE,
    DELETE_OPTIONS,
    MAX_PAGE_SIZE,
    PATCH_ACTIONS,
    PATCH_OPTIONS,
)
from booking.models import (
    REASON_MAX_LENGTH,
    REFERENCE_LENGTH,
    BookingStatus,
    FeeStatus,
    SessionStatus,
)
from booking.services.actions import Option

JSON = "application/json"
STATUS = {"type": "string", "enum": BookingStatus.values}
MONEY = {
    "type": "string",
    "pattern": r"^[0-9]+\.[0-9]{2}$",
    "description": 'An amount with two decimals, in the business\'s currency: "12.50".',
}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def option_schemas(options: tuple[Option, ...]) -> dict[str, Any]:
    """The declared options of an action request: flags (booleans, with their default), ids."""
    return {
        option.name: (
            {"type": "integer", "minimum": 1}
            if option.kind == "session"
            else {"type": "boolean", "default": option.default}
        )
        | ({"description": option.description} if option.description else {})
        for option in options
    }


# A session the business cancelled says so: its status and the reason it gave.
CLIENT_SESSION: dict[str, Any] = {
    "title": {"type": "string"},
    "starts_at": {"type": "string", "format": "date-time"},
    "status": {"type": "string", "enum": SessionStatus.values},
    "cancellation_reason": {"type": "string", "description": "Empty unless cancelled."},
}


def obj(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """A closed object: every listed property is required unless `optional`."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def error(description: str, schema: str = "Error") -> dict[str, Any]:
    return json_body(ref(schema), description)


DATETIME = {"type": "string", "format": "date-time"}
REASON = {"type": "string", "maxLength": REASON_MAX_LENGTH}
REFERENCE = {
    "type": "string",
    "minLength": REFERENCE_LENGTH,
    "maxLength": REFERENCE_LENGTH,
    "pattern": "^[A-Z2-9]+$",
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "description": "Every error of every API: `success` false, a sentence, a stable code, "
        "and details where they help (`allowed` values, a deadline refusal's policy, …).",
        "properties": {
            "success": {"const": False},
            "error": {"type": "string"},
            "code": {"type": "string"},
        },
        "required": ["success", "error"],
        "additionalProperties": True,
    },
    "User": obj({"id": {"type": "integer"}, "username": {"type": "string"}}),
    "StaffBooking": obj(
        {
            "id": {"type": "integer"},
            "reference": REFERENCE,
            "status": STATUS,
            "client_name": {"type": "string"},
            "client_email": {"type": "string"},
            "client_phone": {"type": "string"},
            "session": obj({"id": {"type": "integer"}, **CLIENT_SESSION}),
            "business": {"type": "string", "description": "The business's slug."},
            "created_at": DATETIME,
            "updated_at": DATETIME,
            "cancelled_at": nullable(DATETIME),
            "cancelled_by": nullable(ref("User")),
            "cancellation_reason": {"type": "string"},
            "cancelled_by_client": {"type": "boolean"},
            "is_deleted": {"type": "boolean"},
            "deleted_at": nullable(DATETIME),
            "deleted_by": nullable(ref("User")),
            "deletion_reason": {"type": "string"},
            "fee_amount": nullable(MONEY),
            "fee_status": {"type": "string", "enum": FeeStatus.values},
            "fee_waived_at": nullable(DATETIME),
            "fee_waived_by": nullable(ref("User")),
            "fee_waiver_reason": {"type": "string"},
        }
    ),
    "HistoryEntry": obj(
        {
            "id": {"type": "integer"},
            "at": DATETIME,
            "type": {"type": "string", "enum": ["created", "changed", "purged"]},
            "user": nullable(ref("User")),
            "reason": {"type": "string"},
            "ip_address": nullable({"type": "string"}),
            "changes": {
                "type": "array",
                "items": obj({"field": {"type": "string"}, "old": {}, "new": {}}),
            },
        }
    ),
    "BookingList": obj(
        {
            "bookings": {"type": "array", "items": ref("StaffBooking")},
            "total_count": {"type": "integer", "minimum": 0},
            "filters": obj(
                {
                    "status": nullable(STATUS),
                    "include_deleted": {"type": "boolean"},
                    "business": nullable({"type": "string"}),
                    "phone": nullable({"type": "string"}),
                }
            ),
            "pagination": obj(
                {
                    "page": {"type": "integer", "minimum": 1},
                    "page_size": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                    "num_pages": {"type": "integer", "minimum": 1},
                    "next": nullable({"type": "string"}),
                    "previous": nullable({"type": "string"}),
                }
            ),
        }
    ),
    "BookingDetail": obj(
        {
            "booking": ref("StaffBooking"),
            "history": {"type": "array", "items": ref("HistoryEntry")},
        }
    ),
    "ActionRequest": obj(
        {
            "action": {"type": "string", "enum": list(PATCH_ACTIONS)},
            "reason": nullable(REASON),
            **option_schemas(PATCH_OPTIONS),
        },
        optional=("reason", *(option.name for option in PATCH_OPTIONS)),
    ),
    "PurgeRequest": obj(
        {
            "confirm": {"type": "string", "description": "Must equal the booking's reference."},
            "reason": nullable(REASON),
            **option_schemas(DELETE_OPTIONS),
        },
        optional=("confirm", "reason", *(option.name for option in DELETE_OPTIONS)),
    ),
    "ActionResult": obj(
        {"success": {"const": True}, "message": {"type": "string"}, "booking": ref("StaffBooking")}
    ),
    "ClientBooking": {
        "type": "object",
        "description": "What anyone holding the reference may see: no client personal data.",
        "properties": {
            "booking_reference": REFERENCE,
            "status": STATUS,
            "session": {
                "type": "object",
                "properties": CLIENT_SESSION,
                "required": list(CLIENT_SESSION),
            },
            "business": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "contact_email": {"type": "string"},
                    "contact_phone": {"type": "string"},
                },
                "required": ["name", "contact_email", "contact_phone"],
            },
            "can_cancel": {"type": "boolean"},
            "cancellation_deadline": DATETIME,
            "policy": {"description": "The business's cancellation policy."},
            "cancellation_quote": ref("CancellationQuote"),
        },
        "required": [
            "booking_reference",
            "status",
            "session",
            "business",
            "can_cancel",
            "cancellation_deadline",
            "policy",
            "cancellation_quote",
        ],
    },
    "ClientCancelRequest": {
        "type": "object",
        "description": "Identity by the booking's email or phone (one of them).",
        "properties": {
            "client_email": {"type": "string"},
            "client_phone": {"type": "string"},
            "reason": nullable(REASON),
            "accepted_fee": {
                **MONEY,
                "description": "The quoted fee the client accepts: when the fee due differs, "
                "nothing changes and the answer is 409 with the new cancellation_quote.",
            },
        },
    },
    "CancellationQuote": obj(
        {
            "fee": MONEY,
            "currency": {"type": "string", "description": "ISO 4217, e.g. USD."},
            "late": {"type": "boolean", "description": "A fee applies now."},
            "free_until": nullable(
                {**DATETIME, "description": "Until when cancelling is free, if a fee lies ahead."}
            ),
        }
    ),
    "ClientCancelResult": {
        "type": "object",
        "properties": {
            "success": {"const": True},
            "message": {"type": "string"},
            "booking_reference": REFERENCE,
            "status": {"const": "cancelled"},
            "cancelled_at": DATETIME,
            "cancellation_reason": {"type": "string"},
            "fee": obj({"amount": MONEY, "currency": {"type": "string"}}),
        },
        "required": [
            "success",
            "message",
            "booking_reference",
            "status",
            "cancelled_at",
            "cancellation_reason",
            "fee",
        ],
    },
    "DeadlineError": {
        "allOf": [
            ref("Error"),
            {
                "type": "object",
                "description": "A deadline refusal says when, by which policy, and whom to call.",
                "properties": {
                    "policy": {},
                    "session_time": {"type": "string"},
                    "current_time": {"type": "string"},
                    "contact_info": {},
                },
            },
        ]
    },
}

BOOKING_ID = {
    "name": "booking_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
CLIENT_REFERENCE = {"name": "reference", "in": "path", "required": True, "schema": REFERENCE}


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


STAFF_ERRORS = {
    "401": error("Not logged in."),
    "403": error("Not staff, lacking the permission, the business's policy, or a CSRF refusal."),
}
UNKNOWN_BOOKING = error("Unknown booking, or another business's (the same answer).")
LOGGED_IN: list[dict[str, list[str]]] = [{"sessionCookie": []}]
LOGGED_IN_WITH_CSRF: list[dict[str, list[str]]] = [{"sessionCookie": [], "csrfToken": []}]

STAFF_PATHS: dict[str, Any] = {
    "/api/booking/manage/": {
        "get": {
            "operationId": "listBookings",
            "tags": ["staff"],
            "summary": "The bookings of the caller's businesses, newest first, a page at a time.",
            "security": LOGGED_IN,
            "parameters": [
                query("status", STATUS, "Only bookings in this status."),
                query(
                    "include_deleted",
                    {"type": "boolean"},
                    "true: soft-deleted bookings too. Default: live bookings only.",
                ),
                query(
                    "business",
                    {"type": "string", "minLength": 1},
                    "Only this business's bookings (its slug; one of the caller's).",
                ),
                query(
                    "phone",
                    {"type": "string", "minLength": 1},
                    "Only bookings with this client phone number, in any format: a number "
                    "without a country code is read with each of the caller's businesses' "
                    "countries, and matched by its digits too.",
                ),
                query("page", {"type": "integer", "minimum": 1}, "Page number, from 1."),
                query(
                    "page_size",
                    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                    f"Bookings per page (default {DEFAULT_PAGE_SIZE}).",
                ),
            ],
            "responses": {
                "200": json_body(ref("BookingList"), "A page of bookings."),
                "400": error("Unknown, repeated or malformed parameter, or not your business."),
                **STAFF_ERRORS,
                "404": error("No such page."),
            },
        }
    },
    "/api/booking/manage/{booking_id}/": {
        "parameters": [BOOKING_ID],
        "get": {
            "operationId": "getBooking",
            "tags": ["staff"],
            "summary": "One booking (soft-deleted too) with its audit trail, newest first.",
            "security": LOGGED_IN,
            "responses": {
                "200": json_body(ref("BookingDetail"), "The booking and its history."),
                **STAFF_ERRORS,
                "404": UNKNOWN_BOOKING,
            },
        },
        "patch": {
            "operationId": "actOnBooking",
            "tags": ["staff"],
            "summary": "Approve, reject, cancel, soft-delete or restore one booking.",
            "security": LOGGED_IN_WITH_CSRF,
            "requestBody": {"required": True, "content": {JSON: {"schema": ref("ActionRequest")}}},
            "responses": {
                "200": json_body(ref("ActionResult"), "Done: the booking as it is now."),
                "400": error(
                    "Malformed body, unknown action or field, reason missing or too long."
                ),
                **STAFF_ERRORS,
                "404": UNKNOWN_BOOKING,
                "409": error("The booking's state does not allow it (e.g. already cancelled)."),
            },
        },
        "delete": {
            "operationId": "purgeBooking",
            "tags": ["staff"],
            "summary": "Delete one booking permanently (the audit trail keeps its last state).",
            "description": "`confirm` must equal the booking's reference, in the JSON body or the "
            "query string; `reason` where the business requires one.",
            "security": LOGGED_IN_WITH_CSRF,
            "parameters": [
                query("confirm", {"type": "string"}, "The booking's reference."),
                query("reason", REASON, "Why (required by most businesses' policy)."),
                *(
                    query(option.name, {"type": "boolean"}, option.description)
                    for option in DELETE_OPTIONS
                ),
            ],
            "requestBody": {"required": False, "content": {JSON: {"schema": ref("PurgeRequest")}}},
            "responses": {
                "200": json_body(ref("ActionResult"), "Purged: the booking as it was."),
                "400": error("Missing or wrong confirmation, malformed input, reason missing."),
                **STAFF_ERRORS,
                "404": UNKNOWN_BOOKING,
            },
        },
    },
}

PUBLIC_PATHS: dict[str, Any] = {
    "/api/booking/client/{reference}/": {
        "parameters": [CLIENT_REFERENCE],
        "get": {
            "operationId": "getClientBooking",
            "tags": ["public"],
            "summary": "A booking as its client may see it, by reference (no login).",
            "security": [],
            "responses": {
                "200": json_body(ref("ClientBooking"), "The booking, without personal data."),
                "404": error("Unknown or deleted reference."),
                "429": error("This IP has made too many failed attempts or unknown look-ups."),
            },
        },
    },
    "/api/booking/client/{reference}/cancel/": {
        "parameters": [CLIENT_REFERENCE],
        "post": {
            "operationId": "cancelClientBooking",
            "tags": ["public"],
            "summary": "The client cancels their booking, proving identity by email or phone.",
            "security": [],
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": ref("ClientCancelRequest")}},
            },
            "responses": {
                "200": json_body(ref("ClientCancelResult"), "Cancelled."),
                "400": error("Malformed body, missing contact details, reason too long."),
                "403": error(
                    "Identity not verified, the policy forbids, or the deadline has passed.",
                    "DeadlineError",
                ),
                "404": error("Unknown or deleted reference."),
                "409": error(
                    "Already cancelled, or not cancellable; or the fee due is not the "
                    "accepted_fee (code fee_changed, with the new cancellation_quote)."
                ),
                "429": error("Too many failed verifications of this reference or from this IP."),
                "503": error(
                    "The rate limiter cannot be reached; nothing changed (see Retry-After)."
                ),
            },
        },
    },
}


@cache
def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Booking Backoffice API",
            "version": "1.0.0",
            "description": "Staff manage their businesses' bookings under /api/booking/manage/ "
            "(session login, CSRF token on unsafe methods); clients look up and cancel their "
            "own booking under /api/booking/client/. Every error is JSON: "
            '`{"success": false, "error": "…", "code": "…"}`.',
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "staff", "description": "Logged-in staff, scoped to their businesses."},
            {"name": "public", "description": "Clients, identified by contact details."},
        ],
        "paths": {**STAFF_PATHS, **PUBLIC_PATHS},
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": settings.SESSION_COOKIE_NAME,
                    "description": "Django's session cookie, from logging in at /admin/login/.",
                },
                "csrfToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRFToken",
                    "description": f"The value of the {settings.CSRF_COOKIE_NAME} cookie.",
                },
            },
        },
    }


def openapi_json(request: HttpRequest) -> JsonResponse:
    if request.method not in ("GET", "HEAD"):
        response = json_error(
            405, f"method {request.method} not allowed", code="method_not_allowed"
        )
        response["Allow"] = "GET, HEAD"
        return response
    return JsonResponse(openapi_document())
