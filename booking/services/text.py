"""Free text a person or a program sends: what the database can store, and references."""

import re

from booking.models import REASON_MAX_LENGTH
from booking.records import REFERENCE_ALPHABET, REFERENCE_LENGTH
from booking.services import exceptions as exc
from booking.services.exceptions import InvalidInput

# A primary key as people and forms send it: ASCII digits that fit a bigint.
# (str.isdigit() also accepts superscripts and other scripts' digits, which int()
# refuses or reads as ordinary numbers.)
_ID = re.compile(r"[0-9]{1,18}")


def storable(name: str, value: str) -> str:
    """Text the database can hold: no NUL (PostgreSQL refuses it even in a comparison)
    and no lone surrogates (JSON's "\\ud800" decodes to one; it has no UTF-8 form)."""
    if "\x00" in value:
        raise InvalidInput(f"{name} must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{name} is not valid Unicode text") from None
    return value


def is_id(text: str) -> bool:
    """True when `text` is a primary key the database can look up."""
    return isinstance(text, str) and _ID.fullmatch(text) is not None


def normalize_reference(raw: object) -> str | None:
    """The reference as stored (upper case, trimmed), or None when it cannot be one.

    References are read aloud and typed by hand: lower case and stray spaces are fine.
    """
    if not isinstance(raw, str):
        return None
    reference = raw.strip().upper()
    if len(reference) != REFERENCE_LENGTH or not set(reference) <= set(REFERENCE_ALPHABET):
        return None
    return reference


def clean_reason(reason: object) -> str:
    """A reason is free text of at most 1000 characters: refused, never truncated."""
    if reason is None:
        return ""
    if not isinstance(reason, str):
        raise exc.InvalidInput("reason must be a string")
    reason = storable("reason", reason).strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise exc.ReasonTooLong(
            f"reason is {len(reason)} characters long; the limit is {REASON_MAX_LENGTH}"
        )
    return reason
