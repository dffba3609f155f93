"""The waitlist in a real browser, at phone width: a freed spot's offer email, its
link opened and claimed. Screenshots land in tests/artifacts/<test>/."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import expect

from booking.models import BookingRequest, BookingStatus
from booking.services import cancel_booking_as_client, waitlist
from booking.waitlist.models import WaitlistEntry, WaitlistStatus
from tests.booking.outbox_support import anymail_backend, run_email_tasks
from tests.browser.conftest import PHONE
from tests.factories import make_booking, make_business, make_session, make_staff, owner_proof

__all__ = ["anymail_backend"]  # the fixture, used by name

WAITLIST_PERMISSIONS = ["view_waitlistentry", "add_waitlistentry", "change_waitlistentry"]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def full_class_with_a_queue():
    """A full class of two (Ada holds a booking) and two clients waiting."""
    business = make_business(
        name="Northside Yoga",
        timezone_name="Europe/Berlin",
        contact_email="hello@northside.example",
        contact_phone="+49 30 1234567",
    )
    session = make_session(business=business, title="Sunrise Flow", capacity=2,
                           starts_in=timedelta(days=4))  # fmt: skip
    ada = make_booking(session=session, status=BookingStatus.APPROVED,
                       client_email="ada@example.com")  # fmt: skip
    make_booking(session=session, status=BookingStatus.APPROVED, client_email="bo@example.com")
    desk = make_staff(businesses=(business,), permissions=WAITLIST_PERMISSIONS)
    entries = [
        waitlist.join(session, client_name=name, client_email=email, actor=desk)
        for name, email in [("Wanda Waits", "wanda@example.com"), ("Nick Next", "nick@x.org")]
    ]
    return ada, entries


def claim_link(to: str, live_server_url: str) -> str:
    """The claim link of the offer email the worker sent to `to` (on the live server)."""
    run_email_tasks()
    [offer] = [m for m in mail.outbox if to in m.to and "waitlist" in m.body]
    path = re.search(r"https?://[^/\s]+(/booking/waitlist/\S+)", offer.body).group(1)
    return f"{live_server_url}{path}"


def fits_the_screen(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.django_db(transaction=True)
def test_a_cancellation_in_a_full_class_is_offered_and_claimed_on_a_phone(
    live_server, browser, artifacts, anymail_backend
):
    ada, (wanda, nick) = full_class_with_a_queue()
    page = browser.new_page(viewport=PHONE)

    # Ada cancels on the public page: her spot is offered to Wanda in the same transaction.
    page.goto(f"{live_server.url}/booking/cancel/{ada.reference}/")
    page.get_by_label("Email address").first.fill("ada@example.com")
    page.get_by_role("button", name=f"Cancel booking {ada.reference}").click()
    expect(page.get_by_role("heading", name="Your booking is cancelled")).to_be_visible()
    page.screenshot(path=artifacts / "1-cancelled.png", full_page=True)
    assert WaitlistEntry.objects.get(pk=wanda.pk).status == WaitlistStatus.OFFERED

    # The worker sends the offer email; Wanda opens its link on her phone.
    page.goto(claim_link("wanda@example.com", live_server.url))
    expect(page.get_by_role("heading", name="A spot is free for you")).to_be_visible()
    expect(page.get_by_text("Sunrise Flow")).to_be_visible()
    expect(page.get_by_text("Held for you until")).to_be_visible()
    assert fits_the_screen(page)
    page.screenshot(path=artifacts / "2-offer.png", full_page=True)
    assert WaitlistEntry.objects.get(pk=wanda.pk).status == WaitlistStatus.OFFERED  # GET only

    page.get_by_role("button", name="Take the spot").click()
    expect(page.get_by_role("heading", name="You're booked")).to_be_visible()
    entry = WaitlistEntry.objects.select_related("booking").get(pk=wanda.pk)
    assert entry.status == WaitlistStatus.CLAIMED
    assert entry.booking.status == BookingStatus.APPROVED
    expect(page.locator("#confirmation").get_by_text(entry.booking.reference)).to_be_visible()
    assert fits_the_screen(page)
    page.screenshot(path=artifacts / "3-booked.png", full_page=True)

    # Back to the offer (or its email link opened again): it shows the booking, books nothing.
    page.go_back()
    expect(page.get_by_role("heading", name="You already have this spot")).to_be_visible()
    assert page.get_by_role("button", name="Take the spot").count() == 0
    page.screenshot(path=artifacts / "4-again.png", full_page=True)
    assert BookingRequest.objects.filter(client_email="wanda@example.com").count() == 1
    assert WaitlistEntry.objects.get(pk=nick.pk).status == WaitlistStatus.WAITING


@pytest.mark.django_db(transaction=True)
def test_an_offer_passed_on_from_a_phone_goes_to_the_next_client(
    live_server, browser, artifacts, anymail_backend
):
    _, (_, nick) = full_class_with_a_queue()
    bo = BookingRequest.objects.get(client_email="bo@example.com")
    cancel_booking_as_client(reference=bo.reference, proof=owner_proof(bo))
    page = browser.new_page(viewport=PHONE)
    page.goto(claim_link("wanda@example.com", live_server.url))
    page.get_by_role("button", name="Pass it on").click()
    expect(page.get_by_role("heading", name="You passed this spot on")).to_be_visible()
    assert fits_the_screen(page)
    page.screenshot(path=artifacts / "passed-on.png", full_page=True)
    assert WaitlistEntry.objects.get(pk=nick.pk).status == WaitlistStatus.OFFERED
