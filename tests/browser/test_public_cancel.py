"""The client's cancellation in a real browser: typed details and a signed link,
at desktop and phone widths. Screenshots land in tests/artifacts/<test>/."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from booking.models import BookingRequest, BookingStatus
from booking.services import links
from tests.browser.conftest import DESKTOP, PHONE
from tests.factories import make_booking, make_business, make_session

VIEWPORTS = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def make_client_booking(*, starts_in=timedelta(days=5)):
    business = make_business(
        name="Johnny Bravo Fitness Center",
        timezone_name="America/New_York",
        contact_email="frontdesk@johnnybravo.example",
        contact_phone="+1 555 0100 200",
        cancellation_fee_policy="Late cancellations are charged $15.",
    )
    session = make_session(business=business, title="Morning Spin", starts_in=starts_in)
    return make_booking(
        session=session, status=BookingStatus.APPROVED, client_email="ada@example.com"
    )


def fits_the_screen(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_client_cancels_with_typed_details(live_server, browser, artifacts, viewport):
    booking = make_client_booking()
    page = browser.new_page(viewport=viewport)
    page.goto(f"{live_server.url}/booking/cancel/{booking.reference}/")

    expect(page.get_by_role("heading", name="Cancel your booking")).to_be_visible()
    expect(page.get_by_text("Morning Spin")).to_be_visible()
    expect(page.get_by_text("You can cancel until")).to_be_visible()
    expect(page.get_by_text("Late cancellations are charged $15.")).to_be_visible()
    assert fits_the_screen(page)
    page.screenshot(path=artifacts / "1-booking.png", full_page=True)

    page.get_by_label("Email address").first.fill("someone-else@example.com")
    page.get_by_role("button", name=f"Cancel booking {booking.reference}").click()
    expect(page.get_by_role("alert").filter(has_text="Those details don't match")).to_be_visible()
    page.screenshot(path=artifacts / "2-mismatch.png", full_page=True)

    page.get_by_label("Email address").first.fill(" ADA@example.com ")
    page.get_by_label("Reason (optional)").fill("Work meeting came up")
    page.get_by_role("button", name=f"Cancel booking {booking.reference}").click()

    expect(page.get_by_role("heading", name="Your booking is cancelled")).to_be_visible()
    expect(page.locator("#confirmation").get_by_text(booking.reference)).to_be_visible()
    assert fits_the_screen(page)
    page.screenshot(path=artifacts / "3-cancelled.png", full_page=True)

    booking = BookingRequest.objects.get(pk=booking.pk)
    assert booking.status == BookingStatus.CANCELLED
    assert booking.cancellation_reason == "Work meeting came up"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_client_cancels_from_a_signed_link(live_server, browser, artifacts, viewport):
    booking = make_client_booking()
    token = links.make_cancel_token(booking)
    link = f"{live_server.url}/booking/cancel/{booking.reference}/?token={token}"
    page = browser.new_page(viewport=viewport)
    page.goto(link)

    expect(page.get_by_role("heading", name="Confirm the cancellation")).to_be_visible()
    assert page.get_by_label("Email address").count() == 0
    page.screenshot(path=artifacts / "1-signed-link.png", full_page=True)
    # Opening the link (as a mail scanner would) changed nothing.
    assert BookingRequest.objects.get(pk=booking.pk).status == BookingStatus.APPROVED

    page.get_by_role("button", name=f"Cancel booking {booking.reference}").click()
    expect(page.get_by_role("heading", name="Your booking is cancelled")).to_be_visible()
    page.screenshot(path=artifacts / "2-cancelled.png", full_page=True)

    page.goto(link)
    expect(page.get_by_text("already been used")).to_be_visible()
    page.screenshot(path=artifacts / "3-link-used.png", full_page=True)
    assert BookingRequest.objects.get(pk=booking.pk).status == BookingStatus.CANCELLED


@pytest.mark.django_db(transaction=True)
def test_after_the_deadline_the_client_is_told_whom_to_call(live_server, browser, artifacts):
    booking = make_client_booking(starts_in=timedelta(hours=3))
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{live_server.url}/booking/cancel/{booking.reference}/")

    expect(page.get_by_role("heading", name="It is too late to cancel online")).to_be_visible()
    expect(page.get_by_role("link", name="frontdesk@johnnybravo.example")).to_be_visible()
    assert page.get_by_role("button").count() == 0
    assert fits_the_screen(page)
    page.screenshot(path=artifacts / "deadline-passed.png", full_page=True)


@pytest.mark.django_db(transaction=True)
def test_keyboard_reaches_the_form_in_reading_order(live_server, browser):
    booking = make_client_booking()
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{live_server.url}/booking/cancel/{booking.reference}/")
    focused = []
    for _ in range(6):
        page.keyboard.press("Tab")
        focused.append(
            page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
        )
    assert focused == [
        "Skip to content",
        "id_client_email",
        "id_client_phone",
        "id_reason",
        f"Cancel booking {booking.reference}",
        "Email me a cancellation link instead",
    ]
    page.keyboard.press("Enter")  # the summary opens the link request
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_link-client_email"
