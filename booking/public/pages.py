"""What every public page shares: its response headers, and the refusal that shows nothing."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from booking.public.notices import IP_LOCKED, UNAVAILABLE, Notice, wait_words
from booking.services import exceptions as exc


def private(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Never cached, never indexed, and a link's token never leaks in a Referer.

    "same-origin", not "no-referrer": with no referrer at all, browsers send
    `Origin: null` on the form's POST and Django's CSRF check refuses it.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return never_cache(wrapper)


def refused_page(request: HttpRequest, error: exc.BookingError) -> HttpResponse:
    """A refusal that shows no booking or offer: the IP is locked out (429), or the
    limiter is down (503)."""
    notice = UNAVAILABLE
    if isinstance(error, exc.RateLimited):
        wait = wait_words(int(error.details.get("retry_after", 60)))
        notice = Notice(IP_LOCKED.title, IP_LOCKED.text.format(wait=wait))
    response = render(request, "booking/public/refused.html", {"notice": notice},
                      status=error.status_code)  # fmt: skip
    response["Retry-After"] = str(error.details.get("retry_after", 60))
    return response


def canonical_redirect(request: HttpRequest, url_name: str, reference: str) -> HttpResponse:
    """The page of `reference` as stored (a reference typed in lower case or with
    spaces), keeping the query string (the signed link's token)."""
    query = request.META.get("QUERY_STRING", "")
    path = reverse(url_name, args=[reference])
    return redirect(f"{path}?{query}" if query else path)
