"""PostgreSQL lock and statement timeouts: a request that meets one answers 503 and
rolls back, instead of holding a worker. Real locks, held by a second connection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from booking.models import BookingRequest, BookingStatus
from tests.factories import make_booking, make_business, make_session, make_staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
LOCK_ROW = "SELECT id FROM booking_bookingrequest WHERE id = %s FOR UPDATE"


def test_the_timeouts_are_set_on_every_connection():
    assert settings.DATABASE_LOCK_TIMEOUT_MS == 5000
    assert settings.DATABASE_STATEMENT_TIMEOUT_MS == 30000
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "5s"
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "30s"


@contextmanager
def held_by_another_connection(sql: str, *params: object) -> Iterator[None]:
    """Run `sql` in a transaction of a second connection, held open for the block."""
    info = connection.settings_dict
    other = psycopg.connect(
        dbname=info["NAME"], user=info["USER"], password=info["PASSWORD"] or None,
        host=info["HOST"], port=info["PORT"] or None,
    )  # fmt: skip
    try:
        other.execute(sql, params)
        yield
    finally:
        other.rollback()
        other.close()


@contextmanager
def session_timeouts(*, lock_ms: int, statement_ms: int) -> Iterator[None]:
    """Small timeouts on the test's own connection (the one requests use), reset after."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = {lock_ms}")
        cursor.execute(f"SET statement_timeout = {statement_ms}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
            cursor.execute("RESET statement_timeout")


@pytest.fixture
def setup():
    business = make_business()
    booking = make_booking(session=make_session(business=business))
    staff = make_staff(businesses=(business,))
    return business, booking, staff


def test_a_row_lock_held_elsewhere_is_a_json_503_on_the_api(client, setup):
    _, booking, staff = setup
    client.force_login(staff)
    with (
        held_by_another_connection(LOCK_ROW, booking.pk),
        session_timeouts(lock_ms=200, statement_ms=0),
    ):
        response = client.patch(
            f"/api/booking/manage/{booking.pk}/",
            json.dumps({"action": "cancel", "reason": "x"}),
            content_type="application/json",
        )
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "unavailable"
    assert int(response["Retry-After"]) > 0
    stored = BookingRequest.objects.get(pk=booking.pk)
    assert stored.status == BookingStatus.PENDING
    assert BookingRequest.history.filter(id=booking.pk).count() == 1


def test_a_row_lock_held_elsewhere_is_a_503_page_in_the_admin(client, setup):
    _, booking, staff = setup
    client.force_login(staff)
    with (
        held_by_another_connection(LOCK_ROW, booking.pk),
        session_timeouts(lock_ms=200, statement_ms=0),
    ):
        response = client.post(
            "/admin/booking/bookingrequest/",
            {"action": "cancel_bookings", "_selected_action": [booking.pk], "post": "yes",
             "reason": "x"},
        )  # fmt: skip
    assert response.status_code == 503
    assert b"try again" in response.content.lower()
    assert BookingRequest.objects.get(pk=booking.pk).status == BookingStatus.PENDING


def test_a_client_cancel_behind_a_lock_is_a_503_and_changes_nothing(client, setup):
    _, booking, _ = setup
    with (
        held_by_another_connection(LOCK_ROW, booking.pk),
        session_timeouts(lock_ms=200, statement_ms=0),
    ):
        response = client.post(
            f"/api/booking/client/{booking.reference}/cancel/",
            json.dumps({"client_email": booking.client_email}),
            content_type="application/json",
        )
    assert response.status_code == 503
    assert BookingRequest.objects.get(pk=booking.pk).status == BookingStatus.PENDING


def test_a_statement_past_its_timeout_is_a_503(client, setup):
    _, _, staff = setup
    client.force_login(staff)
    # A table lock makes every read wait; with no lock timeout, the statement timeout ends it.
    with held_by_another_connection("LOCK TABLE booking_bookingrequest IN ACCESS EXCLUSIVE MODE"), \
            session_timeouts(lock_ms=0, statement_ms=200):  # fmt: skip
        response = client.get("/api/booking/manage/")
    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
