"""Shared helpers for the admin tests: URLs and the two-step action POSTs."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

CHANGELIST = "/admin/booking/bookingrequest/"
CHANGE_FORM_ACTION = "CHANGE_FORM-action"


def change_url(booking: Any) -> str:
    return reverse("admin:booking_bookingrequest_change", args=[booking.pk])


def choose(client: Any, action: str, bookings: list[Any], *, url: str = CHANGELIST, **extra: Any):
    """The first POST: pick an action for the selection (shows the confirmation page)."""
    data = {"action": action, "_selected_action": [b.pk for b in bookings], **extra}
    return client.post(url, data)


def confirm(
    client: Any,
    action: str,
    bookings: list[Any],
    *,
    url: str = CHANGELIST,
    reason: str = "",
    notify: bool = True,
    **extra: Any,
):
    """The confirmation page's POST, as its form sends it."""
    data = {
        "action": action,
        "_selected_action": [b.pk for b in bookings],
        "post": "yes",
        "reason": reason,
        **extra,
    }
    if notify:
        data["notify_client"] = "on"
    return client.post(url, data, REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="pytest-browser/1.0")


def messages_of(response: Any) -> list[str]:
    """The messages this request added (not those left over from earlier ones)."""
    return [str(m) for m in response.wsgi_request._messages._queued_messages]
