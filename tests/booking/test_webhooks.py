"""Delivery tracking: Postmark's webhook, through the real URL, updates the outbox.

The payloads are Postmark's documented tracking webhook bodies (Delivery,
Bounce, SpamComplaint); Anymail's view checks the basic-auth secret and sends
its `tracking` signal, which `booking.emails.tracking` receives.
"""

from __future__ import annotations

import base64
import json

import pytest
from django.utils import timezone

from booking.emails.models import EmailKind, EmailStatus, OutboxEmail

URL = "/anymail/postmark/tracking/"
SECRET = "postmark:correct-horse-battery"
MESSAGE_ID = "883953f4-6105-42a2-a16a-77a8eac79483"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}


@pytest.fixture
def sent_email(booking):
    now = timezone.now()
    return OutboxEmail.objects.create(
        kind=EmailKind.STAFF_CANCELLED, booking=booking, business=booking.session.business,
        reference=booking.reference, recipient="ada@example.com", subject="Cancelled",
        text_body="…", html_body="<p>…</p>", dedupe_key="test", status=EmailStatus.SENT,
        attempts=1, provider_message_id=MESSAGE_ID, sent_at=now, next_attempt_at=now,
    )  # fmt: skip


def delivery(message_id=MESSAGE_ID, at="2030-11-05T16:33:54.9070259Z"):
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": message_id,
        "Recipient": "ada@example.com",
        "Tag": "staff_cancelled",
        "DeliveredAt": at,
        "Details": "Test delivery webhook details",
        "Metadata": {"outbox_id": "1", "booking_reference": "ABCDEFGH"},
    }


def bounce(at="2030-11-05T16:40:00.0000000Z", kind="HardBounce"):
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": 4323372036854775807,
        "Type": kind,
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": "staff_cancelled",
        "MessageID": MESSAGE_ID,
        "Metadata": {"outbox_id": "1"},
        "ServerID": 23,
        "Description": (
            "The server was unable to deliver your message (ex: unknown user, mailbox not found)."
        ),
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": "ada@example.com",
        "From": "bookings@example.com",
        "BouncedAt": at,
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Cancelled",
    }


def post(client, payload, secret=SECRET):
    auth = base64.b64encode(secret.encode()).decode()
    return client.post(URL, data=json.dumps(payload), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Basic {auth}")  # fmt: skip


def test_delivery_event_marks_the_email_delivered(client, sent_email):
    assert post(client, delivery()).status_code == 200
    sent_email.refresh_from_db()
    assert sent_email.status == EmailStatus.DELIVERED
    assert sent_email.last_event_at.isoformat().startswith("2030-11-05T16:33:54")


def test_bounce_event_marks_the_email_bounced_with_the_reason(client, sent_email):
    assert post(client, delivery()).status_code == 200
    assert post(client, bounce()).status_code == 200
    sent_email.refresh_from_db()
    assert sent_email.status == EmailStatus.BOUNCED
    assert "unable to deliver your message" in sent_email.last_error


def test_spam_complaint_marks_the_email_complained(client, sent_email):
    complaint = {**bounce(), "RecordType": "SpamComplaint", "Type": "SpamComplaint"}
    assert post(client, complaint).status_code == 200
    sent_email.refresh_from_db()
    assert sent_email.status == EmailStatus.COMPLAINED


def test_an_older_event_arriving_late_changes_nothing(client, sent_email):
    post(client, bounce(at="2030-11-05T17:00:00Z"))
    post(client, delivery(at="2030-11-05T16:00:00Z"))
    sent_email.refresh_from_db()
    assert sent_email.status == EmailStatus.BOUNCED


def test_wrong_secret_is_refused_and_changes_nothing(client, sent_email):
    assert post(client, delivery(), secret="postmark:guess").status_code == 400
    assert (
        client.post(URL, data=json.dumps(delivery()), content_type="application/json").status_code
        == 400
    )
    sent_email.refresh_from_db()
    assert sent_email.status == EmailStatus.SENT


def test_unset_secret_refuses_every_call(client, sent_email, settings):
    from project.mailers import anymail_settings

    settings.ANYMAIL = anymail_settings({})
    assert post(client, delivery()).status_code == 400
    sent_email.refresh_from_db()
    assert sent_email.status == EmailStatus.SENT


def test_unknown_message_id_is_accepted_and_ignored(client, sent_email):
    assert (
        post(client, delivery(message_id="00000000-0000-0000-0000-000000000000")).status_code == 200
    )
    sent_email.refresh_from_db()
    assert sent_email.status == EmailStatus.SENT


def test_events_for_queued_emails_are_ignored(client, sent_email):
    OutboxEmail.objects.filter(pk=sent_email.pk).update(status=EmailStatus.QUEUED)
    post(client, delivery())
    sent_email.refresh_from_db()
    assert sent_email.status == EmailStatus.QUEUED


def test_sending_records_the_message_id_the_webhook_looks_up(
    booking, staff, client, settings, django_capture_on_commit_callbacks
):
    """End to end: the id the provider returned on send is the one its webhook reports."""
    from anymail.message import AnymailRecipientStatus

    from booking import services
    from tests.booking.outbox_support import provider_responses, run_email_tasks

    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    accepted = {"recipient_status": {booking.client_email: AnymailRecipientStatus(
        message_id="pm-4242", status="queued")}}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_bookings(booking, actor=staff)
    with provider_responses(accepted):
        run_email_tasks()
    email = OutboxEmail.objects.get()
    assert (email.status, email.provider_message_id) == (EmailStatus.SENT, "pm-4242")
    post(client, delivery(message_id="pm-4242"))
    email.refresh_from_db()
    assert email.status == EmailStatus.DELIVERED
