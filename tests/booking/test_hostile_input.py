"""Hostile bodies and callers: every body that is not the documented JSON object is a
400 that changes nothing, and the staff API checks permission before it reads input."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from booking.models import BookingRequest, BookingStatus
from tests.factories import make_booking, make_session, make_staff

pytestmark = pytest.mark.django_db

NESTED_ARRAYS = "[" * 3000 + "]" * 3000
NESTED_OBJECTS = '{"a":' * 3000 + "1" + "}" * 3000
BAD_BODIES = [
    NESTED_ARRAYS,
    NESTED_OBJECTS,
    '{"reason": ' + NESTED_ARRAYS + "}",
    "[]",
    '"a string"',
    "12",
    "null",
    "not json",
    "\x00\x01",
    "1" * 5000,  # more digits than Python's int parser accepts
    '{"client_email": "\\ud800"}',
]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def unchanged(booking: BookingRequest) -> bool:
    stored = BookingRequest.all_objects.get(pk=booking.pk)
    return stored.status == booking.status and stored.is_deleted == booking.is_deleted


def assert_json_400(response) -> None:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response.json()["success"] is False


@pytest.mark.parametrize("body", BAD_BODIES)
def test_public_cancel_refuses_any_body_that_is_not_the_json_object(client, booking, body):
    response = client.post(
        f"/api/booking/client/{booking.reference}/cancel/", body, content_type="application/json"
    )
    assert_json_400(response)
    assert unchanged(booking)


@pytest.mark.parametrize("body", BAD_BODIES)
@pytest.mark.parametrize("method", ["patch", "delete"])
def test_staff_api_refuses_any_body_that_is_not_the_json_object(
    client, staff, booking, body, method
):
    client.force_login(staff)
    response = getattr(client, method)(
        f"/api/booking/manage/{booking.pk}/", body, content_type="application/json"
    )
    assert_json_400(response)
    assert BookingRequest.all_objects.filter(pk=booking.pk).exists()
    assert unchanged(booking)


@pytest.mark.parametrize("body", [NESTED_ARRAYS, '{"reason": ' + NESTED_ARRAYS + "}"])
def test_deep_nesting_is_refused_before_the_parser_recurses(client, booking, body):
    """On Python 3.12 the parser's own recursion overflows at ~1500 levels (a 500 once)."""
    response = client.post(
        f"/api/booking/client/{booking.reference}/cancel/", body, content_type="application/json"
    )
    assert_json_400(response)
    assert "nests deeper than" in response.json()["error"]


def test_brackets_inside_strings_are_not_nesting(client, booking):
    reason = '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{{{{ \\" ]]'
    response = client.post(
        f"/api/booking/client/{booking.reference}/cancel/",
        json.dumps({"client_email": booking.client_email, "reason": reason}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["cancellation_reason"] == reason


# --- Permission before input ------------------------------------------------------------


@pytest.fixture
def viewer(client, business):
    client.force_login(make_staff(businesses=(business,), permissions=["view_bookingrequest"]))
    return client


@pytest.mark.parametrize(
    "body",
    [
        '{"confirm": "WRONG"}',
        "{}",
        NESTED_ARRAYS,
        '{"confirm": 12, "unknown": true}',
    ],
)
def test_a_view_only_users_delete_is_403_whatever_it_sent(viewer, booking, body):
    response = viewer.delete(
        f"/api/booking/manage/{booking.pk}/", body, content_type="application/json"
    )
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden"
    assert BookingRequest.all_objects.filter(pk=booking.pk).exists()


@pytest.mark.parametrize(
    "body",
    [
        '{"action": "cancel", "reason": 12}',
        '{"action": "fly"}',
        "{}",
        NESTED_ARRAYS,
    ],
)
def test_a_view_only_users_patch_is_403_whatever_it_sent(viewer, booking, body):
    response = viewer.patch(
        f"/api/booking/manage/{booking.pk}/", body, content_type="application/json"
    )
    assert response.status_code == 403, response.content
    assert unchanged(booking)


def test_a_named_actions_permission_is_checked_before_the_rest_of_the_body(client, business):
    booking = make_booking(session=make_session(business=business), status=BookingStatus.PENDING)
    client.force_login(
        make_staff(
            businesses=(business,), permissions=["view_bookingrequest", "change_bookingrequest"]
        )
    )
    url = f"/api/booking/manage/{booking.pk}/"
    refused = client.patch(
        url, json.dumps({"action": "cancel", "reason": 12}), content_type="application/json"
    )
    assert refused.status_code == 403
    # An action they may do, with a bad field, is the 400 it always was.
    bad = client.patch(
        url, json.dumps({"action": "approve", "reason": 12}), content_type="application/json"
    )
    assert bad.status_code == 400
    assert unchanged(booking)
