"""Signed cancellation links: `/booking/cancel/<reference>/?token=…`.

A token proves the holder received it at the booking's email address. It is
made with Django's signing (salted, timestamped), expires after
CANCEL_LINK_MAX_AGE seconds, and is bound to the booking's reference and its
current state, so it dies once the booking is cancelled (or otherwise closed).
It never cancels by itself: the page still needs the client's POST.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core import signing
from django.urls import reverse

from booking.models import BookingRequest

SALT = "booking.cancel-link"
DEFAULT_MAX_AGE = 7 * 24 * 3600


def _state(booking: BookingRequest) -> str:
    open_ = booking.is_active and not booking.is_deleted
    raw = f"{booking.reference}:{open_}:{booking.cancelled_at}:{booking.status}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _max_age() -> int:
    return getattr(settings, "CANCEL_LINK_MAX_AGE", DEFAULT_MAX_AGE)


def make_cancel_token(booking: BookingRequest) -> str:
    return signing.dumps({"r": booking.reference, "s": _state(booking)}, salt=SALT, compress=True)


def token_matches(token: str, booking: BookingRequest) -> bool:
    """True when the token is genuine, unexpired, for this booking and its current state."""
    if not isinstance(token, str) or not token or len(token) > 512:
        return False
    try:
        data = signing.loads(token, salt=SALT, max_age=_max_age())
    except signing.BadSignature:  # includes SignatureExpired
        return False
    return (
        isinstance(data, dict)
        and data.get("r") == booking.reference
        and data.get("s") == _state(booking)
    )


def cancel_url(booking: BookingRequest, *, with_token: bool = True) -> str:
    """The absolute URL of the booking's public cancel page, signed when asked."""
    path = reverse("booking:cancel", args=[booking.reference])
    url = f"{settings.SITE_URL}{path}"
    if with_token:
        url += f"?token={make_cancel_token(booking)}"
    return url
