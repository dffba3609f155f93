"""The public client API: look a booking up, and cancel it as its client.

No login and no session: a client proves the booking is theirs in the request
body (the booking's email or phone, or a signed link's token), and failed proofs
are rate-limited exactly as on the page (both call
`services.cancel_booking_as_client`). Nothing about
the client is returned before that proof; unknown and soft-deleted references
are 404; every error is JSON.

CSRF: the cancel endpoint is `csrf_exempt` on purpose. CSRF protection stops a
foreign site from riding a visitor's cookies, and this endpoint reads none: it
ignores the session and the logged-in user, and its only authority is the proof
in the body, which a forging site does not have. It is meant for programs (apps,
integrations) that hold no CSRF cookie.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from booking.api.contract.client import BOOKING, CANCEL, refusal_details
from booking.api.contract.endpoints import Endpoint, View
from booking.api.responses import error_response
from booking.audit import RequestContext, client_ip
from booking.services import cancel_booking_as_client, charges
from booking.services import exceptions as exc
from booking.services.lifecycle.client import Proof, find_booking, look_up
from booking.services.summary import Summary

DETAIL, CANCEL_BOOKING = BOOKING.operation("GET"), CANCEL.operation("POST")


def public_endpoint(endpoint: Endpoint) -> Callable[[View], View]:
    """Bind a view to its endpoint (405 for other methods); no session, no cache.

    `csrf_exempt`: the endpoints read no cookie (see the module docstring), and a
    read-only one answers an unsafe method with its JSON 405, not a CSRF page.
    """

    def decorate(view: View) -> View:
        return csrf_exempt(endpoint.bind(never_cache(view)))

    return decorate


def _refused(error: exc.BookingError, summary: Summary | None = None) -> JsonResponse:
    details = refusal_details(summary, error) if summary else {}
    response = error_response(error, **details)
    if "retry_after" in error.details:  # rate-limited (429) or the limiter is down (503)
        response["Retry-After"] = str(error.details["retry_after"])
    return response


@public_endpoint(BOOKING)
def booking_detail(request: HttpRequest, reference: str) -> JsonResponse:
    """The booking as anyone holding its reference may see it: no client personal data.

    An unknown reference counts against the caller's IP, and an IP at its limit
    gets 429 for every reference. Read-only, so it fails open: with the limiter
    down the lookup is answered without it.
    """
    try:
        booking = look_up(reference, ip=client_ip(request))
    except exc.ServiceUnavailable:
        try:
            booking = find_booking(reference)
        except exc.BookingNotFound as error:
            return _refused(error)
    except exc.BookingError as error:
        return _refused(error)
    return DETAIL.answer(Summary.of(booking))


def _cancel_input(request: HttpRequest) -> tuple[Proof, str, Decimal | None]:
    values = CANCEL_BOOKING.read(request)
    proof = Proof(email=values["client_email"], phone=values["client_phone"], token=values["token"])
    if not proof.given:
        raise exc.InvalidInput("give client_email or client_phone (or a link's token)")
    if proof.token and (proof.email or proof.phone):
        raise exc.InvalidInput("give either contact details or a token, not both")
    return proof, values["reason"], charges.parse_accepted_fee(values["accepted_fee"])


@public_endpoint(CANCEL)  # see the module docstring: no cookie authority, nothing to forge
def cancel_booking(request: HttpRequest, reference: str) -> JsonResponse:
    try:
        proof, reason, accepted_fee = _cancel_input(request)
    except exc.BookingError as error:
        return _refused(error)
    now = timezone.now()
    try:
        booking = cancel_booking_as_client(
            reference=reference,
            proof=proof,
            reason=reason,
            accepted_fee=accepted_fee,
            context=RequestContext.from_request(request),
            now=now,
        )
    except exc.BookingError as error:
        locked = error.details.get("booking")
        return _refused(error, Summary.of(locked, now=now) if locked is not None else None)
    return CANCEL_BOOKING.answer(booking)
