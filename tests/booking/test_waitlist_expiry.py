"""Ended offers pass on without an operator: the worker's task, the sweep, the command."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from booking import services
from booking.models import BookingStatus
from booking.services import waitlist
from booking.waitlist.models import WaitlistEntry, WaitlistStatus
from tests.booking.outbox_support import run_email_tasks
from tests.booking.test_waitlist import WAITLIST_PERMISSIONS
from tests.factories import ALL_BOOKING_PERMISSIONS, make_booking, make_session, make_staff

pytestmark = pytest.mark.django_db

TASK = "booking.services.waitlist.offers.pass_on_expired_offers"


@pytest.fixture
def offered(business, django_capture_on_commit_callbacks):
    """The first of two waiting clients holds an offer of a freed spot."""
    desk = make_staff(
        businesses=(business,), permissions=ALL_BOOKING_PERMISSIONS + WAITLIST_PERMISSIONS
    )
    session = make_session(business=business, capacity=1, starts_in=timedelta(days=2))
    booking = make_booking(session=session, status=BookingStatus.APPROVED)
    first, second = (
        waitlist.join(session, client_name=n, client_email=f"{n}@x.org", actor=desk)
        for n in ("first", "second")
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_bookings([booking.pk], actor=desk)
    return WaitlistEntry.objects.get(pk=first.pk), second


def end(entry):
    """Move the offer's end into the past (as if its window had run out)."""
    WaitlistEntry.objects.filter(pk=entry.pk).update(
        offer_expires_at=timezone.now() - timedelta(seconds=1)
    )


def status_of(entry):
    return WaitlistEntry.objects.get(pk=entry.pk).status


def test_each_offer_has_the_worker_pass_it_on_when_it_ends(offered):
    first, _ = offered
    [task] = DBTaskResult.objects.filter(task_path=TASK)
    assert task.status == TaskResultStatus.READY
    assert task.run_after == first.offer_expires_at + timedelta(seconds=1)


def test_the_workers_task_passes_the_ended_offer_on(offered):
    first, second = offered
    end(first)
    DBTaskResult.objects.filter(task_path=TASK).update(run_after=timezone.now())

    run_email_tasks()

    assert status_of(first) == WaitlistStatus.EXPIRED
    assert status_of(second) == WaitlistStatus.OFFERED


def test_the_sweep_beside_the_worker_passes_ended_offers_on(offered, capsys):
    first, second = offered
    end(first)

    call_command("send_queued_emails")

    assert status_of(second) == WaitlistStatus.OFFERED
    assert "Passed on 1 ended waitlist offer(s)." in capsys.readouterr().out


def test_the_command_passes_ended_offers_on(offered, capsys):
    first, second = offered
    end(first)

    call_command("bookings", "expire-offers", "--dry-run")
    assert "would close 1 ended offer(s)" in capsys.readouterr().out
    assert status_of(first) == WaitlistStatus.OFFERED

    call_command("bookings", "expire-offers")
    assert "Closed 1 ended offer(s)" in capsys.readouterr().out
    assert status_of(first) == WaitlistStatus.EXPIRED
    assert status_of(second) == WaitlistStatus.OFFERED
    record = WaitlistEntry.objects.get(pk=first.pk).history.first()
    assert record.user_agent == "manage.py bookings expire-offers"


def test_an_offer_ending_at_the_start_passes_on_to_nobody(business):
    desk = make_staff(businesses=(business,), permissions=WAITLIST_PERMISSIONS)
    session = make_session(business=business, capacity=1, starts_in=timedelta(hours=1))
    make_booking(session=session, status=BookingStatus.APPROVED, client_email="in@x.org")
    entries = [
        waitlist.join(session, client_name=n, client_email=f"{n}@x.org", actor=desk)
        for n in ("a", "b")
    ]
    services.cancel_bookings([session.bookings.get().pk], actor=make_staff(businesses=(business,)))
    assert WaitlistEntry.objects.get(pk=entries[0].pk).offer_expires_at == session.starts_at

    assert waitlist.expire_offers(now=session.starts_at) == 1
    # No offer to the next: the class has begun, so its queue is closed.
    assert [status_of(e) for e in entries] == ["expired", "removed"]


def test_once_the_session_starts_its_waiting_entries_are_closed_without_an_email(business):
    """Nobody can take a spot in a class that has begun: the sweep closes the entries
    still waiting (`removed`, reason recorded) and emails no one; a session not yet
    started keeps its queue, and running the sweep again changes nothing more."""
    from booking.emails.models import OutboxEmail

    desk = make_staff(businesses=(business,), permissions=WAITLIST_PERMISSIONS)
    started = make_session(business=business, capacity=1, starts_in=timedelta(hours=2))
    later = make_session(business=business, capacity=1, starts_in=timedelta(days=2))
    for session in (started, later):
        make_booking(session=session, status=BookingStatus.APPROVED)
    gone = waitlist.join(started, client_name="G", client_email="g@x.org", actor=desk)
    kept = waitlist.join(later, client_name="K", client_email="k@x.org", actor=desk)
    after_start = started.starts_at + timedelta(minutes=1)

    waitlist.expire_offers(now=after_start)
    waitlist.expire_offers(now=after_start)

    assert (status_of(gone), status_of(kept)) == (WaitlistStatus.REMOVED, WaitlistStatus.WAITING)
    records = WaitlistEntry.objects.get(pk=gone.pk).history.all()
    assert [r.history_change_reason for r in records][:1] == [
        "the session started before a spot came free"
    ]
    assert records.count() == 2
    assert not OutboxEmail.objects.exists()
