"""Soft delete, restore and purge (`lifecycle.deletion`): records, policy, confirmation."""

from __future__ import annotations

import pytest
from django.utils import timezone

from booking import services
from booking.models import BookingRequest
from booking.services import exceptions as exc
from tests.booking.lifecycle_support import A, refetch
from tests.factories import make_booking, make_business, make_session, make_staff

# --- Soft delete and restore ------------------------------------------------------


def test_soft_delete_records_and_restore_clears(session, staff):
    booking = make_booking(session=session, status=A)
    now = timezone.now()

    services.soft_delete_bookings(booking, actor=staff, reason="Duplicate", now=now)
    deleted = refetch(booking)
    hidden = not BookingRequest.objects.filter(pk=booking.pk).exists()
    services.restore_bookings(booking, actor=staff)
    restored = refetch(booking)

    assert (deleted.is_deleted, deleted.deleted_at, deleted.deleted_by) == (True, now, staff)
    assert deleted.deletion_reason == "Duplicate" and deleted.status == A
    assert hidden and BookingRequest.objects.filter(pk=booking.pk).exists()
    assert (restored.is_deleted, restored.deleted_at, restored.deleted_by) == (False, None, None)
    assert restored.deletion_reason == "" and restored.status == A


def test_restore_takes_an_optional_reason_even_where_deletion_needs_one(business, session, staff):
    assert business.booking_settings.require_deletion_reason is True
    silent = make_booking(session=session, is_deleted=True)
    explained = make_booking(session=session, is_deleted=True)

    services.restore_bookings(silent, actor=staff).raise_for_single()
    services.restore_bookings(explained, actor=staff, reason="Deleted by mistake")

    assert refetch(silent).is_deleted is False
    assert explained.history.latest().history_change_reason == "Deleted by mistake"


def test_restore_skips_a_live_booking(booking, staff):
    result = services.restore_bookings(booking, actor=staff)

    assert result.summary() == "0 restored; 1 skipped: not deleted"


# --- Policy switches ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("allow", "require", "reason", "error"),
    [
        (True, True, "", exc.ReasonRequired),
        (False, True, "", exc.ReasonRequired),  # bad input, before the policy
        (False, True, "Duplicate", exc.PolicyForbids),
        (False, False, "", exc.PolicyForbids),
        (True, False, "", None),
        (True, True, "Duplicate", None),
    ],
)
@pytest.mark.parametrize("action", ["soft_delete", "purge"])
def test_deletion_policy_switches(staff, action, allow, require, reason, error):
    business = make_business(
        staff=(staff,), allow_admin_deletion=allow, require_deletion_reason=require
    )
    booking = make_booking(session=make_session(business=business))
    options = {"confirmed": True} if action == "purge" else {}

    result = services.ACTIONS[action].service(booking, actor=staff, reason=reason, **options)

    if error is None:
        result.raise_for_single()
    else:
        with pytest.raises(error) as raised:
            result.raise_for_single()
        assert raised.value.status_code == (400 if error is exc.ReasonRequired else 403)
        assert refetch(booking).is_deleted is False


def test_purge_needs_permission_before_anything(session):
    clerk = make_staff(businesses=(session.business,), permissions=["soft_delete_bookingrequest"])
    booking = make_booking(session=session)

    with pytest.raises(exc.NotPermitted):
        services.purge_bookings(booking, actor=clerk, reason="x", confirmed=True)
    assert BookingRequest.all_objects.filter(pk=booking.pk).exists()


def test_purge_needs_an_explicit_confirmation(booking, staff):
    with pytest.raises(exc.ConfirmationRequired) as raised:
        services.purge_bookings(booking, actor=staff, reason="GDPR request")

    assert raised.value.status_code == 400
    assert BookingRequest.all_objects.filter(pk=booking.pk).exists()


def test_purge_deletes_live_and_soft_deleted_bookings(session, staff):
    live = make_booking(session=session)
    deleted = make_booking(session=session, is_deleted=True)

    result = services.purge_bookings(
        BookingRequest.all_objects.filter(pk__in=[live.pk, deleted.pk]),
        actor=staff,
        reason="Retention",
        confirmed=True,
    )

    assert result.summary() == "2 purged"
    assert not BookingRequest.all_objects.filter(pk__in=[live.pk, deleted.pk]).exists()
