"""A staff member cancels a whole session in the admin, in a real browser.

Screenshots of each step land in tests/artifacts/<test name>/.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from booking.emails.models import EmailKind, OutboxEmail
from booking.models import BookingRequest, BookingStatus, Session, SessionStatus
from tests.browser.conftest import DESKTOP
from tests.factories import (
    ALL_BOOKING_PERMISSIONS,
    make_booking,
    make_business,
    make_session,
    make_staff,
)

PASSWORD = "correct horse battery staple"
PERMISSIONS = [*ALL_BOOKING_PERMISSIONS, "view_session", "change_session", "cancel_session"]


@pytest.mark.django_db(transaction=True)
def test_cancel_a_session_and_read_the_summary(live_server, browser, artifacts):
    business = make_business(slug="johnny-bravo-fitness-center", name="Johnny Bravo Fitness Center")
    make_staff(username="desk", businesses=(business,), password=PASSWORD, permissions=PERMISSIONS)
    session = make_session(business=business, title="Morning Spin")
    make_session(business=business, title="Evening Yoga")
    for name in ["Ada Lovelace", "Grace Hopper", "Alan Turing"]:
        make_booking(session=session, client_name=name, client_email=f"{name.split()[0]}@x.test")
    page = browser.new_page(viewport=DESKTOP)

    page.goto(f"{live_server.url}/admin/login/?next=/admin/booking/session/")
    page.fill("input[name=username]", "desk")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/booking/session/")
    page.screenshot(path=artifacts / "01-sessions.png")
    # The whole table fits a laptop's screen: the Status column is not scrolled out of sight.
    results = page.locator("#changelist .results")
    assert results.evaluate("el => el.scrollWidth <= el.clientWidth")
    expect(page.locator("#result_list th.column-status_badge")).to_be_visible()

    row = page.locator("#result_list tr", has_text="Morning Spin")
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "cancel_sessions")
    page.click("button[name=index]")
    page.wait_for_selector("#booking-summary")
    summary = page.inner_text("#booking-summary")
    assert "1 session will be cancelled" in summary
    assert "3 active bookings (pending or approved) will be cancelled" in summary
    assert page.is_checked("input[name=notify_client]")
    page.fill("textarea[name=reason]", "Instructor ill")
    page.screenshot(path=artifacts / "02-confirmation.png", full_page=True)

    page.click("text=Yes, cancel 1 session (3 active bookings)")
    page.wait_for_selector("ul.messagelist")
    page.screenshot(path=artifacts / "03-done.png")

    assert page.locator("ul.messagelist li").first.inner_text() == (
        "1 session cancelled (3 bookings cancelled)"
    )
    assert "Cancelled" in page.locator("#result_list tr", has_text="Morning Spin").inner_text()
    assert Session.objects.get(pk=session.pk).status == SessionStatus.CANCELLED
    assert not BookingRequest.objects.filter(status=BookingStatus.PENDING, session=session).exists()
    assert OutboxEmail.objects.filter(kind=EmailKind.SESSION_CANCELLED).count() == 3


@pytest.mark.django_db(transaction=True)
def test_move_a_booking_choosing_the_target_in_the_autocomplete(live_server, browser, artifacts):
    from datetime import timedelta

    business = make_business(slug="johnny-bravo-fitness-center", name="Johnny Bravo Fitness Center")
    other = make_business(slug="other-studio", name="Other Studio")
    make_staff(username="desk", businesses=(business,), password=PASSWORD, permissions=PERMISSIONS)
    session = make_session(business=business, title="Morning Spin")
    target = make_session(business=business, title="Evening Spin", starts_in=timedelta(days=8))
    make_session(business=other, title="Their Spin")
    make_session(business=business, title="Past Spin", starts_in=timedelta(days=-2))
    booking = make_booking(session=session, client_name="Ada Lovelace")
    page = browser.new_page(viewport=DESKTOP)

    page.goto(f"{live_server.url}/admin/login/?next=/admin/booking/bookingrequest/")
    page.fill("input[name=username]", "desk")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/booking/bookingrequest/")
    page.locator("#result_list tr", has_text="Ada Lovelace").locator("input.action-select").check()
    page.select_option("select[name=action]", "move_bookings")
    page.click("button[name=index]")
    page.wait_for_selector("#booking-summary")

    page.click(".select2-selection")  # Django's autocomplete (select2)
    page.fill(".select2-search__field", "spin")
    page.wait_for_selector(".select2-results__option:has-text('Evening Spin')")
    offered = page.locator(".select2-results__option").all_inner_texts()
    page.screenshot(path=artifacts / "01-move-target-search.png", full_page=True)
    assert any("Evening Spin" in text for text in offered)
    assert any("Morning Spin" in text for text in offered)
    assert not any("Their Spin" in text or "Past Spin" in text for text in offered)
    page.click(".select2-results__option:has-text('Evening Spin')")
    page.fill("textarea[name=reason]", "Room change")
    page.click("input[type=submit].default")
    page.wait_for_selector("ul.messagelist")
    page.screenshot(path=artifacts / "02-moved.png")

    assert page.locator("ul.messagelist li").first.inner_text() == "1 moved"
    assert BookingRequest.objects.get(pk=booking.pk).session_id == target.pk
