"""The waitlist's claim page: `/booking/waitlist/<reference>/?token=…`.

A GET shows the offer (the session, its time and the offer's end in the
business's zone, what each answer does) and never changes anything, whatever
its query string: mail scanners follow links. Only a POST (`action=claim` or
`action=decline`, with the link's token) answers, through
`services.waitlist.client.answer` (the same rate limits as the cancel page).
Without a link that proves the offer the page shows the session only, with a
4xx status; every refusal gets its own words and status, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from booking.audit import RequestContext, client_ip
from booking.models import SessionStatus
from booking.public.forms import OfferAnswerForm
from booking.public.notices import Notice
from booking.public.pages import canonical_redirect, private, refused_page
from booking.services import exceptions as exc
from booking.services import links
from booking.services.links import TokenCheck
from booking.services.waitlist import describe, find_offer
from booking.services.waitlist.client import Answer, answer, limiter_for, look_up_offer
from booking.waitlist.models import WaitlistEntry, WaitlistStatus

LINK_NOTICES = {
    None: Notice(
        "Open the link from your email",
        "To take this spot or pass it on, open the link in the email that offered it to you.",
    ),
    TokenCheck.USED: Notice(
        "This link no longer applies",
        "It was sent for an earlier offer, or to an address the business has since "
        "changed. Open the link in the latest email about this offer, or contact the business.",
        contact=True,
    ),
    TokenCheck.INVALID: Notice(
        "This link is not valid",
        "It may have been cut short when it was copied. Open the link in the email that "
        "offered you the spot, or contact the business.",
        contact=True,
    ),
}
BAD_INPUT = Notice(
    "Please choose an answer", "Press “Take the spot” or “Pass it on”.", kind="error"
)


@dataclass(frozen=True)
class OfferView:
    """What the page shows of an entry: its link's proof, and its state in words."""

    entry: WaitlistEntry
    proved: bool
    can_answer: bool
    notice: Notice | None


def _state_notice(entry: WaitlistEntry, *, now: datetime, refusal: str) -> Notice | None:
    """The words for an offer that cannot be answered now (None: it can)."""
    session = entry.session
    name = session.business.name
    if entry.status == WaitlistStatus.CLAIMED:
        return None  # the claimed page says it
    if entry.status == WaitlistStatus.DECLINED:
        return Notice("You passed this spot on", "It goes to the next person on the waitlist. "
                      "Changed your mind? Contact the business:", contact=True,
                      kind="info")  # fmt: skip
    # A cancelled or started session closed its queue: say why, not "removed".
    if session.status == SessionStatus.CANCELLED:
        return Notice(f"{name} cancelled this session", "It will not take place, so there "
                      "is no spot to take. Questions? Contact the business:", contact=True,
                      kind="info")  # fmt: skip
    if session.starts_at <= now:
        return Notice("This session has already started", "There is no spot left to take. "
                      "Questions? Contact the business:", contact=True, kind="info")  # fmt: skip
    if entry.status == WaitlistStatus.REMOVED:
        return Notice("You are no longer on this waitlist", f"{name} removed you from it. "
                      "Questions? Contact the business:", contact=True, kind="info")  # fmt: skip
    if entry.status == WaitlistStatus.WAITING:
        return Notice("No spot has been offered to you yet", "You are on the waitlist: we will "
                      "email you as soon as a spot comes free.", kind="info")  # fmt: skip
    if entry.status == WaitlistStatus.EXPIRED or not entry.offer_is_open(now=now):
        return Notice("This offer has ended", "The time to take the spot ran out, so it was "
                      "passed on to the next person on the waitlist. Questions? Contact the "
                      "business:", contact=True, kind="info")  # fmt: skip
    if refusal:
        return Notice("We could not book this spot", f"{refusal[:1].upper()}{refusal[1:]}. "
                      "Please contact the business:", contact=True)  # fmt: skip
    return None


def _view(entry: WaitlistEntry, token: str, *, now: datetime, refusal: str = "") -> OfferView:
    check = links.check_claim_token(token, entry) if token else None
    proved = check is TokenCheck.VALID
    if not proved:
        return OfferView(entry, False, False, LINK_NOTICES.get(check, LINK_NOTICES[None]))
    notice = _state_notice(entry, now=now, refusal=refusal)
    can_answer = describe(entry, now=now).can_answer and not refusal
    return OfferView(entry, True, can_answer, notice)


def _render(request: HttpRequest, entry: WaitlistEntry, *, token: str, refusal: str = "",
            notice: Notice | None = None, status: int | None = None) -> HttpResponse:  # fmt: skip
    now = timezone.now()
    view = _view(entry, token, now=now, refusal=refusal)
    if view.proved and entry.status == WaitlistStatus.CLAIMED:
        return _claimed(request, entry, again=True, status=status or 200)
    status = status or (200 if view.proved else 403)
    context = {
        "entry": entry,
        "session": entry.session,
        "business": entry.session.business,
        "view": view,
        "notice": notice or view.notice,
        "token": token if view.proved else "",
        "policy": entry.session.business.booking_settings,
    }
    return render(request, "booking/public/offer.html", context, status=status)


def _claimed(
    request: HttpRequest, entry: WaitlistEntry, *, again: bool, status: int = 200
) -> HttpResponse:
    booking = entry.booking
    context = {
        "entry": entry,
        "booking": booking,
        "session": entry.session,
        "business": entry.session.business,
        "again": again,
        "cancel_url": reverse("booking:cancel", args=[booking.reference]) if booking else "",
    }
    return render(request, "booking/public/offer_claimed.html", context, status=status)


def _not_found(request: HttpRequest, reference: str) -> HttpResponse:
    return render(request, "booking/public/offer_not_found.html",
                  {"reference": reference[:32]}, status=404)  # fmt: skip


def _look_up(request: HttpRequest, reference: str) -> WaitlistEntry | HttpResponse:
    """The entry, or the page answering an unknown reference / a locked-out IP.

    A GET fails open when the limiter is down (it only shows); a POST fails closed.
    """
    try:
        return look_up_offer(reference, ip=client_ip(request), guard_found=False)
    except exc.BookingNotFound:
        return _not_found(request, reference)
    except exc.RateLimited as error:
        return refused_page(request, error)
    except exc.ServiceUnavailable as error:
        if request.method == "POST":
            return refused_page(request, error)
        try:
            return find_offer(reference)
        except exc.BookingNotFound:
            return _not_found(request, reference)


def _ip_wait(request: HttpRequest, entry: WaitlistEntry) -> int:
    try:
        return limiter_for(entry, client_ip(request)).waits()[1]
    except exc.ServiceUnavailable:
        return 0  # showing is read-only: it fails open


@private
@require_http_methods(["GET", "HEAD", "POST"])
def offer_page(request: HttpRequest, reference: str) -> HttpResponse:
    entry = _look_up(request, reference)
    if isinstance(entry, HttpResponse):
        return entry
    if request.method == "POST":
        return _answer(request, entry)
    if entry.reference != reference:  # typed in lower case, or with spaces
        return canonical_redirect(request, "booking:waitlist", entry.reference)
    # An IP at its failure limit learns nothing about which offers exist.
    if wait := _ip_wait(request, entry):
        return refused_page(request, exc.RateLimited("", retry_after=wait))
    return _render(request, entry, token=request.GET.get("token", ""))


def _answer(request: HttpRequest, entry: WaitlistEntry) -> HttpResponse:
    form = OfferAnswerForm(request.POST)
    token = request.POST.get("token", "")
    if not form.is_valid():
        return _render(request, entry, token=token if isinstance(token, str) else "",
                       notice=BAD_INPUT, status=400)  # fmt: skip
    token = form.cleaned_data["token"]
    try:
        outcome = answer(entry.reference, choice=Answer(form.cleaned_data["action"]),
                         token=token, context=RequestContext.from_request(request))  # fmt: skip
    except exc.BookingNotFound:
        return _not_found(request, entry.reference)
    except (exc.RateLimited, exc.ServiceUnavailable) as error:
        return refused_page(request, error)
    except exc.BookingError as error:
        try:  # show the offer as it is now
            current = find_offer(entry.reference)
        except exc.BookingNotFound:
            return _not_found(request, entry.reference)
        refusal = "" if isinstance(error, exc.IdentityNotVerified) else error.message
        return _render(request, current, token=token, refusal=refusal, status=error.status_code)
    if outcome.choice is Answer.CLAIM:
        return _claimed(request, outcome.entry, again=not outcome.changed)
    return _render(request, outcome.entry, token=token)
