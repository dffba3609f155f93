"""How a client proves a booking is theirs: its email or its phone number.

Email: compared after trimming and case-folding. Phone: compared by digits, so
"+44 7700 900123", "0044 7700-900123" and "07700 900123" are one number:
  1. keep the digits only; a number written with "+" or "00" in front is
     international, and the "00" is dropped;
  2. drop one national trunk "0" from a number that is not international;
  3. the two numbers match when their digits are equal, or when exactly one is
     international and it is the other with a country code of 1–3 digits in
     front. Either way the shorter must have at least 6 digits.
Every comparison runs in constant time over the compared strings.
"""

from __future__ import annotations

import hmac
import re

MIN_PHONE_DIGITS = 6
MAX_COUNTRY_CODE_DIGITS = 3

_NON_DIGITS = re.compile(r"\D")


def normalize_email(email: str) -> str:
    return email.strip().casefold()


def normalize_phone(phone: str) -> tuple[str, bool]:
    """The number's significant digits, and whether it was written internationally."""
    stripped = phone.strip()
    digits = _NON_DIGITS.sub("", stripped)
    if stripped.startswith("+"):
        return digits, True
    if digits.startswith("00"):
        return digits[2:], True
    if digits.startswith("0"):
        return digits[1:], False
    return digits, False


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def email_matches(given: str, stored: str) -> bool:
    given_n, stored_n = normalize_email(given), normalize_email(stored)
    return bool(given_n) and bool(stored_n) and _same(given_n, stored_n)


def phone_matches(given: str, stored: str) -> bool:
    (given_d, given_intl), (stored_d, stored_intl) = normalize_phone(given), normalize_phone(stored)
    (shorter, _), (longer, longer_intl) = sorted(
        ((given_d, given_intl), (stored_d, stored_intl)), key=lambda n: len(n[0])
    )
    if len(shorter) < MIN_PHONE_DIGITS:
        return False
    prefix = len(longer) - len(shorter)
    if prefix == 0:
        return _same(longer, shorter)
    # Only an international number may carry a country code the other lacks.
    if given_intl == stored_intl or not longer_intl or prefix > MAX_COUNTRY_CODE_DIGITS:
        return False
    return _same(longer[prefix:], shorter)


def identity_matches(*, email: str = "", phone: str = "", stored_email: str, stored_phone: str) -> bool:
    """True when the given email or phone is the booking's. Never says which part failed."""
    if email:
        return email_matches(email, stored_email)
    if phone:
        return phone_matches(phone, stored_phone)
    return False
