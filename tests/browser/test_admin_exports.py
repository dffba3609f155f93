"""Support exports what they filtered to, in a real browser: the Export button and the action.

Screenshots of each step land in tests/artifacts/<test name>/.
"""

from __future__ import annotations

import csv
import io

import pytest

from booking.models import BookingStatus
from tests.browser.conftest import DESKTOP
from tests.factories import make_booking, make_business, make_session, make_staff

PASSWORD = "correct horse battery staple"


@pytest.fixture
def desk_bookings(transactional_db):
    business = make_business(slug="johnny-bravo-fitness-center", name="Johnny Bravo Fitness Center")
    other = make_business(slug="other-studio", name="Other Studio")
    make_staff(username="desk", businesses=(business,), password=PASSWORD)
    session = make_session(business=business, title="Morning Spin")
    mine = [
        make_booking(session=session, client_name=name, client_email=f"{name.split()[0]}@x.test")
        for name in ["Ada Lovelace", "Grace Hopper", "Alan Turing"]
    ]
    mine[2].status = BookingStatus.APPROVED
    mine[2].save()
    make_booking(session=make_session(business=other), client_name="Not Yours")
    return mine


def log_in(page, live_server):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/booking/bookingrequest/")
    page.fill("input[name=username]", "desk")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/booking/bookingrequest/")


def download_csv(page, artifacts, name):
    page.select_option("select[name=format]", label="CSV")
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)
    with page.expect_download() as download:
        page.click("input[type=submit][value=Submit]")
    text = download.value.path().read_text(encoding="utf-8-sig")
    return sorted(row["Client name"] for row in csv.DictReader(io.StringIO(text)))


@pytest.mark.django_db(transaction=True)
def test_export_button_downloads_what_the_list_is_filtered_to(
    live_server, browser, artifacts, desk_bookings
):
    page = browser.new_page(viewport=DESKTOP)
    log_in(page, live_server)
    page.click("#changelist-filter >> text=Pending")
    page.wait_for_url("**status__exact=pending**")
    page.screenshot(path=artifacts / "01-filtered.png")

    page.click("#booking-export-link")
    page.wait_for_url("**/bookingrequest/export/?status__exact=pending")
    assert download_csv(page, artifacts, "02-export-form") == ["Ada Lovelace", "Grace Hopper"]


@pytest.mark.django_db(transaction=True)
def test_export_action_downloads_the_selected_bookings(
    live_server, browser, artifacts, desk_bookings
):
    ada, _grace, alan = desk_bookings
    page = browser.new_page(viewport=DESKTOP)
    log_in(page, live_server)
    for booking in (ada, alan):
        page.locator("#result_list tr", has_text=booking.reference).locator(
            "input.action-select"
        ).check()
    page.select_option("select[name=action]", "export_admin_action")
    page.click("button[name=index]")
    page.wait_for_selector("text=Export 2 selected items.")
    assert download_csv(page, artifacts, "01-export-form") == ["Ada Lovelace", "Alan Turing"]

    page.goto(f"{live_server.url}/admin/booking/bookingrequest/")
    page.click("#booking-my-exports-link")
    page.wait_for_selector("h2:text('My exports')")
    page.screenshot(path=artifacts / "02-my-exports.png")
