"""Erasure and a bulk change's emails still waiting for the worker to render them.

Such a row has no subject or body yet, but its `render` holds what staff wrote
(a move's, restore's or purge's reason), which may name the erased client; and
the worker renders it later from the bookings' historical records. Neither may
bring the erased data back into an email.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from booking.emails import rendering
from booking.emails.delivery import _claim
from booking.emails.models import EmailKind, EmailStatus, OutboxEmail
from booking.emails.outbox import sweep
from booking.services.erasure import NOT_SENT, REDACTED, erase_client_data
from booking.services.lifecycle import move_bookings
from tests.booking.outbox_support import anymail_backend, run_email_tasks
from tests.factories import make_booking, make_session

pytestmark = pytest.mark.usefixtures(anymail_backend.__name__)

MENTION = "Swapped with Ada Lovelace (ada@example.com, 07700 900123)"


@pytest.fixture
def moved(business, staff):
    """Ada's booking and Bob's, both moved by staff; the move's reason names Ada."""
    first, later = make_session(business=business), make_session(business=business, title="Late")
    ada = make_booking(session=first, client_name="Ada Lovelace", client_email="ada@example.com",
                       client_phone="+44 7700 900123")  # fmt: skip
    bob = make_booking(session=first, client_name="Bob", client_email="bob@example.com",
                       client_phone="0161 496 0000")  # fmt: skip
    move_bookings([ada.pk, bob.pk], actor=staff, reason=MENTION, session=later.pk)
    return {"ada": ada, "bob": bob}


def queued_of(booking):
    return OutboxEmail.objects.get(booking_id=booking.pk, kind=EmailKind.MOVED)


def test_an_unrendered_email_to_another_client_loses_the_mentions(moved, superuser):
    bob_email = queued_of(moved["bob"])
    assert bob_email.render is not None and "ada@example.com" in bob_email.render["reason"]

    dry = erase_client_data(email="ada@example.com", actor=superuser, dry_run=True)
    result = erase_client_data(email="ada@example.com", actor=superuser)

    assert dry.changed["emails"] == result.changed["emails"] == 2  # hers, and Bob's
    bob_email.refresh_from_db()
    reason = bob_email.render["reason"]
    assert "ada@example.com" not in reason and "900123" not in reason
    assert reason.startswith("Swapped with ") and REDACTED in reason
    assert (bob_email.recipient, bob_email.status) == ("bob@example.com", EmailStatus.QUEUED)


def test_the_worker_sends_the_other_client_no_trace_and_the_erased_client_nothing(
    moved, superuser, django_capture_on_commit_callbacks
):
    erase_client_data(email="ada@example.com", actor=superuser)
    with django_capture_on_commit_callbacks(execute=True):
        sweep(now=timezone.now() + timedelta(hours=1))
    run_email_tasks()

    assert [message.to for message in mail.outbox] == [["bob@example.com"]]
    body = mail.outbox[0].body + mail.outbox[0].alternatives[0].content
    assert "Swapped with " in body
    assert "ada@example.com" not in body and "Lovelace" not in body and "900123" not in body
    ada_email = queued_of(moved["ada"])
    assert ada_email.render is None
    assert (ada_email.status, ada_email.last_error) == (EmailStatus.FAILED, NOT_SENT)
    assert (ada_email.subject, ada_email.recipient) == (REDACTED, "")


def test_an_email_erased_after_the_worker_claimed_it_is_not_rendered_nor_handed_back(
    moved, superuser
):
    """The worker claims a chunk, then renders it: an erasure in between wins."""
    emails = [queued_of(moved["ada"]), queued_of(moved["bob"])]
    claimed = _claim([email.pk for email in emails], timezone.now())
    assert [email.status for email in claimed] == [EmailStatus.SENDING] * 2

    erase_client_data(email="ada@example.com", actor=superuser)
    to_send = rendering.render_pending(claimed)

    assert [email.recipient for email in to_send] == ["bob@example.com"]
    ada_email = queued_of(moved["ada"])
    assert (ada_email.subject, ada_email.text_body, ada_email.status) == (
        REDACTED, REDACTED, EmailStatus.FAILED,
    )  # fmt: skip


def test_a_reason_naming_only_the_phone_is_found_by_the_phone(business, staff, superuser):
    """The row is found by its reason's digits alone (a regex on the JSON key)."""
    first, later = make_session(business=business), make_session(business=business, title="Late")
    make_booking(session=first, client_name="Ada Lovelace", client_email="ada@example.com",
                 client_phone="+44 7700 900123")  # fmt: skip
    bob = make_booking(session=first, client_name="Bob", client_email="bob@example.com",
                       client_phone="0161 496 0000")  # fmt: skip
    reason = "Ada's friend, call 07700-900-123"
    move_bookings([bob.pk], actor=staff, reason=reason, session=later.pk)

    result = erase_client_data(phone="+447700900123", actor=superuser)

    assert result.changed["emails"] == 1
    assert queued_of(bob).render["reason"] == f"Ada's friend, call 0{REDACTED}"
