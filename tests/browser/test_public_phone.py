"""The client's page on a phone (390 px): every answer shows where the eye is.
Screenshots of what the screen shows (and the full page) land in tests/artifacts/<test>/."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from booking.models import BookingStatus
from tests.browser.conftest import PHONE
from tests.factories import make_booking, make_business, make_session

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def booking_starting_in(delta: timedelta):
    business = make_business(
        name="Johnny Bravo Fitness Center",
        timezone_name="America/New_York",
        country="US",
        contact_email="frontdesk@johnnybravo.example",
        contact_phone="+1 555 0100 200",
        cancellation_fee_policy="Late cancellations are charged $15.",
    )
    session = make_session(business=business, title="Morning Spin", starts_in=delta)
    return make_booking(
        session=session,
        status=BookingStatus.APPROVED,
        client_email="ada@example.com",
        client_phone="+1 (555) 010-2000",
    )


def on_screen(locator) -> bool:
    """The element's top part is inside the phone's screen as scrolled now."""
    box = locator.bounding_box()
    return (
        box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 80) <= PHONE["height"]
    )


def shoot(page, folder, name):
    page.screenshot(path=folder / f"{name}.png")  # what the eye sees
    page.screenshot(path=folder / f"{name}-full.png", full_page=True)


def test_link_request_and_wrong_details_answer_where_the_eye_is(live_server, browser, artifacts):
    booking = booking_starting_in(timedelta(days=5))
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{live_server.url}/booking/cancel/{booking.reference}/")

    page.get_by_text("Email me a cancellation link instead").click()
    card = page.locator("#link-request")
    expect(card.get_by_text("Not sure which email address you booked with")).to_be_visible()
    card.get_by_label("Or phone number").fill("1 555 010 2000")  # another format of the number
    card.get_by_role("button", name="Email me a link").click()
    sent = page.locator("#link-sent")
    expect(sent.get_by_text("we have emailed a cancellation link")).to_be_visible()
    assert on_screen(sent)
    shoot(page, artifacts, "1-link-sent")

    page.goto(f"{live_server.url}/booking/cancel/{booking.reference}/")
    page.get_by_label("Email address").first.fill("someone-else@example.com")
    page.get_by_role("button", name=f"Cancel booking {booking.reference}").click()
    refusal = page.locator("#form-notice")
    expect(refusal.get_by_text("Those details don't match this booking")).to_be_visible()
    assert on_screen(refusal)
    shoot(page, artifacts, "2-wrong-email")


def test_a_past_session_says_it_took_place(live_server, browser, artifacts):
    booking = booking_starting_in(-timedelta(hours=2))
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{live_server.url}/booking/cancel/{booking.reference}/")

    expect(page.get_by_text("This session has already taken place")).to_be_visible()
    assert page.get_by_text("too late to cancel").count() == 0
    assert page.get_by_text("Late cancellations are charged $15.").count() == 0
    shoot(page, artifacts, "past-session")


def test_a_reference_is_typed_at_the_bare_cancel_address(live_server, browser, artifacts):
    booking = booking_starting_in(timedelta(days=5))
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{live_server.url}/booking/cancel/")
    shoot(page, artifacts, "1-find")

    page.get_by_role("textbox", name="Booking reference").fill("ZZZZ ZZZZ")
    page.get_by_role("button", name="Show my booking").click()
    expect(page.get_by_role("heading", name="Booking not found")).to_be_visible()
    shoot(page, artifacts, "2-not-found")

    page.get_by_role("textbox", name="Booking reference").fill(booking.reference.lower())
    page.get_by_role("button", name="Show my booking").click()
    expect(page.get_by_role("heading", name="Cancel your booking")).to_be_visible()
    assert page.url.endswith(f"/booking/cancel/{booking.reference}/")
    shoot(page, artifacts, "3-found")
