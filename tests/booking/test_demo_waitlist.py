"""The demo's waitlist: a full class with clients waiting and an open offer, the links
`manage.py demo` prints to try it, and a past class for the report's seats recovered."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from booking.demo_waitlist import FULL_CLASS, PAST_CLASS
from booking.emails.models import EmailKind, OutboxEmail
from booking.exports.report import cancellation_report
from booking.models import BookingRequest, BookingStatus, Business
from booking.services import cancel_booking_as_client, waitlist
from booking.services.lifecycle.client import Proof
from booking.waitlist.models import WaitlistEntry, WaitlistStatus

DEMO_SLUG = "johnny-bravo-fitness-center"


@pytest.fixture
def output(db, settings):
    settings.DEBUG = True
    settings.SITE_URL = "http://127.0.0.1:8101"
    out = StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def business(output):
    return Business.objects.get(slug=DEMO_SLUG)


def test_the_full_class_is_full_with_three_waiting_and_one_open_offer(business):
    session = business.sessions.get(title=FULL_CLASS)
    now = timezone.now()
    assert session.starts_at > now + timezone.timedelta(days=1)
    assert waitlist.room_in(session, now=now) == 0
    statuses = list(
        session.waitlist_entries.order_by("created_at").values_list("status", flat=True)
    )
    assert statuses == ["offered", "waiting", "waiting", "waiting"]
    offer = session.waitlist_entries.get(status=WaitlistStatus.OFFERED)
    assert now < offer.offer_expires_at <= session.starts_at
    [email] = OutboxEmail.objects.filter(kind=EmailKind.WAITLIST_OFFER)
    assert email.recipient == offer.client_email and "/booking/waitlist/" in email.text_body
    assert all(entry.history.count() == 1 for entry in session.waitlist_entries.all())


def test_demo_prints_how_to_try_the_waitlist_and_its_links_work(client, output, business):
    session = business.sessions.get(title=FULL_CLASS)
    cancel = re.search(r"Cancel (\w{8}) at (\S+)  \(email: (\S+)\)", output)
    assert cancel and "Sold-out Spin is full" in output
    booking = BookingRequest.objects.get(reference=cancel.group(1), session=session)
    assert cancel.group(3) == booking.client_email
    claim = re.search(r"An open waitlist offer to claim or pass on: (\S+)", output).group(1)
    assert claim.startswith("http://127.0.0.1:8101/booking/waitlist/")
    page = client.get(claim.removeprefix("http://127.0.0.1:8101"))
    assert page.status_code == 200 and "A spot is free for you" in page.content.decode()


def test_cancelling_in_the_full_class_offers_the_spot_to_the_next_client(business):
    session = business.sessions.get(title=FULL_CLASS)
    booking = session.bookings.active().order_by("pk").first()
    cancel_booking_as_client(reference=booking.reference, proof=Proof(email=booking.client_email))
    # In the same transaction as the cancel: no worker needed.
    statuses = list(
        session.waitlist_entries.order_by("created_at").values_list("status", flat=True)
    )
    assert statuses == ["offered", "offered", "waiting", "waiting"]
    assert waitlist.room_in(session, now=timezone.now()) == 0


def test_the_past_class_shows_seats_recovered_in_the_report(business):
    past = business.sessions.get(title=PAST_CLASS)
    assert past.starts_at < timezone.now()
    bookings = BookingRequest.objects.filter(session=past)
    assert bookings.filter(status=BookingStatus.ATTENDED).count() == past.capacity
    [row] = [r for r in cancellation_report(BookingRequest.objects.filter(session=past))]
    assert (row.freed, row.offered, row.claimed, row.expired) == (2, 3, 2, 1)
    for entry in WaitlistEntry.objects.filter(session=past, status=WaitlistStatus.CLAIMED):
        assert entry.booking.client_email == entry.client_email
        assert entry.offered_at < entry.booking.created_at < entry.offer_expires_at


def test_demo_adds_the_waitlist_once(business, settings):
    counts = (WaitlistEntry.objects.count(), OutboxEmail.objects.count())
    out = StringIO()
    call_command("demo", stdout=out)
    assert (WaitlistEntry.objects.count(), OutboxEmail.objects.count()) == counts
    assert "Created a full class" not in out.getvalue()
