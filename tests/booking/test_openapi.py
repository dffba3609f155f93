"""/api/openapi.json: served as JSON, valid OpenAPI, and describing every API route."""

from __future__ import annotations

import pytest
import schemathesis
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from booking.api.handlers import server_error
from booking.api.openapi import openapi_document

SPEC_URL = "/api/openapi.json"


def api_routes() -> set[str]:
    """Every route under /api/ as an OpenAPI path (`<int:booking_id>` → `{booking_id}`)."""
    routes = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                routes.add("/" + route)

    walk(get_resolver().url_patterns, "")
    converted = set()
    for route in routes:
        if not route.startswith("/api/"):
            continue
        while "<" in route:
            start, end = route.index("<"), route.index(">")
            name = route[start + 1 : end].split(":")[-1]
            route = f"{route[:start]}{{{name}}}{route[end + 1 :]}"
        converted.add(route)
    return converted


def test_document_is_served_as_json(client, db):
    response = client.get(SPEC_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == openapi_document()
    assert response.json()["openapi"].startswith("3.")


def test_document_is_read_only(client, db):
    response = client.post(SPEC_URL)

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_document_is_valid_openapi():
    # schemathesis validates the document against the OpenAPI meta-schema on load.
    schema = schemathesis.openapi.from_dict(openapi_document())
    schema.validate()
    labels = {operation.ok().label for operation in schema.get_all_operations()}

    assert labels == {
        "GET /api/booking/manage/",
        "GET /api/booking/manage/{booking_id}/",
        "PATCH /api/booking/manage/{booking_id}/",
        "DELETE /api/booking/manage/{booking_id}/",
        "GET /api/booking/manage/waitlist/",
        "POST /api/booking/manage/waitlist/",
        "GET /api/booking/client/{reference}/",
        "POST /api/booking/client/{reference}/cancel/",
    }


def test_every_api_route_is_described(db):
    described = set(openapi_document()["paths"]) | {SPEC_URL}

    assert api_routes() <= described


@pytest.mark.parametrize(
    ("schema", "fields"),
    [
        (
            "ClientBooking",
            {"booking_reference", "status", "session", "business", "can_cancel",
             "cancellation_deadline", "policy", "cancellation_quote"},
        ),
        (
            "ClientCancelResult",
            {"success", "message", "booking_reference", "status", "cancelled_at",
             "cancellation_reason", "fee"},
        ),
        ("BookingList", {"bookings", "total_count", "filters", "pagination"}),
        ("ActionResult", {"success", "message", "booking"}),
    ],
)  # fmt: skip
def test_pinned_response_fields_are_required(schema, fields):
    assert set(openapi_document()["components"]["schemas"][schema]["required"]) == fields


def test_client_booking_exposes_no_personal_data():
    properties = openapi_document()["components"]["schemas"]["ClientBooking"]["properties"]

    assert not {"client_name", "client_email", "client_phone"} & set(properties)


def test_unsafe_staff_operations_require_the_csrf_token():
    paths = openapi_document()["paths"]
    detail = paths["/api/booking/manage/{booking_id}/"]

    assert detail["patch"]["security"] == [{"sessionCookie": [], "csrfToken": []}]
    assert detail["delete"]["security"] == [{"sessionCookie": [], "csrfToken": []}]
    assert detail["get"]["security"] == [{"sessionCookie": []}]


def test_server_error_under_api_is_json():
    response = server_error(RequestFactory().get("/api/booking/manage/"))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert (
        response.content
        == b'{"success": false, "error": "internal server error", "code": "server_error"}'
    )


def test_server_error_elsewhere_is_django_page():
    response = server_error(RequestFactory().get("/admin/"))

    assert response.status_code == 500
    assert "text/html" in response["Content-Type"]
