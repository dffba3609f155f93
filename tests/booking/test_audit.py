"""Where a change came from: the client IP behind proxies, never a forged header."""

import pytest
from django.test import RequestFactory

from booking.audit import client_ip


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.9", "10.0.0.1"),  # no proxy trusted: the header is ignored
        (1, "198.51.100.9", "198.51.100.9"),
        (1, "6.6.6.6, 198.51.100.9", "198.51.100.9"),  # the client's own prefix is ignored
        (2, "198.51.100.9, 10.0.0.2", "198.51.100.9"),
        (2, "10.0.0.2", "10.0.0.1"),  # fewer entries than proxies: the peer
        (1, "garbage", "10.0.0.1"),  # not an address: the peer
        (1, "1:2:3:zz", "10.0.0.1"),
        (1, "2001:DB8::1", "2001:db8::1"),
    ],
)
def test_client_ip(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected
