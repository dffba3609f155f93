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


def test_staff_who_see_bookings_see_their_emails(client, business, booking, other_business):
    """Clicking an email on a booking's page opens it: no bare 403 for the desk."""
    desk = make_staff(username="plain", businesses=(business,), permissions=["view_bookingrequest"])
    mine = make_email(booking, recipient="mine@example.com")
    theirs = make_email(
        make_booking(session=make_session(business=other_business)), recipient="theirs@example.com"
    )
    client.force_login(desk)
    booking_page = client.get(
        reverse("admin:booking_bookingrequest_change", args=[booking.pk])
    ).content.decode()
    email_url = reverse("admin:booking_outboxemail_change", args=[mine.pk])
    assert email_url in booking_page
    assert client.get(email_url).status_code == 200
    listed = client.get(reverse(CHANGELIST)).content.decode()
    assert "mine@example.com" in listed and "theirs@example.com" not in listed
    other = reverse("admin:booking_outboxemail_change", args=[theirs.pk])
    assert client.get(other).status_code == 302  # "does not exist": no leak
    assert "resend_emails" not in listed  # resending has its own permission


def test_staff_who_see_no_bookings_see_no_emails(client, business, booking):
    make_email(booking)
    nobody = make_staff(username="nobody", businesses=(business,), permissions=["view_session"])
    client.force_login(nobody)
    assert client.get(reverse(CHANGELIST)).status_code == 403


def test_an_html_body_is_rendered_in_a_sandbox_never_as_source(client, clerk, booking):
    email = make_email(booking)
    email.html_body = '<p class="x">Hello <b>Ada</b></p><script>alert("x")</script>'
    email.save()
    client.force_login(clerk)
    page = client.get(reverse("admin:booking_outboxemail_change", args=[email.pk])).content.decode()
    frame = page[page.index("<iframe") : page.index("</iframe>")]
    assert 'sandbox=""' in frame
    assert 'srcdoc="&lt;p class=&quot;x&quot;&gt;Hello &lt;b&gt;Ada&lt;/b&gt;' in frame
    assert "<script>alert" not in page  # only ever inside the escaped srcdoc
    assert "&lt;p class=&quot;x&quot;" not in page.replace(frame, "")  # not shown as source


def test_one_failed_email_is_resent_from_its_own_page(
    client, clerk, booking, django_capture_on_commit_callbacks
):
    failed = make_email(booking, status=EmailStatus.FAILED, last_error="HTTP 401")
    client.force_login(clerk)
    url = reverse("admin:booking_outboxemail_change", args=[failed.pk])
    assert "resend_emails" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"CHANGE_FORM-action": "resend_emails", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == EmailStatus.QUEUED


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


# ---------------------------------------------------------------- a bulk change's emails


def test_an_email_still_to_be_written_says_so_and_shows_what_it_will_say(
    client, clerk, booking, django_capture_on_commit_callbacks
):
    """Staff cancelled: the worker writes the email as it sends it; the admin tells the truth."""
    from django.core import mail
    from django.utils.html import escape

    from booking import services
    from booking.admin.outbox import DRAFT_NOTE, NOT_WRITTEN

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_bookings(booking, actor=make_staff(superuser=True), reason="Teacher ill")
    email = OutboxEmail.objects.get(booking=booking, kind=EmailKind.STAFF_CANCELLED)
    assert email.render is not None and email.subject == ""
    client.force_login(clerk)

    assert NOT_WRITTEN in client.get(reverse(CHANGELIST)).content.decode()
    on_booking = client.get(reverse("admin:booking_bookingrequest_change", args=[booking.pk]))
    assert NOT_WRITTEN in on_booking.content.decode()
    page = client.get(reverse("admin:booking_outboxemail_change", args=[email.pk])).content.decode()
    assert "Teacher ill" in page and "srcdoc=" in page  # the body it will have
    email.refresh_from_db()
    assert email.render is not None and email.subject == ""  # shown, not stored: still queued

    run_email_tasks()
    [sent] = mail.outbox
    assert escape(f"{sent.subject} {DRAFT_NOTE}") in page  # the subject it then got
    after = client.get(reverse(CHANGELIST)).content.decode()
    assert NOT_WRITTEN not in after and escape(sent.subject) in after


def test_the_lists_queries_do_not_grow_with_emails_still_to_be_written(client, clerk, session):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from booking import services

    root = make_staff(superuser=True)
    client.force_login(clerk)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(CHANGELIST)).status_code == 200
        return len(captured.captured_queries)

    services.cancel_bookings(make_booking(session=session), actor=root, reason="one")
    one = queries()
    services.cancel_bookings(
        [make_booking(session=session).pk for _ in range(5)], actor=root, reason="more"
    )
    assert OutboxEmail.objects.filter(render__isnull=False).count() == 6
    assert queries() == one
