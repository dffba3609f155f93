"""The admin's "Move bookings" action: a select of eligible target sessions, then the move."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking.models import BookingRequest, SessionStatus
from tests.booking.admin_helpers import choose, confirm, messages_of
from tests.factories import make_booking, make_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, staff):
    client.force_login(staff)
    return client


def test_the_page_offers_only_eligible_sessions_of_the_user_s_businesses(
    desk, session, business, other_business
):
    later = make_session(business=business, title="Later", starts_in=timedelta(days=3))
    past = make_session(business=business, title="Past", starts_in=timedelta(days=-3))
    off = make_session(business=business, title="Off")
    off.status = SessionStatus.CANCELLED
    off.save()
    theirs = make_session(business=other_business, title="Theirs")
    booking = make_booking(session=session)

    response = choose(desk, "move_bookings", [booking])

    assert response.status_code == 200
    offered = set(response.context["form"].fields["session"].queryset)
    assert later in offered and session in offered
    assert not offered & {past, off, theirs}
    assert response.context["summary"] == [(1, "will be moved (if the session has room)")]


def test_confirming_moves_the_booking(desk, session, business):
    later = make_session(business=business, title="Later", starts_in=timedelta(days=3))
    booking = make_booking(session=session)

    response = confirm(desk, "move_bookings", [booking], reason="Room", session=str(later.pk))

    assert response.status_code == 302 and messages_of(response) == ["1 moved"]
    assert BookingRequest.objects.get(pk=booking.pk).session_id == later.pk


def test_a_forged_target_of_another_business_is_a_form_error(desk, session, other_business):
    theirs = make_session(business=other_business)
    booking = make_booking(session=session)

    response = confirm(desk, "move_bookings", [booking], session=str(theirs.pk))

    assert response.status_code == 200 and response.context["form"].errors["session"]
    assert BookingRequest.objects.get(pk=booking.pk).session_id == session.pk


@pytest.mark.parametrize("problem", ["past", "cancelled"])
def test_a_forged_past_or_cancelled_target_is_a_form_error(desk, session, business, problem):
    if problem == "past":
        target = make_session(business=business, starts_in=timedelta(days=-1))
    else:
        target = make_session(business=business)
        target.status = SessionStatus.CANCELLED
        target.save()
    booking = make_booking(session=session)

    response = confirm(desk, "move_bookings", [booking], session=str(target.pk))

    assert response.status_code == 200 and response.context["form"].errors["session"]
    assert BookingRequest.objects.get(pk=booking.pk).session_id == session.pk


# ---------------------------------------------------------------- the target's autocomplete

TARGETS_URL = "/admin/booking/session/move-targets/"
SOURCE = {"app_label": "booking", "model_name": "bookingrequest", "field_name": "session"}


def targets(client, term=""):
    return client.get(TARGETS_URL, {"term": term, **SOURCE})


def test_the_target_field_is_django_s_autocomplete_asking_the_move_targets_view(desk, session):
    booking = make_booking(session=session)

    page = choose(desk, "move_bookings", [booking]).content.decode()

    assert 'class="admin-autocomplete' in page
    assert f'data-ajax--url="{TARGETS_URL}"' in page
    assert "admin/js/autocomplete.js" in page


def test_autocomplete_offers_only_scheduled_future_sessions_of_the_user_s_businesses(
    desk, session, business, other_business
):
    later = make_session(business=business, title="Later spin", starts_in=timedelta(days=3))
    yoga = make_session(business=business, title="Yoga", starts_in=timedelta(days=4))
    make_session(business=business, title="Past spin", starts_in=timedelta(days=-3))
    off = make_session(business=business, title="Cancelled spin")
    off.status = SessionStatus.CANCELLED
    off.save()
    make_session(business=other_business, title="Their spin")

    everything = targets(desk)
    spins = targets(desk, "later")

    assert everything.status_code == 200
    ids = [int(result["id"]) for result in everything.json()["results"]]
    assert ids == [later.pk, yoga.pk, session.pk]  # by start time
    assert [int(result["id"]) for result in spins.json()["results"]] == [later.pk]
    (first, *_) = everything.json()["results"]
    assert first["text"].startswith("Later spin (") and business.name in first["text"]


def test_autocomplete_needs_the_move_permission(client, business, session):
    from tests.factories import make_staff

    clerk = make_staff(
        username="clerk", businesses=(business,), permissions=["view_bookingrequest"]
    )
    client.force_login(clerk)

    assert targets(client).status_code == 403


def test_autocomplete_refuses_a_request_without_its_source_field(desk):
    assert desk.get(TARGETS_URL, {"term": ""}).status_code == 403
