"""The claim page's calls: the client answers an offer through its signed link.

The page (`booking.public.offers`) is a thin caller of these, as the cancel page
is of `lifecycle.client`, and with the same rate limits
(`throttle.VerificationLimiter`):

- a lookup of an unknown reference counts against the client IP's failure
  limit, and an IP at that limit learns nothing about which offers exist;
- a link that does not prove the offer (tampered, another entry's, an earlier
  offer's) counts as a failure of the IP and of the entry's reference, before
  any transaction opens or any row is locked; a valid link is never refused by
  the reference's limit (only by the IP's);
- the limiter unreachable: nothing is verified or changed (ServiceUnavailable, 503).

`answer` then calls `claims.claim` or `claims.decline`, which check the link
again under the locks and own the transaction, history and emails.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from booking.audit import SYSTEM, RequestContext
from booking.services import exceptions as exc
from booking.services import links, throttle
from booking.services.waitlist.claims import claim, decline, find_offer
from booking.waitlist.models import WaitlistEntry

NOT_VERIFIED = "this link is not valid for this offer"


class Answer(enum.StrEnum):
    CLAIM = "claim"
    DECLINE = "decline"


def look_up_offer(reference: object, *, ip: str | None, guard_found: bool = True) -> WaitlistEntry:
    """`find_offer` for a client: an unknown reference counts against the IP's limit.

    RateLimited (429) while the IP is at its failure limit, found or not
    (`guard_found=False` skips that read where the caller's next step checks
    the IP's limit anyway); ServiceUnavailable (503) when the limiter is down.
    """
    try:
        entry = find_offer(reference)
    except exc.BookingNotFound:
        throttle.guard_lookup(ip, found=False)
        raise
    if guard_found:
        throttle.guard_lookup(ip, found=True)
    return entry


def limiter_for(entry: WaitlistEntry, ip: str | None) -> throttle.VerificationLimiter:
    # Counted apart from the bookings' references (both share one alphabet).
    return throttle.VerificationLimiter(reference=f"waitlist:{entry.reference}", ip=ip)


@dataclass(frozen=True)
class Outcome:
    """What an answer did: `entry` as it is now; `changed` is False for a double submit
    (the entry had already been claimed, or declined, by an earlier request)."""

    entry: WaitlistEntry
    choice: Answer
    changed: bool


def answer(
    reference: object,
    *,
    choice: Answer,
    token: object,
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> Outcome:
    """Claim or decline the offer of `reference`, proved by the link's `token`.

    Raises BookingNotFound, RateLimited, ServiceUnavailable, IdentityNotVerified
    (the link does not prove this offer), or the refusal of `claim` / `decline`
    (InvalidTransition, 409: the offer ended, was answered otherwise, or the
    session is full, cancelled or started). Idempotent: a second claim of a
    claimed offer (or decline of a declined one) returns it, `changed=False`.
    """
    entry = look_up_offer(reference, ip=context.ip_address, guard_found=False)
    limiter = limiter_for(entry, context.ip_address)

    def proves() -> bool:
        return links.check_claim_token(token, entry) is links.TokenCheck.VALID

    if not limiter.verified(proves, signed=True):
        raise exc.IdentityNotVerified(NOT_VERIFIED)
    now = now or timezone.now()
    act = claim if choice is Answer.CLAIM else decline
    answered = act(entry.reference, token=token, context=context, now=now)
    return Outcome(answered.entry, choice, answered.changed)
