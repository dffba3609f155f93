"""A front-desk day at a laptop's width (1366 px): one time zone, the actions that apply,
a change list that fits. Screenshots of each step land in tests/artifacts/<test name>/.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from booking.models import BookingRequest, BookingStatus
from tests.factories import make_booking, make_business, make_session, make_staff

PASSWORD = "correct horse battery staple"
LAPTOP = {"width": 1366, "height": 768}
CHROME = "Chrome/"


@pytest.fixture
def studio(transactional_db):
    """A Berlin studio whose desk sees only it: a week of classes, a few long contact details."""
    business = make_business(
        slug="berlin-studio", name="Kreuzberg Yoga & Pilates Studio", timezone_name="Europe/Berlin"
    )
    make_staff(username="desk", businesses=(business,), password=PASSWORD)
    now = timezone.now()
    sessions = [
        make_session(business=business, title=title, starts_in=delta)
        for title, delta in [
            ("Sunrise Vinyasa Flow (advanced, bring your own mat)", timedelta(days=-2)),
            ("Lunchtime Pilates Reformer", timedelta(days=1, hours=3)),
            ("Evening Yin Yoga", timedelta(days=4)),
            ("Weekend Workshop: Handstands", timedelta(days=12)),
        ]
    ]
    bookings = []
    for index, session in enumerate(sessions):
        for n in range(3):
            bookings.append(
                make_booking(
                    session=session,
                    client_name=f"Maximiliane Oberhauser-Lindqvist {index}{n}",
                    client_email=f"maximiliane.oberhauser-lindqvist.{index}{n}@example-mail.test",
                    client_phone="+49 30 901820 4455",
                )
            )
    late = bookings[3]
    BookingRequest.objects.filter(pk=late.pk).update(
        status=BookingStatus.CANCELLED,
        cancelled_by_client=True,
        cancelled_at=now - timedelta(hours=3),
        cancellation_reason="Sick child at home",
    )
    return business, sessions, bookings


def log_in(page, live_server, artifacts):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "desk")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    page.screenshot(path=artifacts / "01-home.png", full_page=True)
    # The home page's client cancellations: each reference on one line, not cut up.
    references = page.locator("#client-cancellations tbody th a")
    assert references.count() >= 1
    assert references.evaluate_all("els => els.every(e => e.getClientRects().length === 1)")
    notice = page.locator("#client-cancellations")
    assert notice.evaluate("e => e.querySelector('table').offsetWidth <= e.offsetWidth")


def fits_the_width(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth"
        " && [...document.querySelectorAll('#changelist .results')]"
        ".every(e => e.scrollWidth <= e.clientWidth)"
    )


def offered(page) -> list[str]:
    return page.eval_on_selector_all(
        "select[name='CHANGE_FORM-action'] option", "els => els.map(e => e.value).filter(Boolean)"
    )


@pytest.mark.django_db(transaction=True)
def test_the_change_list_fits_a_laptop_and_filters_the_next_7_days(
    live_server, browser, artifacts, studio
):
    business, sessions, _bookings = studio
    page = browser.new_page(viewport=LAPTOP)
    log_in(page, live_server, artifacts)

    page.goto(f"{live_server.url}/admin/booking/bookingrequest/")
    page.screenshot(path=artifacts / "02-change-list.png", full_page=True)
    assert fits_the_width(page)
    headers = page.inner_text("#result_list thead")
    assert "Business" not in headers  # one business: no column repeating it
    assert business.name not in page.inner_text("#result_list")
    # By session time: the past class first, the workshop in 12 days last.
    rows = page.locator("#result_list tbody tr")
    first, last = rows.first, rows.last
    assert sessions[0].title[:20] in first.inner_text()
    assert sessions[3].title in last.inner_text()
    # Labelled local times: Berlin is CET or CEST.
    assert any(label in first.inner_text() for label in ("CET", "CEST"))

    page.click("#changelist-filter >> text=Next 7 days")
    page.wait_for_url("**when=next7**")
    page.screenshot(path=artifacts / "03-next-7-days.png", full_page=True)
    rows = page.inner_text("#result_list tbody")
    assert sessions[1].title in rows and sessions[2].title in rows
    assert sessions[0].title[:20] not in rows and sessions[3].title not in rows
    assert fits_the_width(page)


@pytest.mark.django_db(transaction=True)
def test_a_booking_offers_what_applies_in_the_business_zone(
    live_server, browser, artifacts, studio
):
    _business, _sessions, bookings = studio
    booking = bookings[4]
    page = browser.new_page(viewport=LAPTOP)
    log_in(page, live_server, artifacts)
    change = f"{live_server.url}/admin/booking/bookingrequest/{booking.pk}/change/"

    page.goto(change)
    assert "restore_bookings" not in offered(page)
    assert {"approve_bookings", "cancel_bookings", "soft_delete_bookings"} <= set(offered(page))
    created = page.inner_text(".field-created_at .readonly")
    assert created.endswith(("CET", "CEST")), created
    # The session: an autocomplete of title and local time, read whole on the page.
    chosen = page.locator(".field-session .select2-selection__rendered")
    assert chosen.evaluate("e => e.scrollWidth <= e.clientWidth"), chosen.inner_text()
    page.click(".field-session .select2-selection")
    page.fill(".select2-search__field", "Yin")
    option = page.locator(".select2-results__option", has_text="Evening Yin Yoga")
    option.wait_for()
    assert option.inner_text().endswith(("CET)", "CEST)"))
    page.screenshot(path=artifacts / "02-session-autocomplete.png", full_page=True)
    page.keyboard.press("Escape")

    page.select_option("select[name='CHANGE_FORM-action']", "soft_delete_bookings")
    page.click("button[name=index]")
    page.wait_for_selector("#booking-summary")
    page.fill("textarea[name=reason]", "Booked twice")
    page.click("text=Yes, delete 1 booking")
    page.wait_for_selector("ul.messagelist")

    page.goto(change)
    page.screenshot(path=artifacts / "03-deleted-booking.png", full_page=True)
    assert offered(page) == ["restore_bookings", "purge_bookings"]
    banner = page.inner_text("#booking-deleted-banner")
    assert "CET" in banner or "CEST" in banner
    timeline = page.inner_text("#booking-timeline")
    assert "Deleted" in timeline and ("CET" in timeline or "CEST" in timeline)

    page.click("text=Full history")
    page.wait_for_selector("#change-history")
    page.screenshot(path=artifacts / "04-history.png", full_page=True)
    history = page.inner_text("#change-history")
    assert "Deleted" in history and "Changed" not in history
    agent = page.locator(".booking-user-agent").first
    assert agent.inner_text().startswith("HeadlessChrome")
    assert CHROME in agent.get_attribute("title")

    page.goto(change)
    page.select_option("select[name='CHANGE_FORM-action']", "purge_bookings")
    page.click("button[name=index]")
    page.wait_for_selector("#booking-summary")
    page.fill("textarea[name=reason]", "Client asked for erasure")
    page.fill("input[name=confirmation]", "PURGE")
    page.click("text=Yes, purge 1 booking")
    page.wait_for_selector("ul.messagelist")
    page.goto(f"{live_server.url}/admin/booking/bookingrequest/{booking.pk}/history/")
    page.screenshot(path=artifacts / "05-purged-history.png", full_page=True)
    assert "(purged)" in page.inner_text(".breadcrumbs")
    assert "Purged" in page.inner_text("#change-history")
    page.locator(".breadcrumbs a").nth(2).click()  # Home > Bookings > Bookings > (purged)
    page.wait_for_selector("#result_list")


@pytest.mark.django_db(transaction=True)
def test_the_report_keeps_a_long_reason_within_the_page(live_server, browser, artifacts, studio):
    _business, _sessions, bookings = studio
    BookingRequest.objects.filter(pk=bookings[3].pk).update(cancellation_reason="x" * 1000)
    page = browser.new_page(viewport=LAPTOP)
    log_in(page, live_server, artifacts)

    page.goto(f"{live_server.url}/admin/booking/report/cancellations/")
    page.wait_for_selector("#report-table")
    page.screenshot(path=artifacts / "02-report.png", full_page=True)

    assert page.evaluate("() => document.documentElement.scrollWidth") <= LAPTOP["width"]
    legend = page.locator("svg.cancellation-chart").first.text_content()
    assert "Late cancellations (dark cap)" in legend
    week = page.inner_text("#report-table tbody td.week")
    assert week.split()[0] in legend  # "2026-W49" on the axis and in the table
