"""A fuzz of bad input over the public page, both APIs and the admin: a few hundred
hostile requests, none of which may answer 500 or change anything (a second business
beside the caller's)."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
from django.core.cache import cache
from django.test import Client

from booking.emails.models import OutboxEmail
from booking.models import BookingRequest, Business, Session
from tests.factories import make_booking, make_session, make_staff

pytestmark = pytest.mark.django_db

HOSTILE = [
    "",
    "a\x00b",
    "x" * 5000,
    '{"a": [[[[',
    "💥",
    "-1",
    "99999999999999999999999",
    "null",
    "' OR 1=1 --<script>",
    "%00/../../etc/passwd",
    "9999",
    "99999-12-31",
]
HOSTILE_JSON = [
    "[" * 3000 + "]" * 3000,
    '{"a":' * 100 + "1" + "}" * 100,
    '"str"',
    "[]",
    "1" * 5000,
    '{"client_email": "\\ud800"}',
    '{"client_email": ["a"], "reason": {"x": 1}}',
    '{"action": null, "reason": 1e400}',
    "\xff\xfe",
    '{"confirm": "\\u0000", "reason": "\\u0000"}',
]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def state() -> tuple:
    """Everything a request could change, to compare before and after."""
    return (
        sorted(
            BookingRequest.all_objects.values_list("pk", "status", "is_deleted", "client_email")
        ),
        BookingRequest.history.count(),
        Session.history.count(),
        Business.history.count(),
        OutboxEmail.objects.count(),
    )


@pytest.fixture
def world(business, other_business, settings):
    settings.RATE_LIMIT_FAILURES_PER_IP = 10**6  # so every request runs its whole path
    settings.RATE_LIMIT_FAILURES_PER_REFERENCE = 10**6
    settings.CANCEL_LINK_REQUESTS_PER_IP = 10**6
    mine = make_booking(session=make_session(business=business))
    theirs = make_booking(session=make_session(business=other_business))
    staff = make_staff(businesses=(business,))
    return mine, theirs, staff


def requests_for(mine: BookingRequest, theirs: BookingRequest):
    """(method, path, data, content_type) for each hostile request."""
    page, api = f"/booking/cancel/{mine.reference}/", f"/api/booking/client/{mine.reference}/"
    for v in HOSTILE:
        q = quote(v, safe="")
        yield "get", f"/booking/cancel/{q}/", None, None
        yield "get", f"{page}?{urlencode({'token': v})}", None, None
        yield "post", page, {"client_email": v, "client_phone": v, "reason": v}, None
        yield "post", page, {"token": v, "reason": v}, None
        yield "post", f"{page}link/", {"link-client_email": v, "link-client_phone": v}, None
        yield "get", f"/api/booking/client/{q}/", None, None
        yield "post", f"{api}cancel/", json.dumps({"client_email": v, "reason": v}), "json"
        yield "post", f"{api}cancel/", json.dumps({"token": v}), "json"
        for name in ["status", "page", "page_size", "business", "include_deleted"]:
            yield "get", f"/api/booking/manage/?{urlencode({name: v})}", None, None
        for target in (mine, theirs):
            url = f"/api/booking/manage/{target.pk}/"
            yield "patch", url, json.dumps({"action": v, "reason": v}), "json"
            yield "patch", url, json.dumps({"action": "cancel", "reason": v, "notify_client": v}),\
                "json"  # fmt: skip
            yield "delete", url, json.dumps({"confirm": v, "reason": v}), "json"
        yield "get", f"/api/booking/manage/{q}/", None, None
        for name in ["status__exact", "q", "session__business__id__exact", "o", "p",
                     "session__starts_at__year", "deleted", "session__starts_at__gte"]:  # fmt: skip
            yield "get", f"/admin/booking/bookingrequest/?{urlencode({name: v})}", None, None
        yield (
            "get",
            "/admin/autocomplete/?"
            + urlencode(
                {
                    "term": v,
                    "app_label": "booking",
                    "model_name": "session",
                    "field_name": "business",
                }
            ),
            None,
            None,
        )
        yield "post", "/admin/booking/bookingrequest/", {"action": v, "_selected_action": v}, None
        yield "post", "/admin/booking/bookingrequest/", {
            "action": "cancel_bookings", "_selected_action": [v, theirs.pk], "post": "yes",
            "reason": v, "select_across": v,
        }, None  # fmt: skip
        yield "get", f"/admin/booking/bookingrequest/{q}/change/", None, None
        yield "get", f"/admin/booking/bookingrequest/{q}/history/", None, None
    for body in HOSTILE_JSON:
        yield "post", f"{api}cancel/", body, "json"
        yield "patch", f"/api/booking/manage/{mine.pk}/", body, "json"
        yield "delete", f"/api/booking/manage/{mine.pk}/", body, "json"


def send(client: Client, method: str, path: str, data, content_type):
    if content_type == "json":
        return getattr(client, method)(path, data, content_type="application/json")
    if data is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, data)


def test_hostile_input_never_answers_500_nor_changes_anything(world):
    mine, theirs, staff = world
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    before = state()
    failures = []
    count = 0
    for method, path, data, content_type in requests_for(mine, theirs):
        response = send(client, method, path, data, content_type)
        count += 1
        if response.status_code >= 500:
            failures.append((method, path[:120], str(data)[:80], response.status_code))
    assert count > 300
    assert failures == []
    assert state() == before
