"""Rate limits for the public client pages, kept in Django's cache.

The cache is shared by every web process and host (Redis through REDIS_URL in
production), so a limit holds however many workers answer. Two families:

* **Failed identity checks** (a typed email or phone, or a signed link, that does
  not prove the booking is the caller's) are counted per booking reference and
  per client IP. Once either count reaches its limit within the window, further
  attempts are refused with `RateLimited` (429) *before* anything is verified,
  until enough failures have aged out of the window. A successful check is not
  counted. The page and the API use this identically, through
  `VerificationLimiter.verified()` (called by `services.cancel_booking_as_client`).
* **Cancellation-link requests** are counted per booking (every request, matched
  or not, so the client's mailbox cannot be flooded) and per IP.

Counting is a sliding window made of buckets of 1/15 of the window (one minute
for 15 minutes). A count adds up the current bucket and the 15 before it, so a
failure stays counted for between 15 and 16 minutes: the limit errs on the side
of refusing, and "at most 10 failures within any 15 minutes" always holds. Each
bucket is one cache key changed with an atomic `incr` (atomic in Redis and in
local memory), and the counts of an attempt are one `get_many`.

IPv6 addresses are counted by their /64 network, which one client usually owns whole.
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import BaseCache, caches

from booking.services.exceptions import RateLimited

BUCKETS_PER_WINDOW = 15


@dataclass(frozen=True)
class Limit:
    """At most `max_count` events per `window` seconds for one key of `scope`."""

    scope: str
    max_count: int
    window: int

    @property
    def bucket_seconds(self) -> int:
        return max(1, math.ceil(self.window / BUCKETS_PER_WINDOW))

    @property
    def bucket_count(self) -> int:
        # One bucket more than the window holds: the oldest is only partly inside it.
        return math.ceil(self.window / self.bucket_seconds) + 1


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def failures_per_reference() -> Limit:
    return Limit(
        "fail-ref",
        _setting("RATE_LIMIT_FAILURES_PER_REFERENCE", 10),
        _setting("RATE_LIMIT_WINDOW_SECONDS", 15 * 60),
    )


def failures_per_ip() -> Limit:
    return Limit(
        "fail-ip",
        _setting("RATE_LIMIT_FAILURES_PER_IP", 30),
        _setting("RATE_LIMIT_WINDOW_SECONDS", 15 * 60),
    )


def link_requests_per_booking() -> Limit:
    return Limit(
        "link-ref",
        _setting("CANCEL_LINK_REQUESTS_PER_BOOKING", 3),
        _setting("CANCEL_LINK_REQUEST_WINDOW_SECONDS", 60 * 60),
    )


def link_requests_per_ip() -> Limit:
    return Limit(
        "link-ip",
        _setting("CANCEL_LINK_REQUESTS_PER_IP", 20),
        _setting("CANCEL_LINK_REQUEST_WINDOW_SECONDS", 60 * 60),
    )


def _cache() -> BaseCache:
    return caches[getattr(settings, "RATE_LIMIT_CACHE", "default")]


def ip_key(ip: str | None) -> str | None:
    """The counted identity of an address: itself for IPv4, its /64 for IPv6."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return f"{ipaddress.ip_network(f'{address}/64', strict=False).network_address}/64"
    return str(address)


def _bucket_keys(limit: Limit, ident: str, now: float) -> list[tuple[int, str]]:
    current = int(now // limit.bucket_seconds)
    first = current - limit.bucket_count + 1
    return [(i, f"throttle:{limit.scope}:{ident}:{i}") for i in range(first, current + 1)]


def count(limit: Limit, ident: str, *, now: float | None = None) -> int:
    return counts([(limit, ident)], now=now)[0]


def counts(scopes: list[tuple[Limit, str]], *, now: float | None = None) -> list[int]:
    """The count of each (limit, ident), read in one `get_many` (one round trip to Redis)."""
    now = time.time() if now is None else now
    keys = [[key for _, key in _bucket_keys(limit, ident, now)] for limit, ident in scopes]
    found = _cache().get_many([key for scope_keys in keys for key in scope_keys])
    return [sum(int(found.get(key, 0)) for key in scope_keys) for scope_keys in keys]


def retry_after(limit: Limit, ident: str, *, now: float | None = None) -> int:
    """Seconds until the count is below the limit again (0 when it already is)."""
    now = time.time() if now is None else now
    keys = _bucket_keys(limit, ident, now)
    found = _cache().get_many([key for _, key in keys])
    counts = [(index, int(found.get(key, 0))) for index, key in keys]
    remaining = sum(n for _, n in counts)
    if remaining < limit.max_count:
        return 0
    for index, n in counts:  # oldest first: buckets leave the window in this order
        remaining -= n
        if remaining < limit.max_count:
            leaves_at = (index + limit.bucket_count) * limit.bucket_seconds
            return max(1, math.ceil(leaves_at - now))
    return limit.window  # unreachable: an empty window is below any positive limit


def hit(limit: Limit, ident: str, *, now: float | None = None) -> str:
    """Count one event in the current bucket (atomically, in the shared cache); its key."""
    now = time.time() if now is None else now
    _, key = _bucket_keys(limit, ident, now)[-1]
    cache = _cache()
    timeout = limit.bucket_seconds * (limit.bucket_count + 1)
    # The bucket usually exists already: one incr. A new one is added with its
    # timeout; when a concurrent hit added it first, incr it after all.
    try:
        cache.incr(key)
    except ValueError:
        if not cache.add(key, 1, timeout=timeout):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=timeout)
    return key


def unhit(key: str) -> None:
    """Take back one event counted by `hit` (gone already when its bucket expired)."""
    with contextlib.suppress(ValueError):
        _cache().decr(key)


def _wait_words(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


@dataclass(frozen=True)
class VerificationLimiter:
    """The failed-verification limits of one attempt: its booking reference and client IP."""

    reference: str
    ip: str | None
    now: float | None = None

    def _scopes(self) -> list[tuple[Limit, str]]:
        scopes = [(failures_per_reference(), self.reference)]
        ip = ip_key(self.ip)
        if ip:
            scopes.append((failures_per_ip(), ip))
        return scopes

    def locked_for(self) -> int:
        """Seconds until attempts are accepted again; 0 when they are now."""
        return max(retry_after(limit, ident, now=self.now) for limit, ident in self._scopes())

    def check(self) -> None:
        """Raise RateLimited (429) while either limit is reached."""
        wait = self.locked_for()
        if wait:
            raise self._refusal(wait)

    @staticmethod
    def _refusal(wait: int) -> RateLimited:
        return RateLimited(
            f"too many failed attempts; try again in {_wait_words(wait)}", retry_after=wait
        )

    def record_failure(self) -> None:
        for limit, ident in self._scopes():
            hit(limit, ident, now=self.now)

    def verified(self, verify: Callable[[], bool]) -> bool:
        """Run one identity check under the limits; True when it proved the identity.

        Refused with RateLimited while this reference or IP is locked out, before
        `verify` runs. The attempt is counted *before* verifying and taken back
        when it succeeds (or is refused): concurrent attempts each see the others'
        counts, so however many run at once, no more than the limit get verified.
        """
        scopes = self._scopes()
        keys = [hit(limit, ident, now=self.now) for limit, ident in scopes]
        totals = counts(scopes, now=self.now)
        if any(total > limit.max_count for (limit, _), total in zip(scopes, totals, strict=True)):
            for key in keys:
                unhit(key)
            raise self._refusal(max(1, self.locked_for()))
        proved = False
        try:
            proved = verify()
        finally:
            if proved:
                for key in keys:
                    unhit(key)
        return proved


def allow_link_request(*, reference: str, ip: str | None, now: float | None = None) -> bool:
    """Count a cancellation-link request; False when this booking or IP has had its share."""
    scopes = [(link_requests_per_booking(), reference)]
    if address := ip_key(ip):
        scopes.append((link_requests_per_ip(), address))
    if any(count(limit, ident, now=now) >= limit.max_count for limit, ident in scopes):
        return False
    for limit, ident in scopes:
        hit(limit, ident, now=now)
    return True
