"""How a client proves a booking is theirs: email or phone. No database."""

from __future__ import annotations

import pytest

from booking.models import BookingRequest, Business, Session
from booking.phones import search_forms, to_e164
from booking.services.identity import email_matches, identity_matches, phone_matches


@pytest.mark.parametrize(
    ("given", "stored", "expected"),
    [
        ("ada@example.com", "ada@example.com", True),
        ("ADA@Example.COM", "ada@example.com", True),
        ("ada@example.com", "Ada@EXAMPLE.com", True),
        ("  ada@example.com\t\n", "ada@example.com", True),
        ("ada@example.com", " ada@example.com ", True),
        ("ada@example.co", "ada@example.com", False),
        ("ada@example.com.", "ada@example.com", False),
        ("a da@example.com", "ada@example.com", False),
        ("", "ada@example.com", False),
        ("   ", "", False),
        ("", "", False),
    ],
)
def test_email_is_trimmed_and_case_insensitive(given, stored, expected):
    assert email_matches(given, stored) is expected


PHONES = [
    # Same number, written differently (a GB business: national numbers are GB's).
    ("+44 7700 900123", "+44 7700 900123", True),
    ("+44 7700 900123", "+447700900123", True),
    ("0044 7700-900123", "+44 7700 900123", True),
    ("+44 7700 900123", "07700 900123", True),
    ("+44 (0)7700 900123", "07700900123", True),
    ("(07700) 900-123", "07700 900123", True),
    ("7700 900123", "07700 900123", True),
    ("+1 555 0100 200", "+1 (555) 010-0200", True),
    ("1 555 010 2000", "+1 (555) 010-2000", True),  # same digits always match
    ("+353 87 123 4567", "+353 (0)87 123 4567", True),
    ("+39 06 1234 5678", "0039 06 1234 5678", True),
    ("123456", "123456", True),  # unparsable: the same digits, at least six
    # Different numbers.
    ("+44 7700 900123", "+44 7700 900124", False),
    ("+44 7700 900123", "07700 900124", False),
    ("+44 7700 900123", "+49 7700 900123", False),  # same national digits, another country
    ("+44 7700 900123", "+1 7700 900123", False),
    ("+1 7700 900123", "07700 900123", False),  # read as GB, this is +44
    # Knowing the last digits is not enough: nothing is dropped from the front.
    ("+44 7700 900123", "700900123", False),
    ("+44 7700 900123", "00900123", False),
    ("+44 7700 900123", "900123", False),
    ("+44 7700 900123", "7700 90012", False),
    ("12345", "12345", False),  # too short to prove anything
    ("+44 7700 900123", "", False),
    ("", "", False),
    ("not a number", "", False),
]


@pytest.mark.parametrize(("a", "b", "expected"), PHONES)
def test_phone_is_compared_by_e164_read_as_the_business_country(a, b, expected):
    assert phone_matches(a, b, country="GB") is expected
    assert phone_matches(b, a, country="GB") is expected
    assert phone_matches(a, b, country="GB", stored_e164=to_e164(b, "GB")) is expected


def test_a_national_number_is_read_with_the_business_country():
    assert phone_matches("555 010 2000", "+1 (555) 010-2000", country="US")
    assert not phone_matches("555 010 2000", "+1 (555) 010-2000", country="GB")
    assert phone_matches("07700 993176", "+44 7700 993176", country="GB")
    assert not phone_matches("07700 993176", "+44 7700 993176", country="US")


@pytest.mark.parametrize(
    ("written", "country", "e164"),
    [
        ("+1 (555) 010-2000", "US", "+15550102000"),  # fictional, yet possible
        ("1 555 010 2000", "US", "+15550102000"),
        ("07700 993176", "GB", "+447700993176"),
        ("0044 7700 993176", "US", "+447700993176"),
        ("+44 (0)7700 900123", "US", "+447700900123"),
        ("06 1234 5678", "IT", "+390612345678"),
        ("12345", "US", ""),
        ("not a number", "US", ""),
        ("", "US", ""),
    ],
)
def test_e164_form(written, country, e164):
    assert to_e164(written, country) == e164


def test_search_forms_read_a_query_with_each_country_and_as_digits():
    assert search_forms("07700 993176", ["GB", "US"]) == {"+447700993176"}
    assert "+447700993176" in search_forms("447700993176", ["US"])
    assert search_forms("1 555 010 2000", ["US"]) == {"+15550102000"}
    assert search_forms("ada@example.com", ["US"]) == set()
    assert search_forms("12345", ["US"]) == set()


def _booking(*, email="ada@example.com", phone="+44 7700 900123", country="GB"):
    business = Business(country=country)
    booking = BookingRequest(session=Session(business=business), client_email=email)
    booking.client_phone, booking.client_phone_e164 = phone, to_e164(phone, country)
    return booking


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"email": " Ada@Example.com "}, True),
        ({"phone": "07700 900123"}, True),
        ({"email": "eve@example.com"}, False),
        ({"phone": "07700 900999"}, False),
        ({}, False),
        ({"email": "", "phone": ""}, False),
        # An email given is the proof offered: a right phone does not rescue a wrong email.
        ({"email": "eve@example.com", "phone": "07700 900123"}, False),
    ],
)
def test_identity_matches_email_or_phone(given, expected):
    assert identity_matches(booking=_booking(), **given) is expected


def test_a_booking_without_a_phone_cannot_be_claimed_by_phone():
    assert identity_matches(booking=_booking(phone=""), phone="") is False
    assert identity_matches(booking=_booking(phone=""), phone="0") is False
