"""booking.api.contract: the document and the views read one declaration, and agree.

Real answers of every operation are checked against /api/openapi.json: each is
valid for its declared schema, and every property the document declares
(nested ones too) appears in some real answer. A field added to a view but not
to the contract, or declared but never sent, fails here. Every endpoint answers
an undeclared method with the one 405 the APIs have.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import jsonschema_rs
import pytest
from django.core.cache import cache
from django.urls import resolve
from django.utils import timezone

from booking.api.contract import ENDPOINTS
from booking.api.contract.types import Bool, Int, Shape, Str
from booking.api.openapi import document_path, openapi_document
from booking.models import BookingStatus, FeeStatus
from booking.services.exceptions import InvalidInput
from tests.factories import make_booking, make_business, make_session, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def resolved(schema: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    """A component's paths start with its name (`StaffBooking.session.title`) wherever used."""
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema, path = openapi_document()["components"]["schemas"][name], f"{name}."
    return schema, path


def declared(schema: dict[str, Any], path: str = "") -> set[str]:
    """Every property path the schema declares: `BookingDetail.history[].changes[].field`."""
    schema, path = resolved(schema, path)
    paths: set[str] = set()
    for branch in (*schema.get("anyOf", ()), *schema.get("allOf", ())):
        if branch.get("type") != "null":
            paths |= declared(branch, path)
    for name, child in schema.get("properties", {}).items():
        paths |= {f"{path}{name}"} | declared(child, f"{path}{name}.")
    if "items" in schema:
        paths |= declared(schema["items"], f"{path.rstrip('.')}[].")
    return paths


def seen(schema: dict[str, Any], value: Any, path: str = "") -> set[str]:
    """The declared property paths that this real value carries (null ones included)."""
    schema, path = resolved(schema, path)
    paths: set[str] = set()
    if value is None:
        return paths
    for branch in (*schema.get("anyOf", ()), *schema.get("allOf", ())):
        if branch.get("type") != "null":
            paths |= seen(branch, value, path)
    if isinstance(value, dict):
        for name, child in schema.get("properties", {}).items():
            if name in value:
                paths |= {f"{path}{name}"} | seen(child, value[name], f"{path}{name}.")
    if isinstance(value, list) and "items" in schema:
        for item in value:
            paths |= seen(schema["items"], item, f"{path.rstrip('.')}[].")
    return paths


def answer_schema(path: str, method: str, status: int) -> dict[str, Any]:
    operation = openapi_document()["paths"][path][method]
    return operation["responses"][str(status)]["content"]["application/json"]["schema"]


def validate(schema: dict[str, Any], body: Any) -> None:
    root = {**schema, "components": openapi_document()["components"]}
    jsonschema_rs.Draft202012Validator(root).validate(body)


@pytest.fixture
def staff_answers(client):
    """Real answers of the staff operations, each with the bookings it names."""
    business = make_business(slug="contract-studio")
    staff = make_staff(username="contract", businesses=(business,))
    session = make_session(business=business)
    now = timezone.now()
    full = make_booking(
        session=session,
        status=BookingStatus.CANCELLED,
        is_deleted=True,
        cancelled_at=now,
        cancelled_by=staff,
        cancellation_reason="asked",
        deleted_by=staff,
        fee_amount=Decimal("12.50"),
        fee_status=FeeStatus.WAIVED,
        fee_waived_at=now,
        fee_waived_by=staff,
        fee_waiver_reason="goodwill",
    )
    acted = make_booking(session=session)
    purged = make_booking(session=session)
    client.force_login(staff)
    base = f"/api/booking/manage/{acted.pk}/"
    patch = client.patch(base, json.dumps({"action": "cancel", "reason": "r"}), "application/json")
    body = json.dumps({"confirm": purged.reference, "reason": "r"})
    detail = "/api/booking/manage/{booking_id}/"
    return [
        (
            "/api/booking/manage/",
            "get",
            client.get("/api/booking/manage/", {"include_deleted": "true"}),
        ),
        (detail, "get", client.get(base)),
        (detail, "get", client.get(f"/api/booking/manage/{full.pk}/")),
        (detail, "patch", patch),
        (
            detail,
            "delete",
            client.delete(f"/api/booking/manage/{purged.pk}/", body, "application/json"),
        ),
    ]


@pytest.fixture
def client_answers(client):
    business = make_business(contact_email="desk@example.com")
    later = make_booking(session=make_session(business=business, starts_in=timedelta(days=9)))
    soon = make_booking(session=make_session(business=business, starts_in=timedelta(hours=2)))

    def cancel(booking):
        body = json.dumps({"client_email": booking.client_email})
        return client.post(
            f"/api/booking/client/{booking.reference}/cancel/", body, "application/json"
        )

    return [
        (
            "/api/booking/client/{reference}/",
            "get",
            200,
            client.get(f"/api/booking/client/{later.reference}/"),
        ),
        ("/api/booking/client/{reference}/cancel/", "post", 403, cancel(soon)),
        ("/api/booking/client/{reference}/cancel/", "post", 200, cancel(later)),
    ]


def check(answers: list[tuple[str, str, int, Any]]) -> None:
    """Each answer is valid for its schema; together they carry every property their
    schemas declare (a shape used by several answers is covered by any of them)."""
    expected: set[str] = set()
    carried: set[str] = set()
    for path, method, status, response in answers:
        assert response.status_code == status, response.content
        schema = answer_schema(path, method, status)
        validate(schema, response.json())
        expected |= declared(schema)
        carried |= seen(schema, response.json())
    assert not expected - carried, f"declared, never sent: {sorted(expected - carried)}"


def test_staff_answers_carry_every_declared_field(staff_answers):
    check([(path, method, 200, response) for path, method, response in staff_answers])


def test_client_answers_carry_every_declared_field(client_answers):
    check(client_answers)


def test_the_declaration_refuses_an_undeclared_field_in_an_answer():
    shape = Shape(fields={"id": Int(), "name": Str()})

    assert shape.dump({"id": 1, "name": "a", "extra": "x"}) == {"id": 1, "name": "a"}
    with pytest.raises(KeyError):
        shape.dump({"id": 1})  # a declared field the view does not have: loud, never silent


def test_the_declaration_parses_what_it_documents():
    shape = Shape(fields={"flag": Bool(), "name": Str(max_length=3)}, optional=("flag",))

    assert shape.parse("body", {"name": "abc"}) == {"flag": False, "name": "abc"}
    for bad in ({"name": "abcd"}, {"name": 1}, {"flag": "yes", "name": ""}, {}, {"x": 1}):
        with pytest.raises(InvalidInput):
            shape.parse("body", bad)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.name)
def test_every_endpoint_is_routed_to_a_view_bound_to_it(endpoint):
    url = document_path(endpoint).replace("{booking_id}", "1").replace("{reference}", "ABCDEFGH")

    assert resolve(url).func.endpoint is endpoint


def _undeclared(methods: tuple[str, ...]) -> str:
    return next(m for m in ("PUT", "POST", "DELETE", "PATCH") if m not in methods)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.name)
def test_every_endpoint_answers_an_undeclared_method_with_the_one_405(client, endpoint, admin_user):
    client.force_login(admin_user)  # past the staff door: the method is checked first anyway
    url = document_path(endpoint).replace("{booking_id}", "1").replace("{reference}", "ABCDEFGH")

    response = client.generic(_undeclared(endpoint.methods), url)

    assert response.status_code == 405
    assert response.json() == {
        "success": False,
        "error": f"method {_undeclared(endpoint.methods)} not allowed",
        "code": "method_not_allowed",
    }
    assert response["Allow"] == ", ".join(endpoint.methods)


def test_the_document_answers_an_undeclared_method_with_the_one_405(client):
    response = client.post("/api/openapi.json")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("upload_limit", [1024, 2_621_440])  # Django's limit first, or ours
def test_an_oversized_body_has_one_code_whichever_limit_catches_it(
    client, admin_user, settings, upload_limit
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = upload_limit
    client.force_login(admin_user)
    booking = make_booking(session=make_session(business=make_business()))
    body = json.dumps({"action": "cancel", "reason": "x" * 20_000})

    response = client.patch(f"/api/booking/manage/{booking.pk}/", body, "application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
