"""What each email says and to whom: booking.emails.messages and the notification hooks.

The lifecycle services run for real; their on-commit hooks run through
`django_capture_on_commit_callbacks(execute=True)`, and the email tasks through
django-tasks-db's worker code (`run_email_tasks`) into Anymail's test backend.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings

from booking import services
from booking.emails.models import EmailKind, EmailStatus, OutboxEmail
from booking.models import BookingRequest, BookingStatus
from booking.services import links, notifications
from tests.booking.outbox_support import anymail_backend, rendered, run_email_tasks, sent_messages
from tests.factories import make_booking, make_business, make_session, make_staff, owner_proof

pytestmark = pytest.mark.usefixtures(anymail_backend.__name__)

# 17:00 UTC is 18:00 in Berlin (CET) on that Tuesday.
STARTS_AT = datetime(2030, 3, 5, 17, 0, tzinfo=UTC)
LOCAL_TIME = "Tuesday 5 March 2030, 18:00 (Europe/Berlin)"
FEE_POLICY = "Cancellations within 24 hours are charged 50% of the class price."


@pytest.fixture
def studio(db):
    return make_business(
        slug="berlin-studio",
        name="Berlin Studio",
        timezone_name="Europe/Berlin",
        contact_email="desk@berlin-studio.example",
        contact_phone="+49 30 1234567",
        cancellation_fee_policy=FEE_POLICY,
    )


@pytest.fixture
def yoga(studio):
    return make_session(business=studio, title="Power Yoga", starts_at=STARTS_AT)


@pytest.fixture
def ada(yoga):
    return make_booking(session=yoga, status=BookingStatus.APPROVED, client_email="ada@example.com")


@pytest.fixture
def desk(studio):
    return make_staff(username="desk", businesses=(studio,))


def cancel_as_client(booking, reason="Feeling unwell"):
    return services.cancel_booking_as_client(
        reference=booking.reference, proof=owner_proof(booking), reason=reason
    )


def emails_by_kind():
    return {email.kind: email for email in OutboxEmail.objects.all()}


def test_client_cancellation_emails_the_client_and_the_business(
    ada, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        cancel_as_client(ada)

    emails = emails_by_kind()
    assert set(emails) == {EmailKind.CLIENT_CANCELLED, EmailKind.BUSINESS_NOTICE}
    client, business = emails[EmailKind.CLIENT_CANCELLED], emails[EmailKind.BUSINESS_NOTICE]
    assert (client.recipient, client.reply_to) == ("ada@example.com", "desk@berlin-studio.example")
    assert (business.recipient, business.reply_to) == (
        "desk@berlin-studio.example",
        "ada@example.com",
    )
    assert client.subject == f"Your booking {ada.reference} is cancelled"
    for body in (client.text_body, client.html_body):
        assert "You cancelled your booking for" in body
        assert ada.reference in body
        assert "Power Yoga" in body
        assert LOCAL_TIME.replace(" (Europe/Berlin)", "") in body
        assert "Europe/Berlin" in body
        assert "Feeling unwell" in body
        assert "charged 50% of the class price" in body
        assert "desk@berlin-studio.example" in body
        assert "+49 30 1234567" in body
    assert f"When:      {LOCAL_TIME}" in client.text_body
    assert business.subject == f"Cancelled by the client: {ada.reference}, Power Yoga 5 Mar 18:00"
    assert "Ada Lovelace <ada@example.com>" in business.text_body

    assert run_email_tasks() == 1  # one task for the batch
    sent = {message.to[0]: message for message in sent_messages()}
    assert set(sent) == {"ada@example.com", "desk@berlin-studio.example"}
    message = sent["ada@example.com"]
    assert message.subject == client.subject
    assert message.body == client.text_body
    assert message.alternatives[0].content == client.html_body
    assert message.alternatives[0].mimetype == "text/html"
    assert message.from_email == django_settings.DEFAULT_FROM_EMAIL
    assert message.reply_to == ["desk@berlin-studio.example"]
    assert set(OutboxEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


def test_staff_cancellation_tells_the_client_in_other_words(
    ada, desk, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_bookings(ada, actor=desk, reason="Instructor is ill")

    [email] = rendered(OutboxEmail.objects.all())
    assert email.kind == EmailKind.STAFF_CANCELLED
    assert email.recipient == "ada@example.com"
    assert email.subject == f"Berlin Studio cancelled your booking {ada.reference}"
    for body in (email.text_body, email.html_body):
        assert (
            "Berlin Studio</strong> has cancelled" in body or "Berlin Studio has cancelled" in body
        )
        assert "You cancelled" not in body
        assert "Instructor is ill" in body
        assert "charged 50%" not in body  # the studio cancelled: no fee talk
    run_email_tasks()
    assert [m.to for m in sent_messages()] == [["ada@example.com"]]


def test_staff_cancellation_without_notify_client_queues_nothing(
    ada, desk, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_bookings(ada, actor=desk, reason="Duplicate", notify_client=False)
    assert not OutboxEmail.objects.exists()


@pytest.mark.parametrize("by_client", [True, False])
def test_business_that_sends_no_cancellation_emails_gets_none(studio, ada, desk, by_client):
    studio.booking_settings.send_cancellation_emails = False
    studio.booking_settings.save()
    if by_client:
        cancel_as_client(ada)
    else:
        services.cancel_bookings(ada, actor=desk)
    assert BookingRequest.objects.get(pk=ada.pk).status == BookingStatus.CANCELLED
    assert not OutboxEmail.objects.exists()


def test_no_business_notice_without_a_contact_email(studio, ada):
    studio.contact_email = ""
    studio.save()
    cancel_as_client(ada)
    assert list(OutboxEmail.objects.values_list("kind", flat=True)) == [EmailKind.CLIENT_CANCELLED]


def test_soft_delete_of_an_active_future_booking_notifies_the_client(ada, desk, yoga):
    past = make_session(business=yoga.business, starts_in=-timedelta(days=1))
    gone = make_booking(session=past, client_email="past@example.com")
    cancelled = make_booking(
        session=yoga, status=BookingStatus.CANCELLED, client_email="c@example.com"
    )

    services.soft_delete_bookings([ada.pk, gone.pk, cancelled.pk], actor=desk, reason="Room closed")

    [email] = rendered(OutboxEmail.objects.all())
    assert (email.kind, email.recipient) == (EmailKind.REMOVED, "ada@example.com")
    assert email.subject == f"Berlin Studio removed your booking {ada.reference}"
    assert "has removed your booking for Power Yoga." in email.text_body
    assert "Room closed" in email.text_body
    assert LOCAL_TIME in email.text_body


def test_soft_delete_without_notify_client_queues_nothing(ada, desk):
    services.soft_delete_bookings(ada, actor=desk, reason="Test data", notify_client=False)
    assert not OutboxEmail.objects.exists()


def test_purge_notice_outlives_the_purged_booking(ada, desk, django_capture_on_commit_callbacks):
    booking_id, reference = ada.pk, ada.reference
    with django_capture_on_commit_callbacks(execute=True):
        services.purge_bookings(ada, actor=desk, reason="Spam booking", confirmed=True)

    assert not BookingRequest.all_objects.filter(pk=booking_id).exists()
    [email] = rendered(OutboxEmail.objects.all())
    assert (email.kind, email.reference, email.booking_id) == (
        EmailKind.REMOVED,
        reference,
        booking_id,
    )
    assert "and deleted its details" in email.text_body
    run_email_tasks()
    [message] = sent_messages()
    assert message.to == ["ada@example.com"]
    assert "Spam booking" in message.body
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT


def test_cancellation_link_email_carries_a_signed_link(ada, django_capture_on_commit_callbacks):
    booking = BookingRequest.objects.with_related().get(pk=ada.pk)
    with django_capture_on_commit_callbacks(execute=True):
        notifications.cancellation_link_requested(booking)

    [email] = OutboxEmail.objects.all()
    assert (email.kind, email.recipient) == (EmailKind.CANCEL_LINK, "ada@example.com")
    url = next(word for word in email.text_body.split() if word.startswith("http"))
    assert url.startswith(f"{django_settings.SITE_URL}/booking/cancel/{ada.reference}/?token=")
    assert links.token_matches(parse_qs(urlsplit(url).query)["token"][0], booking)
    assert f'href="{url}"' in email.html_body
    assert (
        "Cancel by:  Monday 4 March 2030, 18:00 (Europe/Berlin)".replace("  ", " ")
        in email.text_body
    )
    run_email_tasks()
    assert len(sent_messages()) == 1


def test_no_cancellation_link_once_the_deadline_has_passed(studio):
    session = make_session(business=studio, starts_in=timedelta(hours=2))
    booking = make_booking(session=session)
    notifications.cancellation_link_requested(booking)
    assert not OutboxEmail.objects.exists()


def test_cancellation_emails_offer_no_cancel_link(ada):
    cancel_as_client(ada)
    assert not any("token=" in e.text_body for e in OutboxEmail.objects.all())


def test_client_input_is_escaped_in_html_and_kept_in_text(ada):
    cancel_as_client(ada, reason="<script>alert(1)</script> & more")
    email = OutboxEmail.objects.get(kind=EmailKind.CLIENT_CANCELLED)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in email.html_body
    assert "<script>" not in email.html_body
    assert "Reason:    <script>alert(1)</script> & more" in email.text_body


def _templates_with_first_dir(path):
    engine = {**django_settings.TEMPLATES[0], "DIRS": [path, *django_settings.TEMPLATES[0]["DIRS"]]}
    return [engine]


def test_a_broken_template_falls_back_to_a_plain_body_and_is_logged(
    ada, settings, tmp_path, caplog
):
    folder = tmp_path / "booking" / "emails"
    folder.mkdir(parents=True)
    (folder / "booking_cancelled.html").write_text("{% if %}broken")
    settings.TEMPLATES = _templates_with_first_dir(tmp_path)

    with caplog.at_level(logging.ERROR, logger="booking.emails.messages"):
        cancel_as_client(ada, reason="Feeling <unwell>")

    email = OutboxEmail.objects.get(kind=EmailKind.CLIENT_CANCELLED)
    assert BookingRequest.objects.get(pk=ada.pk).status == BookingStatus.CANCELLED
    assert email.html_body.startswith("<!doctype html>")
    assert ada.reference in email.html_body
    assert "Feeling &lt;unwell&gt;" in email.html_body
    assert "You cancelled your booking" in email.text_body  # the text template still works
    assert "booking/emails/booking_cancelled.html failed to render" in caplog.text


def test_every_template_missing_still_gives_a_complete_email(ada, settings):
    settings.TEMPLATES = [{**django_settings.TEMPLATES[0], "DIRS": [], "APP_DIRS": False}]
    cancel_as_client(ada)
    email = OutboxEmail.objects.get(kind=EmailKind.CLIENT_CANCELLED)
    assert email.subject == f"Berlin Studio: you cancelled your booking ({ada.reference})"
    assert f"Starts: {LOCAL_TIME}" in email.text_body
    assert "Reason: Feeling unwell" in email.text_body
    assert "desk@berlin-studio.example / +49 30 1234567" in email.text_body
    assert "Booking reference: " + ada.reference in email.html_body


def test_a_project_template_overrides_the_app_template(ada, settings, tmp_path):
    folder = tmp_path / "booking" / "emails"
    folder.mkdir(parents=True)
    (folder / "booking_cancelled_subject.txt").write_text("See you soon, {{ client_name }}")
    settings.TEMPLATES = _templates_with_first_dir(tmp_path)
    cancel_as_client(ada)
    assert OutboxEmail.objects.get(kind=EmailKind.CLIENT_CANCELLED).subject == (
        "See you soon, Ada Lovelace"
    )
