"""A client sees the late-cancellation fee before confirming, and is charged exactly it.
Screenshots land in tests/artifacts/<test>/."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from booking.models import BookingRequest, BookingStatus
from tests.browser.conftest import DESKTOP, PHONE
from tests.factories import make_booking, make_business, make_session

VIEWPORTS = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_client_sees_the_fee_and_cancels(live_server, browser, artifacts, viewport):
    business = make_business(
        name="Johnny Bravo Fitness Center",
        timezone_name="America/New_York",
        cancellation_fee_policy="Half the price under 48 hours; in full under 24 hours.",
        fee_rules=((48, "50", "0"), (24, "100", "0")),
        cancellation_deadline_hours=12,
    )
    session = make_session(
        business=business, title="Morning Spin", starts_in=timedelta(hours=30), price="25.00"
    )
    booking = make_booking(session=session, status=BookingStatus.APPROVED)
    page = browser.new_page(viewport=viewport)
    page.goto(f"{live_server.url}/booking/cancel/{booking.reference}/")

    outcome = page.locator("#fee-outcome")
    expect(outcome).to_be_visible()
    assert "A late-cancellation fee of 12.50 USD applies" in outcome.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=artifacts / "1-fee-before-confirming.png", full_page=True)

    page.get_by_label("Email address").first.fill(booking.client_email)
    page.get_by_role("button", name=f"Cancel booking {booking.reference}").click()

    expect(page.get_by_role("heading", name="Your booking is cancelled")).to_be_visible()
    expect(page.get_by_text("A late-cancellation fee of 12.50 USD applies")).to_be_visible()
    page.screenshot(path=artifacts / "2-cancelled-with-fee.png", full_page=True)
    stored = BookingRequest.objects.get(pk=booking.pk)
    assert (stored.status, stored.fee_amount, stored.fee_status) == (
        "cancelled", Decimal("12.50"), "owed",
    )  # fmt: skip
