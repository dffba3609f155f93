"""The staff JSON API: who may call it, what it answers, what it changes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.dateparse import parse_datetime

from booking.models import BookingRequest, BookingStatus
from tests.factories import make_booking, make_business, make_session, make_staff

LIST_URL = "/api/booking/manage/"
BOOKING_FIELDS = {
    "id", "reference", "status", "client_name", "client_email", "client_phone", "session",
    "business", "created_at", "updated_at", "cancelled_at", "cancelled_by",
    "cancellation_reason", "cancelled_by_client", "is_deleted", "deleted_at", "deleted_by",
    "deletion_reason", "fee_amount", "fee_status", "fee_waived_at", "fee_waived_by",
    "fee_waiver_reason",
}  # fmt: skip


def url(booking: BookingRequest) -> str:
    return f"{LIST_URL}{booking.pk}/"


def patch(client: Client, booking: BookingRequest, body: object, **extra):
    return client.patch(url(booking), json.dumps(body), content_type="application/json", **extra)


def delete(client: Client, booking: BookingRequest, body: object = None, query: str = ""):
    data = "" if body is None else json.dumps(body)
    return client.delete(f"{url(booking)}{query}", data, content_type="application/json")


def reloaded(booking: BookingRequest) -> BookingRequest:
    return BookingRequest.all_objects.get(pk=booking.pk)


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["success"] is False
    assert body["error"]
    if code:
        assert body["code"] == code
    return body


@pytest.fixture
def api(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def foreign_booking(other_business):
    return make_booking(session=make_session(business=other_business), client_email="x@other.test")


# --- The door: authentication, staff, permissions, methods, CSRF --------------------------


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_anonymous_caller_gets_json_401_not_a_login_redirect(client, booking, method):
    response = getattr(client, method)(url(booking))

    assert_error(response, 401, "not_authenticated")
    assert reloaded(booking).status == BookingStatus.PENDING


def test_anonymous_list_is_401(client, db):
    assert_error(client.get(LIST_URL), 401, "not_authenticated")


def test_logged_in_non_staff_user_is_403(client, booking, django_user_model):
    user = django_user_model.objects.create_user(username="client", password="pw")
    client.force_login(user)

    assert_error(client.get(LIST_URL), 403, "forbidden")
    assert_error(patch(client, booking, {"action": "cancel"}), 403, "forbidden")
    assert reloaded(booking).status == BookingStatus.PENDING


def test_staff_without_view_permission_is_403(client, business, booking):
    client.force_login(make_staff(businesses=(business,), permissions=[]))

    assert_error(client.get(LIST_URL), 403, "forbidden")
    assert_error(client.get(url(booking)), 403, "forbidden")


@pytest.mark.parametrize(
    ("path", "method", "allow"),
    [
        (LIST_URL, "post", "GET"),
        (LIST_URL, "delete", "GET"),
        ("{detail}", "put", "DELETE, GET, PATCH"),
        ("{detail}", "post", "DELETE, GET, PATCH"),
    ],
)
def test_other_methods_are_json_405_with_allow(api, booking, path, method, allow):
    response = getattr(api, method)(path.format(detail=url(booking)))

    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == allow


def test_unsafe_request_without_csrf_token_is_refused_with_json(staff, booking):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)

    response = patch(browser, booking, {"action": "cancel"})

    assert_error(response, 403, "csrf")
    assert reloaded(booking).status == BookingStatus.PENDING


def test_browser_gets_csrf_cookie_from_a_get_and_acts_with_it(staff, booking):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)
    browser.get(LIST_URL)
    token = browser.cookies["csrftoken"].value

    response = patch(browser, booking, {"action": "approve"}, HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 200
    assert reloaded(booking).status == BookingStatus.APPROVED


def test_unknown_url_under_api_is_json_404(api):
    assert_error(api.get("/api/booking/manage/nothing-here/"), 404, "not_found")
    assert_error(api.get("/api/no-such-api/"), 404, "not_found")


def test_unknown_url_elsewhere_keeps_html_404(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]


def test_oversized_request_body_is_json_400(api, booking, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = patch(api, booking, {"action": "cancel", "reason": "x" * 5000})

    assert_error(response, 400)
    assert reloaded(booking).status == BookingStatus.PENDING


# --- GET /api/booking/manage/ -------------------------------------------------------------


def test_list_answers_the_pinned_shape(api, booking, staff):
    body = api.get(LIST_URL).json()

    assert body["total_count"] == 1
    assert body["filters"] == {
        "status": None,
        "include_deleted": False,
        "business": None,
        "phone": None,
    }
    assert body["pagination"] == {
        "page": 1, "page_size": 25, "num_pages": 1, "next": None, "previous": None,
    }  # fmt: skip
    [item] = body["bookings"]
    assert set(item) == BOOKING_FIELDS
    assert item["id"] == booking.pk
    assert item["reference"] == booking.reference
    assert item["business"] == "johnny-bravo-fitness-center"
    assert item["session"]["id"] == booking.session.pk
    assert item["session"]["title"] == "Spin class"
    starts_at = parse_datetime(item["session"]["starts_at"])
    assert abs(starts_at - booking.session.starts_at) < timedelta(milliseconds=1)


def test_list_shows_staff_fields_of_a_cancelled_and_deleted_booking(api, session, staff):
    booking = make_booking(session=session, status=BookingStatus.CANCELLED, is_deleted=True,
                           cancellation_reason="ill", cancelled_by=staff, deleted_by=staff,
                           deletion_reason="duplicate")  # fmt: skip

    [item] = api.get(LIST_URL, {"include_deleted": "true"}).json()["bookings"]

    assert item["id"] == booking.pk
    assert item["cancellation_reason"] == "ill"
    assert item["cancelled_by"] == {"id": staff.pk, "username": "desk"}
    assert item["is_deleted"] is True
    assert item["deleted_by"] == {"id": staff.pk, "username": "desk"}
    assert item["deletion_reason"] == "duplicate"
    assert item["deleted_at"] is not None


def test_list_hides_soft_deleted_bookings_unless_asked(api, session):
    live = make_booking(session=session)
    gone = make_booking(session=session, is_deleted=True)

    default = {b["id"] for b in api.get(LIST_URL).json()["bookings"]}
    everything = api.get(LIST_URL, {"include_deleted": "true"}).json()

    assert default == {live.pk}
    assert {b["id"] for b in everything["bookings"]} == {live.pk, gone.pk}
    assert everything["filters"]["include_deleted"] is True


def test_list_filters_by_status(api, session):
    make_booking(session=session, status=BookingStatus.PENDING)
    approved = make_booking(session=session, status=BookingStatus.APPROVED)

    body = api.get(LIST_URL, {"status": "approved"}).json()

    assert [b["id"] for b in body["bookings"]] == [approved.pk]
    assert body["total_count"] == 1
    assert body["filters"]["status"] == "approved"


def test_list_filters_by_business_among_the_callers(business, session, staff, client):
    second = make_business(slug="second-studio", staff=(staff,))
    theirs = make_booking(session=make_session(business=second))
    make_booking(session=session)
    client.force_login(staff)

    body = client.get(LIST_URL, {"business": "second-studio"}).json()

    assert [b["id"] for b in body["bookings"]] == [theirs.pk]
    assert body["filters"]["business"] == "second-studio"


def test_list_refuses_another_business_slug_like_an_unknown_one(api, foreign_booking):
    foreign = assert_error(api.get(LIST_URL, {"business": "other-studio"}), 400)
    unknown = assert_error(api.get(LIST_URL, {"business": "no-such-studio"}), 400)

    assert foreign["error"].replace("other-studio", "?") == unknown["error"].replace(
        "no-such-studio", "?"
    )


def test_list_shows_only_the_callers_businesses(api, booking, foreign_booking):
    body = api.get(LIST_URL, {"include_deleted": "true"}).json()

    assert [b["id"] for b in body["bookings"]] == [booking.pk]
    assert body["total_count"] == 1


def test_superuser_lists_every_business(client, superuser, booking, foreign_booking):
    client.force_login(superuser)

    assert client.get(LIST_URL).json()["total_count"] == 2


def test_list_paginates_with_links(api, session):
    for _ in range(5):
        make_booking(session=session)

    first = api.get(LIST_URL, {"page_size": 2, "status": "pending"}).json()
    second = api.get(first["pagination"]["next"]).json()
    last = api.get(LIST_URL, {"page_size": 2, "page": 3, "status": "pending"}).json()

    assert first["total_count"] == 5
    assert len(first["bookings"]) == 2
    assert first["pagination"]["num_pages"] == 3
    assert first["pagination"]["previous"] is None
    assert first["pagination"]["next"].startswith(LIST_URL + "?")
    assert "status=pending" in first["pagination"]["next"]
    assert second["pagination"]["page"] == 2
    assert {b["id"] for b in first["bookings"]}.isdisjoint(b["id"] for b in second["bookings"])
    assert len(last["bookings"]) == 1
    assert last["pagination"]["next"] is None


def test_page_past_the_end_is_404(api, booking):
    body = assert_error(api.get(LIST_URL, {"page": 2}), 404, "not_found")

    assert body["num_pages"] == 1


def test_empty_list_has_one_empty_page(api, db):
    body = api.get(LIST_URL).json()

    assert body["bookings"] == []
    assert body["total_count"] == 0
    assert body["pagination"]["num_pages"] == 1


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "status=pending&status=approved",
        "include_deleted=yes",
        "include_deleted=True",
        "page=0",
        "page=-1",
        "page=abc",
        "page=" + "9" * 5000,
        "page_size=0",
        "page_size=101",
        "page_size=1.5",
        "business=",
        "business=a%00b",
        "stauts=pending",
    ],
)
def test_list_refuses_bad_parameters(api, booking, query):
    assert_error(api.get(f"{LIST_URL}?{query}"), 400)


def test_list_query_count_does_not_grow_with_page_size(api, business, staff):
    def queries_for_a_full_page(size: int) -> int:
        BookingRequest.all_objects.all().delete()
        for n in range(size):
            make_booking(
                session=make_session(business=business), status=BookingStatus.CANCELLED,
                cancelled_by=staff, deleted_by=staff, is_deleted=n % 2 == 0,
            )  # fmt: skip
        with CaptureQueriesContext(connection) as captured:
            body = api.get(LIST_URL, {"page_size": size, "include_deleted": "true"}).json()
        assert len(body["bookings"]) == size
        return len(captured)

    assert queries_for_a_full_page(2) == queries_for_a_full_page(40)


# --- GET /api/booking/manage/<id>/ --------------------------------------------------------


def test_detail_shows_the_booking_with_its_history(api, booking, staff):
    patch(api, booking, {"action": "cancel", "reason": "Client phoned in sick"},
          HTTP_USER_AGENT="desk-script/1.0", REMOTE_ADDR="203.0.113.9")  # fmt: skip

    body = api.get(url(booking)).json()

    assert body["booking"]["status"] == "cancelled"
    assert set(body["booking"]) == BOOKING_FIELDS
    latest, created = body["history"]
    assert created["type"] == "created"
    assert latest["type"] == "changed"
    assert latest["user"] == {"id": staff.pk, "username": "desk"}
    assert latest["reason"] == "Client phoned in sick"
    assert latest["ip_address"] == "203.0.113.9"
    assert latest["at"]
    changes = {change["field"]: (change["old"], change["new"]) for change in latest["changes"]}
    assert changes["status"] == ("pending", "cancelled")
    assert changes["cancellation_reason"] == ("", "Client phoned in sick")


def test_detail_shows_a_soft_deleted_booking(api, session):
    gone = make_booking(session=session, is_deleted=True)

    assert api.get(url(gone)).json()["booking"]["is_deleted"] is True


def test_another_business_booking_is_404_like_an_unknown_one(api, foreign_booking):
    foreign = api.get(url(foreign_booking))
    unknown = api.get(f"{LIST_URL}999999999/")

    assert_error(foreign, 404, "not_found")
    assert foreign.json() == unknown.json()


def test_id_beyond_the_database_integer_range_is_404(api, db):
    assert_error(api.get(f"{LIST_URL}{10**30}/"), 404)


# --- PATCH /api/booking/manage/<id>/ ------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "start", "expected"),
    [
        ("approve", {}, {"status": BookingStatus.APPROVED}),
        ("reject", {}, {"status": BookingStatus.REJECTED}),
        ("cancel", {"status": BookingStatus.APPROVED}, {"status": BookingStatus.CANCELLED}),
        ("soft_delete", {}, {"is_deleted": True}),
        ("restore", {"is_deleted": True}, {"is_deleted": False}),
    ],
)
def test_patch_performs_the_action_through_the_service(api, session, staff, action, start,
                                                       expected):  # fmt: skip
    booking = make_booking(session=session, **start)

    response = patch(api, booking, {"action": action, "reason": "Desk decision"},
                     REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="curl/8")  # fmt: skip

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    assert booking.reference in body["message"]
    assert set(body["booking"]) == BOOKING_FIELDS
    changed = reloaded(booking)
    for field, value in expected.items():
        assert getattr(changed, field) == value
        assert body["booking"][field] == value
    record = changed.history.first()
    assert record.history_user == staff
    assert record.history_change_reason == "Desk decision"
    assert record.ip_address == "198.51.100.7"
    assert record.user_agent == "curl/8"


def test_cancel_records_who_and_why(api, booking, staff):
    body = patch(api, booking, {"action": "cancel", "reason": "Double booked"}).json()

    assert body["booking"]["cancelled_by"] == {"id": staff.pk, "username": "desk"}
    assert body["booking"]["cancellation_reason"] == "Double booked"
    assert body["booking"]["cancelled_by_client"] is False
    assert reloaded(booking).cancelled_at is not None


def test_soft_delete_records_who_and_why(api, booking, staff):
    body = patch(api, booking, {"action": "soft_delete", "reason": "Test data"}).json()

    assert body["booking"]["deleted_by"] == {"id": staff.pk, "username": "desk"}
    assert body["booking"]["deletion_reason"] == "Test data"
    assert reloaded(booking).deleted_at is not None


def test_cancel_without_notifying_the_client_is_accepted(api, booking):
    response = patch(api, booking, {"action": "cancel", "notify_client": False})

    assert response.status_code == 200
    assert reloaded(booking).status == BookingStatus.CANCELLED


def test_double_submit_is_409_and_leaves_one_history_record(api, booking):
    first = patch(api, booking, {"action": "cancel", "reason": "once"})
    second = patch(api, booking, {"action": "cancel", "reason": "twice"})

    assert first.status_code == 200
    assert_error(second, 409, "conflict")
    assert reloaded(booking).cancellation_reason == "once"
    assert booking.history.count() == 2  # created + cancelled


def test_invalid_transition_is_409(api, session):
    """The refusal's status; which transitions are refused is the services' to test."""
    booking = make_booking(session=session, status=BookingStatus.REJECTED)
    before = booking.history.count()

    assert_error(patch(api, booking, {"action": "approve", "reason": "r"}), 409, "conflict")
    assert booking.history.count() == before


def test_soft_delete_without_a_required_reason_is_400(api, booking):
    assert_error(patch(api, booking, {"action": "soft_delete"}), 400, "reason_required")
    assert reloaded(booking).is_deleted is False


def test_soft_delete_where_the_policy_forbids_deletion_is_403(client, db):
    business = make_business(allow_admin_deletion=False)
    booking = make_booking(session=make_session(business=business))
    client.force_login(make_staff(businesses=(business,)))

    assert_error(patch(client, booking, {"action": "soft_delete", "reason": "r"}), 403, "policy")
    assert reloaded(booking).is_deleted is False


def test_an_action_without_its_permission_is_403(client, business, session):
    """The refusal's status; each action's permission is tested on the action table."""
    booking = make_booking(session=session)
    permissions = ["view_bookingrequest", "change_bookingrequest", "soft_delete_bookingrequest"]
    client.force_login(make_staff(businesses=(business,), permissions=permissions))
    before = booking.history.count()

    assert_error(patch(client, booking, {"action": "cancel", "reason": "r"}), 403, "forbidden")
    assert booking.history.count() == before


@pytest.mark.parametrize("action", ["approve", "cancel", "soft_delete"])
def test_another_business_booking_cannot_be_touched(api, foreign_booking, action):
    assert_error(patch(api, foreign_booking, {"action": action, "reason": "r"}), 404, "not_found")
    unchanged = reloaded(foreign_booking)
    assert unchanged.status == BookingStatus.PENDING
    assert unchanged.is_deleted is False


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "invalid"),
        (b"\xff\xfe", "invalid"),
        (b"[1, 2]", "invalid"),
        (b'"cancel"', "invalid"),
        (b"", "invalid"),
        (b"{}", "invalid"),
        (b'{"action": "purge", "reason": "r"}', "invalid"),
        (b'{"action": "delete"}', "invalid"),
        (b'{"action": ["cancel"]}', "invalid"),
        (b'{"action": "cancel", "reason": 5}', "invalid"),
        (b'{"action": "cancel", "reason": {"text": "r"}}', "invalid"),
        (b'{"action": "cancel", "notify_client": "no"}', "invalid"),
        (b'{"action": "cancel", "status": "approved"}', "invalid"),
        (b'{"action": "cancel", "reason": "a\\u0000b"}', "invalid"),
        (b'{"action": "cancel", "reason": "\\ud800"}', "invalid"),
        (json.dumps({"action": "cancel", "reason": "x" * 1001}).encode(), "reason_too_long"),
        (json.dumps({"action": "cancel", "reason": "x" * 20000}).encode(), "invalid"),
    ],
)
def test_malformed_patch_is_400_and_changes_nothing(api, booking, body, code):
    response = api.patch(url(booking), body, content_type="application/json")

    assert_error(response, 400, code)
    assert reloaded(booking).status == BookingStatus.PENDING
    assert booking.history.count() == 1


def test_reason_of_exactly_the_limit_is_accepted(api, booking):
    assert patch(api, booking, {"action": "cancel", "reason": "x" * 1000}).status_code == 200


# --- DELETE /api/booking/manage/<id>/ -----------------------------------------------------


def test_purge_with_confirmation_in_the_body(api, booking, staff):
    response = delete(api, booking, {"confirm": booking.reference, "reason": "GDPR request"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    assert body["booking"]["reference"] == booking.reference
    assert not BookingRequest.all_objects.filter(pk=booking.pk).exists()
    final = BookingRequest.history.filter(id=booking.pk).latest("history_date")
    assert final.history_type == "-"
    assert final.history_user == staff
    assert final.history_change_reason == "GDPR request"


def test_purge_with_confirmation_in_the_query_string(api, booking):
    response = delete(api, booking, query=f"?confirm={booking.reference}&reason=Spam")

    assert response.status_code == 200, response.content
    assert not BookingRequest.all_objects.filter(pk=booking.pk).exists()


def test_purge_of_a_soft_deleted_booking(api, session):
    gone = make_booking(session=session, is_deleted=True)

    assert delete(api, gone, {"confirm": gone.reference, "reason": "retention"}).status_code == 200
    assert not BookingRequest.all_objects.filter(pk=gone.pk).exists()


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"reason": "r"},
        {"confirm": "", "reason": "r"},
        {"confirm": "WRONGREF", "reason": "r"},
        {"confirm": "PURGE", "reason": "r"},
    ],
)
def test_purge_without_the_right_confirmation_is_400_and_deletes_nothing(api, booking, body):
    assert_error(delete(api, booking, body), 400, "confirmation_required")
    assert BookingRequest.all_objects.filter(pk=booking.pk).exists()


def test_purge_confirmation_is_case_sensitive(api, booking):
    assert_error(delete(api, booking, {"confirm": booking.reference.lower(), "reason": "r"}), 400)
    assert BookingRequest.all_objects.filter(pk=booking.pk).exists()


def test_purge_without_a_required_reason_is_400(api, booking):
    assert_error(delete(api, booking, {"confirm": booking.reference}), 400, "reason_required")
    assert BookingRequest.all_objects.filter(pk=booking.pk).exists()


def test_purge_where_the_policy_forbids_deletion_is_403(client, db):
    business = make_business(allow_admin_deletion=False)
    booking = make_booking(session=make_session(business=business))
    client.force_login(make_staff(businesses=(business,)))

    response = delete(client, booking, {"confirm": booking.reference, "reason": "r"})

    assert_error(response, 403, "policy")
    assert BookingRequest.all_objects.filter(pk=booking.pk).exists()


def test_purge_needs_the_purge_permission(client, business, booking):
    client.force_login(make_staff(businesses=(business,), permissions=[
        "view_bookingrequest", "change_bookingrequest", "soft_delete_bookingrequest",
    ]))  # fmt: skip

    response = delete(client, booking, {"confirm": booking.reference, "reason": "r"})

    assert_error(response, 403, "forbidden")
    assert BookingRequest.all_objects.filter(pk=booking.pk).exists()


def test_another_business_booking_cannot_be_purged(api, foreign_booking):
    response = delete(api, foreign_booking, {"confirm": foreign_booking.reference, "reason": "r"})

    assert_error(response, 404, "not_found")
    assert BookingRequest.all_objects.filter(pk=foreign_booking.pk).exists()


def test_second_purge_is_404(api, booking):
    body = {"confirm": booking.reference, "reason": "r"}

    assert delete(api, booking, body).status_code == 200
    assert_error(delete(api, booking, body), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "query"),
    [
        ({"confirm": "{ref}"}, "?confirm={ref}&reason=r"),
        ({"confirm": "{ref}", "reason": "r", "force": True}, ""),
        ({"confirm": "{ref}", "reason": "r"}, "?confirm={ref}&confirm={ref}"),
        ({"confirm": "{ref}", "reason": "r"}, "?really=yes"),
        ({"confirm": ["{ref}"], "reason": "r"}, ""),
        ({"confirm": "{ref}", "reason": "r", "notify_client": "false"}, ""),
    ],
)
def test_malformed_purge_is_400_and_deletes_nothing(api, booking, body, query):
    ref = booking.reference
    filled = json.loads(json.dumps(body).replace("{ref}", ref))

    assert_error(delete(api, booking, filled, query.replace("{ref}", ref)), 400)
    assert BookingRequest.all_objects.filter(pk=booking.pk).exists()


def test_purge_body_that_is_not_json_is_400(api, booking):
    response = api.delete(url(booking), b"confirm=ABC", content_type="text/plain")

    assert_error(response, 400, "invalid")
    assert BookingRequest.all_objects.filter(pk=booking.pk).exists()
