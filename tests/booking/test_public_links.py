"""Signed cancel links (services.links) and the "email me a link" request (lifecycle.client)."""

from datetime import timedelta

import pytest
from django.core import signing
from django.core.cache import cache

from booking import services
from booking.models import BookingStatus
from booking.services import links, notifications
from booking.services.details import update_booking_details
from booking.services.lifecycle import client as client_flow
from booking.services.lifecycle.client import Proof
from booking.services.links import TokenCheck
from tests.factories import make_booking, make_business, make_session

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sent(monkeypatch):
    """The bookings the "email me a link" hook was called for (the hook itself still runs).

    The worker's half runs at once here; `test_link_timing` runs it in the real worker.
    """
    monkeypatch.setattr(client_flow, "_enqueue", client_flow.deliver_cancel_link)
    calls = []
    real = notifications.cancellation_link_requested

    def spy(booking):
        calls.append(booking.reference)
        return real(booking)

    monkeypatch.setattr(notifications, "cancellation_link_requested", spy)
    return calls


def test_a_fresh_token_is_valid(booking):
    assert links.check_token(links.make_cancel_token(booking), booking) is TokenCheck.VALID
    assert links.token_matches(links.make_cancel_token(booking), booking)


def test_a_tampered_token_is_invalid(booking):
    token = links.make_cancel_token(booking)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert links.check_token(tampered, booking) is TokenCheck.INVALID


def test_a_token_signed_with_another_salt_is_invalid(booking):
    forged = signing.dumps({"r": booking.reference, "s": "x"}, salt="something-else")
    assert links.check_token(forged, booking) is TokenCheck.INVALID


def test_another_bookings_token_is_invalid(booking, session):
    other = make_booking(session=session, client_email="bob@example.com")
    assert links.check_token(links.make_cancel_token(other), booking) is TokenCheck.INVALID


@pytest.mark.parametrize("token", ["", None, 42, "x" * 513, "not-a-token"])
def test_malformed_tokens_are_invalid(booking, token):
    assert links.check_token(token, booking) is TokenCheck.INVALID


def test_a_token_expires(booking, settings):
    token = links.make_cancel_token(booking)
    settings.CANCEL_LINK_MAX_AGE = 60
    assert links.check_token(token, booking) is TokenCheck.VALID
    settings.CANCEL_LINK_MAX_AGE = -1  # anything signed before now is too old
    assert links.check_token(token, booking) is TokenCheck.EXPIRED


def test_a_token_dies_once_the_booking_is_cancelled(booking):
    token = links.make_cancel_token(booking)
    cancelled = services.cancel_booking_as_client(
        reference=booking.reference, proof=Proof(token=token)
    )
    assert links.check_token(token, cancelled) is TokenCheck.USED


def test_a_token_survives_approval(booking, staff):
    token = links.make_cancel_token(booking)
    services.approve_bookings(booking, actor=staff)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.APPROVED
    assert links.check_token(token, booking) is TokenCheck.VALID


def test_a_token_dies_once_the_bookings_email_is_corrected(booking, staff):
    token = links.make_cancel_token(booking)
    updated = update_booking_details(
        booking.pk, actor=staff, changes={"client_email": "ada.king@example.com"}
    )
    assert links.check_token(token, updated) is TokenCheck.USED


def test_a_token_survives_a_change_of_case_in_the_email(booking, staff):
    token = links.make_cancel_token(booking)
    updated = update_booking_details(
        booking.pk, actor=staff, changes={"client_email": booking.client_email.upper()}
    )
    assert links.check_token(token, updated) is TokenCheck.VALID


def test_a_token_dies_while_the_booking_is_soft_deleted(booking, staff):
    token = links.make_cancel_token(booking)
    services.soft_delete_bookings(booking, actor=staff, reason="duplicate")
    booking.refresh_from_db()
    assert links.check_token(token, booking) is TokenCheck.USED


def test_cancel_url_carries_a_valid_token(booking, settings):
    settings.SITE_URL = "https://book.example"
    url = links.cancel_url(booking)
    assert url.startswith(f"https://book.example/booking/cancel/{booking.reference}/?token=")
    assert links.token_matches(url.split("token=", 1)[1], booking)


def test_link_is_requested_when_the_email_matches(booking, sent):
    client_flow.request_cancel_link(reference=booking.reference, email=" ADA@Example.com ")
    assert sent == [booking.reference]


def test_link_is_requested_when_the_phone_matches(booking, sent):
    client_flow.request_cancel_link(reference=booking.reference, phone="07700 900123")
    assert sent == [booking.reference]


def test_no_link_for_details_that_do_not_match(booking, sent):
    client_flow.request_cancel_link(reference=booking.reference, email="mallory@example.com")
    client_flow.request_cancel_link(reference=booking.reference, phone="+44 7700 900999")
    assert sent == []


def test_no_link_for_unknown_or_deleted_bookings(session, sent):
    deleted = make_booking(session=session, is_deleted=True)
    client_flow.request_cancel_link(reference=deleted.reference, email=deleted.client_email)
    client_flow.request_cancel_link(reference="ZZZZZZZZ", email="ada@example.com")
    assert sent == []


def test_no_link_once_it_could_not_be_used(sent):
    late = make_session(business=make_business(), starts_in=timedelta(hours=2))
    booking = make_booking(session=late)
    client_flow.request_cancel_link(reference=booking.reference, email=booking.client_email)
    cancelled = make_booking(session=late, status=BookingStatus.CANCELLED)
    client_flow.request_cancel_link(reference=cancelled.reference, email=cancelled.client_email)
    assert sent == []


def test_link_requests_are_throttled_per_booking(booking, sent):
    for n in range(5):
        client_flow.request_cancel_link(
            reference=booking.reference, email=booking.client_email, ip=f"203.0.113.{n}"
        )
    assert sent == [booking.reference] * 3


def test_failed_link_requests_also_use_up_the_bookings_share(booking, sent):
    for _ in range(3):
        client_flow.request_cancel_link(reference=booking.reference, email="mallory@example.com")
    client_flow.request_cancel_link(reference=booking.reference, email=booking.client_email)
    assert sent == []
