"""A session the business cancelled shows as such everywhere, and takes no new or moved bookings."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse

from booking import demo
from booking.emails.models import EmailKind, OutboxEmail
from booking.exports.report import cancellation_report
from booking.models import BookingRequest, BookingStatus, SessionStatus
from booking.services import exceptions as exc
from booking.services.details import update_booking_details
from booking.services.sessions import cancel_sessions
from tests.booking.outbox_support import rendered
from tests.factories import (
    ALL_BOOKING_PERMISSIONS,
    make_booking,
    make_business,
    make_session,
    make_staff,
)

pytestmark = pytest.mark.django_db

FEE_POLICY = "Cancellations within 24 hours are charged 50% of the class price."
REASON = "Instructor ill"


@pytest.fixture
def studio():
    return make_business(
        slug="studio", name="Johnny Bravo Fitness Center", cancellation_fee_policy=FEE_POLICY
    )


@pytest.fixture
def spin(studio):
    return make_session(business=studio, title="Morning Spin")


@pytest.fixture
def ada(spin):
    """Ada's booking, cancelled with her whole session by the business."""
    booking = make_booking(session=spin, status=BookingStatus.APPROVED)
    cancel_sessions(spin, actor=None, reason=REASON)
    return BookingRequest.objects.select_related("session__business").get(pk=booking.pk)


@pytest.fixture
def desk(studio):
    permissions = [*ALL_BOOKING_PERMISSIONS, "add_bookingrequest"]
    return make_staff(username="desk", businesses=(studio,), permissions=permissions)


def _cancelled_session_with_an_active_booking(studio):
    """A booking still pending in a cancelled session (as a restore leaves one)."""
    session = make_session(business=studio, title="Evening Yoga")
    booking = make_booking(session=session)
    session.status = SessionStatus.CANCELLED
    session.cancellation_reason = REASON
    session.save()
    return booking


# ---------------------------------------------------------------- the client's side


def test_public_page_says_the_business_cancelled_the_session(client, ada, studio):
    page = client.get(f"/booking/cancel/{ada.reference}/").content.decode()

    assert "Johnny Bravo Fitness Center cancelled this session" in page
    assert f"Their reason: {REASON}." in page and "no fee to pay" in page
    assert studio.contact_email in page and studio.contact_phone in page
    assert "Cancelled by the business" in page
    assert "#cancel-form" not in page and "button--danger" not in page  # no cancel button
    assert FEE_POLICY not in page  # no fee policy: no fee applies


def test_public_page_offers_no_cancel_button_for_an_active_booking_either(client, studio):
    booking = _cancelled_session_with_an_active_booking(studio)

    page = client.get(f"/booking/cancel/{booking.reference}/").content.decode()

    assert "cancelled this session" in page
    assert "#cancel-form" not in page and "button--danger" not in page


def test_public_post_is_refused_with_the_same_words(client, studio):
    booking = _cancelled_session_with_an_active_booking(studio)

    response = client.post(
        f"/booking/cancel/{booking.reference}/",
        {"client_email": booking.client_email, "reason": "x", "accepted_fee": "0.00"},
    )

    assert response.status_code == 409
    assert "cancelled this session" in response.content.decode()
    assert BookingRequest.objects.get(pk=booking.pk).status == BookingStatus.PENDING


def test_client_api_shows_the_session_status_and_reason(client, ada):
    body = client.get(f"/api/booking/client/{ada.reference}/").json()

    assert body["session"]["status"] == "cancelled"
    assert body["session"]["cancellation_reason"] == REASON
    assert body["status"] == "cancelled" and body["can_cancel"] is False


def test_client_api_refuses_to_cancel_in_a_cancelled_session(client, studio):
    booking = _cancelled_session_with_an_active_booking(studio)

    response = client.post(
        f"/api/booking/client/{booking.reference}/cancel/",
        json.dumps({"client_email": booking.client_email, "reason": "x"}),
        content_type="application/json",
    )

    assert response.status_code == 409
    assert response.json()["error"] == "the business cancelled this session"


def test_the_email_has_no_fee_policy_since_no_fee_applies(ada):
    [email] = rendered(OutboxEmail.objects.filter(booking=ada))

    assert email.kind == EmailKind.SESSION_CANCELLED
    for body in (email.text_body, email.html_body):
        assert FEE_POLICY not in body and "fee policy" not in body.lower()
        assert REASON in body and "desk@example.com" in body
    assert "No cancellation fee applies" in email.text_body


# ---------------------------------------------------------------- staff's side


def test_staff_api_shows_the_session_status(client, ada, desk):
    client.force_login(desk)

    body = client.get("/api/booking/manage/").json()

    (item,) = body["bookings"]
    assert item["session"]["status"] == "cancelled"
    assert item["session"]["cancellation_reason"] == REASON


def test_bookings_export_has_a_session_status_column(client, ada, desk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(desk)

    response = client.post(
        reverse("booking_exports:new"), {"table": "bookings", "format": "csv", "business": ""}
    )

    body = b"".join(response.streaming_content) if response.streaming else response.content
    (row,) = csv.DictReader(io.StringIO(body.decode("utf-8-sig")))
    assert row["Session status"] == "Cancelled" and row["Status"] == "Cancelled"


def test_sessions_export_has_the_status_and_reason(client, ada, desk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(desk)

    response = client.post(
        reverse("booking_exports:new"), {"table": "sessions", "format": "json", "business": ""}
    )

    body = b"".join(response.streaming_content) if response.streaming else response.content
    (row,) = json.loads(body)
    assert (row["status"], row["cancellation_reason"]) == ("Cancelled", REASON)


def test_report_tells_session_cancellations_apart(studio, ada, desk):
    other = make_session(business=studio, title="Other")
    single = make_booking(session=other)
    from booking.services import cancel_bookings

    cancel_bookings(single, actor=desk, reason="Client phoned")

    (row,) = cancellation_report(BookingRequest.objects.all())

    assert (row.by_staff, row.by_session, row.by_client) == (2, 1, 0)


# ---------------------------------------------------------------- no new or moved bookings


def _add_form(studio, session):
    return {
        "session": str(session.pk),
        "client_name": "Grace Hopper",
        "client_email": "grace@example.com",
        "client_phone": "",
        "emails-TOTAL_FORMS": "0",
        "emails-INITIAL_FORMS": "0",
        "_save": "Save",
    }


def test_admin_add_form_refuses_a_cancelled_session(client, studio, ada, desk):
    client.force_login(desk)

    response = client.post(
        reverse("admin:booking_bookingrequest_add"), _add_form(studio, ada.session)
    )

    assert response.status_code == 200  # the form again, with the error
    assert "The session is cancelled: it takes no new or moved bookings." in (
        response.content.decode()
    )
    assert not BookingRequest.objects.filter(client_email="grace@example.com").exists()


def test_admin_add_form_takes_a_scheduled_session(client, studio, desk):
    client.force_login(desk)
    session = make_session(business=studio)

    response = client.post(reverse("admin:booking_bookingrequest_add"), _add_form(studio, session))

    assert response.status_code == 302
    assert BookingRequest.objects.filter(session=session, client_email="grace@example.com").exists()


def test_admin_change_form_refuses_moving_into_a_cancelled_session(client, studio, ada, desk):
    client.force_login(desk)
    booking = make_booking(session=make_session(business=studio), client_name="Grace")
    url = reverse("admin:booking_bookingrequest_change", args=[booking.pk])

    data = {**_add_form(studio, ada.session), "client_name": "Grace"}
    response = client.post(url, data)

    assert response.status_code == 200
    assert "it takes no new or moved bookings" in response.content.decode()
    assert BookingRequest.objects.get(pk=booking.pk).session_id != ada.session_id


def test_admin_change_form_still_edits_a_booking_of_a_cancelled_session(client, ada, studio, desk):
    client.force_login(desk)
    url = reverse("admin:booking_bookingrequest_change", args=[ada.pk])

    data = {**_add_form(studio, ada.session), "client_name": "Ada King"}
    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert BookingRequest.objects.get(pk=ada.pk).client_name == "Ada King"


def test_details_service_refuses_a_cancelled_session(studio, ada, desk):
    booking = make_booking(session=make_session(business=studio))

    with pytest.raises(exc.InvalidTransition, match="takes no new or moved bookings"):
        update_booking_details(booking.pk, actor=desk, changes={"session": ada.session})

    assert BookingRequest.objects.get(pk=booking.pk).session_id != ada.session_id


def test_booking_form_autocomplete_offers_no_cancelled_session(client, studio, ada, desk):
    from django.contrib.auth.models import Permission

    desk.user_permissions.add(
        Permission.objects.get(codename="view_session", content_type__app_label="booking")
    )
    client.force_login(desk)
    open_one = make_session(business=studio, title="Morning Spin again")

    response = client.get(
        reverse("admin:autocomplete"),
        {"term": "Morning", "app_label": "booking", "model_name": "bookingrequest",
         "field_name": "session"},
    )  # fmt: skip

    assert response.status_code == 200
    assert [int(item["id"]) for item in response.json()["results"]] == [open_one.pk]


def test_demo_bookings_never_go_into_a_cancelled_session(studio, ada):
    created = demo.create_bookings(studio, count=12, seed=3)

    assert created and all(booking.session_id != ada.session_id for booking in created)
    assert BookingRequest.objects.filter(session=ada.session).count() == 1


def test_moves_refuse_a_cancelled_target(studio, ada, desk):
    from booking.services.lifecycle.moves import move_bookings

    booking = make_booking(session=make_session(business=studio, starts_in=timedelta(days=2)))

    with pytest.raises(exc.InvalidTransition, match="the target session is cancelled"):
        move_bookings([booking.pk], actor=desk, session=ada.session_id)


def test_booking_list_marks_bookings_of_a_cancelled_session(client, ada, desk):
    client.force_login(desk)

    page = client.get(reverse("admin:booking_bookingrequest_changelist")).content.decode()

    assert "Session cancelled" in page and "Cancelled by staff" not in page


def test_approving_a_pending_booking_of_a_cancelled_session_is_refused(studio, desk):
    from booking.services import approve_bookings

    booking = _cancelled_session_with_an_active_booking(studio)

    result = approve_bookings(booking, actor=desk)

    assert result.done == []
    assert [skip.reason for skip in result.skipped] == [
        "its session is cancelled: it takes no new or moved bookings"
    ]
    assert BookingRequest.objects.get(pk=booking.pk).status == BookingStatus.PENDING


def test_restoring_an_active_booking_into_a_cancelled_session_is_refused(studio, desk):
    from booking.services import restore_bookings

    session = make_session(business=studio)
    active_one = make_booking(session=session, is_deleted=True)
    cancelled_one = make_booking(session=session, status=BookingStatus.CANCELLED, is_deleted=True)
    cancel_sessions(session, actor=None, reason=REASON)

    result = restore_bookings([active_one.pk, cancelled_one.pk], actor=desk, reason="Oops")

    assert [booking.pk for booking in result.done] == [cancelled_one.pk]  # a record, no place
    assert [skip.reason for skip in result.skipped] == [
        "its session is cancelled: it takes no new or moved bookings"
    ]
    assert BookingRequest.all_objects.get(pk=active_one.pk).is_deleted
    assert not OutboxEmail.objects.filter(kind=EmailKind.RESTORED).exists()
