"""Free text a person or a program sends: what the database can store."""

from booking.services.exceptions import InvalidInput


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
