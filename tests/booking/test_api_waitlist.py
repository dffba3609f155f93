"""The staff API's waitlist: GET a session's queue, POST a client onto it."""

from __future__ import annotations

import json

import pytest

from booking.models import BookingStatus, WaitlistEntry, WaitlistMode, WaitlistStatus
from booking.services import waitlist
from tests.booking.test_api_contract import check
from tests.booking.test_waitlist import WAITLIST_PERMISSIONS
from tests.factories import ALL_BOOKING_PERMISSIONS, make_booking, make_session, make_staff

pytestmark = pytest.mark.django_db

URL = "/api/booking/manage/waitlist/"
PATH = "/api/booking/manage/waitlist/"


@pytest.fixture
def api(client, business):
    client.force_login(
        make_staff(
            businesses=(business,), permissions=ALL_BOOKING_PERMISSIONS + WAITLIST_PERMISSIONS
        )
    )
    return client


@pytest.fixture
def full(business):
    session = make_session(business=business, title="Full spin", capacity=1)
    make_booking(session=session, status=BookingStatus.APPROVED, client_email="in@x.org")
    return session


def post(client, **body):
    return client.post(URL, json.dumps(body), "application/json", REMOTE_ADDR="203.0.113.4")


def join(session, email):
    return waitlist.join(session, client_name="W", client_email=email, actor=None)


def test_answers_match_the_contract_and_carry_every_field(api, full, business):
    # A queue with an entry in each state the answer can show: booked, offered, waiting.
    business.booking_settings.waitlist_mode = WaitlistMode.AUTO
    business.booking_settings.save()
    join(full, "booked@x.org")
    full.bookings.filter(client_email="in@x.org").update(status=BookingStatus.CANCELLED)
    waitlist.offer_freed_spots([full])
    business.booking_settings.waitlist_mode = WaitlistMode.OFFER
    business.booking_settings.save()
    full.capacity = 2
    full.save()
    join(full, "offered@x.org")
    added = post(api, session=full.pk, client_name="Wanda", client_email="w@x.org",
                 client_phone="+44 7700 900123")  # fmt: skip

    check([
        (PATH, "get", 200, api.get(URL, {"session": full.pk})),
        (PATH, "post", 201, added),
    ])  # fmt: skip


def test_get_lists_the_queue_in_order_with_its_spots(api, full):
    first, second = join(full, "first@x.org"), join(full, "second@x.org")

    body = api.get(URL, {"session": full.pk}).json()

    assert [e["reference"] for e in body["entries"]] == [first.reference, second.reference]
    assert body["spots"] == {"capacity": 1, "booked": 1, "waiting": 2, "offered": 0}
    assert body["session"]["id"] == full.pk


def test_post_adds_a_client_through_the_service(api, full):
    response = post(api, session=full.pk, client_name="Wanda", client_email="w@x.org")

    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True and body["entry"]["status"] == "waiting"
    entry = WaitlistEntry.objects.get(reference=body["entry"]["reference"])
    assert entry.history.get().ip_address == "203.0.113.4"
    assert body["message"] == f"Wanda is waiting ({entry.reference})"


def test_post_into_a_session_with_room_is_offered_at_once(api, business):
    roomy = make_session(business=business, capacity=3)
    response = post(api, session=roomy.pk, client_name="Wanda", client_email="w@x.org")
    assert response.json()["entry"]["status"] == WaitlistStatus.OFFERED


def test_a_double_post_adds_one_entry(api, full):
    post(api, session=full.pk, client_name="Wanda", client_email="w@x.org")
    again = post(api, session=full.pk, client_name="Wanda", client_email="w@x.org")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert WaitlistEntry.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"client_name": "W", "client_email": "w@x.org"},
        {"session": "1", "client_name": "W", "client_email": "w@x.org"},
        {"session": 1, "client_name": "", "client_email": "w@x.org"},
        {"session": 1, "client_name": "W", "client_email": "not an address"},
        {"session": 1, "client_name": "W\x00", "client_email": "w@x.org"},
        {"session": 1, "client_name": "W", "client_email": "w@x.org", "extra": True},
        {"session": 1, "client_name": ["W"], "client_email": "w@x.org"},
    ],
)
def test_bad_input_is_a_400(api, full, body):
    body = {**body, "session": full.pk} if body.get("session") == 1 else body
    response = post(api, **body)
    assert response.status_code == 400, response.content
    assert not WaitlistEntry.objects.exists()


def test_a_body_that_is_not_a_json_object_is_a_400(api):
    for raw in ("[]", "not json", '{"a": ' * 50):
        assert api.post(URL, raw, "application/json").status_code == 400


def test_another_business_session_is_not_yours(api, other_business):
    theirs = make_session(business=other_business, capacity=1)
    join(theirs, "theirs@x.org")

    got = api.get(URL, {"session": theirs.pk})
    posted = post(api, session=theirs.pk, client_name="W", client_email="w@x.org")

    assert got.status_code == 400 and "not yours" in got.json()["error"]
    assert posted.status_code == 400 and "not yours" in posted.json()["error"]
    assert WaitlistEntry.objects.filter(session=theirs).count() == 1


@pytest.mark.parametrize("query", [{}, {"session": "x"}, {"session": "0"}, {"other": "1"}])
def test_get_needs_a_session(api, query):
    assert api.get(URL, query).status_code == 400


def test_permissions_and_login(client, business, full):
    assert client.get(URL, {"session": full.pk}).status_code == 401
    client.force_login(make_staff(businesses=(business,), permissions=["view_bookingrequest"]))
    assert client.get(URL, {"session": full.pk}).status_code == 403
    response = post(client, session=full.pk, client_name="W", client_email="w@x.org")
    assert response.status_code == 403 and not WaitlistEntry.objects.exists()
