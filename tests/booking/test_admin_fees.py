"""Fees in the admin: tiers edited inline in the policy; snapshots of admin-made bookings."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from booking.models import BookingRequest, CancellationFeeRule
from tests.factories import make_session, make_staff

pytestmark = pytest.mark.django_db

POLICY_EDITOR = ["view_bookingsettings", "change_bookingsettings"]


def settings_url(business) -> str:
    return reverse("admin:booking_bookingsettings_change", args=[business.booking_settings.pk])


def form_data(response) -> dict:
    """What the change page's form would post unchanged: its fields and the tiers' formset."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is True:
            data[name] = "on"
        elif value is not None and value is not False:
            data[name] = value
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management.initial.get(name, 0)
    return data


def add_tiers(data: dict, tiers: list[tuple[int, str, str]]) -> dict:
    prefix = "fee_rules"
    for n, (hours, percent, fixed) in enumerate(tiers):
        data[f"{prefix}-{n}-hours_before"] = hours
        data[f"{prefix}-{n}-percent"] = percent
        data[f"{prefix}-{n}-fixed_fee"] = fixed
    data[f"{prefix}-TOTAL_FORMS"] = len(tiers)
    return data


def test_fee_tiers_are_edited_inline_in_the_policy_and_audited(client, business):
    editor = make_staff(businesses=(business,), permissions=POLICY_EDITOR)
    client.force_login(editor)
    page = client.get(settings_url(business))
    assert "late-cancellation fee tiers" in page.content.decode().lower()

    data = add_tiers(form_data(page), [(48, "50", "0"), (24, "100", "5.00")])
    response = client.post(settings_url(business), data)

    assert response.status_code == 302, (
        response.context["adminform"].form.errors if response.context else ""
    )
    tiers = business.booking_settings.fee_rules.order_by("-hours_before")
    assert [(t.hours_before, t.percent, t.fixed_fee) for t in tiers] == [
        (48, Decimal(50), Decimal(0)),
        (24, Decimal(100), Decimal(5)),
    ]
    record = CancellationFeeRule.history.filter(hours_before=48).get()
    assert record.history_user == editor


@pytest.mark.parametrize(
    ("tier", "field"),
    [
        ((0, "50", "0"), "hours_before"),
        ((24, "101", "0"), "percent"),
        ((24, "5", "-1"), "fixed_fee"),
    ],
)
def test_a_tier_out_of_range_is_a_form_error(client, business, tier, field):
    client.force_login(make_staff(businesses=(business,), permissions=POLICY_EDITOR))
    data = add_tiers(form_data(client.get(settings_url(business))), [tier])

    response = client.post(settings_url(business), data)

    assert response.status_code == 200
    assert field in response.context["inline_admin_formsets"][0].formset.errors[0]
    assert not CancellationFeeRule.objects.exists()


def test_two_tiers_with_the_same_hours_are_refused(client, business):
    client.force_login(make_staff(businesses=(business,), permissions=POLICY_EDITOR))
    data = add_tiers(
        form_data(client.get(settings_url(business))), [(24, "50", "0"), (24, "100", "0")]
    )

    response = client.post(settings_url(business), data)

    assert response.status_code == 200
    assert not CancellationFeeRule.objects.exists()


def test_staff_who_may_only_view_the_policy_cannot_edit_tiers(client, business):
    client.force_login(make_staff(businesses=(business,), permissions=["view_bookingsettings"]))

    page = client.get(settings_url(business))

    formset = page.context["inline_admin_formsets"][0]
    assert not formset.has_add_permission and not formset.has_change_permission


def test_a_booking_added_in_the_admin_records_the_terms(client, business):
    business.booking_settings.fee_rules.create(hours_before=24, percent=Decimal(100))
    session = make_session(business=business, price="30.00")
    client.force_login(
        make_staff(businesses=(business,), permissions=["add_bookingrequest", "view_session"])
    )

    client.post(
        reverse("admin:booking_bookingrequest_add"),
        {"session": session.pk, "client_name": "Walk In", "client_email": "walk@example.com"},
    )

    booking = BookingRequest.objects.get(client_name="Walk In")
    assert booking.policy_snapshot["price"] == "30.00"
    assert booking.policy_snapshot["fee_rules"] == [
        {"hours_before": 24, "percent": "100.00", "fixed_fee": "0.00"}
    ]
