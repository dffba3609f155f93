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
