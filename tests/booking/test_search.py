"""Booking search: each word in the reference, client name, email or phone, through one index."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from booking.models import BookingRequest, BookingSearch, BookingStatus
from tests.booking.admin_helpers import CHANGELIST
from tests.factories import make_booking

pytestmark = pytest.mark.django_db


@pytest.fixture
def grace(session):
    return make_booking(
        session=session,
        reference="REFABC23",
        client_name="Grace Hopper",
        client_email="grace.hopper@example.com",
        client_phone="+44 7700 900999",
    )


@pytest.fixture
def alan(session):
    return make_booking(
        session=session, client_name="Alan Turing", client_email="alan@x.test", client_phone=""
    )


def found(text: str) -> set[str]:
    return set(BookingRequest.all_objects.containing(text).values_list("client_name", flat=True))


@pytest.mark.parametrize(
    "text", ["refabc", "Grace Hop", "HOPPER@EXAMPLE.COM", "7700 9", "a"], ids=lambda t: t
)
def test_a_text_is_found_in_any_searched_field_in_any_case(grace, alan, text):
    expected = {"Grace Hopper", "Alan Turing"} if text == "a" else {"Grace Hopper"}

    assert found(text) == expected


def test_a_text_spanning_two_fields_is_not_found(grace):
    # In the fields joined by the separator, not in any one of them.
    assert found("Hopper\ngrace") == set()
    assert found("23\nGrace") == set()
    assert found("Grace Hopper\n") == set()


def test_like_wildcards_are_plain_characters(grace, alan):
    assert found("%") == set()
    assert found("_") == set()


def test_the_admin_wants_every_word_and_keeps_a_quoted_phrase(client, superuser, grace, alan):
    client.force_login(superuser)

    def listed(query: str) -> set[str]:
        response = client.get(CHANGELIST, {"q": query})
        assert response.status_code == 200
        return {booking.client_name for booking in response.context["cl"].result_list}

    assert listed("grace example.com") == {"Grace Hopper"}
    assert listed("grace alan") == set()
    assert listed('"Hopper grace"') == set()
    assert listed('"Grace Hopper"') == {"Grace Hopper"}


def test_bookings_by_client_email_ignore_case_and_other_addresses(session, grace, alan):
    make_booking(session=session, client_name="Prefixed", client_email="x.grace.hopper@example.com")

    bookings = BookingRequest.all_objects.with_emails(["Grace.Hopper@Example.com", "alan@x.test"])

    assert set(bookings.values_list("client_name", flat=True)) == {"Grace Hopper", "Alan Turing"}
    assert not BookingRequest.all_objects.with_emails([]).exists()


def _plan(queryset) -> str:
    with connection.cursor() as cursor:
        # A test's table is small: reading it whole, or in order, would be cheaper.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        return queryset.order_by().explain()


@pytest.mark.postgres  # the trigram index exists on PostgreSQL only
@pytest.mark.parametrize(
    "bookings",
    [
        lambda: BookingRequest.all_objects.containing("hopper"),
        lambda: BookingRequest.all_objects.containing("Hopper\ngrace"),
        lambda: BookingRequest.all_objects.with_emails(["grace.hopper@example.com"]),
    ],
    ids=["word", "word with the separator", "email"],
)
def test_the_search_index_serves_the_search(grace, bookings):
    """The search's condition is the expression migration 0020 indexed."""
    assert "booking_search_text_trgm" in _plan(bookings())


def _searched(booking) -> tuple[str, int]:
    """The booking's searched text and the transaction that last wrote it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT text, xmin::text::bigint FROM booking_search WHERE booking_id = %s",
            [booking.pk],
        )
        return cursor.fetchone()


@pytest.mark.postgres  # the triggers that keep it are PostgreSQL's
def test_the_searched_text_follows_the_booking(session, grace):
    text = "REFABC23\nGrace Hopper\ngrace.hopper@example.com\n+44 7700 900999"
    assert _searched(grace)[0] == text
    BookingRequest.all_objects.bulk_create(
        [BookingRequest(session=session, reference="BULK2345", client_name="Ada Lovelace")]
    )
    assert found("lovelace") == {"Ada Lovelace"}

    BookingRequest.all_objects.filter(pk=grace.pk).update(client_name="Grace B. Hopper")
    assert found("B. Hop") == {"Grace B. Hopper"}

    bulk = BookingRequest.all_objects.get(reference="BULK2345")
    BookingRequest.all_objects.filter(pk=bulk.pk).delete()
    assert found("lovelace") == set()
    assert list(BookingSearch.objects.values_list("booking_id", flat=True)) == [grace.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # each write its own transaction, as in production
def test_a_status_change_does_not_write_the_searched_text(session):
    booking = make_booking(session=session, client_name="Grace Hopper")
    written = _searched(booking)

    BookingRequest.all_objects.filter(pk=booking.pk).update(
        status=BookingStatus.CANCELLED, cancelled_at=timezone.now()
    )
    booking.refresh_from_db()
    booking.save()  # every column written back, none changed

    assert _searched(booking) == written
