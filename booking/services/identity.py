"""How a client proves a booking is theirs: its email or its phone number.

Email: compared after trimming and case-folding.

Phone (numbers read by libphonenumber, `booking.phones`): the given number
matches when its E.164 form, reading a number written without a country code
as the business's country, equals the booking's stored E.164 form; or when
both are written with the same digits (at least MIN_PHONE_DIGITS of them), which
also covers numbers libphonenumber cannot parse. So for a GB business
"+44 7700 900123", "0044 7700-900123", "+44 (0)7700 900123" and "07700 900123"
are one number, and "1 555 010 2000" is "+1 (555) 010-2000" anywhere.
Knowing the last digits of a number is never enough to match it.
Every comparison runs in constant time over the compared strings.
"""

from __future__ import annotations

import hmac

from booking.phones import MIN_PHONE_DIGITS, digits, to_e164


def normalize_email(email: str) -> str:
    return email.strip().casefold()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def email_matches(given: str, stored: str) -> bool:
    given_n, stored_n = normalize_email(given), normalize_email(stored)
    return bool(given_n) and bool(stored_n) and _same(given_n, stored_n)


def phone_matches(given: str, stored: str, *, country: str, stored_e164: str | None = None) -> bool:
    """True when `given` is the stored number (see the module).

    `stored_e164` is the booking's stored E.164 form; None reads `stored` now.
    """
    if stored_e164 is None:
        stored_e164 = to_e164(stored, country)
    given_e164 = to_e164(given, country)
    same_e164 = bool(given_e164) and bool(stored_e164) and _same(given_e164, stored_e164)
    given_digits, stored_digits = digits(given), digits(stored)
    long_enough = min(len(given_digits), len(stored_digits)) >= MIN_PHONE_DIGITS
    return same_e164 | (long_enough & _same(given_digits, stored_digits))


def booking_phone_matches(given: str, booking) -> bool:
    """`phone_matches` against a booking, read with its business's country."""
    return phone_matches(
        given,
        booking.client_phone,
        country=booking.session.business.country,
        stored_e164=booking.client_phone_e164,
    )


def identity_matches(*, booking, email: str = "", phone: str = "") -> bool:
    """True when the given email or phone is the booking's. Never says which part failed."""
    if email:
        return email_matches(email, booking.client_email)
    if phone:
        return booking_phone_matches(phone, booking)
    return False
