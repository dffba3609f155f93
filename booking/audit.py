"""Where a change came from: the client IP and user agent recorded in the history.

The web request supplies them (through simple-history's request middleware);
commands and tasks pass an explicit `RequestContext` to the services instead.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

USER_AGENT_MAX_LENGTH = 512


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP address, trusting X-Forwarded-For only behind known proxies.

    With TRUSTED_PROXY_COUNT = N, each of our N proxies appended the address it
    received the request from, so the N-th entry from the right is the address
    our outermost proxy saw: the client. A client can prepend anything it likes
    to the header, so nothing further left is ever used, and an entry that is
    not an IP address (a misconfigured count, a bypassed proxy) is ignored. With
    N = 0 (the default) the header is ignored.
    """
    remote_addr = request.META.get("REMOTE_ADDR") or None
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted <= 0:
        return remote_addr
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < trusted:
        return remote_addr
    try:
        return str(ipaddress.ip_address(forwarded[-trusted]))
    except ValueError:
        return remote_addr


@dataclass(frozen=True)
class RequestContext:
    """The origin of an action, recorded on every historical record it writes."""

    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest) -> RequestContext:
        return cls(
            ip_address=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH],
        )

    @classmethod
    def command(cls, name: str) -> RequestContext:
        """The context of an operator's management command."""
        return cls(ip_address=None, user_agent=f"manage.py {name}"[:USER_AGENT_MAX_LENGTH])

    def as_history_attrs(self) -> dict[str, str | None]:
        return {"ip_address": self.ip_address, "user_agent": self.user_agent}


SYSTEM = RequestContext(user_agent="system")
