"""How a client proves a booking is theirs: its email or its phone number.

Email: compared after trimming and case-folding.

Phone: compared by digits, so "+44 7700 900123", "0044 7700-900123",
"+44 (0)7700 900123" and "07700 900123" are one number:
  1. keep the digits only; a number written with "+" or "00" in front is
     international, and its country calling code is split off. Country codes
     are a prefix-free code (ITU-T E.164), so a small table says how long the
     code is: "1" and "7" are one digit, the two-digit codes are listed below,
     every other code has three digits;
  2. drop one national trunk "0" from what is left (also "(0)" after a
     country code, and Italy's "06…" written with or without "+39");
  3. the two numbers match when these national digits are equal (at least 6 of
     them) and, when both were written internationally, their country codes are
     equal too. A number written nationally matches the same digits under any
     country code: the stored number says nothing about its country.
Digits are never dropped from the front of a national number, so knowing the
last digits of a number is not enough to match it.
Every comparison runs in constant time over the compared strings.
"""

from __future__ import annotations

import hmac
import re
from typing import NamedTuple

MIN_PHONE_DIGITS = 6

# ITU-T E.164 country calling codes of one and two digits; all others have three.
ONE_DIGIT_COUNTRY_CODES = frozenset({"1", "7"})
TWO_DIGIT_COUNTRY_CODES = frozenset(
    [
        "20",
        "27",
        "30",
        "31",
        "32",
        "33",
        "34",
        "36",
        "39",
        "40",
        "41",
        "43",
        "44",
        "45",
        "46",
        "47",
        "48",
        "49",
        "51",
        "52",
        "53",
        "54",
        "55",
        "56",
        "57",
        "58",
        "60",
        "61",
        "62",
        "63",
        "64",
        "65",
        "66",
        "81",
        "82",
        "84",
        "86",
        "90",
        "91",
        "92",
        "93",
        "94",
        "95",
        "98",
    ]
)

_NON_DIGITS = re.compile(r"\D")


class PhoneNumber(NamedTuple):
    country_code: str  # "" when the number was written nationally
    national: str  # significant digits, without the trunk "0"


def normalize_email(email: str) -> str:
    return email.strip().casefold()


def _country_code_length(digits: str) -> int:
    if digits[:1] in ONE_DIGIT_COUNTRY_CODES:
        return 1
    if digits[:2] in TWO_DIGIT_COUNTRY_CODES:
        return 2
    return 3


def parse_phone(phone: str) -> PhoneNumber:
    """Split a phone number as written into its country code and national digits."""
    stripped = phone.strip()
    digits = _NON_DIGITS.sub("", stripped)
    international = stripped.startswith("+") or digits.startswith("00")
    if not stripped.startswith("+"):
        digits = digits.removeprefix("00")
    country_code = ""
    if international:
        length = _country_code_length(digits)
        country_code, digits = digits[:length], digits[length:]
    return PhoneNumber(country_code, digits.removeprefix("0"))


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def email_matches(given: str, stored: str) -> bool:
    given_n, stored_n = normalize_email(given), normalize_email(stored)
    return bool(given_n) and bool(stored_n) and _same(given_n, stored_n)


def phone_matches(given: str, stored: str) -> bool:
    given_n, stored_n = parse_phone(given), parse_phone(stored)
    if min(len(given_n.national), len(stored_n.national)) < MIN_PHONE_DIGITS:
        return False
    same_national = _same(given_n.national, stored_n.national)
    if given_n.country_code and stored_n.country_code:
        return _same(given_n.country_code, stored_n.country_code) & same_national
    return same_national


def identity_matches(
    *, email: str = "", phone: str = "", stored_email: str, stored_phone: str
) -> bool:
    """True when the given email or phone is the booking's. Never says which part failed."""
    if email:
        return email_matches(email, stored_email)
    if phone:
        return phone_matches(phone, stored_phone)
    return False
