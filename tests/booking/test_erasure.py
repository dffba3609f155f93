"""Erasure: no table keeps the client's email, phone or name; the audit facts stay."""

import re

import pytest
from django.apps import apps
from django.db import models

from booking import services
from booking.audit import RequestContext
from booking.models import BookingRequest
from booking.services import exceptions as exc
from booking.services.erasure import DEFAULT_REASON, ERASED_NAME, erase_client_data
from tests.factories import make_booking, make_session

CLIENT = RequestContext(ip_address="203.0.113.5", user_agent="Firefox (the client's)")
DESK = RequestContext(ip_address="198.51.100.7", user_agent="Desk browser")


@pytest.fixture
def ada(business, staff):
    """Ada's bookings: one cancelled by her then soft-deleted, one purged; Bob's mentions her."""
    session = make_session(business=business)
    first = make_booking(
        session=session,
        client_name="Ada Lovelace",
        client_email="ada@example.com",
        client_phone="+44 7700 900123",
    )
    services.cancel_booking_as_client(
        reference=first.reference,
        verify=lambda booking: True,
        reason="Call me on 07700 900123 or ada@example.com",
        context=CLIENT,
    )
    services.soft_delete_bookings(
        first, actor=staff, reason="Ada Lovelace asked by phone", context=DESK
    )
    purged = make_booking(
        session=session,
        client_name="Ada Lovelace",
        client_email="ADA@Example.com",
        client_phone="07700-900-123",
    )
    services.purge_bookings(purged, actor=staff, reason="duplicate", confirmed=True, context=DESK)
    bob = make_booking(
        session=session,
        client_name="Bob",
        client_email="bob@example.com",
        client_phone="0161 496 0000",
    )
    services.cancel_bookings(
        bob, actor=staff, reason="Duplicate of ADA@example.com's", context=DESK
    )
    carol = make_booking(
        session=session, client_name="Carol", client_email="carol@example.com", client_phone=""
    )
    return {"first": first, "purged": purged, "bob": bob, "carol": carol}


def text_values():
    """Every value of every text column of every table of the booking app, history included."""
    for model in apps.get_app_config("booking").get_models():
        columns = [
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField)
        ]
        if columns:
            for row in model._base_manager.values_list(*columns).iterator():
                yield from (value for value in row if value)


def assert_no_trace():
    for value in text_values():
        assert "ada@example.com" not in value.casefold(), value
        assert "lovelace" not in value.casefold(), value
        assert "7700900123" not in re.sub(r"\D", "", value), value


def history_facts(booking_id):
    return list(
        BookingRequest.history.filter(id=booking_id)
        .order_by("history_id")
        .values_list("history_type", "status", "is_deleted", "history_user_id", "history_date")
    )


def test_erasure_by_email_leaves_no_trace_in_any_table(ada, superuser):
    result = erase_client_data(email=" ada@EXAMPLE.com ", actor=superuser)
    assert result.booking_ids == sorted([ada["first"].pk, ada["purged"].pk])
    assert_no_trace()


def test_erasure_by_phone_finds_every_spelling(ada, superuser):
    result = erase_client_data(phone="0044 (7700) 900123", actor=None)
    assert result.booking_ids == sorted([ada["first"].pk, ada["purged"].pk])
    assert_no_trace()


def test_erasure_keeps_the_audit_facts_and_records_itself(ada, superuser, staff):
    first = ada["first"]
    before = history_facts(first.pk)
    purged_before = history_facts(ada["purged"].pk)

    erase_client_data(email="ada@example.com", actor=superuser, context=DESK)

    after = history_facts(first.pk)
    assert after[:-1] == before  # statuses, who and when are untouched
    assert history_facts(ada["purged"].pk) == purged_before
    erasure = BookingRequest.history.filter(id=first.pk).latest("history_id")
    assert erasure.history_user == superuser
    assert erasure.history_change_reason == DEFAULT_REASON
    assert erasure.ip_address == DESK.ip_address
    assert (erasure.status, erasure.is_deleted, erasure.client_name) == (
        "cancelled",
        True,
        ERASED_NAME,
    )

    records = BookingRequest.history.filter(id=first.pk).order_by("history_id")
    client_cancel, staff_delete = records[1], records[2]
    assert (client_cancel.ip_address, client_cancel.user_agent) == (None, "")
    assert client_cancel.history_change_reason == "Call me on 0[erased] or [erased]"
    assert staff_delete.ip_address == DESK.ip_address and staff_delete.history_user == staff
    assert staff_delete.history_change_reason == "[erased] asked by phone"

    first.refresh_from_db()
    assert (first.client_name, first.client_email, first.client_phone) == (ERASED_NAME, "", "")
    assert first.cancellation_reason == "Call me on 0[erased] or [erased]"
    assert first.deletion_reason == "[erased] asked by phone"
    assert first.status == "cancelled" and first.cancelled_by_client


def test_other_clients_keep_their_data_but_lose_mentions(ada, superuser):
    carol_history = history_facts(ada["carol"].pk)
    erase_client_data(email="ada@example.com", actor=superuser)
    bob = BookingRequest.objects.get(pk=ada["bob"].pk)
    assert (bob.client_name, bob.client_email) == ("Bob", "bob@example.com")
    assert bob.cancellation_reason == "Duplicate of [erased]'s"
    assert history_facts(ada["carol"].pk) == carol_history


def test_erasure_needs_a_superuser(ada, staff):
    with pytest.raises(exc.NotPermitted):
        erase_client_data(email="ada@example.com", actor=staff)
    assert BookingRequest.all_objects.filter(client_email="ada@example.com").exists()


@pytest.mark.parametrize(
    ("email", "phone"),
    [("", ""), ("a@example.com", "0123456789"), ("", "12-34")],
)
def test_erasure_refuses_bad_input(db, email, phone):
    with pytest.raises(exc.InvalidInput):
        erase_client_data(email=email, phone=phone, actor=None)


def test_dry_run_counts_and_changes_nothing(ada, superuser):
    before = list(BookingRequest.history.values_list("history_id", "client_email"))
    result = erase_client_data(email="ada@example.com", actor=superuser, dry_run=True)
    assert result.dry_run and result.changed["bookings"] == 2  # Ada's and Bob's mention
    assert list(BookingRequest.history.values_list("history_id", "client_email")) == before


def test_erasure_queries_are_batched(ada, superuser, business, django_assert_max_num_queries):
    session = make_session(business=business)
    for _ in range(40):
        make_booking(session=session, client_name="Ada Lovelace", client_email="ada@example.com")
    with django_assert_max_num_queries(20):
        result = erase_client_data(email="ada@example.com", actor=superuser)
    assert len(result.booking_ids) == 42
