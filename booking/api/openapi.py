"""The OpenAPI 3.1 description of the JSON APIs, served at /api/openapi.json.

Written from the contract (`booking.api.contract`), which the views read too:
paths, parameters, bodies and answers come from the endpoints' declarations,
and the components are the named shapes they use. Kept true by the test suite:
`test_api_contract.py` checks real responses against it, and schemathesis
generates requests from it against the application and fails on any server
error or any response this document does not describe.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from booking.api.contract import ENDPOINTS
from booking.api.contract.common import ERROR
from booking.api.contract.endpoints import (
    PUBLIC,
    SESSION,
    SESSION_AND_CSRF,
    Endpoint,
    Operation,
    allow,
)
from booking.api.contract.types import Array, Nullable, Shape, Str, Type

JSON = "application/json"
SECURITY: dict[str, list[dict[str, list[str]]]] = {
    PUBLIC: [],
    SESSION: [{"sessionCookie": []}],
    SESSION_AND_CSRF: [{"sessionCookie": [], "csrfToken": []}],
}
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def document_path(endpoint: Endpoint) -> str:
    """`booking/manage/<int:booking_id>/` → `/api/booking/manage/{booking_id}/`."""
    return "/api/" + _CONVERTER.sub(r"{\1}", endpoint.route)


def parameter(name: str, kind: Type, where: str) -> dict[str, Any]:
    """A path or query parameter: its description beside its schema, as OpenAPI has it."""
    described = {"description": kind.description} if kind.description else {}
    plain = kind(description="")
    if isinstance(plain, Str):
        plain = plain(nullable=False)  # a query string has no null: absent is the default
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": plain.schema(),
    } | described


def answers(operation: Operation) -> dict[str, Any]:
    return {
        str(answer.status): {
            "description": answer.description,
            "content": {JSON: {"schema": (answer.shape or ERROR).schema()}},
        }
        for answer in operation.answers
    }


def operation_document(endpoint: Endpoint, operation: Operation) -> dict[str, Any]:
    document: dict[str, Any] = {
        "operationId": operation.operation_id,
        "tags": [endpoint.tag],
        "summary": operation.summary,
    }
    if operation.description:
        document["description"] = operation.description
    document["security"] = SECURITY[operation.security]
    query = operation.body if operation.body_or_query else operation.query
    if query is not None:
        document["parameters"] = [
            parameter(name, kind, "query") for name, kind in query.fields.items()
        ]
    if operation.body is not None:
        document["requestBody"] = {
            "required": operation.body_required,
            "content": {JSON: {"schema": operation.body.schema()}},
        }
    document["responses"] = answers(operation)
    return document


def path_parameters(endpoint: Endpoint) -> dict[str, Any]:
    if not endpoint.path_params:
        return {}
    return {
        "parameters": [parameter(name, kind, "path") for name, kind in endpoint.path_params.items()]
    }


def paths() -> dict[str, Any]:
    return {
        document_path(endpoint): {
            **path_parameters(endpoint),
            **{
                operation.method.lower(): operation_document(endpoint, operation)
                for operation in endpoint.operations
            },
        }
        for endpoint in ENDPOINTS
    }


def named_shapes() -> dict[str, Shape]:
    """Every named shape the endpoints reach (their components), by name."""
    found: dict[str, Shape] = {ERROR.name: ERROR}

    def visit(kind: Type | None) -> None:
        if isinstance(kind, Nullable | Array):
            visit(kind.of)
        if not isinstance(kind, Shape):
            return
        if kind.name:
            if found.get(kind.name, kind) is not kind:
                raise ValueError(f"two shapes are named {kind.name}")
            found[kind.name] = kind
        for field in kind.fields.values():
            visit(field)
        visit(getattr(kind, "base", None))

    for endpoint in ENDPOINTS:
        for operation in endpoint.operations:
            for kind in (operation.query, operation.body, *(a.shape for a in operation.answers)):
                visit(kind)
    return found


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
        "paths": paths(),
        "components": {
            "schemas": {name: shape.definition() for name, shape in named_shapes().items()},
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


@allow("GET", "HEAD")
def openapi_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi_document())
