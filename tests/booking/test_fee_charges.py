"""One function quotes and charges: the client's cancellation, staff's, no-shows and waivers.

Every interface (services, client API, public page, staff API, admin) records
the same amount the quote states.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from booking import services
from booking.emails.models import EmailKind, OutboxEmail
from booking.models import BookingRequest, BookingStatus, FeeStatus
from booking.services import charges
from booking.services import exceptions as exc
from booking.services.actions import CONFIRMED
from booking.services.lifecycle import attendance
from booking.services.lifecycle.client import Proof
from tests.booking.admin_helpers import choose, confirm
from tests.booking.outbox_support import rendered
from tests.factories import make_booking, make_business, make_session, make_staff

pytestmark = pytest.mark.django_db

# The studio: a 25.00 USD class; half under 48 hours, the full price plus 5.00 under 24.
TIERS = ((48, "50", "0"), (24, "100", "5.00"))


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def studio(db):
    return make_business(fee_rules=TIERS, cancellation_deadline_hours=12)


def booking_in(studio, hours: float, **fields):
    session = make_session(business=studio, price="25.00", starts_in=timedelta(hours=hours))
    return make_booking(session=session, status=BookingStatus.APPROVED, **fields)


def stored(booking):
    return BookingRequest.all_objects.get(pk=booking.pk)


def proof(booking):
    return Proof(email=booking.client_email)


# --- The client's cancellation -----------------------------------------------------


def test_a_late_client_cancellation_owes_the_quoted_fee(studio):
    booking = booking_in(studio, 30)
    now = timezone.now()
    quote = charges.cancellation_quote(booking, now=now)

    services.cancel_booking_as_client(
        reference=booking.reference, proof=proof(booking), accepted_fee=quote.fee, now=now
    )

    row = stored(booking)
    assert quote.fee == Decimal("12.50")
    assert (row.status, row.fee_amount, row.fee_status) == ("cancelled", quote.fee, "owed")
    record = row.history.first()
    assert (record.fee_amount, record.fee_status) == (Decimal("12.50"), "owed")


def test_an_early_cancellation_owes_nothing(studio):
    booking = booking_in(studio, 100)

    services.cancel_booking_as_client(reference=booking.reference, proof=proof(booking))

    row = stored(booking)
    assert (row.fee_amount, row.fee_status) == (Decimal("0.00"), "none")


def test_a_fee_that_changed_since_the_quote_refuses_and_changes_nothing(studio):
    booking = booking_in(studio, 30)
    quoted = charges.cancellation_quote(booking, now=timezone.now() - timedelta(hours=20)).fee
    assert quoted == Decimal("0.00")  # quoted when it was still free

    with pytest.raises(exc.FeeChanged) as raised:
        services.cancel_booking_as_client(
            reference=booking.reference, proof=proof(booking), accepted_fee=quoted
        )

    assert raised.value.status_code == 409
    assert stored(booking).status == "approved" and booking.history.count() == 1


def test_the_client_email_states_the_fee(studio):
    booking = booking_in(studio, 30)

    services.cancel_booking_as_client(reference=booking.reference, proof=proof(booking))

    email = OutboxEmail.objects.get(kind=EmailKind.CLIENT_CANCELLED)
    assert "A late-cancellation fee of 12.50 USD applies" in email.text_body
    assert "A late-cancellation fee of 12.50 USD applies" in email.html_body
    notice = OutboxEmail.objects.get(kind=EmailKind.BUSINESS_NOTICE)
    assert "12.50 USD" in notice.text_body


# --- Staff cancellations -------------------------------------------------------------


def test_a_staff_cancellation_charges_nothing_unless_asked(studio):
    staff = make_staff(businesses=(studio,))
    spared, charged = booking_in(studio, 10), booking_in(studio, 10)

    services.cancel_bookings([spared.pk], actor=staff)
    services.cancel_bookings([charged.pk], actor=staff, charge_fee=True)

    assert (stored(spared).fee_amount, stored(spared).fee_status) == (Decimal("0.00"), "none")
    assert (stored(charged).fee_amount, stored(charged).fee_status) == (Decimal("30.00"), "owed")


def test_a_bulk_charged_cancellation_records_each_bookings_own_fee(studio):
    staff = make_staff(businesses=(studio,))
    bookings = [booking_in(studio, hours) for hours in (10, 30, 100, 10)]

    result = services.cancel_bookings([b.pk for b in bookings], actor=staff, charge_fee=True)

    assert result.done_count == 4
    assert [stored(b).fee_amount for b in bookings] == [
        Decimal("30.00"), Decimal("12.50"), Decimal("0.00"), Decimal("30.00"),
    ]  # fmt: skip
    assert all(b.history.count() == 2 for b in bookings)


# --- Attendance ---------------------------------------------------------------------------


def test_no_show_owes_the_no_show_fee_and_the_client_is_told(studio):
    staff = make_staff(businesses=(studio,))
    booking = booking_in(studio, -1)

    result = attendance.mark_no_show_bookings([booking.pk], actor=staff, reason="not seen")

    assert result.done_count == 1
    row = stored(booking)
    assert (row.status, row.fee_amount, row.fee_status) == ("no_show", Decimal("25.00"), "owed")
    [email] = rendered(OutboxEmail.objects.filter(kind=EmailKind.NO_SHOW_FEE))
    assert email.recipient == booking.client_email
    assert "A no-show fee of 25.00 USD applies" in email.text_body
    assert row.history.first().history_change_reason == "not seen"


def test_attendance_waits_for_the_session_to_start(studio):
    staff = make_staff(businesses=(studio,))
    booking = booking_in(studio, 2)

    result = attendance.mark_attended_bookings([booking.pk], actor=staff)

    assert result.summary() == "0 marked attended; 1 skipped: the session has not started yet"
    assert stored(booking).status == "approved"


def test_attended_and_a_free_no_show_send_nothing(studio):
    staff = make_staff(businesses=(studio,))
    studio.booking_settings.no_show_fee_percent = Decimal(0)
    studio.booking_settings.save()
    came, missed = booking_in(studio, -1), booking_in(studio, -1)

    attendance.mark_attended_bookings([came.pk], actor=staff)
    attendance.mark_no_show_bookings([missed.pk], actor=staff)

    assert stored(came).status == "attended"
    assert (stored(missed).fee_amount, stored(missed).fee_status) == (Decimal("0.00"), "none")
    assert not OutboxEmail.objects.filter(kind=EmailKind.NO_SHOW_FEE).exists()


# --- Waivers ---------------------------------------------------------------------------


def owing(studio):
    return booking_in(studio, -1, fee_amount=Decimal("25.00"), fee_status=FeeStatus.OWED)


def test_a_waiver_records_who_when_and_why(studio):
    staff = make_staff(businesses=(studio,))
    booking = owing(studio)

    attendance.waive_fees([booking.pk], actor=staff, reason="first time")

    row = stored(booking)
    assert (row.fee_status, row.fee_waived_by, row.fee_waiver_reason) == (
        "waived",
        staff,
        "first time",
    )
    assert row.fee_waived_at is not None and row.fee_amount == Decimal("25.00")
    record = row.history.first()
    assert (record.history_user, record.history_change_reason) == (staff, "first time")


def test_a_waiver_needs_a_reason_and_the_permission(studio):
    booking = owing(studio)
    holder = make_staff(businesses=(studio,))
    without = make_staff(businesses=(studio,), permissions=["change_bookingrequest"])

    with pytest.raises(exc.ReasonRequired):
        attendance.waive_fees([booking.pk], actor=holder, reason="  ")
    with pytest.raises(exc.NotPermitted):
        attendance.waive_fees([booking.pk], actor=without, reason="kind")
    assert stored(booking).fee_status == "owed"


def test_nothing_owed_or_another_business_is_skipped(studio, other_business):
    staff = make_staff(businesses=(studio,))
    free = booking_in(studio, -1)
    theirs = make_booking(
        session=make_session(business=other_business), fee_amount=Decimal(5), fee_status="owed"
    )

    result = attendance.waive_fees([free.pk, theirs.pk], actor=staff, reason="x")

    assert result.done_count == 0
    assert sorted(result.skip_reasons()) == [
        "no fee owed", "no longer exists, changed meanwhile or is not yours",
    ]  # fmt: skip
    assert stored(theirs).fee_status == "owed"


# --- The client API ---------------------------------------------------------------------


def test_the_client_api_quotes_then_charges_exactly_the_quote(client, studio):
    booking = booking_in(studio, 30)

    quote = client.get(f"/api/booking/client/{booking.reference}/").json()["cancellation_quote"]
    response = client.post(
        f"/api/booking/client/{booking.reference}/cancel/",
        json.dumps({"client_email": booking.client_email, "accepted_fee": quote["fee"]}),
        content_type="application/json",
    )

    assert quote == {"fee": "12.50", "currency": "USD", "late": True, "free_until": None}
    assert response.status_code == 200
    assert response.json()["fee"] == {"amount": "12.50", "currency": "USD"}
    assert stored(booking).fee_amount == Decimal("12.50")


def test_the_client_api_quote_says_until_when_it_is_free(client, studio):
    booking = booking_in(studio, 100)

    quote = client.get(f"/api/booking/client/{booking.reference}/").json()["cancellation_quote"]

    assert (quote["fee"], quote["late"]) == ("0.00", False)
    free_until = booking.session.starts_at - timedelta(hours=48)
    assert quote["free_until"] == free_until.isoformat()


def test_a_stale_accepted_fee_is_409_with_the_new_quote(client, studio):
    booking = booking_in(studio, 30)

    response = client.post(
        f"/api/booking/client/{booking.reference}/cancel/",
        json.dumps({"client_email": booking.client_email, "accepted_fee": "0.00"}),
        content_type="application/json",
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "fee_changed"
    assert body["cancellation_quote"]["fee"] == "12.50"
    assert stored(booking).status == "approved"


@pytest.mark.parametrize("bad", ["twelve", "-1.00", "1.005", 12.5, "NaN"])
def test_a_malformed_accepted_fee_is_400(client, studio, bad):
    booking = booking_in(studio, 30)

    response = client.post(
        f"/api/booking/client/{booking.reference}/cancel/",
        json.dumps({"client_email": booking.client_email, "accepted_fee": bad}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert stored(booking).status == "approved"


# --- The public page ----------------------------------------------------------------------


def test_the_page_states_the_fee_before_the_client_confirms(client, studio):
    late, early = booking_in(studio, 30), booking_in(studio, 100)

    late_page = client.get(f"/booking/cancel/{late.reference}/").content.decode()
    early_page = client.get(f"/booking/cancel/{early.reference}/").content.decode()

    assert "A late-cancellation fee of 12.50 USD applies" in late_page
    assert 'name="accepted_fee" value="12.50"' in late_page
    assert "No fee applies" in early_page and "cancelling is free until" in early_page


def test_the_page_charges_what_it_showed_and_refuses_a_changed_fee(client, studio):
    booking = booking_in(studio, 30)
    form = {"client_email": booking.client_email, "reason": ""}

    stale = client.post(f"/booking/cancel/{booking.reference}/", {**form, "accepted_fee": "0.00"})
    assert stale.status_code == 409
    assert "The cancellation fee has changed" in stale.content.decode()
    assert 'name="accepted_fee" value="12.50"' in stale.content.decode()
    assert stored(booking).status == "approved"

    done = client.post(f"/booking/cancel/{booking.reference}/", {**form, "accepted_fee": "12.50"})
    assert done.status_code == 200
    assert stored(booking).fee_amount == Decimal("12.50")


# --- The staff API and the admin -----------------------------------------------------------


def staff_patch(client, booking, body):
    return client.patch(
        f"/api/booking/manage/{booking.pk}/", json.dumps(body), content_type="application/json"
    )


def test_the_staff_api_charges_waives_and_marks(client, studio):
    staff = make_staff(businesses=(studio,))
    client.force_login(staff)
    late, missed = booking_in(studio, 10), booking_in(studio, -1)

    charged = staff_patch(client, late, {"action": "cancel", "charge_fee": True})
    no_show = staff_patch(client, missed, {"action": "mark_no_show"})
    no_reason = staff_patch(client, late, {"action": "waive_fee"})
    waived = staff_patch(client, late, {"action": "waive_fee", "reason": "goodwill"})

    assert charged.json()["booking"]["fee_amount"] == "30.00"
    assert charged.json()["booking"]["fee_status"] == "owed"
    assert no_show.json()["booking"]["status"] == "no_show"
    assert no_reason.status_code == 400
    assert waived.json()["booking"]["fee_status"] == "waived"


def test_the_staff_api_waiver_without_permission_is_403(client, studio):
    client.force_login(make_staff(businesses=(studio,), permissions=["view_bookingrequest"]))
    booking = owing(studio)

    response = staff_patch(client, booking, {"action": "waive_fee", "reason": "x"})

    assert response.status_code == 403
    assert stored(booking).fee_status == "owed"


def test_the_admin_cancel_page_offers_charge_fee_unticked(client, studio):
    client.force_login(make_staff(businesses=(studio,)))
    booking = booking_in(studio, 10)

    page = choose(client, "cancel_bookings", [booking]).content.decode()
    confirm(client, "cancel_bookings", [booking], charge_fee="on")

    assert 'name="charge_fee"' in page and 'name="charge_fee" checked' not in page
    assert (stored(booking).fee_amount, stored(booking).fee_status) == (Decimal("30.00"), "owed")


def test_the_admin_waiver_needs_a_reason(client, studio):
    client.force_login(make_staff(businesses=(studio,)))
    booking = owing(studio)

    refused = confirm(client, "waive_fees", [booking], reason="")
    assert stored(booking).fee_status == "owed" and refused.status_code == 200
    confirm(client, "waive_fees", [booking], reason="regular")
    assert stored(booking).fee_status == "waived"


def test_the_admin_marks_no_shows_in_bulk(client, studio):
    client.force_login(make_staff(businesses=(studio,)))
    past = [booking_in(studio, -1) for _ in range(3)]
    future = booking_in(studio, 5)

    confirm(client, "mark_no_show", [*past, future], notify=False)

    assert [stored(b).status for b in past] == ["no_show"] * 3
    assert stored(future).status == "approved"
    assert not OutboxEmail.objects.filter(kind=EmailKind.NO_SHOW_FEE).exists()


def test_the_fee_status_filter(client, studio):
    client.force_login(make_staff(businesses=(studio,)))
    owed, free = owing(studio), booking_in(studio, 100)

    page = client.get("/admin/booking/bookingrequest/?fee_status=owed").content.decode()

    assert owed.reference in page and free.reference not in page


def test_run_through_the_action_table_takes_confirmed(studio):
    staff = make_staff(businesses=(studio,))
    booking = owing(studio)
    action = services.ACTIONS["waive_fee"]

    action.run([booking.pk], actor=staff, reason="ok", options={CONFIRMED.name: True})

    assert stored(booking).fee_status == "waived"
