"""What a caller may send to the staff API, parsed strictly: anything else is a 400.

Query strings and JSON bodies alike: unknown names, repeated names, wrong types
and out-of-range values are refused with a message naming the culprit, so a
typo in a script (`?stauts=pending`) fails loudly instead of returning the
wrong bookings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from booking.api.responses import optional_string, reject_unknown_fields
from booking.models import BookingStatus
from booking.phones import MIN_PHONE_DIGITS, digits
from booking.services.actions import ACTIONS, Action, Option, api_actions, asked_options
from booking.services.exceptions import InvalidInput
from booking.services.text import storable

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
LIST_PARAMETERS = ("status", "include_deleted", "business", "phone", "page", "page_size")

# The actions of PATCH, by name; DELETE's one needs the reference as confirmation.
PATCH_ACTIONS = tuple(action.name for action in api_actions("PATCH"))
(DELETE_ACTION,) = api_actions("DELETE")
# The options a body may set: those any of the method's actions declares (an
# action ignores options it does not take, as `Action.run` does).
PATCH_OPTIONS = asked_options(api_actions("PATCH"))
DELETE_OPTIONS = DELETE_ACTION.asked_options
PATCH_FIELDS = {"action", "reason", *(option.name for option in PATCH_OPTIONS)}
DELETE_FIELDS = {"confirm", "reason", *(option.name for option in DELETE_OPTIONS)}

_NUMBER = re.compile(r"[0-9]{1,18}")


def text(data: dict[str, Any], name: str) -> str:
    """An optional string field: absent or null is "", any other type is bad input."""
    return optional_string(data, name)


def single_values(params: QueryDict, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query string as one value per name, refusing unknown and repeated names."""
    reject_unknown_fields(dict(params), set(allowed))
    repeated = sorted(name for name, values in params.lists() if len(values) > 1)
    if repeated:
        raise InvalidInput(f"parameter(s) given more than once: {', '.join(repeated)}")
    return {name: storable(name, params.get(name, "")) for name in params}


def query_bool(name: str, value: str) -> bool:
    """A boolean spelled in a query string: `true` or `false`."""
    if value in ("true", "false"):
        return value == "true"
    raise InvalidInput(f"{name} must be true or false")


def json_bool(name: str, value: Any) -> bool:
    """A boolean of a JSON body: true or false, not a string or a number."""
    if isinstance(value, bool):
        return value
    raise InvalidInput(f"{name} must be true or false")


def parse_positive_int(name: str, value: str, *, maximum: int | None = None) -> int:
    number = int(value) if _NUMBER.fullmatch(value) else 0
    if number < 1 or (maximum is not None and number > maximum):
        bounds = f"between 1 and {maximum}" if maximum else "of at least 1"
        raise InvalidInput(f"{name} must be a whole number {bounds}")
    return number


@dataclass(frozen=True)
class ListQuery:
    """The filters and page of `GET /api/booking/manage/`."""

    status: str | None = None
    include_deleted: bool = False
    business: str | None = None
    phone: str | None = None
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def parse(cls, params: QueryDict) -> ListQuery:
        values = single_values(params, LIST_PARAMETERS)
        status = values.get("status")
        if status is not None and status not in BookingStatus.values:
            raise InvalidInput(
                f"status must be one of {', '.join(BookingStatus.values)}",
                allowed=BookingStatus.values,
            )
        business = values.get("business")
        if business is not None and not business:
            raise InvalidInput("business must be a business's slug")
        phone = values.get("phone")
        if phone is not None and len(digits(phone)) < MIN_PHONE_DIGITS:
            raise InvalidInput(
                f"phone must be a phone number of at least {MIN_PHONE_DIGITS} digits"
            )
        return cls(
            status=status,
            phone=phone,
            include_deleted=query_bool("include_deleted", values.get("include_deleted", "false")),
            business=business,
            page=parse_positive_int("page", values.get("page", "1")),
            page_size=parse_positive_int(
                "page_size", values.get("page_size", str(DEFAULT_PAGE_SIZE)), maximum=MAX_PAGE_SIZE
            ),
        )


def json_id(name: str, value: Any) -> int | None:
    """An id of a JSON body: a positive integer (not a boolean or a string), or null."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return value
    raise InvalidInput(f"{name} must be an id (a positive whole number)")


def body_options(data: dict[str, Any], options: tuple[Option, ...]) -> dict[str, Any]:
    """The declared options of a JSON body: a flag is a boolean, a session an id; each its
    default when absent."""
    return {
        option.name: (json_id if option.kind == "session" else json_bool)(
            option.name, data.get(option.name, option.default)
        )
        for option in options
    }


@dataclass(frozen=True)
class ActionRequest:
    """The body of `PATCH /api/booking/manage/<id>/`."""

    action: Action
    reason: str
    options: dict[str, Any]

    @classmethod
    def parse(cls, data: dict[str, Any]) -> ActionRequest:
        reject_unknown_fields(data, PATCH_FIELDS)
        name = data.get("action")
        if name not in PATCH_ACTIONS:
            raise InvalidInput(
                f"action must be one of {', '.join(PATCH_ACTIONS)}", allowed=list(PATCH_ACTIONS)
            )
        return cls(
            action=ACTIONS[name],
            reason=text(data, "reason"),
            options=body_options(data, PATCH_OPTIONS),
        )


@dataclass(frozen=True)
class PurgeRequest:
    """The body (or query string) of `DELETE /api/booking/manage/<id>/`."""

    confirm: str
    reason: str
    options: dict[str, Any]

    @classmethod
    def parse(cls, data: dict[str, Any], params: QueryDict) -> PurgeRequest:
        """Fields from the JSON body, else from the query string; never both for one name."""
        reject_unknown_fields(data, DELETE_FIELDS)
        query = single_values(params, tuple(sorted(DELETE_FIELDS)))
        both = sorted(set(data) & set(query))
        if both:
            raise InvalidInput(f"given in both the body and the query string: {', '.join(both)}")
        merged: dict[str, Any] = {**query, **data}
        options = body_options(data, tuple(o for o in DELETE_OPTIONS if o.name not in query))
        options.update(
            (option.name, query_bool(option.name, query[option.name]))
            for option in DELETE_OPTIONS
            if option.name in query
        )
        return cls(confirm=text(merged, "confirm"), reason=text(merged, "reason"), options=options)
