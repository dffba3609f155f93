"""booking.services.throttle: sliding-window limits kept in Django's cache."""

import contextlib
import threading
import time

import pytest
from django.core.cache import cache

from booking.services import throttle
from booking.services.exceptions import RateLimited

T0 = 1_800_000_000.0  # a fixed moment (epoch seconds), on a bucket boundary
MINUTE = 60


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def fail(times: int, *, reference="ABCDEFGH", ip="203.0.113.9", at=T0):
    limiter = throttle.VerificationLimiter(reference=reference, ip=ip, now=at)
    for _ in range(times):
        limiter.record_failure()


def limiter(*, reference="ABCDEFGH", ip="203.0.113.9", at=T0):
    return throttle.VerificationLimiter(reference=reference, ip=ip, now=at)


def test_nine_failures_leave_the_reference_open():
    fail(9)
    assert limiter().locked_for() == 0
    limiter().check()  # does not raise


def test_the_tenth_failure_locks_the_reference():
    fail(10)
    with pytest.raises(RateLimited) as raised:
        limiter().check()
    assert raised.value.details["retry_after"] > 0
    assert "try again in" in raised.value.message


def test_lock_applies_to_every_ip_for_that_reference():
    fail(10, ip="203.0.113.9")
    assert limiter(ip="198.51.100.7").locked_for() > 0


def test_other_references_stay_open_below_the_ip_limit():
    fail(10, reference="ABCDEFGH")
    assert limiter(reference="ZZZZZZZZ", ip="198.51.100.7").locked_for() == 0


@pytest.mark.parametrize(
    ("minutes_later", "locked"),
    [(0, True), (14, True), (15, True), (16, False), (30, False)],
)
def test_failures_age_out_of_the_fifteen_minute_window(minutes_later, locked):
    # All ten failures in the first minute: they count for 15 to 16 minutes.
    fail(10, at=T0 + 5)
    assert bool(limiter(at=T0 + 5 + minutes_later * MINUTE).locked_for()) is locked


def test_never_more_than_ten_failures_in_any_fifteen_minutes():
    """Attempt once a minute, as fast as allowed, for an hour: every 15-minute span holds ≤ 10."""
    failures = []
    for minute in range(60):
        now = T0 + minute * MINUTE + 30
        if limiter(at=now).locked_for() == 0:
            fail(1, at=now)
            failures.append(now)
    for start in failures:
        assert sum(1 for t in failures if start <= t < start + 15 * MINUTE) <= 10


def test_retry_after_says_when_the_oldest_failures_leave_the_window():
    fail(10, at=T0 + 5)
    wait = limiter(at=T0 + 5).locked_for()
    assert limiter(at=T0 + 5 + wait - 1).locked_for() > 0
    assert limiter(at=T0 + 5 + wait).locked_for() == 0
    assert 15 * MINUTE <= wait <= 16 * MINUTE


def test_per_ip_limit_spans_references(settings):
    settings.RATE_LIMIT_FAILURES_PER_IP = 4
    for reference in ["AAAAAAAA", "BBBBBBBB", "CCCCCCCC", "DDDDDDDD"]:
        fail(1, reference=reference)
    assert limiter(reference="EEEEEEEE").locked_for() > 0
    assert limiter(reference="EEEEEEEE", ip="198.51.100.7").locked_for() == 0


def test_limits_come_from_settings(settings):
    settings.RATE_LIMIT_FAILURES_PER_REFERENCE = 3
    settings.RATE_LIMIT_WINDOW_SECONDS = 60
    fail(3, at=T0)
    assert limiter(at=T0).locked_for() > 0
    assert limiter(at=T0 + 2 * MINUTE).locked_for() == 0


def test_ipv6_addresses_count_by_their_64_network(settings):
    settings.RATE_LIMIT_FAILURES_PER_IP = 2
    fail(1, reference="AAAAAAAA", ip="2001:db8:1:2::1")
    fail(1, reference="BBBBBBBB", ip="2001:db8:1:2:ffff::9")
    assert limiter(reference="CCCCCCCC", ip="2001:db8:1:2::77").locked_for() > 0
    assert limiter(reference="CCCCCCCC", ip="2001:db8:1:3::1").locked_for() == 0


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("2001:db8::1", "2001:db8::/64"),
        ("not an address", None),
        (None, None),
    ],
)
def test_ip_key(ip, key):
    assert throttle.ip_key(ip) == key


def test_without_an_ip_only_the_reference_is_counted():
    fail(10, ip=None)
    assert limiter(ip=None).locked_for() > 0
    assert throttle.count(throttle.failures_per_ip(), "None", now=T0) == 0


def test_verified_counts_failures_not_successes():
    assert limiter().verified(lambda: True) is True
    assert limiter().verified(lambda: False) is False
    assert throttle.count(throttle.failures_per_reference(), "ABCDEFGH", now=T0) == 1
    assert throttle.count(throttle.failures_per_ip(), "203.0.113.9", now=T0) == 1


def test_verified_refuses_before_verifying_when_locked():
    fail(10)
    checked = []
    with pytest.raises(RateLimited):
        limiter().verified(lambda: checked.append("verified") or True)
    assert checked == []


def test_a_refused_attempt_does_not_extend_the_lock():
    fail(10)
    for _ in range(5):
        with pytest.raises(RateLimited):
            limiter().verified(lambda: True)
    assert throttle.count(throttle.failures_per_reference(), "ABCDEFGH", now=T0) == 10


def test_a_verification_that_raises_counts_as_a_failure():
    def broken():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        limiter().verified(broken)
    assert throttle.count(throttle.failures_per_reference(), "ABCDEFGH", now=T0) == 1


def test_concurrent_attempts_never_verify_more_than_the_limit():
    verified_calls = []
    start = threading.Barrier(30)

    def attempt(n):
        start.wait()
        with contextlib.suppress(RateLimited):
            limiter(ip=f"198.51.100.{n}").verified(
                lambda: verified_calls.append(n) or time.sleep(0.01) or False
            )

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 1 <= len(verified_calls) <= 10
    # Every verified failure stays counted; every refused attempt was taken back.
    counted = throttle.count(throttle.failures_per_reference(), "ABCDEFGH", now=T0)
    assert counted == len(verified_calls)


def test_link_requests_are_limited_per_booking():
    allowed = [
        throttle.allow_link_request(reference="ABCDEFGH", ip=f"203.0.113.{n}", now=T0)
        for n in range(5)
    ]
    assert allowed == [True, True, True, False, False]
    assert throttle.allow_link_request(reference="ZZZZZZZZ", ip="203.0.113.1", now=T0)
    assert throttle.allow_link_request(reference="ABCDEFGH", ip="203.0.113.1", now=T0 + 2 * 3600)


def test_link_requests_are_limited_per_ip(settings):
    settings.CANCEL_LINK_REQUESTS_PER_IP = 2
    refs = ["AAAAAAAA", "BBBBBBBB", "CCCCCCCC"]
    allowed = [throttle.allow_link_request(reference=r, ip="203.0.113.9", now=T0) for r in refs]
    assert allowed == [True, True, False]
