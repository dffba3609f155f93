"""The audit trail: one historical record per changed booking, with user, reason, IP, UA."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.utils import timezone
from simple_history.middleware import HistoryRequestMiddleware

from booking import services
from booking.audit import RequestContext, client_ip
from booking.models import BookingRequest, BookingStatus, Session
from tests.factories import make_booking, make_staff, owner_proof

CONTEXT = RequestContext(ip_address="203.0.113.7", user_agent="Mozilla/5.0 (history test)")

# action -> (fields of the booking before, what its historical record must show after)
EXPECTED = {
    "approve": ({}, {"status": BookingStatus.APPROVED}),
    "reject": ({}, {"status": BookingStatus.REJECTED}),
    "cancel": ({}, {"status": BookingStatus.CANCELLED, "cancellation_reason": "Why not"}),
    "soft_delete": ({}, {"is_deleted": True, "deletion_reason": "Why not"}),
    "restore": ({"is_deleted": True}, {"is_deleted": False, "deletion_reason": ""}),
}


def records_of(booking: BookingRequest):
    return BookingRequest.history.filter(id=booking.pk).order_by("history_id")


@pytest.mark.parametrize("action", EXPECTED)
def test_each_change_leaves_one_record_with_user_reason_ip_and_user_agent(session, staff, action):
    before, after = EXPECTED[action]
    booking = make_booking(session=session, **before)
    now = timezone.now()

    services.ACTIONS[action].service(
        booking, actor=staff, reason="Why not", context=CONTEXT, now=now
    )

    creation, record = records_of(booking)
    assert creation.history_type == "+"
    assert record.history_type == "~"
    assert record.history_user == staff
    assert record.history_change_reason == "Why not"
    assert (record.ip_address, record.user_agent) == ("203.0.113.7", "Mozilla/5.0 (history test)")
    assert record.history_date == now
    assert {field: getattr(record, field) for field in after} == after


def test_cancel_record_carries_the_cancellation_fields(booking, staff):
    now = timezone.now()

    services.cancel_bookings(booking, actor=staff, reason="Ill", context=CONTEXT, now=now)

    record = records_of(booking).last()
    assert (record.cancelled_at, record.cancelled_by_id, record.cancelled_by_client) == (
        now,
        staff.pk,
        False,
    )


def test_bulk_writes_one_record_per_changed_booking_and_none_for_skipped(session, staff):
    changed = [make_booking(session=session) for _ in range(3)]
    skipped = [make_booking(session=session, status=BookingStatus.CANCELLED) for _ in range(2)]

    services.cancel_bookings(
        BookingRequest.objects.all(), actor=staff, reason="Closed", context=CONTEXT
    )

    assert [records_of(b).count() for b in changed] == [2, 2, 2]
    assert [records_of(b).count() for b in skipped] == [1, 1]
    assert BookingRequest.history.filter(history_type="~").count() == 3


def test_refused_call_leaves_no_record(booking, staff):
    services.restore_bookings(booking, actor=staff, context=CONTEXT)

    assert records_of(booking).count() == 1


def test_purge_keeps_a_final_deletion_record(session, staff):
    booking = make_booking(session=session, status=BookingStatus.APPROVED, client_name="Ada L")
    pk, reference = booking.pk, booking.reference

    services.purge_bookings(
        booking, actor=staff, reason="Erasure request", confirmed=True, context=CONTEXT
    )

    assert not BookingRequest.all_objects.filter(pk=pk).exists()
    final = BookingRequest.history.filter(id=pk).latest()
    assert final.history_type == "-"
    assert (final.history_user, final.history_change_reason) == (staff, "Erasure request")
    assert (final.ip_address, final.user_agent) == (CONTEXT.ip_address, CONTEXT.user_agent)
    assert (final.reference, final.client_name, final.status) == (reference, "Ada L", "approved")
    assert BookingRequest.history.filter(id=pk).count() == 2


def test_client_cancellation_is_recorded_without_a_user(rf, booking, staff):
    """Even when the client's browser is logged in as staff: the client acted, not staff."""
    request = rf.post("/booking/cancel/", REMOTE_ADDR="198.51.100.9", HTTP_USER_AGENT="Phone")
    request.user = staff

    def view(request):
        services.cancel_booking_as_client(
            reference=booking.reference,
            proof=owner_proof(booking),
            reason="Feeling unwell",
            context=RequestContext.from_request(request),
        )
        return None

    HistoryRequestMiddleware(view)(request)

    record = records_of(booking).last()
    assert record.history_user is None
    assert record.history_change_reason == "Feeling unwell"
    assert (record.ip_address, record.user_agent) == ("198.51.100.9", "Phone")


def test_a_plain_save_during_a_request_records_the_request_origin(rf, staff, session):
    """Sessions, businesses and policies change through forms: the middleware supplies origin."""
    request = rf.post("/admin/", REMOTE_ADDR="192.0.2.44", HTTP_USER_AGENT="Firefox")
    request.user = staff

    def view(request):
        session.title = "Evening Spin"
        session._change_reason = "Renamed"
        session.save()

    HistoryRequestMiddleware(view)(request)

    record = Session.history.filter(id=session.pk).latest()
    assert (record.history_user, record.history_change_reason) == (staff, "Renamed")
    assert (record.ip_address, record.user_agent) == ("192.0.2.44", "Firefox")


def test_a_save_outside_a_request_records_no_origin(session):
    session.title = "Evening Spin"
    session.save()

    record = Session.history.filter(id=session.pk).latest()
    assert (record.ip_address, record.user_agent) == (None, "")


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        (0, "1.1.1.1", "10.0.0.1"),  # the header is ignored without trusted proxies
        (1, "1.1.1.1", "1.1.1.1"),
        (1, "6.6.6.6, 1.1.1.1", "1.1.1.1"),  # a client cannot prepend its way in
        (2, "6.6.6.6, 1.1.1.1, 172.16.0.2", "1.1.1.1"),
        (2, "1.1.1.1", "10.0.0.1"),  # fewer entries than proxies: not trustworthy
        (1, "", "10.0.0.1"),
    ],
)
def test_client_ip_trusts_only_known_proxies(settings, trusted, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = trusted
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def test_request_context_keeps_user_agents_to_their_column_size():
    request = RequestFactory().get("/", HTTP_USER_AGENT="x" * 2000)

    assert len(RequestContext.from_request(request).user_agent) == 512


def test_command_context_names_the_command():
    assert RequestContext.command("bookings purge-deleted").as_history_attrs() == {
        "ip_address": None,
        "user_agent": "manage.py bookings purge-deleted",
    }


def test_membership_added_from_the_users_side_is_recorded_on_the_business(business):
    user = make_staff(username="newcomer")

    user.businesses.add(business)

    record = business.history.first()
    assert record.history_type == "~"
    assert list(record.staff.values_list("user_id", flat=True)) == [user.pk]


def test_membership_cleared_from_the_users_side_is_recorded_on_each_business(business):
    user = make_staff(username="leaver", businesses=(business,))
    before = business.history.count()

    user.businesses.clear()

    assert business.history.count() == before + 1
    assert not business.history.first().staff.exists()
