"""The staff API's PATCH `move` with `"session": <id>`."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from booking.models import BookingRequest, SessionStatus
from tests.factories import make_booking, make_session

LIST_URL = "/api/booking/manage/"


def patch(client, booking, body):
    return client.patch(
        f"{LIST_URL}{booking.pk}/", json.dumps(body), content_type="application/json"
    )


@pytest.fixture
def api(client, staff):
    client.force_login(staff)
    return client


def session_of(booking):
    return BookingRequest.all_objects.get(pk=booking.pk).session_id


def test_move_answers_the_moved_booking(api, session, business):
    target = make_session(business=business, title="Later", starts_in=timedelta(days=10))
    booking = make_booking(session=session)

    response = patch(api, booking, {"action": "move", "session": target.pk, "reason": "Room"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"] == f"Booking {booking.reference} moved"
    assert body["booking"]["session"]["id"] == target.pk
    assert session_of(booking) == target.pk


@pytest.mark.parametrize("value", [None, "12", True, 0, -3, 1.5])
def test_a_missing_or_malformed_session_is_400(api, session, value):
    booking = make_booking(session=session)
    body = {"action": "move"} if value is None else {"action": "move", "session": value}

    response = patch(api, booking, body)

    assert response.status_code == 400, response.content
    assert session_of(booking) == session.pk


def test_another_business_session_is_400_and_changes_nothing(api, session, other_business):
    theirs = make_session(business=other_business)
    booking = make_booking(session=session)

    response = patch(api, booking, {"action": "move", "session": theirs.pk})

    assert response.status_code == 400 and session_of(booking) == session.pk


def test_a_full_or_cancelled_target_is_409(api, session, business):
    full = make_session(business=business, capacity=1)
    make_booking(session=full)
    cancelled = make_session(business=business)
    cancelled.status = SessionStatus.CANCELLED
    cancelled.save()
    booking = make_booking(session=session)

    into_full = patch(api, booking, {"action": "move", "session": full.pk})
    into_cancelled = patch(api, booking, {"action": "move", "session": cancelled.pk})

    assert into_full.status_code == 409 and "full" in into_full.json()["error"]
    assert into_cancelled.status_code == 409 and "cancelled" in into_cancelled.json()["error"]
    assert session_of(booking) == session.pk
