"""A client's own cancellation (`booking.services.lifecycle.client`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from booking import services
from booking.services import exceptions as exc
from booking.services.lifecycle.client import Proof
from tests.booking.lifecycle_support import C, P, R, refetch
from tests.factories import make_booking, make_business, make_session, owner_proof

# --- Client cancellation ------------------------------------------------------------


def test_client_cancels_their_own_booking(booking):
    now = timezone.now()

    cancelled = services.cancel_booking_as_client(
        reference=booking.reference, proof=owner_proof(booking), reason="Feeling unwell", now=now
    )

    booking = refetch(booking)
    assert cancelled.pk == booking.pk and booking.status == C
    assert (booking.cancelled_at, booking.cancelled_by, booking.cancelled_by_client) == (
        now,
        None,
        True,
    )
    assert booking.cancellation_reason == "Feeling unwell"


def test_client_reference_is_read_leniently(booking):
    services.cancel_booking_as_client(
        reference=f" {booking.reference.lower()} ", proof=owner_proof(booking)
    )

    assert refetch(booking).status == C


@pytest.mark.parametrize("reference", ["NOPE2345", "", 12345678, None])
def test_client_unknown_reference_is_not_found(booking, reference):
    with pytest.raises(exc.BookingNotFound):
        services.cancel_booking_as_client(reference=reference, proof=owner_proof(booking))


def test_client_deleted_booking_is_not_found(session):
    booking = make_booking(session=session, is_deleted=True)

    with pytest.raises(exc.BookingNotFound):
        services.cancel_booking_as_client(reference=booking.reference, proof=owner_proof(booking))


def test_client_identity_is_checked_before_the_policy(staff):
    business = make_business(allow_client_cancellation=False)
    booking = make_booking(session=make_session(business=business), client_email="ada@example.com")

    with pytest.raises(exc.IdentityNotVerified) as raised:
        services.cancel_booking_as_client(
            reference=booking.reference, proof=Proof(email="eve@example.com")
        )

    assert raised.value.status_code == 403
    assert refetch(booking).status == P


def test_client_identity_is_checked_again_against_the_locked_booking(booking, monkeypatch):
    """Details changed between the read-only check and the lock: the locked row decides."""
    proof = owner_proof(booking)
    first_look = Proof.verify

    def then_changed(self, looked_at):
        monkeypatch.setattr(Proof, "verify", lambda self, locked: False)
        return first_look(self, looked_at)

    monkeypatch.setattr(Proof, "verify", then_changed)

    with pytest.raises(exc.IdentityNotVerified):
        services.cancel_booking_as_client(reference=booking.reference, proof=proof)
    assert refetch(booking).status == P


def test_client_cancellation_switched_off(session):
    business = session.business
    business.booking_settings.allow_client_cancellation = False
    business.booking_settings.save()
    booking = make_booking(session=session)

    with pytest.raises(exc.PolicyForbids):
        services.cancel_booking_as_client(reference=booking.reference, proof=owner_proof(booking))
    assert refetch(booking).status == P


def test_client_deadline_exactly_at_its_boundary(business):
    session = make_session(business=business, starts_in=timedelta(days=2))
    on_time = make_booking(session=session)
    late = make_booking(session=session)
    deadline = session.starts_at - timedelta(hours=24)

    services.cancel_booking_as_client(
        reference=on_time.reference, proof=owner_proof(on_time), now=deadline
    )
    with pytest.raises(exc.DeadlinePassed) as raised:
        services.cancel_booking_as_client(
            reference=late.reference,
            proof=owner_proof(late),
            now=deadline + timedelta(microseconds=1),
        )

    assert refetch(on_time).status == C and refetch(late).status == P
    assert raised.value.status_code == 403 and raised.value.details["booking"].pk == late.pk


@pytest.mark.parametrize("status", [R, C])
def test_client_cannot_cancel_a_closed_booking(session, status):
    booking = make_booking(session=session, status=status)

    with pytest.raises(exc.InvalidTransition):
        services.cancel_booking_as_client(reference=booking.reference, proof=owner_proof(booking))


def test_client_double_submit_is_a_conflict(booking):
    services.cancel_booking_as_client(reference=booking.reference, proof=owner_proof(booking))

    with pytest.raises(exc.InvalidTransition) as raised:
        services.cancel_booking_as_client(reference=booking.reference, proof=owner_proof(booking))
    assert raised.value.status_code == 409
    assert booking.history.count() == 2


def test_client_reason_too_long_is_refused(booking):
    with pytest.raises(exc.ReasonTooLong):
        services.cancel_booking_as_client(
            reference=booking.reference, proof=owner_proof(booking), reason="x" * 1001
        )
    assert refetch(booking).status == P
