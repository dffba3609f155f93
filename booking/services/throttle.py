"""Rate limits for the public client pages, kept in Django's cache.

The cache is shared by every web process and host (Redis through REDIS_URL in
production), so a limit holds however many workers answer. Each attempt is one
atomic check-and-count (`booking.services.counters`: one Lua script, one round
trip, in Redis), so concurrent requests cannot overrun a limit. Two families:

* **Failed identity checks** (a typed email or phone, or a signed link, that does
  not prove the booking is the caller's) are counted per booking reference and
  per client IP. Once either count reaches its limit within the window, further
  attempts are refused with `RateLimited` (429) *before* anything is verified,
  until enough failures have aged out of the window. A successful check is not
  counted. The page and the API use this identically, through
  `VerificationLimiter.verified()` (called by `services.cancel_booking_as_client`).
  A signed link's token is not refused by the per-reference limit (it proves
  the holder reads the booking's mailbox, so strangers' guesses cannot lock the
  owner out); the per-IP limit still applies, and a bad token counts against
  both. A lookup of an unknown reference counts as a failure of its IP
  (`guard_lookup`), and an IP at its limit gets no answer about any reference,
  so references cannot be enumerated beyond the per-IP limit.
* **Cancellation-link requests** are counted per booking (every request, matched
  or not, so the client's mailbox cannot be flooded) and per IP.

IPv6 addresses are counted by their /64 network, which one client usually owns whole.
An unreachable cache raises `ServiceUnavailable` (503): callers that change
something refuse (fail closed); read-only pages carry on without the limiter.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from booking.services import counters
from booking.services.counters import Limit, Window
from booking.services.exceptions import RateLimited

__all__ = ["Limit", "VerificationLimiter", "allow_link_request", "guard_lookup", "ip_key"]


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


def _now(now: float | None) -> float:
    return time.time() if now is None else now


def count(limit: Limit, ident: str, *, now: float | None = None) -> int:
    """How many events the window of (limit, ident) holds now."""
    return sum(n for _, n in counters.read([Window(limit, ident)], _now(now))[0])


def retry_after(limit: Limit, ident: str, *, now: float | None = None) -> int:
    """Seconds until the count is below the limit again (0 when it already is)."""
    now = _now(now)
    return limit.wait(counters.read([Window(limit, ident)], now)[0], now)


def hit(limit: Limit, ident: str, *, now: float | None = None) -> str:
    """Count one event, unchecked; the key of the bucket it went to."""
    return counters.check_and_count([Window(limit, ident, checked=False)], _now(now)).counted[0]


def _wait_words(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _refusal(wait: int) -> RateLimited:
    return RateLimited(
        f"too many failed attempts; try again in {_wait_words(wait)}", retry_after=max(1, wait)
    )


@dataclass(frozen=True)
class VerificationLimiter:
    """The failed-verification limits of one attempt: its booking reference and client IP."""

    reference: str
    ip: str | None
    now: float | None = None

    def _windows(self, *, signed: bool = False) -> list[Window]:
        # A signed link passes the reference's limit (its owner cannot be locked
        # out by strangers' guesses) but a bad one still counts against it.
        windows = [Window(failures_per_reference(), self.reference, checked=not signed)]
        ip = ip_key(self.ip)
        if ip:
            windows.append(Window(failures_per_ip(), ip))
        return windows

    def waits(self) -> tuple[int, int]:
        """Seconds until the reference's and the IP's attempts are accepted again (0: now)."""
        now = _now(self.now)
        windows = self._windows()
        buckets = counters.read(windows, now)
        ref_wait = windows[0].limit.wait(buckets[0], now)
        ip_wait = windows[1].limit.wait(buckets[1], now) if len(windows) > 1 else 0
        return ref_wait, ip_wait

    def locked_for(self) -> int:
        """Seconds until attempts with typed details are accepted again; 0 when they are now."""
        return max(self.waits())

    def check(self) -> None:
        """Raise RateLimited (429) while either limit is reached."""
        wait = self.locked_for()
        if wait:
            raise _refusal(wait)

    def record_failure(self) -> None:
        """Count one failure against the reference and the IP (unchecked)."""
        windows = [Window(w.limit, w.ident, checked=False) for w in self._windows()]
        counters.check_and_count(windows, _now(self.now))

    def verified(self, verify: Callable[[], bool], *, signed: bool = False) -> bool:
        """Run one identity check under the limits; True when it proved the identity.

        Refused with RateLimited while this reference or IP is locked out, before
        `verify` runs (`signed`: a link's token, which only the IP's limit can
        refuse). The attempt is checked and counted in one atomic step *before*
        verifying, and taken back when it succeeds: however many run at once, no
        more than the limit get verified.
        """
        now = _now(self.now)
        windows = self._windows(signed=signed)
        tally = counters.check_and_count(windows, now)
        if tally.refused:
            raise _refusal(tally.wait(windows, now))
        proved = False
        try:
            proved = verify()
        finally:
            if proved:
                counters.uncount(tally.counted)
        return proved


def guard_lookup(ip: str | None, *, found: bool, now: float | None = None) -> None:
    """Refuse a lookup from an IP at its failure limit; count an unknown reference's.

    Raises RateLimited whether or not the reference exists, so an IP at its
    limit learns nothing more about which references exist.
    """
    key = ip_key(ip)
    if key is None:
        return
    now = _now(now)
    windows = [Window(failures_per_ip(), key)]
    if found:
        wait = windows[0].limit.wait(counters.read(windows, now)[0], now)
    else:
        tally = counters.check_and_count(windows, now)
        wait = tally.wait(windows, now) if tally.refused else 0
    if wait:
        raise _refusal(wait)


def allow_link_request(*, reference: str, ip: str | None, now: float | None = None) -> bool:
    """Count a cancellation-link request; False when this booking or IP has had its share."""
    windows = [Window(link_requests_per_booking(), reference)]
    if address := ip_key(ip):
        windows.append(Window(link_requests_per_ip(), address))
    return not counters.check_and_count(windows, _now(now)).refused
