"""The waitlist's service: joining, offers, automatic enrolment, claims, declines, expiry."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from booking.audit import RequestContext
from booking.emails.models import EmailKind, OutboxEmail
from booking.models import BookingRequest, BookingStatus
from booking.services import exceptions as exc
from booking.services import links, waitlist
from booking.waitlist.models import WaitlistEntry, WaitlistMode, WaitlistStatus
from tests.factories import (
    ALL_BOOKING_PERMISSIONS,
    make_booking,
    make_session,
    make_staff,
)

pytestmark = pytest.mark.django_db

WAITLIST_PERMISSIONS = [
    "view_waitlistentry",
    "add_waitlistentry",
    "change_waitlistentry",
    "offer_waitlistentry",
]
CLIENT = RequestContext(ip_address="203.0.113.9", user_agent="phone browser")


@pytest.fixture
def desk(business):
    return make_staff(
        businesses=(business,), permissions=ALL_BOOKING_PERMISSIONS + WAITLIST_PERMISSIONS
    )


@pytest.fixture
def full(business):
    """A session of two spots, both taken."""
    session = make_session(business=business, capacity=2, starts_in=timedelta(days=3))
    for n in range(2):
        make_booking(session=session, status=BookingStatus.APPROVED, client_email=f"b{n}@x.org")
    return session


def add(session, desk, name="Wanda Waits", email="wanda@example.com", **kwargs):
    return waitlist.join(
        session, client_name=name, client_email=email, client_phone="", actor=desk, **kwargs
    )


def free_one(session):
    """Cancel one active booking of `session` and offer the spot, in one transaction."""
    with transaction.atomic():
        booking = BookingRequest.objects.filter(session=session).active().first()
        BookingRequest.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)
        return waitlist.offer_freed_spots([session])


def token_of(entry):
    [email] = OutboxEmail.objects.filter(reference=entry.reference, kind=EmailKind.WAITLIST_OFFER)
    return re.search(r"\?token=(\S+)", email.text_body).group(1)


def refetch(entry):
    return WaitlistEntry.objects.get(pk=entry.pk)


def test_staff_add_a_client_to_a_full_sessions_waitlist(full, desk):
    entry = add(full, desk, context=CLIENT)

    assert entry.status == WaitlistStatus.WAITING
    assert len(entry.reference) == 8
    [record] = entry.history.all()
    assert (record.history_user, record.history_change_reason) == (desk, "added to the waitlist")
    assert (record.ip_address, record.user_agent) == (CLIENT.ip_address, CLIENT.user_agent)


def test_joining_twice_adds_one_entry(full, desk):
    add(full, desk)
    with pytest.raises(exc.InvalidTransition, match="already on the session's waitlist"):
        add(full, desk, email="WANDA@example.com")
    assert WaitlistEntry.objects.count() == 1


def test_a_client_booked_in_the_session_cannot_join_its_waitlist(full, desk):
    with pytest.raises(exc.InvalidTransition, match="already booked"):
        add(full, desk, email="b0@x.org")


def test_staff_of_another_business_cannot_add_to_the_session(full, other_business):
    stranger = make_staff(businesses=(other_business,), permissions=WAITLIST_PERMISSIONS)
    with pytest.raises(exc.InvalidInput, match="not yours"):
        add(full, stranger)
    assert not WaitlistEntry.objects.exists()


def test_joining_needs_the_permission_and_valid_input(full, business):
    clerk = make_staff(businesses=(business,), permissions=["view_waitlistentry"])
    with pytest.raises(exc.NotPermitted):
        add(full, clerk)
    desk = make_staff(businesses=(business,), permissions=WAITLIST_PERMISSIONS)
    with pytest.raises(exc.InvalidInput, match="valid email"):
        add(full, desk, email="not an address")
    with pytest.raises(exc.InvalidInput, match="client_name is required"):
        add(full, desk, name="  ")
    with pytest.raises(exc.InvalidInput, match="NUL"):
        add(full, desk, name="A\x00")


def test_a_business_with_the_waitlist_off_refuses_entries(desk, business, full):
    business.booking_settings.waitlist_mode = WaitlistMode.OFF
    business.booking_settings.save()
    with pytest.raises(exc.PolicyForbids, match="waitlist is off"):
        add(full, desk)


def test_a_freed_spot_is_offered_to_the_first_waiting_client(full, desk):
    first = add(full, desk, email="first@example.com")
    second = add(full, desk, email="second@example.com")

    before = timezone.now()
    offered = free_one(full)

    assert [e.pk for e in offered] == [first.pk]
    first = refetch(first)
    assert first.status == WaitlistStatus.OFFERED
    assert before <= first.offered_at
    assert first.offer_expires_at == first.offered_at + timedelta(hours=12)
    assert refetch(second).status == WaitlistStatus.WAITING
    [email] = OutboxEmail.objects.filter(kind=EmailKind.WAITLIST_OFFER)
    assert email.recipient == "first@example.com"
    assert email.reference == first.reference and email.booking_id is None
    assert f"/booking/waitlist/{first.reference}/?token=" in email.text_body
    assert "A spot is free for you" in email.subject
    assert links.check_claim_token(token_of(first), first) is links.TokenCheck.VALID
    record = first.history.first()
    assert (record.history_user, record.history_change_reason) == (
        None,
        "a spot came free: offered",
    )


def test_offering_again_changes_nothing_while_the_offer_holds_the_spot(full, desk):
    add(full, desk, email="first@example.com")
    add(full, desk, email="second@example.com")
    free_one(full)

    assert waitlist.offer_freed_spots([full]) == []
    assert WaitlistEntry.objects.filter(status=WaitlistStatus.OFFERED).count() == 1


def test_an_offer_never_outlives_the_session_start(business, desk):
    session = make_session(business=business, capacity=1, starts_in=timedelta(hours=3))
    make_booking(session=session, status=BookingStatus.APPROVED)
    entry = add(session, desk)
    free_one(session)
    assert refetch(entry).offer_expires_at == session.starts_at


def test_auto_mode_books_the_first_waiting_client_at_once(full, desk, business):
    business.booking_settings.waitlist_mode = WaitlistMode.AUTO
    business.booking_settings.save()
    entry = add(full, desk)

    free_one(full)

    entry = refetch(entry)
    assert entry.status == WaitlistStatus.CLAIMED
    booking = entry.booking
    assert (booking.status, booking.client_email, booking.session_id) == (
        BookingStatus.APPROVED,
        "wanda@example.com",
        full.pk,
    )
    assert booking.reference != entry.reference
    [email] = OutboxEmail.objects.filter(kind=EmailKind.WAITLIST_BOOKED)
    assert email.booking_id == booking.pk and "You're booked" in email.subject
    assert BookingRequest.objects.filter(session=full).active().count() == 2


def test_joining_a_session_with_a_free_spot_offers_it_at_once(business, desk):
    session = make_session(business=business, capacity=3)
    entry = add(session, desk)
    assert entry.status == WaitlistStatus.OFFERED


@pytest.fixture
def offered(full, desk):
    entry = add(full, desk)
    add(full, desk, name="Next", email="next@example.com")
    free_one(full)
    return refetch(entry)


def test_a_claim_books_the_client_and_emails_the_booking(offered, full):
    answered = waitlist.claim(offered.reference.lower(), token=token_of(offered), context=CLIENT)
    entry = answered.entry

    assert answered.changed

    assert entry.status == WaitlistStatus.CLAIMED
    assert entry.booking.status == BookingStatus.APPROVED
    assert BookingRequest.objects.filter(session=full).active().count() == 2
    [email] = OutboxEmail.objects.filter(kind=EmailKind.WAITLIST_BOOKED)
    assert email.reference == entry.booking.reference
    record = entry.booking.history.get()
    assert (record.history_user, record.ip_address) == (None, CLIENT.ip_address)
    assert refetch(entry).history.first().history_change_reason == "claimed the offered spot"


def test_a_second_claim_of_the_same_offer_returns_the_same_booking(offered):
    token = token_of(offered)
    first = waitlist.claim(offered.reference, token=token)
    again = waitlist.claim(offered.reference, token=token)
    assert (first.changed, again.changed) == (True, False)
    assert again.entry.booking_id == first.entry.booking_id
    assert BookingRequest.objects.filter(client_email=offered.client_email).count() == 1


def test_a_claim_needs_the_offers_own_link(offered):
    with pytest.raises(exc.IdentityNotVerified):
        waitlist.claim(offered.reference, token="forged")
    with pytest.raises(exc.BookingNotFound):
        waitlist.claim("ZZZZZZZZ", token="x")
    assert refetch(offered).status == WaitlistStatus.OFFERED


def test_a_lapsed_offer_is_refused_and_passed_on(offered):
    later = offered.offer_expires_at + timedelta(seconds=1)
    with pytest.raises(exc.InvalidTransition, match="ended"):
        waitlist.claim(offered.reference, token=token_of(offered), now=later)
    assert refetch(offered).status == WaitlistStatus.EXPIRED
    assert WaitlistEntry.objects.get(client_email="next@example.com").status == "offered"


def test_a_claim_is_refused_when_the_session_is_full_after_all(offered, full):
    make_booking(session=full, status=BookingStatus.APPROVED, client_email="walk-in@x.org")
    with pytest.raises(exc.InvalidTransition, match="the session is full"):
        waitlist.claim(offered.reference, token=token_of(offered))
    assert refetch(offered).status == WaitlistStatus.OFFERED


def test_declining_passes_the_spot_to_the_next_client(offered):
    answered = waitlist.decline(offered.reference, token=token_of(offered), context=CLIENT)
    entry = answered.entry

    assert answered.changed

    assert entry.status == WaitlistStatus.DECLINED
    nxt = WaitlistEntry.objects.get(client_email="next@example.com")
    assert nxt.status == WaitlistStatus.OFFERED
    again = waitlist.decline(offered.reference, token=token_of(offered))
    assert (again.entry.pk, again.changed) == (entry.pk, False)
    with pytest.raises(exc.InvalidTransition, match="passed this spot on"):
        waitlist.claim(offered.reference, token=token_of(offered))


def test_expiry_passes_lapsed_offers_on_once(offered):
    later = offered.offer_expires_at + timedelta(minutes=1)

    assert waitlist.expire_offers(now=later) == 1
    assert waitlist.expire_offers(now=later) == 0

    assert refetch(offered).status == WaitlistStatus.EXPIRED
    assert refetch(offered).history.first().history_change_reason == "the offer ended unclaimed"
    nxt = WaitlistEntry.objects.get(client_email="next@example.com")
    assert nxt.status == WaitlistStatus.OFFERED
    assert nxt.offer_expires_at == later + timedelta(hours=12)


def test_the_expiry_sweep_fills_a_spot_nobody_was_offered(full, desk, business):
    entry = add(full, desk)
    BookingRequest.objects.filter(session=full).active().first().delete()
    assert refetch(entry).status == WaitlistStatus.WAITING

    assert waitlist.expire_offers() == 0
    assert refetch(entry).status == WaitlistStatus.OFFERED


def test_describe_reads_the_offer_without_changing_it(offered):
    later = offered.offer_expires_at + timedelta(seconds=1)
    found = waitlist.find_offer(offered.reference)
    summary = waitlist.describe(found, now=later)

    assert (summary.status, summary.can_answer) == ("offered", False)
    assert summary.refusal == "this offer has ended and the spot was passed on"
    assert waitlist.describe(found).can_answer
    assert summary.expires_when and summary.when
    assert refetch(offered).status == WaitlistStatus.OFFERED


def test_removing_an_offered_entry_passes_its_spot_on(offered, desk):
    result = waitlist.remove_entries([offered.pk], actor=desk, reason="asked to leave")

    assert result.summary() == "1 removed"
    assert refetch(offered).status == WaitlistStatus.REMOVED
    assert refetch(offered).history.first().history_user == desk
    assert WaitlistEntry.objects.get(client_email="next@example.com").status == "offered"
    assert waitlist.remove_entries([offered.pk], actor=desk).summary() == (
        "0 removed; 1 skipped: 1 already removed"
    )


def test_staff_of_another_business_cannot_remove_entries(offered, other_business):
    stranger = make_staff(businesses=(other_business,), permissions=WAITLIST_PERMISSIONS)
    result = waitlist.remove_entries([offered.pk], actor=stranger)
    assert result.done == [] and refetch(offered).status == WaitlistStatus.OFFERED


def test_offer_now_needs_a_free_spot(full, desk):
    entry = add(full, desk)
    assert waitlist.offer_now([entry.pk], actor=desk).skipped[0][1] == (
        "the session has no free spot"
    )
    full.capacity = 3
    full.save()
    result = waitlist.offer_now([entry.pk], actor=desk)
    assert result.done == [entry] and refetch(entry).status == WaitlistStatus.OFFERED


def test_the_offer_email_labels_every_time_with_the_business_zone(full, desk, business):
    """Each time an email shows is followed by its zone, as every other email writes it."""
    from booking.emails.messages import local_time

    add(full, desk)
    [entry] = free_one(full)
    [email] = OutboxEmail.objects.filter(kind=EmailKind.WAITLIST_OFFER)
    until = local_time(entry.offer_expires_at, business.timezone)
    labelled = f"{until} ({business.timezone})"
    assert email.text_body.count(until) == email.text_body.count(labelled) == 2
    assert f"open until {labelled}" in email.text_body
    assert email.html_body.count(until) == 2


def test_the_offer_email_without_templates_still_says_until_when(full, desk, business, settings):
    """The built-in body (every template missing) keeps the offer's end, zone-labelled."""
    from booking.emails.messages import local_time

    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [], "APP_DIRS": False}]
    add(full, desk)
    [entry] = free_one(full)
    [email] = OutboxEmail.objects.filter(kind=EmailKind.WAITLIST_OFFER)
    until = local_time(entry.offer_expires_at, business.timezone)
    assert f"Offer open until: {until} ({business.timezone})" in email.text_body
    assert "?token=" in email.text_body
