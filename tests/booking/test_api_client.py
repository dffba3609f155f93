"""The public client API: GET /api/booking/client/<ref>/ and POST …/cancel/."""

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client

from booking.models import BookingRequest, BookingStatus
from booking.services import links
from tests.factories import make_booking, make_business, make_session

pytestmark = pytest.mark.django_db

ONE_PROOF = "give either contact details or a token, not both"
PUBLIC_KEYS = {
    "booking_reference", "status", "session", "business", "can_cancel",
    "cancellation_deadline", "policy", "cancellation_quote",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def detail(client, reference):
    return client.get(f"/api/booking/client/{reference}/")


def cancel(client, reference, data=None, *, raw=None, **extra):
    body = raw if raw is not None else json.dumps(data)
    return client.post(
        f"/api/booking/client/{reference}/cancel/", body, content_type="application/json", **extra
    )


def unchanged(booking):
    """The booking as stored is as the test made it, with its one creation record."""
    stored = BookingRequest.all_objects.get(pk=booking.pk)
    return (
        stored.status == booking.status
        and stored.cancelled_at is None
        and BookingRequest.history.filter(id=booking.pk).count() == 1
    )


# --- GET ---------------------------------------------------------------------


def test_detail_has_the_pinned_shape(client):
    business = make_business(
        name="Studio", timezone_name="America/New_York", cancellation_fee_policy="Late: $10"
    )
    session = make_session(business=business, title="Power Yoga")
    booking = make_booking(session=session, status=BookingStatus.APPROVED)

    response = detail(client, booking.reference)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PUBLIC_KEYS
    assert body["booking_reference"] == booking.reference
    assert body["status"] == "approved"
    # The pinned title and start, plus whether the business cancelled the session.
    assert set(body["session"]) == {"title", "starts_at", "status", "cancellation_reason"}
    assert body["session"]["status"] == "scheduled"
    assert body["session"]["title"] == "Power Yoga"
    assert body["business"] == {
        "name": "Studio",
        "contact_email": business.contact_email,
        "contact_phone": business.contact_phone,
    }
    assert body["can_cancel"] is True
    assert body["policy"]["allow_client_cancellation"] is True
    assert body["policy"]["cancellation_deadline_hours"] == 24
    assert body["policy"]["cancellation_fee_policy"] == "Late: $10"


def test_detail_times_are_in_the_business_time_zone(client):
    from datetime import UTC, datetime

    business = make_business(timezone_name="America/New_York")
    session = make_session(business=business, starts_at=datetime(2031, 1, 15, 17, 0, tzinfo=UTC))
    booking = make_booking(session=session)

    body = detail(client, booking.reference).json()

    assert body["session"]["starts_at"] == "2031-01-15T12:00:00-05:00"
    assert body["cancellation_deadline"] == "2031-01-14T12:00:00-05:00"


def test_detail_never_shows_client_personal_data(client, session):
    booking = make_booking(
        session=session, client_name="Grace Hopper", client_email="grace@navy.example",
        client_phone="+1 202 555 0199",
    )  # fmt: skip
    text = detail(client, booking.reference).content.decode()
    for personal in ["Grace", "Hopper", "grace@navy.example", "555 0199", "2025550199"]:
        assert personal not in text


@pytest.mark.parametrize(
    ("status", "starts_in", "allowed", "can_cancel"),
    [
        # The rule itself is tested in test_rules; here, that the answer carries it.
        (BookingStatus.APPROVED, timedelta(days=3), True, True),
        (BookingStatus.APPROVED, timedelta(hours=2), True, False),
    ],
)
def test_detail_says_whether_the_client_can_cancel(client, status, starts_in, allowed, can_cancel):
    business = make_business(allow_client_cancellation=allowed)
    booking = make_booking(
        session=make_session(business=business, starts_in=starts_in), status=status
    )
    assert detail(client, booking.reference).json()["can_cancel"] is can_cancel


def test_detail_accepts_a_reference_typed_in_lower_case(client, booking):
    assert detail(client, booking.reference.lower()).status_code == 200


@pytest.mark.parametrize("reference", ["ZZZZZZZZ", "short", "ABCDEFGHJK", "ABCD0000"])
def test_detail_of_an_unknown_reference_is_a_json_404(client, reference):
    response = detail(client, reference)
    assert response.status_code == 404
    assert response.json() == {"success": False, "error": "booking not found", "code": "not_found"}


def test_detail_of_a_soft_deleted_booking_is_a_404(client, session):
    booking = make_booking(session=session, is_deleted=True)
    assert detail(client, booking.reference).status_code == 404


def test_detail_refuses_other_methods_in_json(client, booking):
    response = client.delete(f"/api/booking/client/{booking.reference}/")
    assert response.status_code == 405
    assert response.json()["success"] is False
    assert response["Allow"] == "GET, HEAD"


def test_detail_changes_nothing(client, booking):
    detail(client, booking.reference)
    assert unchanged(booking)


# --- POST cancel: success ----------------------------------------------------


def test_cancel_with_the_email(client, booking):
    response = cancel(
        client, booking.reference,
        {"client_email": "  ADA@example.COM ", "reason": "Feeling unwell"},
        HTTP_USER_AGENT="BookingApp/2.0", REMOTE_ADDR="203.0.113.9",
    )  # fmt: skip

    assert response.status_code == 200
    body = response.json()
    booking.refresh_from_db()
    assert body == {
        "success": True,
        "message": "Booking cancelled successfully",
        "booking_reference": booking.reference,
        "status": "cancelled",
        "cancelled_at": booking.cancelled_at.isoformat(),
        "cancellation_reason": "Feeling unwell",
        "fee": {"amount": "0.00", "currency": "USD"},
    }
    assert booking.status == BookingStatus.CANCELLED
    assert booking.cancelled_by_client is True
    assert booking.cancelled_by is None
    record = booking.history.first()
    assert record.history_change_reason == "Feeling unwell"
    assert record.history_user is None
    assert (record.ip_address, record.user_agent) == ("203.0.113.9", "BookingApp/2.0")


@pytest.mark.parametrize("phone", ["+44 7700 900123", "07700 900123", "0044 (7700) 900-123"])
def test_cancel_with_the_phone_in_any_notation(client, booking, phone):
    response = cancel(client, booking.reference, {"client_phone": phone})
    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED


def test_cancel_with_a_signed_link_token(client, booking):
    token = links.make_cancel_token(booking)
    response = cancel(client, booking.reference, {"token": token, "reason": "Travelling"})
    assert response.status_code == 200
    assert response.json()["cancellation_reason"] == "Travelling"


def test_cancel_needs_no_csrf_token(booking):
    """Deliberately csrf_exempt: the body's proof is the only authority (see the views)."""
    strict = Client(enforce_csrf_checks=True)
    response = cancel(strict, booking.reference, {"client_email": booking.client_email})
    assert response.status_code == 200


def test_cancel_with_a_null_reason(client, booking):
    response = cancel(
        client, booking.reference, {"client_email": "ada@example.com", "reason": None}
    )
    assert response.status_code == 200
    assert response.json()["cancellation_reason"] == ""


# --- POST cancel: refusals ---------------------------------------------------


@pytest.mark.parametrize(
    "proof",
    [
        {"client_email": "eve@example.com"},
        {"client_phone": "+44 7700 900124"},
        {"client_email": "ada@example.com", "client_phone": "+44 7700 900999"},
        {"client_email": "ada@example.co"},
    ],
)
def test_details_that_do_not_match_are_403_without_saying_which(client, booking, proof):
    response = cancel(client, booking.reference, proof)
    assert response.status_code == 403
    assert response.json() == {
        "success": False,
        "error": "the contact details do not match this booking",
        "code": "identity_not_verified",
    }
    assert unchanged(booking)


def test_identity_is_checked_before_the_policy(client):
    """A stranger learns nothing of the policy's verdict: mismatch first, then the deadline."""
    late = make_booking(
        session=make_session(business=make_business(), starts_in=timedelta(hours=1))
    )
    response = cancel(client, late.reference, {"client_email": "eve@example.com"})
    assert response.status_code == 403
    assert response.json()["code"] == "identity_not_verified"
    assert "contact_info" not in response.json()


@pytest.mark.parametrize(
    "token_of",
    [
        lambda b: links.make_cancel_token(b)[:-1] + "x",
        lambda b: "garbage",
        lambda b: links.make_cancel_token(
            make_booking(session=b.session, client_email="bob@example.com")
        ),
    ],
    ids=["tampered", "garbage", "another-booking"],
)
def test_a_bad_token_is_403(client, booking, token_of):
    response = cancel(client, booking.reference, {"token": token_of(booking)})
    assert response.status_code == 403
    assert unchanged(booking)


def test_deadline_refusal_carries_policy_times_and_contact(client):
    business = make_business(
        name="Studio", timezone_name="Europe/Berlin", contact_email="desk@studio.example",
        contact_phone="+49 30 1234567", cancellation_fee_policy="Full price",
    )  # fmt: skip
    booking = make_booking(session=make_session(business=business, starts_in=timedelta(hours=3)))

    response = cancel(client, booking.reference, {"client_email": booking.client_email})

    assert response.status_code == 403
    body = response.json()
    assert body["success"] is False
    assert body["code"] == "deadline_passed"
    assert body["error"] == "the cancellation deadline has passed"
    assert body["policy"]["cancellation_deadline_hours"] == 24
    assert body["policy"]["cancellation_fee_policy"] == "Full price"
    assert body["session_time"] == booking.session.starts_at.astimezone(business.tzinfo).isoformat()
    assert body["current_time"] < body["session_time"]
    assert body["contact_info"] == {
        "business": "Studio", "email": "desk@studio.example", "phone": "+49 30 1234567",
    }  # fmt: skip
    assert unchanged(booking)


def test_client_cancellation_turned_off_is_403_with_contact(client):
    business = make_business(allow_client_cancellation=False)
    booking = make_booking(session=make_session(business=business))
    response = cancel(client, booking.reference, {"client_email": booking.client_email})
    assert response.status_code == 403
    assert response.json()["code"] == "policy"
    assert response.json()["contact_info"]["email"] == business.contact_email
    assert unchanged(booking)


def test_double_submit_is_409(client, booking):
    first = cancel(client, booking.reference, {"client_email": booking.client_email})
    second = cancel(client, booking.reference, {"client_email": booking.client_email})
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["error"] == "already cancelled"
    assert BookingRequest.history.filter(id=booking.pk).count() == 2


def test_a_rejected_booking_cannot_be_cancelled(client, session):
    booking = make_booking(session=session, status=BookingStatus.REJECTED)
    response = cancel(client, booking.reference, {"client_email": booking.client_email})
    assert response.status_code == 409


def test_unknown_and_soft_deleted_references_are_404(client, session):
    deleted = make_booking(session=session, is_deleted=True)
    for reference in ["ZZZZZZZZ", deleted.reference, "nope"]:
        response = cancel(client, reference, {"client_email": deleted.client_email})
        assert response.status_code == 404
        assert response.json()["success"] is False
    assert BookingRequest.all_objects.get(pk=deleted.pk).status == BookingStatus.PENDING


# --- POST cancel: bad input (400, nothing changed) ---------------------------


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ('{"client_email": ', "request body is not valid JSON"),
        ("[1, 2]", "request body must be a JSON object"),
        ('"ada@example.com"', "request body must be a JSON object"),
        ("\xff\xfe", "request body is not valid JSON"),
        ("{}", "give client_email or client_phone (or a link's token)"),
        ('{"client_email": ""}', "give client_email or client_phone (or a link's token)"),
        ('{"client_email": 42}', "client_email must be a string"),
        ('{"client_phone": ["+44"]}', "client_phone must be a string"),
        ('{"client_email": "ada@example.com", "reason": {"a": 1}}', "reason must be a string"),
        ('{"client_email": "ada@example.com", "admin": true}', "unknown field(s): admin"),
        ('{"client_email": "ada@example.com", "token": "x"}', ONE_PROOF),
    ],
)  # fmt: skip
def test_bad_input_is_400_and_changes_nothing(client, booking, raw, error):
    response = cancel(client, booking.reference, raw=raw)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert response.json()["error"] == error
    assert unchanged(booking)


@pytest.mark.parametrize(
    ("field", "length", "code"),
    [
        ("client_email", 255, "invalid"),
        ("client_phone", 41, "invalid"),
        ("token", 513, "invalid"),
        ("reason", 1001, "reason_too_long"),
    ],
)
def test_oversized_fields_are_400(client, booking, field, length, code):
    data = {"client_email": booking.client_email, field: "7" * length}
    if field == "token":
        del data["client_email"]
    response = cancel(client, booking.reference, data)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert unchanged(booking)


def test_a_reason_of_exactly_1000_characters_is_kept_whole(client, booking):
    response = cancel(
        client, booking.reference, {"client_email": booking.client_email, "reason": "r" * 1000}
    )
    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.cancellation_reason == "r" * 1000


def test_an_oversized_body_is_400(client, booking):
    raw = json.dumps({"client_email": booking.client_email, "reason": "r" * 20_000})
    response = cancel(client, booking.reference, raw=raw)
    assert response.status_code == 400
    assert "larger than" in response.json()["error"]
    assert unchanged(booking)


def test_cancel_refuses_get_in_json(client, booking):
    response = client.get(f"/api/booking/client/{booking.reference}/cancel/")
    assert response.status_code == 405
    assert response.json()["success"] is False
    assert unchanged(booking)


# --- Rate limits ---------------------------------------------------------------


def test_ten_failures_lock_the_reference_even_for_the_right_details(client, booking):
    for _ in range(10):
        assert (
            cancel(client, booking.reference, {"client_email": "eve@example.com"}).status_code
            == 403
        )

    response = cancel(client, booking.reference, {"client_email": booking.client_email})

    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "rate_limited"
    assert 15 * 60 <= body["retry_after"] <= 16 * 60
    assert response["Retry-After"] == str(body["retry_after"])
    assert unchanged(booking)


def test_the_reference_lock_holds_from_any_ip(client, booking):
    for n in range(10):
        cancel(
            client,
            booking.reference,
            {"client_email": "eve@example.com"},
            REMOTE_ADDR=f"198.51.100.{n}",
        )
    response = cancel(
        client, booking.reference, {"client_email": booking.client_email}, REMOTE_ADDR="192.0.2.1"
    )
    assert response.status_code == 429


def test_nine_failures_do_not_lock(client, booking):
    for _ in range(9):
        cancel(client, booking.reference, {"client_email": "eve@example.com"})
    assert (
        cancel(client, booking.reference, {"client_email": booking.client_email}).status_code == 200
    )


def test_one_ip_failing_on_many_references_is_locked_out(client, session, settings):
    settings.RATE_LIMIT_FAILURES_PER_IP = 5
    bookings = [make_booking(session=session) for _ in range(6)]
    for booking in bookings[:5]:
        assert (
            cancel(client, booking.reference, {"client_email": "eve@example.com"}).status_code
            == 403
        )
    last = bookings[5]
    assert cancel(client, last.reference, {"client_email": last.client_email}).status_code == 429
    other_ip = cancel(
        client, last.reference, {"client_email": last.client_email}, REMOTE_ADDR="192.0.2.1"
    )
    assert other_ip.status_code == 200


def test_a_spoofed_forwarded_for_header_does_not_escape_the_ip_limit(client, session, settings):
    settings.RATE_LIMIT_FAILURES_PER_IP = 3
    bookings = [make_booking(session=session) for _ in range(4)]
    for n, booking in enumerate(bookings[:3]):
        cancel(
            client,
            booking.reference,
            {"client_email": "eve@example.com"},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        )
    response = cancel(
        client, bookings[3].reference, {"client_email": bookings[3].client_email},
        HTTP_X_FORWARDED_FOR="10.9.9.9",
    )  # fmt: skip
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_client_ip_is_counted(client, session, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATE_LIMIT_FAILURES_PER_IP = 2
    a, b, c = (make_booking(session=session) for _ in range(3))
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    cancel(
        client,
        a.reference,
        {"client_email": "x@example.com"},
        HTTP_X_FORWARDED_FOR="203.0.113.5",
        **proxy,
    )
    cancel(
        client,
        b.reference,
        {"client_email": "x@example.com"},
        HTTP_X_FORWARDED_FOR="203.0.113.5",
        **proxy,
    )
    locked = cancel(
        client,
        c.reference,
        {"client_email": c.client_email},
        HTTP_X_FORWARDED_FOR="203.0.113.5",
        **proxy,
    )
    other = cancel(
        client,
        c.reference,
        {"client_email": c.client_email},
        HTTP_X_FORWARDED_FOR="198.51.100.8",
        **proxy,
    )
    assert (locked.status_code, other.status_code) == (429, 200)
    c.refresh_from_db()
    assert c.history.first().ip_address == "198.51.100.8"


def test_bad_input_is_not_counted_as_a_failed_verification(client, booking):
    for _ in range(12):
        cancel(client, booking.reference, raw="{not json")
    assert (
        cancel(client, booking.reference, {"client_email": booking.client_email}).status_code == 200
    )
