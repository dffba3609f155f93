"""Signed links: cancellation (`/booking/cancel/<reference>/?token=…`) and waitlist
offers (`/booking/waitlist/<reference>/?token=…`, at the end of this module).

A token proves the holder received it at the booking's email address. It is
made with Django's signing (salted, timestamped), expires after
CANCEL_LINK_MAX_AGE seconds, and is bound to the booking's reference and its
current state, so it dies once the booking is cancelled (or otherwise closed).
It never cancels by itself: the page still needs the client's POST. (A client's
request to be emailed a link is part of the client's flow, in
`booking.services.lifecycle.client`: this module only makes and checks links.)

"Current state" is whether the booking is still open (active and not deleted)
and when it was cancelled, not its exact status: a link sent while a booking was
pending keeps working after staff approve it, and dies when it is cancelled.
"""

from __future__ import annotations

import enum
import hashlib

from django.conf import settings
from django.core import signing
from django.urls import reverse

from booking.models import BookingRequest
from booking.waitlist.models import WaitlistEntry

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


# Waitlist offers. A claim link proves that its holder received the offer at the
# entry's address. It is bound to the entry's reference, the offer it was sent
# for (`offered_at`) and the address, so a link from an earlier offer, or sent
# before staff corrected the address, is refused. It needs no age limit of its
# own: the offer's window bounds what it can do (claim or decline an open offer;
# afterwards the page only shows what became of it).
CLAIM_SALT = "booking.waitlist-claim"
# The claim page's path (the public pages' namespace, `booking:waitlist`).
CLAIM_PATH = "/booking/waitlist/{reference}/"


def _offer_state(entry: WaitlistEntry) -> str:
    email = entry.client_email.strip().casefold()
    raw = f"{entry.reference}:{entry.offered_at}:{email}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def make_claim_token(entry: WaitlistEntry) -> str:
    return signing.dumps(
        {"r": entry.reference, "s": _offer_state(entry)}, salt=CLAIM_SALT, compress=True
    )


def check_claim_token(token: object, entry: WaitlistEntry) -> TokenCheck:
    """What a token proves about this entry's current offer (VALID, USED: an earlier
    offer's or an old address's, INVALID: forged or another entry's)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return TokenCheck.INVALID
    try:
        data = signing.loads(token, salt=CLAIM_SALT)
    except signing.BadSignature:
        return TokenCheck.INVALID
    if not isinstance(data, dict) or data.get("r") != entry.reference:
        return TokenCheck.INVALID
    if entry.offered_at is None or data.get("s") != _offer_state(entry):
        return TokenCheck.USED
    return TokenCheck.VALID


def claim_url(entry: WaitlistEntry) -> str:
    """The absolute, signed URL of the entry's claim page (sent with each offer)."""
    path = CLAIM_PATH.format(reference=entry.reference)
    return f"{settings.SITE_URL}{path}?token={make_claim_token(entry)}"
