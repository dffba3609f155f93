"""The public cancellation page: /booking/cancel/<reference>/."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.test import Client

from booking.models import BookingRequest, BookingStatus
from booking.services import links, notifications
from booking.services.lifecycle import client as client_flow
from tests.factories import make_booking, make_business, make_session

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def url(booking_or_reference, suffix=""):
    reference = getattr(booking_or_reference, "reference", booking_or_reference)
    return f"/booking/cancel/{reference}/{suffix}"


def text(response):
    """The page's visible text, whitespace collapsed, for reading like a person."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace("&#x27;", "'")


def stored(booking):
    return BookingRequest.all_objects.get(pk=booking.pk)


def history_count(booking):
    return BookingRequest.history.filter(id=booking.pk).count()


@pytest.fixture
def london_booking():
    business = make_business(
        name="Riverside Yoga", timezone_name="Europe/London",
        contact_email="hello@riverside.example", contact_phone="+44 20 7946 0018",
        cancellation_fee_policy="Cancellations inside 24 hours are charged in full.",
    )  # fmt: skip
    session = make_session(
        business=business, title="Sunrise Flow", starts_at=datetime(2031, 12, 9, 8, 0, tzinfo=UTC)
    )
    return make_booking(session=session, status=BookingStatus.APPROVED, client_name="Ada Lovelace")


# --- GET -----------------------------------------------------------------------


def test_page_shows_the_booking_and_its_policy(client, london_booking):
    response = client.get(url(london_booking))
    assert response.status_code == 200
    page = text(response)
    assert "Riverside Yoga" in page
    assert "Sunrise Flow" in page
    assert "Tuesday 9 December 2031, 08:00" in page
    assert "Europe/London time" in page
    assert "Confirmed" in page
    assert "You can cancel online up to 24 hours before the session starts." in page
    assert "You can cancel until Mon 8 Dec, 08:00" in page
    assert "Cancellations inside 24 hours are charged in full." in page
    assert 'name="client_email"' in response.content.decode()


def test_page_shows_the_time_in_the_business_time_zone(client):
    business = make_business(timezone_name="America/New_York")
    session = make_session(business=business, starts_at=datetime(2031, 7, 1, 22, 30, tzinfo=UTC))
    page = text(client.get(url(make_booking(session=session))))
    assert "Tuesday 1 July 2031, 18:30" in page
    assert "You can cancel until Mon 30 Jun, 18:30" in page


def test_page_never_shows_client_personal_data_before_proof(client, london_booking):
    html = client.get(url(london_booking)).content.decode()
    for personal in ["Ada", "Lovelace", london_booking.client_email, "900123"]:
        assert personal not in html


def test_page_is_private_and_uncached(client, london_booking):
    response = client.get(url(london_booking))
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"
    assert "noindex" in response["X-Robots-Tag"]


def test_page_css_is_served_by_the_project(client, london_booking):
    html = client.get(url(london_booking)).content.decode()
    assert '<link rel="stylesheet" href="/static/booking/public.css">' in html
    assert finders.find("booking/public.css")
    assert "https://" not in html.split("<body")[0]


def test_form_fields_have_labels(client, london_booking):
    html = client.get(url(london_booking)).content.decode()
    for field_id in ["id_client_email", "id_client_phone", "id_reason", "id_link-client_email"]:
        assert f'<label for="{field_id}"' in html


def test_a_get_never_changes_anything(client, london_booking):
    token = links.make_cancel_token(london_booking)
    client.get(url(london_booking))
    client.get(url(london_booking) + f"?token={token}")
    client.get(url(london_booking) + "?client_email=ada@example.com&reason=x")
    assert stored(london_booking).status == BookingStatus.APPROVED
    assert history_count(london_booking) == 1


def test_lower_case_reference_redirects_to_the_canonical_page(client, london_booking):
    response = client.get(url(london_booking.reference.lower()) + "?token=abc")
    assert response.status_code == 302
    assert response["Location"] == url(london_booking) + "?token=abc"


@pytest.mark.parametrize("reference", ["ZZZZZZZZ", "nope", "A" * 300])
def test_unknown_reference_is_a_404_page(client, reference):
    response = client.get(url(reference))
    assert response.status_code == 404
    assert "Booking not found" in text(response)


def test_soft_deleted_booking_is_a_404_page(client, session):
    booking = make_booking(session=session, is_deleted=True)
    assert client.get(url(booking)).status_code == 404


def test_after_the_deadline_the_page_says_so_with_contact_details(client):
    business = make_business(
        name="Riverside Yoga", contact_email="hello@riverside.example", contact_phone="+44 20 1"
    )
    booking = make_booking(session=make_session(business=business, starts_in=timedelta(hours=5)))
    response = client.get(url(booking))
    page = text(response)
    assert response.status_code == 200
    assert "It is too late to cancel online" in page
    assert "The deadline was" in page
    assert "hello@riverside.example" in page
    assert "+44 20 1" in page
    assert 'name="client_email"' not in response.content.decode()


def test_when_online_cancellation_is_off_the_page_says_so(client):
    business = make_business(allow_client_cancellation=False, contact_email="desk@off.example")
    page = text(client.get(url(make_booking(session=make_session(business=business)))))
    assert "Online cancellation is turned off" in page
    assert "desk@off.example" in page


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (BookingStatus.CANCELLED, "This booking is already cancelled."),
        (BookingStatus.REJECTED, "This booking is declined, so there is nothing to cancel."),
    ],
)
def test_closed_bookings_say_why_there_is_nothing_to_do(client, session, status, message):
    response = client.get(url(make_booking(session=session, status=status)))
    assert message in text(response)
    assert "<form" not in response.content.decode()


# --- POST with typed contact details -----------------------------------------------


def test_cancel_with_the_email_shows_a_confirmation(client, london_booking):
    response = client.post(
        url(london_booking),
        {"client_email": "ADA@example.com", "reason": "Moving away"},
        HTTP_USER_AGENT="Firefox/140",
        REMOTE_ADDR="203.0.113.77",
    )
    assert response.status_code == 200
    page = text(response)
    assert "Your booking is cancelled" in page
    assert london_booking.reference in page
    booking = stored(london_booking)
    assert booking.status == BookingStatus.CANCELLED
    assert booking.cancelled_by_client
    assert booking.cancellation_reason == "Moving away"
    record = booking.history.first()
    assert (record.ip_address, record.user_agent) == ("203.0.113.77", "Firefox/140")
    assert record.history_change_reason == "Moving away"


def test_cancel_with_the_phone(client, london_booking):
    response = client.post(url(london_booking), {"client_phone": "07700 900 123"})
    assert response.status_code == 200
    assert stored(london_booking).status == BookingStatus.CANCELLED


def test_details_that_do_not_match_are_refused_and_kept_in_the_form(client, london_booking):
    response = client.post(url(london_booking), {"client_email": "eve@example.com"})
    assert response.status_code == 403
    assert "Those details don't match this booking" in text(response)
    assert 'value="eve@example.com"' in response.content.decode()
    assert stored(london_booking).status == BookingStatus.APPROVED


def test_missing_details_are_a_form_error(client, london_booking):
    response = client.post(url(london_booking), {"reason": "no details"})
    assert response.status_code == 400
    assert "Enter the email address or the phone number you booked with." in text(response)
    assert history_count(london_booking) == 1


def test_a_reason_over_1000_characters_is_refused_not_truncated(client, london_booking):
    response = client.post(
        url(london_booking), {"client_email": "ada@example.com", "reason": "r" * 1001}
    )
    assert response.status_code == 400
    assert "at most 1000 characters" in text(response)
    assert stored(london_booking).status == BookingStatus.APPROVED


def test_deadline_passed_on_post_has_its_own_message(client):
    booking = make_booking(
        session=make_session(business=make_business(), starts_in=timedelta(hours=2))
    )
    response = client.post(url(booking), {"client_email": booking.client_email})
    assert response.status_code == 403
    assert "It is too late to cancel online" in text(response)
    assert stored(booking).status == BookingStatus.PENDING


def test_policy_off_on_post_has_its_own_message(client):
    booking = make_booking(
        session=make_session(business=make_business(allow_client_cancellation=False))
    )
    response = client.post(url(booking), {"client_email": booking.client_email})
    assert response.status_code == 403
    assert "Online cancellation is turned off" in text(response)


def test_double_submit_says_already_cancelled(client, london_booking):
    data = {"client_email": london_booking.client_email}
    assert client.post(url(london_booking), data).status_code == 200
    response = client.post(url(london_booking), data)
    assert response.status_code == 409
    assert "This booking is already cancelled." in text(response)
    assert history_count(london_booking) == 2


def test_post_to_an_unknown_reference_is_404(client):
    assert client.post(url("ZZZZZZZZ"), {"client_email": "ada@example.com"}).status_code == 404


def test_too_many_attempts_lock_the_page(client, london_booking):
    for _ in range(10):
        client.post(url(london_booking), {"client_email": "eve@example.com"})
    response = client.post(url(london_booking), {"client_email": london_booking.client_email})
    assert response.status_code == 429
    assert "Too many attempts" in text(response)
    assert "Try again in 16 minutes" in text(response) or "Try again in 15 minutes" in text(
        response
    )
    assert stored(london_booking).status == BookingStatus.APPROVED
    assert 'name="client_email"' not in response.content.decode()
    assert 'name="link-client_email"' in response.content.decode()
    # The GET shows the pause too, without a form that could only fail.
    page = client.get(url(london_booking))
    assert "Too many attempts" in text(page)
    assert 'name="client_email"' not in page.content.decode()


def test_page_and_api_share_one_failure_count(client, london_booking):
    for _ in range(5):
        client.post(url(london_booking), {"client_email": "eve@example.com"})
        client.post(
            f"/api/booking/client/{london_booking.reference}/cancel/",
            {"client_email": "eve@example.com"},
            content_type="application/json",
        )
    response = client.post(url(london_booking), {"client_email": london_booking.client_email})
    assert response.status_code == 429


# --- CSRF --------------------------------------------------------------------------


def test_the_form_is_csrf_protected(london_booking):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(url(london_booking), {"client_email": london_booking.client_email})
    assert response.status_code == 403
    assert stored(london_booking).status == BookingStatus.APPROVED


def test_the_form_works_with_the_csrf_token_from_the_page(london_booking):
    strict = Client(enforce_csrf_checks=True)
    html = strict.get(url(london_booking)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = strict.post(
        url(london_booking),
        {"client_email": london_booking.client_email, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 200
    assert stored(london_booking).status == BookingStatus.CANCELLED


def test_the_link_request_form_is_csrf_protected(london_booking):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(url(london_booking, "link/"), {"link-client_email": "ada@example.com"})
    assert response.status_code == 403


# --- Signed links ----------------------------------------------------------------


def test_a_valid_link_skips_the_details_but_still_needs_a_post(client, london_booking):
    token = links.make_cancel_token(london_booking)
    response = client.get(url(london_booking) + f"?token={token}")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="client_email"' not in html
    assert f'name="token" value="{token}"' in html
    assert "Ada Lovelace" in html  # the link proved who this is
    assert "Confirm the cancellation" in text(response)
    assert stored(london_booking).status == BookingStatus.APPROVED


def test_cancel_with_a_valid_link(client, london_booking):
    token = links.make_cancel_token(london_booking)
    response = client.post(url(london_booking), {"token": token, "reason": "Ill"})
    assert response.status_code == 200
    assert "Your booking is cancelled" in text(response)
    assert stored(london_booking).cancellation_reason == "Ill"


@pytest.mark.parametrize(
    ("make_token", "notice"),
    [
        (lambda b: links.make_cancel_token(b)[:-3] + "abc", "This cancellation link is not valid."),
        (lambda b: "not-a-token", "This cancellation link is not valid."),
    ],
)
def test_a_bad_link_falls_back_to_the_form(client, london_booking, make_token, notice):
    token = make_token(london_booking)
    page = client.get(url(london_booking) + f"?token={token}")
    assert notice in text(page)
    assert 'name="client_email"' in page.content.decode()

    response = client.post(url(london_booking), {"token": token})
    assert response.status_code == 403
    assert notice in text(response)
    assert 'name="client_email"' in response.content.decode()
    assert stored(london_booking).status == BookingStatus.APPROVED


def test_an_expired_link_falls_back_to_the_form(client, london_booking, settings):
    token = links.make_cancel_token(london_booking)
    settings.CANCEL_LINK_MAX_AGE = -1
    page = client.get(url(london_booking) + f"?token={token}")
    assert "This cancellation link has expired." in text(page)
    response = client.post(url(london_booking), {"token": token})
    assert response.status_code == 403
    assert "This cancellation link has expired." in text(response)
    assert stored(london_booking).status == BookingStatus.APPROVED


def test_a_used_link_says_so(client, london_booking):
    token = links.make_cancel_token(london_booking)
    assert client.post(url(london_booking), {"token": token}).status_code == 200
    again = client.post(url(london_booking), {"token": token})
    assert again.status_code == 403
    assert "already been used" in text(again)
    assert "Cancelled" in text(again)
    page = client.get(url(london_booking) + f"?token={token}")
    assert "already been used" in text(page)
    assert history_count(london_booking) == 2


def test_forged_links_count_as_failed_attempts_but_a_valid_link_still_cancels(
    client, london_booking
):
    for _ in range(10):
        client.post(url(london_booking), {"token": "forged"})
    # The reference is locked for typed details...
    typed = client.post(url(london_booking), {"client_email": "ada@example.com"})
    assert typed.status_code == 429
    # ...but a genuine link proves the mailbox: strangers cannot lock its owner out.
    response = client.post(url(london_booking), {"token": links.make_cancel_token(london_booking)})
    assert response.status_code == 200
    assert BookingRequest.objects.get(pk=london_booking.pk).status == BookingStatus.CANCELLED


# --- "Email me a cancellation link" ------------------------------------------------


@pytest.fixture
def sent(monkeypatch):
    """References the link hook was called for (the hook itself still runs).

    The worker's half runs at once here; `test_link_timing` runs it in the real worker.
    """
    monkeypatch.setattr(client_flow, "_enqueue", client_flow.deliver_cancel_link)
    calls = []
    real = notifications.cancellation_link_requested
    monkeypatch.setattr(
        notifications,
        "cancellation_link_requested",
        lambda booking: (calls.append(booking.reference), real(booking))[1],
    )
    return calls


@pytest.mark.parametrize(
    ("details", "sends"),
    [
        ({"link-client_email": "ada@example.com"}, True),
        ({"link-client_phone": "+44 7700 900123"}, True),
        ({"link-client_email": "eve@example.com"}, False),
    ],
)
def test_link_request_answers_neutrally(client, london_booking, sent, details, sends):
    response = client.post(url(london_booking, "link/"), details, follow=True)
    assert response.redirect_chain[-1][0] == url(london_booking) + "#link-sent"
    assert "If those details match the booking, we have emailed a cancellation link" in text(
        response
    )
    assert sent == ([london_booking.reference] if sends else [])
    assert stored(london_booking).status == BookingStatus.APPROVED


def test_link_request_is_throttled_per_booking(client, london_booking, sent):
    for _ in range(5):
        response = client.post(
            url(london_booking, "link/"), {"link-client_email": "ada@example.com"}
        )
        assert response.status_code == 302
    assert sent == [london_booking.reference] * 3


def test_link_request_without_details_is_a_form_error(client, london_booking, sent):
    response = client.post(url(london_booking, "link/"), {})
    assert response.status_code == 400
    assert sent == []


def test_link_request_needs_a_post(client, london_booking):
    assert client.get(url(london_booking, "link/")).status_code == 405
