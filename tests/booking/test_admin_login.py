"""Admin login throttling (django-axes): password guessing is refused, its owner is not
locked out from elsewhere, and the cache-backed counting of production works in Redis."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import caches

from tests.factories import make_staff

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "correct horse battery staple"


def attempt(client, username: str, password: str, ip: str = "203.0.113.5"):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip
    )


def test_five_wrong_passwords_lock_that_username_from_that_address(client, settings):
    make_staff(username="owner", password=PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "owner", "guess").status_code == 200  # the form again
    assert attempt(client, "owner", "guess").status_code == 429
    # Even the right password is refused from there during the cool-off.
    assert attempt(client, "owner", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_owner_logs_in_from_elsewhere_while_a_guesser_is_locked(client, settings):
    make_staff(username="owner", password=PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "owner", "guess", ip="198.51.100.66")
    response = attempt(client, "owner", PASSWORD, ip="203.0.113.5")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_a_success_resets_the_count(client, settings):
    make_staff(username="owner", password=PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "owner", "guess")
    assert attempt(client, "owner", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "owner", "guess").status_code == 200
    assert attempt(client, "owner", PASSWORD).status_code == 302


@pytest.fixture
def axes_in_redis(settings):
    """Production's configuration: the cache handler on the real Redis, a prefix per test."""
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": prefix,
        }
    }
    settings.AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
    from axes.handlers.proxy import AxesProxyHandler

    AxesProxyHandler.implementation = None  # built again from the setting
    client = caches["default"]._cache.get_client(write=True)
    yield
    AxesProxyHandler.implementation = None
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


def test_guesses_are_counted_in_redis_in_production(client, settings, axes_in_redis):
    make_staff(username="owner", password=PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "owner", "guess")
    assert attempt(client, "owner", PASSWORD).status_code == 429
    assert attempt(client, "owner", PASSWORD, ip="192.0.2.9").status_code == 302


def test_with_the_cache_down_the_login_is_a_503_not_a_500(client, settings, axes_in_redis):
    make_staff(username="owner", password=PASSWORD)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    from axes.handlers.proxy import AxesProxyHandler

    AxesProxyHandler.implementation = None
    response = attempt(client, "owner", PASSWORD)
    assert response.status_code == 503
    assert "_auth_user_id" not in client.session
