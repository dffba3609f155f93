"""The demo's waitlist: a full class ahead with clients waiting and one open offer,
and a past class whose waitlist filled the spots two cancellations freed.

So that after `make run` the flow can be tried: cancel a booking of the full
class on the public page (its spot is offered at once to the next waiting
client, and the worker prints the offer email, with its claim link, in the
console), or open the open offer's claim page (`manage.py demo` prints both
links). The past class gives the cancellation report's waitlist columns
something to show. Rows get one "+" historical record each, like the rest of
the demo; the open offer's email is queued like any offer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from booking.audit import RequestContext
from booking.demo import day_slots, fresh_references
from booking.models import BookingRequest, BookingStatus, Business, Session
from booking.services import notifications, policy
from booking.waitlist.models import WaitlistEntry, WaitlistStatus

FULL_CLASS = "Sold-out Spin"
PAST_CLASS = "Sold-out Bootcamp"
# The full class: its booked clients, then its waitlist in order (the first holds an offer).
BOOKED = ["Dana Scully", "Fox Mulder", "Walter Skinner", "Monica Reyes", "John Doggett"]
WAITING = ["Margaret Hamilton", "Annie Easley", "Mary Jackson", "Dorothy Vaughan"]
# The past class: who booked, who cancelled in time, and what became of each offer.
PAST_BOOKED = ["Rosalind Franklin", "Lise Meitner", "Chien-Shiung Wu", "Emmy Noether",
               "Barbara McClintock", "Jocelyn Bell"]  # fmt: skip
PAST_CANCELLED = {"Rosalind Franklin", "Lise Meitner"}
PAST_QUEUE = [("Vera Rubin", WaitlistStatus.EXPIRED), ("Cecilia Payne", WaitlistStatus.CLAIMED),
              ("Henrietta Leavitt", WaitlistStatus.CLAIMED)]  # fmt: skip


@dataclass(frozen=True)
class WaitlistDemo:
    full_class: Session
    offer: WaitlistEntry  # the open offer


def email_of(name: str) -> str:
    return f"{name.lower().replace(' ', '.').replace('-', '')}@example.com"


def _session(business: Business, title: str, *, days: int, now: datetime, slot: int) -> Session:
    """A class of six on the business's timetable, `days` from today (its `slot`th class)."""
    day = timezone.localtime(now, business.tzinfo).date() + timedelta(days=days)
    start, length = day_slots(day, business.tzinfo)[slot]
    return Session.objects.create(business=business, title=title, starts_at=start,
                                  ends_at=start + length, capacity=6,
                                  price=Decimal("18.50"))  # fmt: skip


def _bookings(session: Session, names: list[str], *, status: str,
              created_at: datetime) -> list[BookingRequest]:  # fmt: skip
    bookings = [
        BookingRequest(
            session=session,
            reference=reference,
            status=status,
            client_name=name,
            client_email=email_of(name),
            created_at=created_at,
        )
        for name, reference in zip(names, fresh_references(len(names)), strict=True)
    ]
    policy.snapshot_terms(bookings)
    return bookings


def _entry(session: Session, name: str, *, created_at: datetime, **fields: object) -> WaitlistEntry:
    return WaitlistEntry(session=session, client_name=name, client_email=email_of(name),
                         created_at=created_at, **fields)  # fmt: skip


def _full_class(
    business: Business, *, now: datetime
) -> tuple[list[BookingRequest], list[WaitlistEntry]]:
    """Two days ahead, in the evening: five booked, the sixth place held by an open offer."""
    session = _session(business, FULL_CLASS, days=2, now=now, slot=-2)
    booked = _bookings(session, BOOKED, status=BookingStatus.APPROVED,
                       created_at=now - timedelta(days=6))  # fmt: skip
    entries = [
        _entry(session, name, created_at=now - timedelta(days=3) + timedelta(hours=n))
        for n, name in enumerate(WAITING)
    ]
    offered_at = now - timedelta(hours=1)
    hours = business.booking_settings.waitlist_claim_hours
    first = entries[0]
    first.status = WaitlistStatus.OFFERED
    first.offered_at = offered_at
    first.offer_expires_at = min(offered_at + timedelta(hours=hours), session.starts_at)
    return booked, entries


def _past_class(
    business: Business, *, now: datetime
) -> tuple[list[BookingRequest], list[WaitlistEntry]]:
    """Five days ago: two clients cancelled two days ahead; of the two offers made then,
    one lapsed and one was claimed, and the lapsed one's spot was claimed by the next."""
    session = _session(business, PAST_CLASS, days=-5, now=now, slot=1)
    start = session.starts_at
    booked = _bookings(session, PAST_BOOKED, status=BookingStatus.ATTENDED,
                       created_at=start - timedelta(days=8))  # fmt: skip
    freed_at = start - timedelta(days=2)
    for booking in booked:
        if booking.client_name in PAST_CANCELLED:
            booking.status = BookingStatus.CANCELLED
            booking.cancelled_by_client = True
            booking.cancelled_at = freed_at
            booking.cancellation_reason = "Travelling that week"
    entries, claims = [], []
    for n, (name, status) in enumerate(PAST_QUEUE):
        offered_at = freed_at + timedelta(hours=12 if n > 1 else 0)  # the third: after a lapse
        entry = _entry(session, name, created_at=start - timedelta(days=4) + timedelta(hours=n),
                       status=status, offered_at=offered_at,
                       offer_expires_at=offered_at + timedelta(hours=12))  # fmt: skip
        if status == WaitlistStatus.CLAIMED:
            [entry.booking] = _bookings(session, [name], status=BookingStatus.ATTENDED,
                                        created_at=offered_at + timedelta(hours=2))  # fmt: skip
            claims.append(entry.booking)
        entries.append(entry)
    return booked + claims, entries


def create_waitlist_examples(business: Business, *, now: datetime | None = None) -> WaitlistDemo:
    """The full class with its waitlist (one open offer, its email queued) and the past class."""
    now = now or timezone.now()
    context = RequestContext.command("demo")
    history = {"default_change_reason": "demo data", "default_date": now,
               "custom_historical_attrs": context.as_history_attrs()}  # fmt: skip
    with transaction.atomic():
        booked, waiting = _full_class(business, now=now)
        past_bookings, past_entries = _past_class(business, now=now)
        bookings = BookingRequest.all_objects.bulk_create(booked + past_bookings)
        entries = WaitlistEntry.objects.bulk_create(waiting + past_entries)
        BookingRequest.history.bulk_history_create(bookings, **history)
        WaitlistEntry.history.bulk_history_create(entries, **history)
        offer = waiting[0]
        notifications.waitlist_offers([offer], now=now)
    return WaitlistDemo(offer.session, offer)
