"""A staff member's day in the admin, in a real browser: cancel, delete, restore, purge.

Screenshots of each step land in tests/artifacts/<test name>/.
"""

from __future__ import annotations

import pytest

from booking.models import BookingRequest, BookingStatus
from tests.browser.conftest import DESKTOP, PHONE
from tests.factories import make_booking, make_business, make_session, make_staff

PASSWORD = "correct horse battery staple"


@pytest.fixture
def desk_bookings(transactional_db):
    business = make_business(slug="johnny-bravo-fitness-center", name="Johnny Bravo Fitness Center")
    make_staff(username="desk", businesses=(business,), password=PASSWORD)
    session = make_session(business=business, title="Morning Spin")
    people = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Hedy Lamarr"]
    return [
        make_booking(session=session, client_name=name, client_email=f"{name.split()[0]}@x.test")
        for name in people
    ]


def log_in(page, live_server, artifacts):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/booking/bookingrequest/")
    page.fill("input[name=username]", "desk")
    page.fill("input[name=password]", PASSWORD)
    page.screenshot(path=artifacts / "01-login.png")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/booking/bookingrequest/")


def select(page, *bookings):
    for booking in bookings:
        row = page.locator("#result_list tr", has_text=booking.reference)
        row.locator("input.action-select").check()


def run_action(page, action):
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    page.wait_for_selector("#booking-summary")


def message(page) -> str:
    return page.locator("ul.messagelist li").first.inner_text()


@pytest.mark.django_db(transaction=True)
def test_cancel_several_bookings_with_a_reason(live_server, browser, artifacts, desk_bookings):
    ada, grace, _alan, hedy = desk_bookings
    BookingRequest.objects.filter(pk=hedy.pk).update(status=BookingStatus.APPROVED)
    page = browser.new_page(viewport=DESKTOP)
    log_in(page, live_server, artifacts)

    page.click("#changelist-filter >> text=Pending")
    page.wait_for_url("**status__exact=pending**")
    assert page.locator("#result_list tbody tr").count() == 3
    page.screenshot(path=artifacts / "02-filtered.png")

    select(page, ada, grace)
    run_action(page, "cancel_bookings")
    assert page.locator("#result_list tbody tr").count() == 2
    assert "will be cancelled" in page.inner_text("#booking-summary")
    page.fill("textarea[name=reason]", "Instructor ill")
    page.screenshot(path=artifacts / "03-confirmation.png", full_page=True)

    page.click("text=Yes, cancel 2 bookings")
    page.wait_for_selector("ul.messagelist")
    page.screenshot(path=artifacts / "04-done.png")

    assert message(page) == "2 cancelled"
    cancelled = BookingRequest.objects.filter(status=BookingStatus.CANCELLED)
    assert {b.reference for b in cancelled} == {ada.reference, grace.reference}
    assert {b.cancellation_reason for b in cancelled} == {"Instructor ill"}


@pytest.mark.django_db(transaction=True)
def test_soft_delete_then_restore_through_the_deleted_filter(
    live_server, browser, artifacts, desk_bookings
):
    ada, grace, *_ = desk_bookings
    page = browser.new_page(viewport=DESKTOP)
    log_in(page, live_server, artifacts)

    select(page, ada, grace)
    run_action(page, "soft_delete_bookings")
    page.click("text=Yes, delete 2 bookings")  # without the reason the business requires
    assert "This field is required." in page.inner_text(".booking-confirm")
    page.screenshot(path=artifacts / "02-reason-required.png", full_page=True)
    page.fill("textarea[name=reason]", "Duplicate entries")
    page.uncheck("input[name=notify_client]")
    page.click("text=Yes, delete 2 bookings")
    page.wait_for_selector("ul.messagelist")
    assert message(page) == "2 soft-deleted"
    assert ada.reference not in page.inner_text("#result_list")
    page.screenshot(path=artifacts / "03-deleted.png")

    page.click("#changelist-filter >> text=Deleted")
    page.wait_for_url("**deleted=yes**")
    page.screenshot(path=artifacts / "04-deleted-filter.png")
    select(page, ada)
    run_action(page, "restore_bookings")
    page.click("text=Yes, restore 1 booking")
    page.wait_for_selector("ul.messagelist")
    page.screenshot(path=artifacts / "05-restored.png")

    assert message(page) == "1 restored"
    assert not BookingRequest.all_objects.get(pk=ada.pk).is_deleted
    assert BookingRequest.all_objects.get(pk=grace.pk).is_deleted


@pytest.mark.django_db(transaction=True)
def test_purge_needs_the_typed_confirmation_on_a_phone(
    live_server, browser, artifacts, desk_bookings
):
    ada, *_ = desk_bookings
    page = browser.new_page(viewport=PHONE)
    log_in(page, live_server, artifacts)

    page.goto(f"{live_server.url}/admin/booking/bookingrequest/{ada.pk}/change/")
    page.select_option("select[name='CHANGE_FORM-action']", "purge_bookings")
    page.click("button[name=index]")
    page.wait_for_selector("#booking-summary")
    page.fill("textarea[name=reason]", "Client asked for erasure")
    page.fill("input[name=confirmation]", "purge")
    page.click("text=Yes, purge 1 booking")
    assert "Type PURGE exactly" in page.inner_text(".booking-confirm")
    assert BookingRequest.all_objects.filter(pk=ada.pk).exists()
    page.screenshot(path=artifacts / "02-wrong-word.png", full_page=True)

    page.fill("input[name=confirmation]", "PURGE")
    page.click("text=Yes, purge 1 booking")
    page.wait_for_url("**/admin/booking/bookingrequest/")
    page.screenshot(path=artifacts / "03-purged.png", full_page=True)

    assert message(page) == "1 purged"
    assert not BookingRequest.all_objects.filter(pk=ada.pk).exists()
