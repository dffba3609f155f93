"""Status changes as staff (`lifecycle.status`): transitions, what a cancel records."""

from __future__ import annotations

import pytest
from django.utils import timezone

from booking import services
from booking.services import exceptions as exc
from tests.booking.lifecycle_support import ALLOWED, STATUS_ACTIONS, A, C, P, R, refetch
from tests.factories import make_booking

# --- Transitions ------------------------------------------------------------------


@pytest.mark.parametrize("action", STATUS_ACTIONS)
@pytest.mark.parametrize("status", [P, A, R, C])
def test_status_actions_follow_the_transition_table(session, staff, status, action):
    function, target = STATUS_ACTIONS[action]
    booking = make_booking(session=session, status=status)

    result = function(booking, actor=staff, reason="desk")

    if (status, target) in ALLOWED:
        assert result.done == [booking] and not result.skipped
        assert refetch(booking).status == target
    else:
        assert result.done == [] and result.skipped[0].refusal.error is exc.InvalidTransition
        assert refetch(booking).status == status
        with pytest.raises(exc.InvalidTransition):
            result.raise_for_single()


@pytest.mark.parametrize("action", STATUS_ACTIONS)
def test_soft_deleted_booking_cannot_change_status_until_restored(session, staff, action):
    function, target = STATUS_ACTIONS[action]
    booking = make_booking(session=session, status=P, is_deleted=True)

    refused = function(booking, actor=staff)
    services.restore_bookings(booking, actor=staff)
    allowed = function(booking, actor=staff)

    assert refused.skipped[0].reason == "deleted; restore it first"
    assert allowed.raise_for_single().status == target
    assert refetch(booking).status == target


def test_cancel_records_who_when_and_why(session, staff):
    booking = make_booking(session=session, status=A)
    now = timezone.now()

    services.cancel_bookings(booking, actor=staff, reason="Instructor ill", now=now)

    booking = refetch(booking)
    assert (booking.status, booking.cancelled_at, booking.cancelled_by) == (C, now, staff)
    assert booking.cancellation_reason == "Instructor ill"
    assert booking.cancelled_by_client is False
    assert booking.updated_at == now
