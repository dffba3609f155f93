"""How a client proves a booking is theirs (SPEC §5): email or phone. No database."""

from __future__ import annotations

import pytest

from booking.services.identity import (
    PhoneNumber,
    email_matches,
    identity_matches,
    parse_phone,
    phone_matches,
)


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


@pytest.mark.parametrize(
    ("written", "parsed"),
    [
        ("+44 7700 900123", PhoneNumber("44", "7700900123")),
        ("0044 7700-900123", PhoneNumber("44", "7700900123")),
        ("+44 (0)7700 900123", PhoneNumber("44", "7700900123")),
        ("07700 900123", PhoneNumber("", "7700900123")),
        ("(07700) 900.123", PhoneNumber("", "7700900123")),
        ("+1 (555) 010-0200", PhoneNumber("1", "5550100200")),
        ("+7 912 345 67 89", PhoneNumber("7", "9123456789")),
        ("+353 87 123 4567", PhoneNumber("353", "871234567")),
        ("+39 06 1234 5678", PhoneNumber("39", "612345678")),
        ("", PhoneNumber("", "")),
    ],
)
def test_parse_phone_splits_the_country_code_by_the_e164_table(written, parsed):
    assert parse_phone(written) == parsed


PHONES = [
    # Same number, written differently.
    ("+44 7700 900123", "+44 7700 900123", True),
    ("+44 7700 900123", "+447700900123", True),
    ("0044 7700-900123", "+44 7700 900123", True),
    ("+44 7700 900123", "07700 900123", True),
    ("+44 (0)7700 900123", "07700900123", True),
    ("(07700) 900-123", "07700 900123", True),
    ("7700 900123", "07700 900123", True),
    ("+1 555 0100 200", "555-0100-200", True),
    ("+353 87 123 4567", "087 123 4567", True),
    ("+39 06 1234 5678", "06 1234 5678", True),
    ("123456", "123456", True),  # the shortest number compared
    # A nationally written number says nothing of its country: any code matches it.
    ("+1 7700 900123", "07700 900123", True),
    # Different numbers.
    ("+44 7700 900123", "+44 7700 900124", False),
    ("+44 7700 900123", "07700 900124", False),
    ("+44 7700 900123", "+49 7700 900123", False),  # same digits, another country
    ("+44 7700 900123", "+1 7700 900123", False),
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
def test_phone_is_compared_by_digits_in_both_directions(a, b, expected):
    assert phone_matches(a, b) is expected
    assert phone_matches(b, a) is expected


STORED = {"stored_email": "ada@example.com", "stored_phone": "+44 7700 900123"}


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
    assert identity_matches(**given, **STORED) is expected


def test_a_booking_without_a_phone_cannot_be_claimed_by_phone():
    assert identity_matches(phone="", stored_email="ada@example.com", stored_phone="") is False
    assert identity_matches(phone="0", stored_email="ada@example.com", stored_phone="") is False
