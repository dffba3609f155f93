"""Every path that frees a spot offers it in the same transaction; the paths that take
spots (restore, move in) count the open offers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking import services
from booking.emails.models import EmailKind, OutboxEmail
from booking.models import BookingRequest, BookingStatus
from booking.services import cancel_booking_as_client, waitlist
from booking.services.lifecycle import move_bookings
from booking.services.sessions import cancel_sessions
from booking.waitlist.models import WaitlistEntry, WaitlistMode, WaitlistStatus
from tests.booking.outbox_support import anymail_backend, run_email_tasks, sent_messages
from tests.booking.test_waitlist import WAITLIST_PERMISSIONS
from tests.factories import (
    ALL_BOOKING_PERMISSIONS,
    make_booking,
    make_session,
    make_staff,
    owner_proof,
)

pytestmark = pytest.mark.django_db
__all__ = ["anymail_backend"]  # a fixture


@pytest.fixture
def desk(business):
    return make_staff(
        businesses=(business,),
        permissions=ALL_BOOKING_PERMISSIONS + WAITLIST_PERMISSIONS + ["cancel_session"],
    )


@pytest.fixture
def full(business):
    session = make_session(business=business, capacity=2, starts_in=timedelta(days=3))
    session.occupants = [
        make_booking(session=session, status=BookingStatus.PENDING, client_email=f"o{n}@x.org")
        for n in range(2)
    ]
    return session


@pytest.fixture
def waiting(full, desk):
    return waitlist.join(full, client_name="Wanda", client_email="wanda@x.org", actor=desk)


def status_of(entry):
    return WaitlistEntry.objects.get(pk=entry.pk).status


def staff_call(action, desk):
    options = {
        "cancel": {},
        "reject": {},
        "soft_delete": {"reason": "duplicate"},
        "purge": {"reason": "duplicate", "confirmed": True},
    }[action]
    service = {
        "cancel": services.cancel_bookings,
        "reject": services.reject_bookings,
        "soft_delete": services.soft_delete_bookings,
        "purge": services.purge_bookings,
    }[action]
    return lambda booking: service([booking.pk], actor=desk, **options)


@pytest.mark.parametrize("action", ["cancel", "reject", "soft_delete", "purge"])
def test_a_staff_change_that_frees_a_spot_offers_it(full, waiting, desk, action):
    result = staff_call(action, desk)(full.occupants[0])

    assert result.done_count == 1
    assert status_of(waiting) == WaitlistStatus.OFFERED


def test_a_clients_own_cancellation_offers_the_spot(full, waiting):
    booking = full.occupants[0]
    cancel_booking_as_client(reference=booking.reference, proof=owner_proof(booking))
    assert status_of(waiting) == WaitlistStatus.OFFERED


def test_moving_a_booking_away_offers_its_spot(full, waiting, desk, business):
    elsewhere = make_session(business=business, capacity=5)
    move_bookings(full.occupants[0], actor=desk, session=elsewhere.pk, notify_client=False)
    assert status_of(waiting) == WaitlistStatus.OFFERED


def test_a_change_that_frees_nothing_offers_nothing(full, waiting, desk):
    services.approve_bookings([full.occupants[0].pk], actor=desk)
    services.cancel_bookings([full.occupants[0].pk], actor=desk)  # frees one
    services.cancel_bookings([full.occupants[0].pk], actor=desk)  # already cancelled
    assert WaitlistEntry.objects.filter(status=WaitlistStatus.OFFERED).count() == 1


def test_a_refused_change_offers_nothing(full, waiting, desk, business):
    business.booking_settings.allow_admin_deletion = False
    business.booking_settings.save()
    result = services.soft_delete_bookings([full.occupants[0].pk], actor=desk, reason="x")
    assert result.done_count == 0
    assert status_of(waiting) == WaitlistStatus.WAITING


def test_a_started_session_offers_nothing(business, desk):
    session = make_session(business=business, capacity=1, starts_in=timedelta(days=1))
    booking = make_booking(session=session)
    entry = waitlist.join(session, client_name="W", client_email="w@x.org", actor=desk)
    later = session.starts_at + timedelta(minutes=5)
    services.cancel_bookings([booking.pk], actor=desk, now=later)
    assert status_of(entry) == WaitlistStatus.WAITING


def test_the_waitlist_off_offers_nothing(full, waiting, desk, business):
    business.booking_settings.waitlist_mode = WaitlistMode.OFF
    business.booking_settings.save()
    services.cancel_bookings([full.occupants[0].pk], actor=desk)
    assert status_of(waiting) == WaitlistStatus.WAITING


def test_a_bulk_cancel_offers_one_spot_per_freed_booking(full, desk):
    entries = [
        waitlist.join(full, client_name=f"W{n}", client_email=f"w{n}@x.org", actor=desk)
        for n in range(3)
    ]
    services.cancel_bookings([b.pk for b in full.occupants], actor=desk)
    assert [status_of(e) for e in entries] == ["offered", "offered", "waiting"]


def test_a_restore_into_a_full_session_is_skipped_with_a_reason(full, desk):
    services.soft_delete_bookings([full.occupants[0].pk], actor=desk, reason="by mistake")
    make_booking(session=full, status=BookingStatus.APPROVED, client_email="taken@x.org")

    result = services.restore_bookings([full.occupants[0].pk], actor=desk)

    assert result.done_count == 0
    assert [s.reason for s in result.skipped] == ["the session is full"]
    assert BookingRequest.objects.filter(session=full).active().count() == 2


def test_a_restore_does_not_take_a_spot_an_offer_holds(full, waiting, desk):
    services.soft_delete_bookings([full.occupants[0].pk], actor=desk, reason="by mistake")
    assert status_of(waiting) == WaitlistStatus.OFFERED

    result = services.restore_bookings([full.occupants[0].pk], actor=desk)

    assert [s.reason for s in result.skipped] == ["the session is full"]


def test_a_cancelled_booking_restores_whatever_the_room(full, desk):
    booking = make_booking(session=full, status=BookingStatus.CANCELLED, is_deleted=True)
    assert services.restore_bookings([booking.pk], actor=desk).done_count == 1


def test_a_move_in_does_not_take_a_spot_an_offer_holds(full, waiting, desk, business):
    services.cancel_bookings([full.occupants[0].pk], actor=desk)
    mover = make_booking(session=make_session(business=business), client_email="m@x.org")

    result = move_bookings(mover, actor=desk, session=full.pk, notify_client=False)

    assert [s.reason for s in result.skipped] == ["the target session is full"]


def test_auto_mode_fills_the_spot_in_the_cancelling_transaction(full, waiting, desk, business):
    business.booking_settings.waitlist_mode = WaitlistMode.AUTO
    business.booking_settings.save()
    services.cancel_bookings([full.occupants[0].pk], actor=desk)

    entry = WaitlistEntry.objects.get(pk=waiting.pk)
    assert entry.status == WaitlistStatus.CLAIMED
    assert BookingRequest.objects.filter(session=full).active().count() == 2


def test_cancelling_the_session_closes_its_waitlist(full, waiting, desk):
    cancel_sessions([full.pk], actor=desk, reason="Instructor ill")

    entry = WaitlistEntry.objects.get(pk=waiting.pk)
    assert entry.status == WaitlistStatus.REMOVED
    assert entry.history.first().history_change_reason == (
        "the session was cancelled: Instructor ill"
    )


def test_editing_a_bookings_session_counts_spots_and_offers_the_one_it_leaves(
    full, waiting, desk, business
):
    from booking.services.details import update_booking_details
    from booking.services.exceptions import InvalidTransition

    roomy = make_session(business=business, capacity=5)
    booking = full.occupants[0]
    update_booking_details(booking.pk, actor=desk, changes={"session": roomy})

    assert status_of(waiting) == WaitlistStatus.OFFERED  # the spot it left
    other = make_booking(session=roomy, client_email="other@x.org")
    with pytest.raises(InvalidTransition, match="the session is full"):
        update_booking_details(other.pk, actor=desk, changes={"session": full})


def test_a_new_booking_needs_a_spot_nobody_holds(full, waiting, desk):
    from booking.services.details import add_booking
    from booking.services.exceptions import InvalidTransition

    services.cancel_bookings([full.occupants[0].pk], actor=desk)  # the offer holds the spot
    new = BookingRequest(session=full, client_name="N", client_email="n@x.org")
    with pytest.raises(InvalidTransition, match="the session is full"):
        add_booking(new, actor=desk)
    assert BookingRequest.objects.filter(session=full).active().count() == 1


def test_the_admin_add_form_refuses_a_full_session(client, full, business):
    perms = [*ALL_BOOKING_PERMISSIONS, "add_bookingrequest", "view_session"]
    client.force_login(make_staff(businesses=(business,), permissions=perms))
    response = client.post(
        "/admin/booking/bookingrequest/add/",
        {"session": full.pk, "client_name": "N", "client_email": "n@x.org", "client_phone": "",
         "emails-TOTAL_FORMS": 0, "emails-INITIAL_FORMS": 0},
    )  # fmt: skip
    assert response.status_code == 200
    assert "The session is full" in response.content.decode()
    assert BookingRequest.objects.filter(session=full).count() == 2


def test_purging_a_booking_made_from_the_waitlist_keeps_the_entry(full, waiting, desk, business):
    business.booking_settings.waitlist_mode = WaitlistMode.AUTO
    business.booking_settings.save()
    services.cancel_bookings([full.occupants[0].pk], actor=desk)
    booking = WaitlistEntry.objects.get(pk=waiting.pk).booking

    services.purge_bookings([booking.pk], actor=desk, reason="test data", confirmed=True)

    entry = WaitlistEntry.objects.get(pk=waiting.pk)
    assert (entry.status, entry.booking_id) == (WaitlistStatus.CLAIMED, None)


def test_cancelling_the_session_emails_its_waiting_and_offered_clients_once(
    full, waiting, desk, business, anymail_backend, django_capture_on_commit_callbacks
):
    offered = waitlist.join(full, client_name="Otto", client_email="otto@x.org", actor=desk)
    services.cancel_bookings([full.occupants[0].pk], actor=desk, notify_client=False)
    gone = waitlist.join(full, client_name="Gus", client_email="gus@x.org", actor=desk)
    waitlist.remove_entries([gone.pk], actor=desk)
    assert status_of(waiting) == WaitlistStatus.OFFERED  # first in line got the spot
    assert status_of(offered) == WaitlistStatus.WAITING
    OutboxEmail.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        cancel_sessions([full.pk], actor=desk, reason="Instructor ill")
        cancel_sessions([full.pk], actor=desk, reason="Instructor ill")  # again: nothing twice

    closed = OutboxEmail.objects.filter(kind=EmailKind.WAITLIST_CLOSED).order_by("recipient")
    assert [(e.recipient, e.reference) for e in closed] == [
        ("otto@x.org", offered.reference),
        ("wanda@x.org", waiting.reference),
    ]
    email = closed[1]
    assert f"{business.name} has cancelled {full.title}" in email.text_body
    assert "Instructor ill" in email.text_body and "Instructor ill" in email.html_body
    assert "waitlist" in email.text_body and full.title in email.subject
    run_email_tasks()
    told = sorted(m.to[0] for m in sent_messages() if m.to[0] in ("otto@x.org", "wanda@x.org"))
    assert told == ["otto@x.org", "wanda@x.org"]
    assert {status_of(e) for e in (waiting, offered)} == {WaitlistStatus.REMOVED}


def test_no_waitlist_email_when_staff_untick_notify_client(full, waiting, desk):
    cancel_sessions([full.pk], actor=desk, reason="Instructor ill", notify_client=False)

    assert status_of(waiting) == WaitlistStatus.REMOVED
    assert not OutboxEmail.objects.filter(kind=EmailKind.WAITLIST_CLOSED).exists()
