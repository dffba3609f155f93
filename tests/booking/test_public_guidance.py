"""The client's page guides a client on a phone: feedback where the eye is, the reason
for the link option, a past session said as such, fees only where they concern the
client, and a reference typed by hand at /booking/cancel/."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.core.cache import cache

from booking import services
from booking.emails.models import EmailKind, OutboxEmail
from booking.models import BookingStatus
from tests.booking.outbox_support import rendered
from tests.factories import make_booking, make_business, make_session, make_staff, owner_proof

pytestmark = pytest.mark.django_db

POLICY = "Cancellations inside 24 hours are charged in full."


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def studio():
    return make_business(name="Riverside Yoga", cancellation_fee_policy=POLICY)


@pytest.fixture
def booking(studio):
    session = make_session(business=studio, starts_in=timedelta(days=5))
    return make_booking(session=session, status=BookingStatus.APPROVED)


def html(response) -> str:
    return unescape(response.content.decode())


def section(page: str, element_id: str) -> str:
    """The HTML of the element with this id (up to its closing tag of the same name)."""
    match = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>', page)
    assert match, element_id
    tag = match.group(1)
    return page[match.start() : page.index(f"</{tag}>", match.end())]


def test_a_link_request_answers_inside_the_link_card(client, booking):
    response = client.post(
        f"/booking/cancel/{booking.reference}/link/",
        {"link-client_email": "ada@example.com"},
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith("#link-sent")
    page = html(response)
    card = page[page.index('id="link-request"') :]
    assert "we have emailed a cancellation link" in section(card, "link-sent")
    assert "<details" in page and 'id="link-request" open' in page
    top = page[: page.index('id="link-request"')]
    assert "we have emailed a cancellation link" not in top  # said once, where the eye is


def test_the_link_option_says_why_it_exists(client, booking):
    page = html(client.get(f"/booking/cancel/{booking.reference}/"))
    assert "Not sure which email address you booked with" in page
    assert "to the email address on this booking" in page


def test_wrong_details_answer_inside_the_form_the_page_opens_at(client, booking):
    response = client.post(
        f"/booking/cancel/{booking.reference}/", {"client_email": "eve@example.com"}
    )
    assert response.status_code == 403
    page = html(response)
    form_card = section(page, "cancel-form")
    assert "Those details don't match this booking" in form_card
    assert f'action="/booking/cancel/{booking.reference}/#cancel-form"' in page
    assert page.count("Those details don't match this booking") == 1


def test_a_session_that_took_place_says_so(client, studio):
    session = make_session(business=studio, starts_in=-timedelta(hours=3))
    booking = make_booking(session=session, status=BookingStatus.APPROVED)
    page = html(client.get(f"/booking/cancel/{booking.reference}/"))
    assert "This session has already taken place" in page
    assert "too late to cancel" not in page.lower()
    assert "The deadline was" not in page
    assert POLICY not in page  # no fee talk once it is over


def test_inside_the_deadline_it_is_still_too_late_to_cancel(client, studio):
    session = make_session(business=studio, starts_in=timedelta(hours=3))
    booking = make_booking(session=session, status=BookingStatus.APPROVED)
    page = html(client.get(f"/booking/cancel/{booking.reference}/"))
    assert "It is too late to cancel online" in page
    assert "already taken place" not in page


def test_fees_never_appear_in_a_studio_cancelled_email(booking, studio):
    desk = make_staff(businesses=(studio,))
    services.cancel_bookings(booking, actor=desk, reason="Instructor ill", notify_client=True)
    emails = rendered(OutboxEmail.objects.filter(reference=booking.reference))
    assert [e.kind for e in emails] == [EmailKind.STAFF_CANCELLED]
    assert POLICY not in emails[0].text_body and POLICY not in emails[0].html_body
    assert "fee" not in emails[0].text_body.lower()  # not even "no fee applies"


def test_fees_appear_in_the_client_cancelled_email(booking):
    services.cancel_booking_as_client(reference=booking.reference, proof=owner_proof(booking))
    to_client = OutboxEmail.objects.get(
        reference=booking.reference, kind=EmailKind.CLIENT_CANCELLED
    )
    assert POLICY in to_client.text_body


def test_cancel_without_a_reference_offers_a_form(client, booking):
    response = client.get("/booking/cancel/")
    assert response.status_code == 200
    assert 'name="reference"' in html(response)

    typed = client.get("/booking/cancel/", {"reference": f" {booking.reference.lower()} "})
    assert typed.status_code == 302
    assert typed["Location"] == f"/booking/cancel/{booking.reference}/"

    bad = client.get("/booking/cancel/", {"reference": "nope"})
    assert bad.status_code == 400 and "8 letters and digits" in html(bad)


def test_the_not_found_page_offers_the_form_again(client):
    for response in (
        client.get("/booking/cancel/ZZZZZZZZ/"),
        client.get("/booking/cancel/", {"reference": "ZZZZZZZZ"}),
    ):
        assert response.status_code == 404
        assert 'name="reference"' in html(response)
        assert 'value="ZZZZZZZZ"' in html(response)


def test_view_site_leads_to_the_clients_page(client, studio):
    client.force_login(make_staff(businesses=(studio,)))
    page = html(client.get("/admin/"))
    assert 'href="/booking/cancel/"' in page
