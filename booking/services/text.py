"""Free text a person or a program sends: what the database can store."""

import re

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
