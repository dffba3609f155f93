"""The waitlist's claim page: `/booking/waitlist/<reference>/?token=…`."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from booking.emails.models import EmailKind, OutboxEmail
from booking.models import BookingRequest, BookingStatus, SessionStatus
from booking.services import links, waitlist
from booking.waitlist.models import WaitlistEntry, WaitlistStatus
from tests.factories import make_booking, make_business, make_session, make_staff

pytestmark = pytest.mark.django_db

WAITLIST_PERMISSIONS = ["view_waitlistentry", "add_waitlistentry", "change_waitlistentry"]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def studio():
    return make_business(name="Northside Yoga", timezone_name="Europe/Berlin")


@pytest.fixture
def full(studio):
    session = make_session(business=studio, title="Sunrise Flow", capacity=2,
                           starts_in=timedelta(days=3))  # fmt: skip
    for n in range(2):
        make_booking(session=session, status=BookingStatus.APPROVED, client_email=f"b{n}@x.org")
    return session


@pytest.fixture
def queue(full, studio):
    """Two clients waiting for the full session."""
    desk = make_staff(businesses=(studio,), permissions=WAITLIST_PERMISSIONS)
    return [
        waitlist.join(full, client_name=name, client_email=email, actor=desk)
        for name, email in [("Wanda Waits", "wanda@example.com"), ("Nick Next", "nick@x.org")]
    ]


@pytest.fixture
def offered(full, queue):
    """One spot freed: the first waiting client holds an offer."""
    with transaction.atomic():
        booking = BookingRequest.objects.filter(session=full).active().first()
        BookingRequest.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)
        waitlist.offer_freed_spots([full])
    return refetch(queue[0])


def refetch(entry):
    return WaitlistEntry.objects.select_related("session", "booking").get(pk=entry.pk)


def url(entry, token=None):
    path = reverse("booking:waitlist", args=[entry.reference])
    return f"{path}?token={token}" if token is not None else path


def post(client, entry, action, token):
    return client.post(url(entry), {"action": action, "token": token})


def snapshot():
    """Everything a GET must leave as it was."""
    return (
        list(WaitlistEntry.objects.order_by("pk").values_list("status", "offer_expires_at")),
        list(BookingRequest.objects.order_by("pk").values_list("status", flat=True)),
        OutboxEmail.objects.count(),
        WaitlistEntry.history.count(),
    )


def test_the_url_is_the_one_the_offer_email_links_to(offered):
    assert (
        links.claim_url(offered)
        .split("?")[0]
        .endswith(reverse("booking:waitlist", args=[offered.reference]))
    )


def test_get_shows_the_offer_in_the_business_zone(client, offered):
    response = client.get(url(offered, links.make_claim_token(offered)))
    html = response.content.decode()
    assert response.status_code == 200
    assert "A spot is free for you" in html
    assert "Sunrise Flow" in html and "Northside Yoga" in html and "Wanda Waits" in html
    local = timezone.localtime(offered.session.starts_at, offered.session.business.tzinfo)
    assert local.strftime("%H:%M") in html and ("CET" in html or "CEST" in html)
    assert "Held for you until" in html
    assert 'value="claim"' in html and 'value="decline"' in html
    assert response["Cache-Control"].startswith("max-age=0")
    assert response["Referrer-Policy"] == "same-origin"


def test_get_never_changes_anything_even_for_a_lapsed_offer(client, offered):
    token = links.make_claim_token(offered)
    before = snapshot()
    for _ in range(3):
        assert client.get(url(offered, token)).status_code == 200
        assert client.head(url(offered, token)).status_code == 200
    WaitlistEntry.objects.filter(pk=offered.pk).update(
        offer_expires_at=timezone.now() - timedelta(minutes=1)
    )
    before = snapshot()
    response = client.get(url(offered, token))
    assert "This offer has ended" in response.content.decode()
    assert snapshot() == before
    assert refetch(offered).status == WaitlistStatus.OFFERED  # only a POST or the worker moves it


def test_claim_books_the_client_and_shows_the_new_reference(client, offered):
    response = post(client, offered, "claim", links.make_claim_token(offered))
    entry = refetch(offered)
    html = response.content.decode()
    assert response.status_code == 200
    assert entry.status == WaitlistStatus.CLAIMED
    assert entry.booking.status == BookingStatus.APPROVED
    assert "You're booked" in html and entry.booking.reference in html
    assert reverse("booking:cancel", args=[entry.booking.reference]) in html
    [email] = OutboxEmail.objects.filter(kind=EmailKind.WAITLIST_BOOKED)
    assert email.recipient == "wanda@example.com" and entry.booking.reference in email.text_body
    [record] = entry.history.filter(status=WaitlistStatus.CLAIMED)
    assert record.history_user is None and record.ip_address == "127.0.0.1"


def test_a_double_claim_says_already_claimed_and_books_once(client, offered):
    token = links.make_claim_token(offered)
    post(client, offered, "claim", token)
    again = post(client, offered, "claim", token)
    html = again.content.decode()
    assert again.status_code == 200
    assert "You already have this spot" in html and "nothing more was booked" in html
    assert BookingRequest.objects.filter(client_email="wanda@example.com").count() == 1
    assert refetch(offered).booking.reference in html
    # The link shows the booking from then on.
    assert "You already have this spot" in client.get(url(offered, token)).content.decode()


def test_decline_passes_the_spot_to_the_next_client(client, offered, queue):
    response = post(client, offered, "decline", links.make_claim_token(offered))
    assert response.status_code == 200
    assert "You passed this spot on" in response.content.decode()
    assert refetch(offered).status == WaitlistStatus.DECLINED
    assert refetch(queue[1]).status == WaitlistStatus.OFFERED
    again = post(client, offered, "decline", links.make_claim_token(offered))
    assert again.status_code == 200 and refetch(queue[1]).status == WaitlistStatus.OFFERED


def test_a_claim_after_the_offer_ended_is_refused_and_passed_on(client, offered, queue):
    token = links.make_claim_token(offered)
    WaitlistEntry.objects.filter(pk=offered.pk).update(
        offer_expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = post(client, offered, "claim", token)
    assert response.status_code == 409
    assert "This offer has ended" in response.content.decode()
    assert 'value="claim"' not in response.content.decode()
    assert refetch(offered).status == WaitlistStatus.EXPIRED
    assert refetch(offered).booking is None
    assert refetch(queue[1]).status == WaitlistStatus.OFFERED


@pytest.mark.parametrize(
    "token",
    ["", "tampered", "x" * 600, None],
    ids=["empty", "tampered", "too-long", "missing"],
)
def test_a_bad_or_missing_token_is_refused_with_a_4xx(client, offered, token):
    data = {"action": "claim"} if token is None else {"action": "claim", "token": token}
    response = client.post(url(offered), data)
    assert response.status_code in (400, 403)
    assert 'value="claim"' not in response.content.decode()
    assert refetch(offered).status == WaitlistStatus.OFFERED
    assert not BookingRequest.objects.filter(client_email="wanda@example.com").exists()


def test_a_tampered_token_is_403_and_shows_no_name(client, offered):
    token = links.make_claim_token(offered)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = post(client, offered, "claim", tampered)
    assert response.status_code == 403
    html = response.content.decode()
    assert "This link is not valid" in html and "Wanda" not in html
    assert client.get(url(offered, tampered)).status_code == 403
    assert client.get(url(offered)).status_code == 403


def test_another_entrys_token_does_not_work(client, offered, queue):
    response = post(client, offered, "claim", links.make_claim_token(queue[1]))
    assert response.status_code == 403
    assert refetch(offered).status == WaitlistStatus.OFFERED


def test_an_unknown_action_is_a_400(client, offered):
    response = post(client, offered, "steal", links.make_claim_token(offered))
    assert response.status_code == 400
    assert refetch(offered).status == WaitlistStatus.OFFERED


@pytest.mark.parametrize("reference", ["NOPE2345", "x" * 300, "%00"])
def test_an_unknown_reference_is_a_404(client, reference):
    assert client.get(f"/booking/waitlist/{reference}/").status_code == 404


def test_a_lower_case_reference_redirects_keeping_the_token(client, offered):
    token = links.make_claim_token(offered)
    response = client.get(url(offered, token).replace(offered.reference, offered.reference.lower()))
    assert response.status_code == 302
    assert response["Location"] == url(offered, token)


def test_a_cancelled_session_is_said_and_cannot_be_claimed(client, offered, full):
    full.status = SessionStatus.CANCELLED
    full.save(update_fields=["status"])
    token = links.make_claim_token(offered)
    page = client.get(url(offered, token))
    assert "Northside Yoga cancelled this session" in page.content.decode()
    assert 'value="claim"' not in page.content.decode()
    response = post(client, offered, "claim", token)
    assert response.status_code == 409
    assert not BookingRequest.objects.filter(client_email="wanda@example.com").exists()


def test_a_session_that_has_started_cannot_be_claimed(client, offered, full):
    full.starts_at = timezone.now() - timedelta(minutes=5)
    full.save(update_fields=["starts_at"])
    token = links.make_claim_token(offered)
    assert "already started" in client.get(url(offered, token)).content.decode()
    response = post(client, offered, "claim", token)
    assert response.status_code == 409
    assert "already started" in response.content.decode()
    assert not BookingRequest.objects.filter(client_email="wanda@example.com").exists()


def test_a_waiting_entry_has_nothing_to_claim(client, offered, queue):
    nick = queue[1]
    token = links.make_claim_token(nick)  # no offer yet: its state differs from any later one
    page = client.get(url(nick, token))
    assert 'value="claim"' not in page.content.decode()
    assert post(client, nick, "claim", token).status_code in (403, 409)
    assert refetch(nick).status == WaitlistStatus.WAITING


def test_the_form_is_csrf_protected(offered):
    strict = Client(enforce_csrf_checks=True)
    response = post(strict, offered, "claim", links.make_claim_token(offered))
    assert response.status_code == 403
    assert refetch(offered).status == WaitlistStatus.OFFERED


def test_the_form_works_with_the_csrf_token_from_the_page(offered):
    strict = Client(enforce_csrf_checks=True)
    token = links.make_claim_token(offered)
    html = strict.get(url(offered, token)).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = strict.post(url(offered), {"action": "claim", "token": token,
                                          "csrfmiddlewaretoken": csrf})  # fmt: skip
    assert response.status_code == 200
    assert refetch(offered).status == WaitlistStatus.CLAIMED


def test_bad_tokens_count_against_the_ip_until_it_is_locked_out(client, offered, settings):
    settings.RATE_LIMIT_FAILURES_PER_IP = 3
    for _ in range(3):
        assert post(client, offered, "claim", "forged").status_code == 403
    locked = post(client, offered, "claim", links.make_claim_token(offered))
    assert locked.status_code == 429 and locked["Retry-After"]
    assert client.get(url(offered, links.make_claim_token(offered))).status_code == 429
    assert refetch(offered).status == WaitlistStatus.OFFERED


def test_unknown_references_count_against_the_ip(client, offered, settings):
    settings.RATE_LIMIT_FAILURES_PER_IP = 2
    for n in range(2):
        assert client.get(f"/booking/waitlist/ZZZZZZ{n}2/").status_code == 404
    assert client.get(url(offered, links.make_claim_token(offered))).status_code == 429


def test_a_post_fails_closed_when_the_limiter_is_down(client, offered, monkeypatch):
    from booking.services import counters
    from booking.services import exceptions as exc

    def down(*args, **kwargs):
        raise exc.ServiceUnavailable("cache down", retry_after=60)

    monkeypatch.setattr(counters, "check_and_count", down)
    monkeypatch.setattr(counters, "read", down)
    token = links.make_claim_token(offered)
    assert client.get(url(offered, token)).status_code == 200  # showing fails open
    response = post(client, offered, "claim", token)
    assert response.status_code == 503
    assert refetch(offered).status == WaitlistStatus.OFFERED


def test_an_offer_closed_by_the_sessions_cancellation_says_the_session_was_cancelled(
    client, offered, full
):
    """Closed with its session, the offer's link says the business cancelled the session,
    not that the business removed the client."""
    from booking.services.sessions import cancel_sessions

    token = links.make_claim_token(offered)  # the offer email's link
    cancel_sessions([full.pk], actor=None, reason="Flooded studio")
    assert refetch(offered).status == WaitlistStatus.REMOVED
    page = client.get(url(offered, token)).content.decode()
    assert "Northside Yoga cancelled this session" in page
    assert "removed you" not in page
