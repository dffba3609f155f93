"""Restore is not silent: where the restored booking is active and in the future,
`notify_client` (ticked by default) tells the client their place is back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking import services
from booking.emails.models import EmailKind, OutboxEmail
from booking.models import BookingStatus
from booking.services.actions import ACTIONS, NOTIFY_CLIENT
from tests.booking.admin_helpers import CHANGELIST, choose, confirm, messages_of
from tests.booking.outbox_support import rendered
from tests.factories import make_booking, make_session

pytestmark = pytest.mark.django_db

DELETED = f"{CHANGELIST}?deleted=yes"


@pytest.fixture
def deleted(session, staff):
    booking = make_booking(session=session, status=BookingStatus.APPROVED)
    services.soft_delete_bookings(booking, actor=staff, reason="By mistake", notify_client=False)
    return booking


def restored_emails(booking):
    emails = OutboxEmail.objects.filter(reference=booking.reference, kind=EmailKind.RESTORED)
    return rendered(emails)


def test_restore_declares_the_notify_client_option():
    assert NOTIFY_CLIENT in ACTIONS["restore"].options


def test_restore_tells_the_client_their_place_is_back(deleted, staff):
    services.restore_bookings(deleted, actor=staff, reason="Deleted by mistake")

    [email] = restored_emails(deleted)
    assert email.recipient == deleted.client_email
    assert email.subject.startswith("Your place is back")
    assert "has restored your booking" in email.text_body
    assert "Your place is back" in email.html_body
    assert f"/booking/cancel/{deleted.reference}/?token=" in email.text_body  # can still cancel
    assert "Deleted by mistake" in email.text_body  # the reason, as the page says


def test_restore_without_notify_client_tells_nobody(deleted, staff):
    services.restore_bookings(deleted, actor=staff, notify_client=False)
    assert restored_emails(deleted) == []


@pytest.mark.parametrize("status", [BookingStatus.CANCELLED, BookingStatus.REJECTED])
def test_a_closed_booking_restored_tells_nobody(session, staff, status):
    booking = make_booking(session=session, status=status, is_deleted=True)
    services.restore_bookings(booking, actor=staff)
    assert restored_emails(booking) == []


def test_a_past_booking_restored_tells_nobody(business, staff):
    session = make_session(business=business, starts_in=-timedelta(days=1))
    booking = make_booking(session=session, status=BookingStatus.APPROVED, is_deleted=True)
    services.restore_bookings(booking, actor=staff)
    assert restored_emails(booking) == []


def test_the_admin_offers_notify_client_ticked_where_it_applies(client, staff, deleted, business):
    client.force_login(staff)
    page = choose(client, "restore_bookings", [deleted], url=DELETED).content.decode()
    assert (
        'name="notify_client"' in page and "checked" in page.split('name="notify_client"')[1][:80]
    )

    past = make_booking(
        session=make_session(business=business, starts_in=-timedelta(days=1)), is_deleted=True
    )
    assert (
        'name="notify_client"'
        not in choose(client, "restore_bookings", [past], url=DELETED).content.decode()
    )


def test_the_admin_restore_follows_the_checkbox(client, staff, deleted, session):
    quiet = make_booking(session=session, status=BookingStatus.APPROVED, is_deleted=True)
    client.force_login(staff)
    assert messages_of(
        confirm(client, "restore_bookings", [deleted], url=DELETED, notify=True)
    ) == ["1 restored"]
    confirm(client, "restore_bookings", [quiet], url=DELETED, notify=False)
    assert len(restored_emails(deleted)) == 1
    assert restored_emails(quiet) == []


def test_the_staff_api_restore_takes_notify_client(client, staff, deleted):
    client.force_login(staff)
    response = client.patch(
        f"/api/booking/manage/{deleted.pk}/",
        {"action": "restore", "notify_client": False},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert restored_emails(deleted) == []
