"""The action table: every declared action reaches the admin, the API, OpenAPI and the permissions.

These tests iterate `booking.services.actions.ACTIONS`, so an action added to the
table is checked everywhere without a line here; and the pinned names below
fail loudly when an action the contract names goes missing.
"""

from __future__ import annotations

import inspect
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin import site
from django.test import RequestFactory

from booking.admin.history import timeline
from booking.api.contract import staff as params
from booking.api.openapi import openapi_document
from booking.models import BookingRequest, BookingStatus, FeeStatus
from booking.services import ACTIONS
from booking.services import exceptions as exc
from booking.services.actions import CONFIRMED, api_actions
from tests.booking.admin_helpers import CHANGELIST, choose
from tests.factories import make_booking, make_session, make_staff

pytestmark = pytest.mark.django_db

# The contract's names: the admin's POST `action` values, the API's, and the permissions.
PINNED = {
    "approve": ("approve_bookings", "booking.change_bookingrequest"),
    "reject": ("reject_bookings", "booking.change_bookingrequest"),
    "cancel": ("cancel_bookings", "booking.cancel_bookingrequest"),
    "soft_delete": ("soft_delete_bookings", "booking.soft_delete_bookingrequest"),
    "restore": ("restore_bookings", "booking.restore_bookingrequest"),
    "purge": ("purge_bookings", "booking.purge_bookingrequest"),
    "mark_attended": ("mark_attended", "booking.change_bookingrequest"),
    "mark_no_show": ("mark_no_show", "booking.change_bookingrequest"),
    "waive_fee": ("waive_fees", "booking.waive_fee_bookingrequest"),
}
ALL_ACTIONS = list(ACTIONS.values())


def candidates(session):
    """Bookings one action or another changes: pending, soft-deleted, approved in a
    session that has started, and cancelled owing a fee."""
    yield make_booking(session=session)
    yield make_booking(session=session, is_deleted=True)
    started = make_session(business=session.business, starts_in=-timedelta(hours=1))
    yield make_booking(session=started, status=BookingStatus.APPROVED)
    yield make_booking(
        session=session, status=BookingStatus.CANCELLED,
        fee_amount=Decimal("5.00"), fee_status=FeeStatus.OWED,
    )  # fmt: skip


def ready_for(action, session):
    """The first candidate booking the action changes."""
    for booking in candidates(session):
        if action.check(booking, "tidy") is None:
            return booking
    raise AssertionError(f"no test booking that {action.name} changes")


def option_values(action, booking):
    """The options the run needs beyond the defaults: a target for a session option."""
    values = {CONFIRMED.name: True}
    for option in action.options:
        if option.kind == "session":
            values[option.name] = make_session(business=booking.session.business).pk
    return values


def run(action, booking, actor):
    return action.run(booking, actor=actor, reason="tidy", options=option_values(action, booking))


def test_the_contract_s_actions_are_declared_with_their_pinned_names():
    declared = {a.name: (a.admin_name, a.permission) for a in ALL_ACTIONS}
    assert {name: declared.get(name) for name in PINNED} == PINNED


@pytest.mark.parametrize("action", ALL_ACTIONS, ids=lambda a: a.name)
def test_declared_options_are_keywords_of_the_service(action):
    keywords = inspect.signature(action.service).parameters
    for name in ("actor", "reason", "context", *(option.name for option in action.options)):
        assert keywords[name].kind is inspect.Parameter.KEYWORD_ONLY


@pytest.mark.parametrize("action", ALL_ACTIONS, ids=lambda a: a.name)
def test_the_service_refuses_staff_without_the_declared_permission(session, action):
    others = {a.permission.split(".")[1] for a in ALL_ACTIONS} - {action.permission.split(".")[1]}
    without = make_staff(businesses=(session.business,), permissions=sorted(others))
    holder = make_staff(
        businesses=(session.business,), permissions=[action.permission.split(".")[1]]
    )
    booking = ready_for(action, session)

    with pytest.raises(exc.NotPermitted):
        run(action, booking, without)
    run(action, booking, holder).raise_for_single()


@pytest.mark.parametrize("action", ALL_ACTIONS, ids=lambda a: a.name)
def test_the_admin_offers_the_action_only_with_its_permission(session, action):
    codename = action.permission.split(".")[1]
    others = {a.permission.split(".")[1] for a in ALL_ACTIONS} - {codename}
    request = RequestFactory().get("/admin/booking/bookingrequest/")
    model_admin = site.get_model_admin(BookingRequest)

    request.user = make_staff(
        username="holder",
        businesses=(session.business,),
        permissions=["view_bookingrequest", codename],
    )
    assert action.admin_name in model_admin.get_actions(request)
    request.user = make_staff(
        username="without",
        businesses=(session.business,),
        permissions=["view_bookingrequest", *others],
    )
    assert action.admin_name not in model_admin.get_actions(request)


@pytest.mark.parametrize("action", ALL_ACTIONS, ids=lambda a: a.name)
def test_the_admin_action_shows_the_declared_confirmation_page(client, staff, session, action):
    client.force_login(staff)
    booking = ready_for(action, session)

    response = choose(client, action.admin_name, [booking], url=f"{CHANGELIST}?deleted=all")

    assert response.status_code == 200
    assert response.context["title"] == action.title
    assert response.context["summary"] == [(1, action.will)]
    form = response.context["form"]
    emailed = response.context["outcomes"][0].emails
    offered = {o.name for o in action.asked_options if emailed or not o.only_with_email}
    assert offered <= set(form.fields)
    assert ("confirmation" in form.fields) is bool(action.typed_confirmation)


def test_the_api_reaches_every_action_by_one_method():
    patchable = [a.name for a in api_actions("PATCH")]
    deletable = [a.name for a in api_actions("DELETE")]

    assert sorted(patchable + deletable) == sorted(ACTIONS)
    assert tuple(patchable) == params.PATCH_ACTIONS
    assert [params.DELETE_ACTION.name] == deletable


def test_openapi_lists_the_patch_actions_and_their_options():
    schemas = openapi_document()["components"]["schemas"]
    request = schemas["ActionRequest"]["properties"]

    assert request["action"]["enum"] == list(params.PATCH_ACTIONS)
    for option in params.PATCH_OPTIONS:
        assert request[option.name]["type"] == (
            "integer" if option.kind == "session" else "boolean"
        )
    for option in params.DELETE_OPTIONS:
        assert schemas["PurgeRequest"]["properties"][option.name]["type"] == "boolean"


@pytest.mark.parametrize("action", ALL_ACTIONS, ids=lambda a: a.name)
def test_the_timeline_names_what_each_action_did(session, staff, action):
    booking = ready_for(action, session)

    run(action, booking, staff).raise_for_single()

    assert timeline(booking)[0].what != "Changed"


def test_an_action_needing_confirmation_cannot_be_on_patch():
    with pytest.raises(ValueError, match="confirmation"):
        type(ALL_ACTIONS[0])(**{**vars(ACTIONS["purge"]), "api_method": "PATCH"})


def test_run_passes_only_the_declared_options(session, staff):
    booking = make_booking(session=session)

    result = ACTIONS["approve"].run(
        booking, actor=staff, options={"notify_client": False, CONFIRMED.name: True}
    )

    assert result.raise_for_single().status == "approved"
