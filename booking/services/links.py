"""Signed cancellation links: `/booking/cancel/<reference>/?token=…`.

A token proves the holder received it at the booking's email address. It is
made with Django's signing (salted, timestamped), expires after
CANCEL_LINK_MAX_AGE seconds, and is bound to the booking's reference and its
current state, so it dies once the booking is cancelled (or otherwise closed).
It never cancels by itself: the page still needs the client's POST.

"Current state" is whether the booking is still open (active and not deleted)
and when it was cancelled, not its exact status: a link sent while a booking was
pending keeps working after staff approve it, and dies when it is cancelled.
"""

from __future__ import annotations

import enum
import hashlib

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from booking.models import BookingRequest
from booking.services import rules, throttle
from booking.services.identity import identity_matches

SALT = "booking.cancel-link"
DEFAULT_MAX_AGE = 7 * 24 * 3600
MAX_TOKEN_LENGTH = 512


def _state(booking: BookingRequest) -> str:
    # The address the link was sent to is part of the state: once staff correct
    # the booking's email (or it is erased), links sent to the old one die.
    open_ = booking.is_active and not booking.is_deleted
    email = booking.client_email.strip().casefold()
    raw = f"{booking.reference}:{open_}:{booking.cancelled_at}:{email}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _max_age() -> int:
    return getattr(settings, "CANCEL_LINK_MAX_AGE", DEFAULT_MAX_AGE)


def make_cancel_token(booking: BookingRequest) -> str:
    return signing.dumps({"r": booking.reference, "s": _state(booking)}, salt=SALT, compress=True)


class TokenCheck(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"  # genuine, but older than CANCEL_LINK_MAX_AGE
    USED = "used"  # genuine and for this booking, whose state has changed since
    INVALID = "invalid"  # forged, tampered with, malformed, or another booking's


def check_token(token: object, booking: BookingRequest) -> TokenCheck:
    """What a token proves about this booking (the page words each case differently)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return TokenCheck.INVALID
    try:
        data = signing.loads(token, salt=SALT, max_age=_max_age())
    except signing.SignatureExpired:
        return TokenCheck.EXPIRED
    except signing.BadSignature:
        return TokenCheck.INVALID
    if not isinstance(data, dict) or data.get("r") != booking.reference:
        return TokenCheck.INVALID
    if data.get("s") != _state(booking):
        return TokenCheck.USED
    return TokenCheck.VALID


def token_matches(token: object, booking: BookingRequest) -> bool:
    """True when the token is genuine, unexpired, for this booking and its current state."""
    return check_token(token, booking) is TokenCheck.VALID


def cancel_url(booking: BookingRequest, *, with_token: bool = True) -> str:
    """The absolute URL of the booking's public cancel page, signed when asked."""
    path = reverse("booking:cancel", args=[booking.reference])
    url = f"{settings.SITE_URL}{path}"
    if with_token:
        url += f"?token={make_cancel_token(booking)}"
    return url


def request_cancel_link(
    *, reference: str, email: str = "", phone: str = "", ip: str | None = None
) -> None:
    """Email a signed cancel link to the booking's own address, when the details match.

    The caller answers the same whatever happens here, so that nobody learns
    whether the details matched, and in the same time: the request does the same
    work either way (the limits, one lookup, one comparison, one task enqueued),
    and the email is rendered, written and sent by the worker
    (`deliver_cancel_link`), for matching details only. Nothing is sent when the
    booking is unknown, deleted or no longer cancellable online, nor past the
    per-booking and per-IP limits (every request counts, so the client's mailbox
    cannot be flooded).
    """
    if not throttle.allow_link_request(reference=reference, ip=ip):
        return
    # The business comes along: a phone number is read with its country.
    booking = (
        BookingRequest.objects.select_related("session__business")
        .filter(reference=reference)
        .first()
    )
    matched = booking is not None and identity_matches(booking=booking, email=email, phone=phone)
    _enqueue(reference, matched)


def _enqueue(reference: str, matched: bool) -> None:
    """One task per request, matched or not: the task carries no personal data."""
    send_cancel_link.enqueue(reference, matched)


def deliver_cancel_link(reference: str, matched: bool) -> bool:
    """The worker's half of `request_cancel_link`: queue the email when the details matched."""
    # Imported here: the notifications build their links with this module.
    from booking.services import notifications

    if not matched:
        return False
    booking = BookingRequest.objects.with_related().filter(reference=reference).first()
    if booking is None or rules.check_client_cancel(booking, now=timezone.now()) is not None:
        return False
    with transaction.atomic():
        notifications.cancellation_link_requested(booking)
    return True


@task(queue_name="email")
def send_cancel_link(reference: str, matched: bool) -> bool:
    """The worker's task of a link request (run by `db_worker`, the email queue)."""
    return deliver_cancel_link(reference, matched)
