"""Sliding-window event counters in Django's cache, with one atomic check-and-count.

A window of `Limit.window` seconds is made of buckets of 1/15 of it (one minute
for 15 minutes); each bucket is one cache key holding an integer, expiring once
it has left the window. A count adds up the current bucket and the 15 before
it, so an event stays counted for between one window and one window plus one
bucket: a limit errs on the side of refusing.

`check_and_count` is the one step every limit takes: read the windows, refuse
if any checked window is at its limit, else count the event in each window's
current bucket. It is atomic, so concurrent requests can never overrun a limit
by each reading the count before any of them adds to it:

* in Redis (`RedisCache`, production) it is one Lua script: one round trip,
  run by the server without interleaving;
* in any other cache (local memory in development and tests) it runs under a
  process-wide lock, which is enough because such a cache is per process.

Hand-written because Django's cache API offers `incr` but no conditional
increment, and the ecosystem's rate limiters (django-ratelimit, django-axes)
count fixed windows per request rather than checking several windows at once.

A cache that cannot be reached raises `ServiceUnavailable` (503), never a 500.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

from booking.services.exceptions import ServiceUnavailable

BUCKETS_PER_WINDOW = 15
# A `Window` with this limit is counted but never refuses (e.g. a failure that
# counts against a reference whose limit a valid signed link may pass).
UNCHECKED = -1
OUTAGE_RETRY_AFTER = 60


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

    @property
    def expiry(self) -> int:
        return self.bucket_seconds * (self.bucket_count + 1)

    def keys(self, ident: str, now: float) -> list[tuple[int, str]]:
        """(bucket index, cache key) of the window ending now, oldest first."""
        current = int(now // self.bucket_seconds)
        first = current - self.bucket_count + 1
        return [(i, f"throttle:{self.scope}:{ident}:{i}") for i in range(first, current + 1)]

    def wait(self, buckets: Sequence[tuple[int, int]], now: float) -> int:
        """Seconds until these (index, count) buckets hold fewer than `max_count` events."""
        remaining = sum(n for _, n in buckets)
        if remaining < self.max_count:
            return 0
        for index, n in buckets:  # oldest first: buckets leave the window in this order
            remaining -= n
            if remaining < self.max_count:
                leaves_at = (index + self.bucket_count) * self.bucket_seconds
                return max(1, math.ceil(leaves_at - now))
        return self.window  # a limit of 0: never below it


@dataclass(frozen=True)
class Window:
    """One limit for one identity (a reference, an IP); `checked=False` only counts."""

    limit: Limit
    ident: str
    checked: bool = True


@dataclass(frozen=True)
class Tally:
    """What `check_and_count` found: refused or not, each window's buckets, the keys counted."""

    refused: bool
    buckets: list[list[tuple[int, int]]]
    counted: list[str]

    def wait(self, windows: Sequence[Window], now: float) -> int:
        """Seconds until every checked window is below its limit again."""
        waits = [
            window.limit.wait(buckets, now)
            for window, buckets in zip(windows, self.buckets, strict=True)
            if window.checked
        ]
        return max(waits, default=0)


def _cache() -> BaseCache:
    return caches[getattr(settings, "RATE_LIMIT_CACHE", "default")]


@contextmanager
def _reachable() -> Iterator[None]:
    try:
        yield
    except (RedisError, OSError) as error:
        raise ServiceUnavailable(
            "the rate limiter is unavailable; try again in a few minutes",
            retry_after=OUTAGE_RETRY_AFTER,
        ) from error


def read(windows: Sequence[Window], now: float) -> list[list[tuple[int, int]]]:
    """Each window's (index, count) buckets, oldest first, in one read (one round trip)."""
    keyed = [window.limit.keys(window.ident, now) for window in windows]
    with _reachable():
        found = _cache().get_many([key for keys in keyed for _, key in keys])
    return [[(index, int(found.get(key, 0))) for index, key in keys] for keys in keyed]


def check_and_count(windows: Sequence[Window], now: float) -> Tally:
    """Refuse if a checked window is at its limit; else count one event in every window."""
    cache = _cache()
    with _reachable():
        if isinstance(cache, RedisCache):
            return _redis_check_and_count(cache, windows, now)
        return _local_check_and_count(cache, windows, now)


def uncount(keys: Sequence[str]) -> None:
    """Take back one event from each bucket key (one already expired stays gone)."""
    if not keys:
        return
    cache = _cache()
    with _reachable():
        if isinstance(cache, RedisCache):
            client = cache._cache.get_client(write=True)
            _script(UNCOUNT, client)(keys=[cache.make_and_validate_key(k) for k in keys])
            return
        with _LOCAL_LOCK:
            for key in keys:
                if cache.has_key(key):
                    cache.decr(key)


# --- Local memory (any cache that lives in this process) -------------------------------

_LOCAL_LOCK = threading.Lock()


def _local_check_and_count(cache: BaseCache, windows: Sequence[Window], now: float) -> Tally:
    keyed = [window.limit.keys(window.ident, now) for window in windows]
    with _LOCAL_LOCK:
        found = cache.get_many([key for keys in keyed for _, key in keys])
        buckets = [[(index, int(found.get(key, 0))) for index, key in keys] for keys in keyed]
        refused = any(
            window.checked and sum(n for _, n in counts) >= window.limit.max_count
            for window, counts in zip(windows, buckets, strict=True)
        )
        counted = []
        if not refused:
            for window, keys, counts in zip(windows, keyed, buckets, strict=True):
                index, key = keys[-1]
                cache.add(key, 0, timeout=window.limit.expiry)
                counts[-1] = (index, cache.incr(key))
                counted.append(key)
    return Tally(refused, buckets, counted)


# --- Redis: one server-side script per step ----------------------------------------------

# KEYS: every window's bucket keys, oldest first (each window's current bucket last).
# ARGV: per window, its bucket count, its limit (-1: counted, never checked), its expiry.
# Returns the refusal flag (1/0), then every bucket's count (after counting).
CHECK_AND_COUNT = """
local values = redis.call('MGET', unpack(KEYS))
local counts, refused, first = {}, 0, 1
for w = 1, #ARGV, 3 do
  local n, limit = tonumber(ARGV[w]), tonumber(ARGV[w + 1])
  local total = 0
  for i = first, first + n - 1 do
    counts[i] = tonumber(values[i]) or 0
    total = total + counts[i]
  end
  if limit >= 0 and total >= limit then refused = 1 end
  first = first + n
end
if refused == 0 then
  first = 1
  for w = 1, #ARGV, 3 do
    local last = first + tonumber(ARGV[w]) - 1
    counts[last] = redis.call('INCR', KEYS[last])
    if counts[last] == 1 then redis.call('EXPIRE', KEYS[last], tonumber(ARGV[w + 2])) end
    first = last + 1
  end
end
table.insert(counts, 1, refused)
return counts
"""

UNCOUNT = """
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('DECR', KEYS[i]) end
end
return 0
"""

_SCRIPTS: dict[str, Any] = {}


def _script(source: str, client: Any) -> Any:
    """A callable script (redis-py loads it once per server, then calls it by its hash)."""
    script = _SCRIPTS.get(source)
    if script is None:
        script = _SCRIPTS[source] = client.register_script(source)

    def call(*, keys: list[str], args: Sequence[int] = ()) -> Any:
        return script(keys=keys, args=args, client=client)

    return call


def _redis_check_and_count(cache: RedisCache, windows: Sequence[Window], now: float) -> Tally:
    keyed = [window.limit.keys(window.ident, now) for window in windows]
    args: list[int] = []
    for window, window_keys in zip(windows, keyed, strict=True):
        limit = window.limit.max_count if window.checked else UNCHECKED
        args += [len(window_keys), limit, window.limit.expiry]
    client = cache._cache.get_client(write=True)
    redis_keys = [cache.make_and_validate_key(key) for pairs in keyed for _, key in pairs]
    refused, *values = _script(CHECK_AND_COUNT, client)(keys=redis_keys, args=args)
    counts = iter(int(value) for value in values)
    buckets = [[(index, next(counts)) for index, _ in pairs] for pairs in keyed]
    counted = [] if refused else [pairs[-1][1] for pairs in keyed]
    return Tally(bool(refused), buckets, counted)
