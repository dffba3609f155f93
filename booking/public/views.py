"""The public cancellation page: `/booking/cancel/<reference>/`.

A GET shows the booking (no client personal data) and never changes anything,
whatever its query string: even a valid signed link only pre-fills the form,
so mail scanners that follow links cannot cancel. A POST cancels through
`services.cancel_booking_as_client` (the same proof and rate limits as the API) and shows a
confirmation; every refusal gets its own message and HTTP status.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from booking.audit import RequestContext, client_ip
from booking.models import BookingRequest
from booking.public.forms import CancelForm, LinkRequestForm, ReferenceForm, SignedLinkCancelForm
from booking.public.notices import (
    TOKEN_NOTICES,
    UNAVAILABLE,
    Notice,
    notice_for,
    status_words,
)
from booking.public.pages import canonical_redirect
from booking.public.pages import private as _private
from booking.public.pages import refused_page as _refused_page
from booking.services import cancel_booking_as_client, charges, links, throttle
from booking.services import exceptions as exc
from booking.services.lifecycle.client import find_booking, look_up, request_cancel_link
from booking.services.links import TokenCheck
from booking.services.summary import Summary

LINK_SENT = (
    "If those details match the booking, we have emailed a cancellation link to the "
    "address it was made with. Nothing arrived? Check your spam folder, or contact "
    "the business."
)
LINK_SENT_TAG = "link-sent"  # shown in the link card, where the client's eye is


def _render_page(
    request: HttpRequest,
    booking: BookingRequest,
    *,
    form: forms.Form | None = None,
    link_form: forms.Form | None = None,
    token: str = "",
    notice: Notice | None = None,
    locked: bool = False,
    status: int = 200,
) -> HttpResponse:
    summary = Summary.of(booking)
    token_check = links.check_token(token, booking) if token else None
    # The form carries the fee the page states: the cancel charges exactly that.
    accepted = {"accepted_fee": summary.quote.fee_text}
    if form is None:
        form = (
            SignedLinkCancelForm(initial={"token": token, **accepted})
            if token_check is TokenCheck.VALID
            else CancelForm(initial=accepted)
        )
    elif form.is_bound:
        form = type(form)({**{name: form.data.get(name) for name in form.data}, **accepted})
    if notice is None and summary.refusal is not None:
        notice = notice_for(summary.refusal.error(summary.refusal.message), summary)
        notice = Notice(notice.title, notice.text, notice.contact, kind="info")
    locked_for = _locked_for(request, booking, summary, notice)
    locked = locked or bool(locked_for)
    if locked_for:
        notice = notice_for(exc.RateLimited("", retry_after=locked_for), summary)
    form_shown = summary.can_cancel and not locked
    at_form = notice is not None and notice.at_form and form_shown
    return render(
        request,
        "booking/public/cancel.html",
        {
            "summary": summary,
            "booking": booking,
            "status_words": status_words(booking),
            "form": form,
            "signed": isinstance(form, SignedLinkCancelForm),
            "link_form": link_form or LinkRequestForm(),
            "token_notice": TOKEN_NOTICES.get(token_check) if token_check else None,
            "notice": None if at_form else notice,
            "form_notice": notice if at_form else None,
            "locked": locked,
            "link_card": summary.can_cancel and not isinstance(form, SignedLinkCancelForm),
        },
        status=status,
    )


def _locked_for(
    request: HttpRequest, booking: BookingRequest, summary: Summary, notice: Notice | None
) -> int:
    """Seconds this client stays locked out of the form (0 when it is not shown anyway).

    Showing the page is read-only, so it fails open when the limiter is down: the
    POSTs that need the limiter refuse on their own (503).
    """
    if not summary.can_cancel or notice is not None:
        return 0
    return max(_waits(request, booking))


def _waits(request: HttpRequest, booking: BookingRequest) -> tuple[int, int]:
    """The reference's and the IP's lock-out, for display; (0, 0) when the limiter is down."""
    limiter = throttle.VerificationLimiter(reference=booking.reference, ip=client_ip(request))
    try:
        return limiter.waits()
    except exc.ServiceUnavailable:
        return 0, 0


def _not_found(request: HttpRequest, reference: str) -> HttpResponse:
    form = ReferenceForm(initial={"reference": reference[:32]})
    return render(
        request,
        "booking/public/not_found.html",
        {"reference": reference[:32], "form": form},
        status=404,
    )


def _look_up(request: HttpRequest, reference: str) -> BookingRequest | HttpResponse:
    """The booking, or the page answering an unknown reference / a locked-out IP.

    A GET fails open when the limiter is down (it only shows); a POST fails closed.
    """
    ip = client_ip(request)
    try:
        # A POST's next step checks the IP's limit itself: no read of its own here.
        return look_up(reference, ip=ip, guard_found=False)
    except exc.BookingNotFound:
        return _not_found(request, reference)
    except exc.RateLimited as error:
        return _refused_page(request, error)
    except exc.ServiceUnavailable as error:
        if request.method == "POST":
            return _refused_page(request, error)
        try:
            return find_booking(reference)
        except exc.BookingNotFound:
            return _not_found(request, reference)


@_private
@require_http_methods(["GET", "HEAD"])
def find_page(request: HttpRequest) -> HttpResponse:
    """`/booking/cancel/`: type the reference from the booking confirmation."""
    if "reference" not in request.GET:
        return render(request, "booking/public/find.html", {"form": ReferenceForm()})
    form = ReferenceForm(request.GET)
    if not form.is_valid():
        return render(request, "booking/public/find.html", {"form": form}, status=400)
    reference = form.cleaned_data["reference"]
    try:
        booking = find_booking(reference)
    except exc.BookingNotFound:
        return _not_found(request, reference)
    return redirect("booking:cancel", booking.reference)


@_private
@require_http_methods(["GET", "HEAD", "POST"])
def cancel_page(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _look_up(request, reference)
    if isinstance(booking, HttpResponse):
        return booking
    if request.method == "POST":
        return _cancel(request, booking)
    if booking.reference != reference:  # typed in lower case, or with spaces
        return canonical_redirect(request, "booking:cancel", booking.reference)
    # An IP at its failure limit learns nothing about which references exist.
    _, ip_wait = _waits(request, booking)
    if ip_wait:
        return _refused_page(request, exc.RateLimited("", retry_after=ip_wait))
    return _render_page(request, booking, token=request.GET.get("token", ""))


def _cancel(request: HttpRequest, booking: BookingRequest) -> HttpResponse:
    signed = "token" in request.POST
    form = SignedLinkCancelForm(request.POST) if signed else CancelForm(request.POST)
    if not form.is_valid():
        return _render_page(request, booking, form=form, status=400)
    try:
        cancelled = cancel_booking_as_client(
            reference=booking.reference,
            proof=form.proof(),
            reason=form.cleaned_data["reason"],
            context=RequestContext.from_request(request),
            accepted_fee=form.cleaned_data["accepted_fee"],
        )
    except exc.BookingNotFound:
        return _not_found(request, booking.reference)
    except exc.BookingError as error:
        if isinstance(error, exc.RateLimited) and _waits(request, booking)[1]:
            return _refused_page(request, error)  # the IP's lock: show no booking
        try:  # show the booking as it is now
            current = find_booking(booking.reference)
        except exc.BookingNotFound:
            return _not_found(request, booking.reference)
        if signed and isinstance(error, exc.IdentityNotVerified):
            # The link did not prove it: back to the typed details, saying why.
            token = form.cleaned_data["token"]
            return _render_page(request, current, token=token, status=error.status_code)
        return _render_page(
            request,
            current,
            form=form,
            notice=notice_for(error, Summary.of(current)),
            locked=isinstance(error, exc.RateLimited),
            status=error.status_code,
        )
    summary = Summary.of(cancelled)
    assert cancelled.cancelled_at is not None  # set by the cancellation
    return render(
        request,
        "booking/public/cancelled.html",
        {
            "summary": summary,
            "booking": cancelled,
            "cancelled_at": summary.local(cancelled.cancelled_at),
            "cancelled_words": summary.long_words(cancelled.cancelled_at),
            "fee_words": charges.fee_words(cancelled),
        },
    )


@_private
@require_POST
def request_link(request: HttpRequest, reference: str) -> HttpResponse:
    """ "Email me a cancellation link": the same neutral answer whatever happened."""
    booking = _look_up(request, reference)
    if isinstance(booking, HttpResponse):
        return booking
    _, ip_wait = _waits(request, booking)
    if ip_wait:  # as for an unknown reference: a locked-out IP learns nothing
        return _refused_page(request, exc.RateLimited("", retry_after=ip_wait))
    form = LinkRequestForm(request.POST)
    if not form.is_valid():
        return _render_page(request, booking, link_form=form, status=400)
    try:
        request_cancel_link(
            reference=booking.reference,
            email=form.cleaned_data["client_email"],
            phone=form.cleaned_data["client_phone"],
            ip=client_ip(request),
        )
    except exc.ServiceUnavailable as error:  # fail closed: nothing counted, nothing sent
        return _render_page(request, booking, link_form=form, status=error.status_code,
                            notice=UNAVAILABLE)  # fmt: skip
    messages.info(request, LINK_SENT, extra_tags=LINK_SENT_TAG)
    return redirect(reverse("booking:cancel", args=[booking.reference]) + "#link-sent")
