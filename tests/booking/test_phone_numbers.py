"""Phone numbers in any format (libphonenumber): stored E.164, identity, search, API, erasure."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps as global_apps
from django.core.management import call_command
from django.test import override_settings

from booking import services
from booking.models import BookingRequest, Business
from booking.services import details
from booking.services.erasure import erase_client_data
from tests.booking.admin_helpers import CHANGELIST
from tests.factories import make_booking, make_business, make_session, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def us_studio(staff):
    return make_business(slug="ny-studio", country="US", staff=(staff,))


@pytest.fixture
def uk_studio(staff):
    return make_business(slug="london-studio", country="GB", staff=(staff,))


def test_a_new_business_takes_the_default_country():
    assert Business.objects.create(name="A", slug="a").country == "US"
    with override_settings(DEFAULT_COUNTRY="DE"):
        assert Business.objects.create(name="B", slug="b").country == "DE"


def test_the_e164_form_is_stored_on_creation_and_on_edits(us_studio, uk_studio, staff):
    booking = make_booking(session=make_session(business=us_studio), client_phone="555 010 2000")
    assert booking.client_phone_e164 == "+15550102000"

    details.update_booking_details(
        booking.pk, actor=staff, changes={"client_phone": "07700 993176"}
    )
    booking.refresh_from_db()
    assert booking.client_phone_e164 == ""  # not a possible US number

    details.update_booking_details(
        booking.pk, actor=staff, changes={"session": make_session(business=uk_studio)}
    )
    booking.refresh_from_db()
    assert booking.client_phone_e164 == "+447700993176"  # now read as British


def test_changing_a_business_country_rereads_its_numbers(us_studio):
    booking = make_booking(session=make_session(business=us_studio), client_phone="07700 993176")
    assert booking.client_phone_e164 == ""
    us_studio.country = "GB"
    us_studio.save()
    booking.refresh_from_db()
    assert booking.client_phone_e164 == "+447700993176"


def test_a_client_typing_another_format_is_recognised(client, us_studio):
    booking = make_booking(
        session=make_session(business=us_studio), client_phone="+1 (555) 010-2000"
    )
    response = client.post(
        f"/api/booking/client/{booking.reference}/cancel/",
        {"client_phone": "1 555 010 2000", "reason": "ill"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    booking.refresh_from_db()
    assert booking.status == "cancelled"


@pytest.mark.parametrize(
    "typed",
    ["+44 7700 993176", "07700 993176", "07700-993-176", "447700993176", "0044 7700 993176"],
)
def test_admin_search_finds_a_number_in_any_format(client, staff, uk_studio, us_studio, typed):
    wanted = make_booking(session=make_session(business=uk_studio), client_phone="+44 7700 993176")
    make_booking(session=make_session(business=us_studio), client_phone="+1 555 010 2000")
    client.force_login(staff)
    response = client.get(CHANGELIST, {"q": typed})
    assert {b.reference for b in response.context["cl"].result_list} == {wanted.reference}


def test_admin_search_reads_a_national_number_with_each_visible_country(client, uk_studio):
    """A US business the user cannot see does not make "555 010 2000" a US number for them."""
    hidden = make_booking(
        session=make_session(business=make_business(country="US")), client_phone="555 010 2000"
    )
    desk = make_staff(businesses=(uk_studio,))
    client.force_login(desk)
    response = client.get(CHANGELIST, {"q": "555 010 2000"})
    assert hidden not in response.context["cl"].result_list
    assert list(response.context["cl"].result_list) == []


def test_the_staff_api_filters_by_phone_in_any_format(client, staff, uk_studio, business):
    wanted = make_booking(session=make_session(business=uk_studio), client_phone="+44 7700 993176")
    make_booking(session=make_session(business=uk_studio), client_phone="+44 7700 900000")
    client.force_login(staff)
    for typed in ("07700 993176", "+44 (0)7700-993176"):
        body = client.get("/api/booking/manage/", {"phone": typed}).json()
        assert [b["reference"] for b in body["bookings"]] == [wanted.reference]
        assert body["filters"]["phone"] == typed
    bad = client.get("/api/booking/manage/", {"phone": "12"})
    assert bad.status_code == 400
    assert "phone" in bad.json()["error"]


def test_erase_by_phone_accepts_any_format_and_blanks_the_e164_form(uk_studio, superuser):
    booking = make_booking(session=make_session(business=uk_studio), client_phone="+44 7700 993176")
    other = make_booking(session=make_session(business=uk_studio), client_phone="+44 7700 900000")

    call_command("bookings", "erase", "--phone", "07700 993176")

    booking.refresh_from_db()
    other.refresh_from_db()
    assert (booking.client_phone, booking.client_phone_e164) == ("", "")
    assert other.client_phone_e164 == "+447700900000"
    assert not BookingRequest.history.filter(id=booking.pk).exclude(client_phone_e164="").exists()
    assert erase_client_data(phone="07700 993176", actor=None, dry_run=True).booking_ids == []


def test_the_data_migration_fills_existing_rows(uk_studio, us_studio):
    uk = make_booking(session=make_session(business=uk_studio), client_phone="07700 993176")
    us = make_booking(session=make_session(business=us_studio), client_phone="(555) 010-2000")
    none = make_booking(session=make_session(business=us_studio), client_phone="")
    BookingRequest.all_objects.update(client_phone_e164="")
    BookingRequest.history.update(client_phone_e164="")
    migration = import_module("booking.migrations.0012_phone_numbers")

    migration.fill_e164(global_apps, None)

    forms = dict(BookingRequest.all_objects.values_list("pk", "client_phone_e164"))
    assert forms == {uk.pk: "+447700993176", us.pk: "+15550102000", none.pk: ""}
    record = BookingRequest.history.filter(id=uk.pk).latest("history_id")
    assert record.client_phone_e164 == "+447700993176"


def test_soft_deleted_booking_keeps_its_e164_form(uk_studio, staff):
    booking = make_booking(session=make_session(business=uk_studio), client_phone="07700 993176")
    services.soft_delete_bookings(booking, actor=staff, reason="dup")
    booking.refresh_from_db()
    assert booking.client_phone_e164 == "+447700993176"
