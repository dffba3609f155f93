"""Phone numbers read with Google's libphonenumber (the `phonenumbers` package).

A number is stored as typed and, beside it, in its E.164 form ("+447700900123"),
read with its business's country when written without a country code. E.164 is
blank when the number does not parse as a *possible* number; the range need not
be assigned (fictional numbers such as "+1 (555) 010-2000" are possible).

This module imports no models, so the models can use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError

MIN_PHONE_DIGITS = 6
_NON_DIGITS = re.compile(r"\D")
_PHONE_CHARACTERS = re.compile(r"[+\d\s().\-/]{1,64}")
# Longer input is no phone number; libphonenumber also refuses it, but cheaper here.
_MAX_INPUT = 64


def default_country() -> str:
    """The country of a new business: the DEFAULT_COUNTRY setting ("US" unless set)."""
    return getattr(settings, "DEFAULT_COUNTRY", "US")


def validate_country(code: str) -> None:
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(f"Unknown country code {code!r}: use two capitals, e.g. US, GB, DE.")


def digits(phone: str) -> str:
    return _NON_DIGITS.sub("", phone or "")


def _parse(phone: str, country: str | None) -> str:
    try:
        number = phonenumbers.parse(phone, country)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def to_e164(phone: str, country: str) -> str:
    """`phone`'s E.164 form, reading a national number as `country`'s; "" if unparsable.

    "00" is the international prefix of most of the world but not of the
    country given (e.g. the US dials 011), so "0044 …" is also tried as "+44 …".
    """
    phone = (phone or "").strip()
    if len(digits(phone)) < MIN_PHONE_DIGITS or len(phone) > _MAX_INPUT:
        return ""
    e164 = _parse(phone, country or None)
    if not e164 and digits(phone).startswith("00") and not phone.startswith("+"):
        e164 = _parse("+" + digits(phone)[2:], None)
    return e164


def looks_like_phone(text: str) -> bool:
    """Written like a phone number: digits (at least MIN_PHONE_DIGITS), "+", spaces, ()-./"""
    text = (text or "").strip()
    return len(digits(text)) >= MIN_PHONE_DIGITS and bool(_PHONE_CHARACTERS.fullmatch(text))


def search_forms(query: str, countries: Iterable[str]) -> set[str]:
    """The E.164 forms a typed query may mean: read with each country, and as digits.

    "07700 900123" read as GB is +447700900123; "447700900123" (a country code
    typed without "+") is +447700900123 by its digits. Empty when the query has
    fewer than MIN_PHONE_DIGITS digits or is not written like a phone number.
    """
    query = (query or "").strip()
    if not looks_like_phone(query):
        return set()
    forms = {to_e164(query, country) for country in set(countries)}
    if not query.startswith("+"):
        forms.add(to_e164("+" + digits(query), ""))
    forms.discard("")
    return forms


def national_digits(phone: str) -> str:
    """The digits any spelling of `phone` surely contains, to find it inside free text.

    For a number written with its country code, its national significant number
    ("+44 (0)7700 900123" → "7700900123"); otherwise its digits without one
    trunk "0" ("07700 900123" → "7700900123").
    """
    e164 = to_e164(phone, "")  # only a number with its country code parses without one
    if e164:
        return str(phonenumbers.parse(e164).national_number)
    return digits(phone).removeprefix("0")
