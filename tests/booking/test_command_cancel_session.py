"""`python manage.py bookings cancel-session`: the operator's way to cancel a session."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from booking.emails.models import OutboxEmail
from booking.models import BookingRequest, BookingStatus, Session, SessionStatus
from tests.factories import make_booking

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("bookings", "cancel-session", *args, stdout=out)
    return out.getvalue()


def test_cancels_the_session_its_bookings_and_emails_the_clients(session):
    booking = make_booking(session=session)

    output = run("--id", str(session.pk), "--reason", "Venue flooded")

    assert "1 session cancelled (1 booking cancelled)" in output
    assert Session.objects.get(pk=session.pk).status == SessionStatus.CANCELLED
    cancelled = BookingRequest.objects.get(pk=booking.pk)
    assert cancelled.status == BookingStatus.CANCELLED and cancelled.cancelled_by is None
    assert cancelled.history.first().user_agent == "manage.py bookings cancel-session"
    assert OutboxEmail.objects.count() == 1


def test_no_notify_sends_nothing(session):
    make_booking(session=session)

    run("--id", str(session.pk), "--reason", "Venue flooded", "--no-notify")

    assert not OutboxEmail.objects.exists()


def test_dry_run_changes_nothing(session):
    make_booking(session=session)

    output = run("--id", str(session.pk), "--reason", "Venue flooded", "--dry-run")

    assert "Would cancel" in output and "1 active booking" in output
    assert Session.objects.get(pk=session.pk).status == SessionStatus.SCHEDULED
    assert not OutboxEmail.objects.exists()


def test_twice_changes_nothing_more(session):
    make_booking(session=session)
    run("--id", str(session.pk), "--reason", "Venue flooded")

    output = run("--id", str(session.pk), "--reason", "Venue flooded")

    assert "skipped: already cancelled" in output and OutboxEmail.objects.count() == 1


def test_an_unknown_session_is_a_command_error():
    with pytest.raises(CommandError, match="No session with id 999999"):
        run("--id", "999999", "--reason", "Venue flooded")


@pytest.mark.parametrize("extra", [[], ["--dry-run"]])
def test_a_blank_reason_is_a_command_error(session, extra):
    with pytest.raises(CommandError, match="reason is required"):
        run("--id", str(session.pk), "--reason", "  ", *extra)
    assert Session.objects.get(pk=session.pk).status == SessionStatus.SCHEDULED


def test_a_large_session_s_bookings_are_queued_for_the_worker(session, settings):
    settings.SESSION_CANCEL_BACKGROUND_THRESHOLD = 2
    for n in range(3):
        make_booking(session=session, client_email=f"c{n}@example.com")

    preview = run("--id", str(session.pk), "--reason", "Venue flooded", "--dry-run")
    output = run("--id", str(session.pk), "--reason", "Venue flooded")

    assert "its 3 active booking(s) by a background job" in preview
    assert "3 more being cancelled in the background" in output
    assert "queued for the worker: 0 / 3 bookings cancelled, 0 failures (waiting)" in output
    assert Session.objects.get(pk=session.pk).status == SessionStatus.CANCELLED
    assert BookingRequest.objects.filter(session=session).active().count() == 3
