"""Faults and hostile clients on the public side: a cache outage, a locked-out owner,
references enumerated by look-up."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from booking.emails.models import OutboxEmail
from booking.models import BookingRequest, BookingStatus
from booking.services import links
from tests.factories import make_booking, make_session

pytestmark = pytest.mark.django_db

# A Redis nobody listens on: connections are refused at once, as in an outage.
DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def page(booking: BookingRequest) -> str:
    return f"/booking/cancel/{booking.reference}/"


def api_cancel(client, reference: str, body: dict, **extra):
    return client.post(
        f"/api/booking/client/{reference}/cancel/",
        json.dumps(body),
        content_type="application/json",
        **extra,
    )


def status_of(booking: BookingRequest) -> str:
    return BookingRequest.all_objects.get(pk=booking.pk).status


# --- The cache is down ----------------------------------------------------------------


@pytest.fixture
def cache_down(settings):
    settings.CACHES = DOWN


def test_the_page_still_renders_without_the_cache(client, booking, cache_down):
    response = client.get(page(booking))
    assert response.status_code == 200
    assert booking.reference in response.content.decode()
    assert client.get("/booking/cancel/ZZZZZZZZ/").status_code == 404


def test_the_api_lookup_still_answers_without_the_cache(client, booking, cache_down):
    response = client.get(f"/api/booking/client/{booking.reference}/")
    assert response.status_code == 200
    assert response.json()["booking_reference"] == booking.reference
    assert client.get("/api/booking/client/ZZZZZZZZ/").status_code == 404


def test_the_page_refuses_to_cancel_without_the_limiter(client, booking, cache_down):
    response = client.post(page(booking), {"client_email": booking.client_email})
    assert response.status_code == 503
    assert "try again in a few minutes" in response.content.decode()
    assert status_of(booking) == BookingStatus.PENDING


def test_a_signed_link_is_refused_too_without_the_limiter(client, booking, cache_down):
    response = client.post(page(booking), {"token": links.make_cancel_token(booking)})
    assert response.status_code == 503
    assert status_of(booking) == BookingStatus.PENDING


def test_the_link_request_refuses_without_the_limiter(client, booking, cache_down):
    response = client.post(
        f"{page(booking)}link/", {"link-client_email": booking.client_email}, follow=False
    )
    assert response.status_code == 503
    assert "try again in a few minutes" in response.content.decode()
    assert not OutboxEmail.objects.exists()


def test_the_api_refuses_to_cancel_with_503_and_retry_after(client, booking, cache_down):
    response = api_cancel(client, booking.reference, {"client_email": booking.client_email})
    assert response.status_code == 503
    body = response.json()
    assert body["success"] is False
    assert body["code"] == "unavailable"
    assert int(response["Retry-After"]) > 0
    assert status_of(booking) == BookingStatus.PENDING


def test_a_post_for_an_unknown_reference_is_503_too(client, db, cache_down):
    assert api_cancel(client, "ZZZZZZZZ", {"client_email": "a@b.example"}).status_code == 503
    assert client.post("/booking/cancel/ZZZZZZZZ/", {"client_email": "a@b.c"}).status_code == 503


# --- Nobody can lock the owner out ----------------------------------------------------------


def guess_wrong(client, booking: BookingRequest, times: int = 10) -> None:
    for n in range(times):
        response = client.post(
            page(booking), {"client_email": "wrong@example.com"}, REMOTE_ADDR=f"198.51.100.{n}"
        )
        assert response.status_code == 403


def test_strangers_guesses_do_not_stop_a_valid_link_on_the_page(client, booking):
    guess_wrong(client, booking)
    locked = client.get(page(booking))
    assert "Too many attempts" in locked.content.decode()
    token = links.make_cancel_token(booking)
    response = client.post(page(booking), {"token": token})
    assert response.status_code == 200, response.content.decode()[:500]
    assert status_of(booking) == BookingStatus.CANCELLED


def test_strangers_guesses_do_not_stop_a_valid_link_on_the_api(client, booking):
    guess_wrong(client, booking)
    typed = api_cancel(client, booking.reference, {"client_email": booking.client_email})
    assert typed.status_code == 429
    token = links.make_cancel_token(booking)
    response = api_cancel(client, booking.reference, {"token": token})
    assert response.status_code == 200, response.content
    assert status_of(booking) == BookingStatus.CANCELLED


def test_a_valid_link_still_meets_the_per_ip_limit(client, booking, settings):
    settings.RATE_LIMIT_FAILURES_PER_IP = 2
    other = make_booking(session=booking.session, client_email="other@example.com")
    for _ in range(2):
        api_cancel(client, other.reference, {"client_email": "wrong@example.com"})
    response = api_cancel(client, booking.reference, {"token": links.make_cancel_token(booking)})
    assert response.status_code == 429
    assert status_of(booking) == BookingStatus.PENDING


def test_a_forged_link_counts_against_the_reference(client, booking):
    for n in range(10):
        api_cancel(client, booking.reference, {"token": "forged"}, REMOTE_ADDR=f"192.0.2.{n}")
    typed = api_cancel(client, booking.reference, {"client_email": booking.client_email})
    assert typed.status_code == 429


# --- References cannot be enumerated beyond the per-IP limit -----------------------------


@pytest.mark.parametrize("via", ["api", "page"])
def test_unknown_references_lock_the_ip_out_of_every_lookup(client, booking, settings, via):
    settings.RATE_LIMIT_FAILURES_PER_IP = 3
    base = "/api/booking/client/" if via == "api" else "/booking/cancel/"
    for reference in ["AAAAAAAA", "BBBBBBBB", "CCCCCCCC"]:
        assert client.get(f"{base}{reference}/").status_code == 404
    known = client.get(f"{base}{booking.reference}/")
    unknown = client.get(f"{base}DDDDDDDD/")
    assert known.status_code == unknown.status_code == 429
    assert booking.client_email not in known.content.decode()
    assert booking.session.title not in known.content.decode()
    assert int(known["Retry-After"]) > 0
    # Another address is not affected.
    assert client.get(f"{base}{booking.reference}/", REMOTE_ADDR="192.0.2.1").status_code == 200


def test_a_locked_ip_learns_nothing_from_a_post_either(client, booking, settings):
    settings.RATE_LIMIT_FAILURES_PER_IP = 2
    for reference in ["AAAAAAAA", "BBBBBBBB"]:
        assert api_cancel(client, reference, {"client_email": "a@b.example"}).status_code == 404
    known = client.post(page(booking), {"client_email": booking.client_email})
    unknown = client.post("/booking/cancel/DDDDDDDD/", {"client_email": "a@b.example"})
    assert known.status_code == unknown.status_code == 429
    assert booking.session.title not in known.content.decode()
    assert status_of(booking) == BookingStatus.PENDING


def test_a_locked_ip_learns_nothing_from_a_link_request(client, booking, settings):
    settings.RATE_LIMIT_FAILURES_PER_IP = 2
    for reference in ["AAAAAAAA", "BBBBBBBB"]:
        assert client.get(f"/booking/cancel/{reference}/").status_code == 404
    known = client.post(f"{page(booking)}link/", {"link-client_email": booking.client_email})
    unknown = client.post("/booking/cancel/DDDDDDDD/link/", {"link-client_email": "a@b.example"})
    assert known.status_code == unknown.status_code == 429
    assert not OutboxEmail.objects.exists()


def test_lookups_of_a_second_business_booking_count_alike(client, booking, other_business):
    other = make_booking(session=make_session(business=other_business))
    assert client.get(f"/api/booking/client/{other.reference}/").status_code == 200
    assert client.get(f"/api/booking/client/{booking.reference}/").status_code == 200
