"""Restore is not silent, in a real browser: the confirmation offers "notify the client",
ticked, and the client gets "your place is back". Screenshots in tests/artifacts/<test>/."""

from __future__ import annotations

import pytest

from booking.emails.models import EmailKind, OutboxEmail
from booking.models import BookingRequest, BookingStatus
from tests.booking.outbox_support import rendered
from tests.browser.conftest import DESKTOP
from tests.browser.test_admin_bookings import PASSWORD, message, run_action, select
from tests.factories import make_booking, make_business, make_session, make_staff


@pytest.mark.django_db(transaction=True)
def test_restore_tells_the_client_their_place_is_back(live_server, browser, artifacts):
    business = make_business(slug="johnny-bravo-fitness-center", name="Johnny Bravo Fitness Center")
    make_staff(username="desk", businesses=(business,), password=PASSWORD)
    session = make_session(business=business, title="Morning Spin")
    ada = make_booking(session=session, status=BookingStatus.APPROVED, is_deleted=True)
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/booking/bookingrequest/%3Fdeleted%3Dyes")
    page.fill("input[name=username]", "desk")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**deleted=yes**")

    select(page, ada)
    run_action(page, "restore_bookings")
    notify = page.locator("input[name=notify_client]")
    assert notify.is_checked()
    page.screenshot(path=artifacts / "1-restore-confirmation.png", full_page=True)
    page.click("text=Yes, restore 1 booking")
    page.wait_for_selector("ul.messagelist")
    page.screenshot(path=artifacts / "2-restored.png")

    assert message(page) == "1 restored"
    assert not BookingRequest.all_objects.get(pk=ada.pk).is_deleted
    [email] = rendered(OutboxEmail.objects.filter(reference=ada.reference, kind=EmailKind.RESTORED))
    assert email.subject.startswith("Your place is back")
