"""The rate-limit counters in the real Redis (127.0.0.1:6379), as production keeps them.

Each test gets a key prefix of its own (a uuid), so parallel runs never meet, and
deletes only its own keys afterwards (never a flush).
"""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.cache import caches

from booking.services import counters, throttle
from booking.services.counters import Limit, Window
from booking.services.exceptions import RateLimited, ServiceUnavailable

REDIS_URL = "redis://127.0.0.1:6379/0"
T0 = 1_800_000_000.0


def redis_cache_settings(location: str, prefix: str) -> dict:
    return {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "limits": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }


@pytest.fixture
def redis_limits(settings):
    """RATE_LIMIT_CACHE on the real Redis, under a prefix unique to this test."""
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = redis_cache_settings(REDIS_URL, prefix)
    settings.RATE_LIMIT_CACHE = "limits"
    cache = caches["limits"]
    try:
        cache._cache.get_client().ping()
    except Exception as error:  # pragma: no cover - the machine's Redis is part of the set-up
        pytest.fail(f"Redis at {REDIS_URL} is needed for these tests: {error}")
    yield cache
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


def test_check_and_count_is_one_script_in_redis(redis_limits):
    limit = Limit("t", 3, 900)
    windows = [Window(limit, "ABC")]
    results = [counters.check_and_count(windows, T0) for _ in range(5)]
    assert [r.refused for r in results] == [False, False, False, True, True]
    assert throttle.count(limit, "ABC", now=T0) == 3
    # The counters are Django cache entries: the ordinary cache API reads them too.
    key = results[0].counted[0]
    assert redis_limits.get(key) == 3
    ttl = redis_limits._cache.get_client().ttl(redis_limits.make_and_validate_key(key))
    assert 0 < ttl <= limit.expiry


def test_a_refusal_counts_nothing_in_any_window(redis_limits):
    full, other = Limit("full", 1, 900), Limit("other", 5, 900)
    counters.check_and_count([Window(full, "x")], T0)
    tally = counters.check_and_count([Window(full, "x"), Window(other, "y")], T0)
    assert tally.refused
    assert tally.counted == []
    assert throttle.count(other, "y", now=T0) == 0
    assert tally.wait([Window(full, "x"), Window(other, "y")], T0) > 0


def test_unchecked_windows_count_but_never_refuse(redis_limits):
    limit = Limit("u", 1, 900)
    for _ in range(3):
        assert not counters.check_and_count([Window(limit, "x", checked=False)], T0).refused
    assert throttle.count(limit, "x", now=T0) == 3


def test_uncount_takes_back_one_event(redis_limits):
    limit = Limit("back", 5, 900)
    tally = counters.check_and_count([Window(limit, "x")], T0)
    counters.uncount(tally.counted)
    assert throttle.count(limit, "x", now=T0) == 0
    counters.uncount([f"throttle:back:gone:{int(T0)}"])  # an expired bucket stays gone
    assert redis_limits.get(f"throttle:back:gone:{int(T0)}") is None


def run_at_once(count: int, attempt) -> list:
    start = threading.Barrier(count)
    results: list = [None] * count

    def run(n: int) -> None:
        start.wait()
        results[n] = attempt(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_simultaneous_link_requests_never_pass_the_per_booking_limit(redis_limits, settings):
    settings.CANCEL_LINK_REQUESTS_PER_BOOKING = 3
    allowed = run_at_once(
        12,
        lambda n: throttle.allow_link_request(reference="ABCDEFGH", ip=f"198.51.100.{n}", now=T0),
    )
    assert allowed.count(True) == 3
    assert throttle.count(throttle.link_requests_per_booking(), "ABCDEFGH", now=T0) == 3


def test_simultaneous_failures_never_verify_more_than_the_limit(redis_limits, settings):
    settings.RATE_LIMIT_FAILURES_PER_REFERENCE = 5
    verified: list[int] = []

    def attempt(n: int) -> str:
        limiter = throttle.VerificationLimiter(reference="ABCDEFGH", ip=f"198.51.100.{n}", now=T0)
        try:
            limiter.verified(lambda: verified.append(n) or False)
        except RateLimited:
            return "refused"
        return "failed"

    results = run_at_once(20, attempt)
    assert results.count("failed") == len(verified) == 5
    assert throttle.count(throttle.failures_per_reference(), "ABCDEFGH", now=T0) == 5


def test_an_unreachable_redis_is_service_unavailable(settings):
    settings.CACHES = redis_cache_settings("redis://127.0.0.1:1/0", f"test-{uuid.uuid4().hex}")
    settings.RATE_LIMIT_CACHE = "limits"
    limiter = throttle.VerificationLimiter(reference="ABCDEFGH", ip="203.0.113.9", now=T0)
    with pytest.raises(ServiceUnavailable) as raised:
        limiter.verified(lambda: True)
    assert raised.value.status_code == 503
    assert raised.value.details["retry_after"] > 0
    with pytest.raises(ServiceUnavailable):
        limiter.locked_for()
    with pytest.raises(ServiceUnavailable):
        throttle.allow_link_request(reference="ABCDEFGH", ip="203.0.113.9", now=T0)
