"""The emails in the admin: booking.admin.outbox."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.emails.models import EmailKind, EmailStatus, OutboxEmail
from tests.booking.outbox_support import anymail_backend, run_email_tasks, sent_messages
from tests.factories import make_booking, make_session, make_staff

pytestmark = pytest.mark.usefixtures(anymail_backend.__name__)

CHANGELIST = "admin:booking_outboxemail_changelist"


def make_email(booking, *, status=EmailStatus.SENT, recipient=None, last_error=""):
    now = timezone.now()
    return OutboxEmail.objects.create(
        kind=EmailKind.STAFF_CANCELLED, booking=booking, business=booking.session.business,
        reference=booking.reference, recipient=recipient or booking.client_email,
        subject=f"Cancelled {booking.reference}", text_body="text", html_body="<p>html</p>",
        dedupe_key=f"k-{status}", status=status, last_error=last_error, next_attempt_at=now,
    )  # fmt: skip


@pytest.fixture
def clerk(business):
    return make_staff(
        username="clerk", businesses=(business,),
        permissions=["view_bookingrequest", "view_outboxemail", "resend_outboxemail"],
    )  # fmt: skip


def test_the_list_shows_only_the_staff_members_businesses(client, clerk, booking, other_business):
    mine = make_email(booking, recipient="mine@example.com")
    theirs = make_email(
        make_booking(session=make_session(business=other_business)), recipient="theirs@example.com"
    )
    client.force_login(clerk)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "mine@example.com" in page
    assert "theirs@example.com" not in page
    assert (
        client.get(reverse("admin:booking_outboxemail_change", args=[mine.pk])).status_code == 200
    )
    other = client.get(reverse("admin:booking_outboxemail_change", args=[theirs.pk]))
    assert other.status_code == 302  # Django's "does not exist" redirect: no leak


def test_staff_without_the_view_permission_cannot_see_the_list(client, business, booking):
    plain = make_staff(
        username="plain", businesses=(business,), permissions=["view_bookingrequest"]
    )
    client.force_login(plain)
    assert client.get(reverse(CHANGELIST)).status_code == 403


def test_resend_action_queues_failed_emails_and_they_are_sent(
    client, clerk, booking, django_capture_on_commit_callbacks
):
    failed = make_email(booking, status=EmailStatus.FAILED, last_error="HTTP 401")
    delivered = make_email(booking, status=EmailStatus.DELIVERED)
    client.force_login(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse(CHANGELIST),
            {"action": "resend_emails", "_selected_action": [failed.pk, delivered.pk]},
            follow=True,
        )
    assert (
        "1 failed email queued again. 1 not failed, left as they are." in response.content.decode()
    )
    run_email_tasks()
    failed.refresh_from_db()
    delivered.refresh_from_db()
    assert (failed.status, delivered.status) == (EmailStatus.SENT, EmailStatus.DELIVERED)
    assert [m.to for m in sent_messages()] == [[booking.client_email]]


def test_resend_needs_its_permission(client, business, booking):
    viewer = make_staff(username="viewer", businesses=(business,), permissions=["view_outboxemail"])
    failed = make_email(booking, status=EmailStatus.FAILED)
    client.force_login(viewer)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "resend_emails" not in page
    client.post(reverse(CHANGELIST), {"action": "resend_emails", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == EmailStatus.FAILED


def test_a_purged_bookings_email_stays_listed_with_its_reference(client, clerk, booking):
    from booking import services

    email = make_email(booking)
    services.purge_bookings(
        booking, actor=make_staff(superuser=True), reason="spam", confirmed=True
    )
    client.force_login(clerk)
    page = client.get(reverse("admin:booking_outboxemail_change", args=[email.pk])).content.decode()
    assert f"{booking.reference} (purged)" in page


def test_the_booking_page_shows_its_emails_and_their_states(client, clerk, booking, settings):
    make_email(
        booking, status=EmailStatus.BOUNCED, last_error="Postmark bounced: mailbox not found"
    )
    make_email(booking, status=EmailStatus.DELIVERED, recipient="desk@example.com")
    other = make_booking(session=booking.session, client_email="other@example.com")
    make_email(other, recipient="other@example.com")

    client.force_login(clerk)
    page = client.get(f"/admin/booking/bookingrequest/{booking.pk}/change/").content.decode()
    assert "Bounced" in page and "mailbox not found" in page
    assert "Delivered" in page and "desk@example.com" in page
    assert "other@example.com" not in page
    assert 'name="emails-0-recipient"' not in page  # read-only: no form fields
