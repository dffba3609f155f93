"""The vocabulary of the API contract: each type parses input, renders output, documents itself.

A type is one value's rules, stated once and read three ways:

- `parse(name, value)`: a JSON value sent by a caller, checked and converted
  (`InvalidInput`, a 400 naming the field, when it does not fit);
- `parse_text(name, text)`: the same value spelled in a query string;
- `dump(value)`: the Python value a view holds, as the JSON the caller receives;
- `schema()`: the JSON Schema that the OpenAPI document shows for it.

`Shape` is an object of named fields. A field says where its value comes from
(`source`: an attribute path such as `"session.title"`, a key of a mapping, or
a function), so a response is `SHAPE.dump(obj)`: a view cannot send a field the
document does not declare, nor leave out one it does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from booking import money
from booking.services.exceptions import InvalidInput
from booking.services.text import storable

Source = str | Callable[[Any], Any] | None
_NUMBER = re.compile(r"[0-9]{1,18}")


# A field whose value is the object itself (a nested shape reading the same object).
SELF = "."


def read(obj: Any, source: str) -> Any:
    """`obj.a.b` for the path "a.b"; a mapping's keys are read as attributes are."""
    if source == SELF:
        return obj
    for part in source.split("."):
        obj = obj[part] if isinstance(obj, Mapping) else getattr(obj, part)
    return obj


@dataclass(frozen=True, kw_only=True)
class Type:
    """A value of the contract: how it is parsed, rendered and documented."""

    description: str = ""
    default: Any = None
    # Where a shape's field reads its value (see `Shape.dump`); None: the field's name.
    source: Source = None

    def base_schema(self) -> dict[str, Any]:
        return {}

    def schema(self) -> dict[str, Any]:
        described = {"description": self.description} if self.description else {}
        return self.base_schema() | described

    def parse(self, name: str, value: Any) -> Any:
        return value

    def parse_text(self, name: str, text: str) -> Any:
        return self.parse(name, text)

    def dump(self, value: Any) -> Any:
        return value

    def __call__(self, **changes: Any) -> Any:
        """A copy with some attributes changed: `REFERENCE(source="reference")`."""
        return replace(self, **changes)


@dataclass(frozen=True, kw_only=True)
class Str(Type):
    """A string; absent or null reads as "". Text the database cannot store is refused."""

    min_length: int | None = None
    max_length: int | None = None
    # Documented, not checked here: a limit a service checks (with its own error code).
    documented_max: int | None = None
    pattern: str | None = None
    # null is accepted (read as "") and documented.
    nullable: bool = False
    default: Any = ""

    def schema(self) -> dict[str, Any]:
        schema = super().schema()
        return {"anyOf": [schema, {"type": "null"}]} if self.nullable else schema

    def base_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string"}
        if self.min_length is not None:
            schema["minLength"] = self.min_length
        if (self.max_length or self.documented_max) is not None:
            schema["maxLength"] = self.max_length or self.documented_max
        if self.pattern is not None:
            schema["pattern"] = self.pattern
        return schema

    def parse(self, name: str, value: Any) -> str:
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise InvalidInput(f"{name} must be a string")
        value = storable(name, value)
        if self.min_length is not None and len(value) < self.min_length:
            raise InvalidInput(f"{name} must not be empty")
        if self.max_length is not None and len(value) > self.max_length:
            raise InvalidInput(f"{name} is longer than {self.max_length} characters")
        return value


@dataclass(frozen=True, kw_only=True)
class Enum(Str):
    """One of a fixed list of strings (statuses, actions)."""

    values: tuple[str, ...] = ()
    default: Any = None

    def schema(self) -> dict[str, Any]:
        return Type.schema(self)

    def base_schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.values)}

    def parse(self, name: str, value: Any) -> str:
        if value not in self.values:
            allowed = list(self.values)
            raise InvalidInput(f"{name} must be one of {', '.join(allowed)}", allowed=allowed)
        return str(value)


@dataclass(frozen=True, kw_only=True)
class Const(Type):
    """Always this value (`"success": true`)."""

    value: Any = None

    def base_schema(self) -> dict[str, Any]:
        return {"const": self.value}

    def dump(self, value: Any) -> Any:
        return self.value


@dataclass(frozen=True, kw_only=True)
class Bool(Type):
    """true or false: a JSON boolean in a body, `true` / `false` in a query string."""

    default: Any = False
    # Whether the document shows the default (an option of an action does).
    show_default: bool = False

    def base_schema(self) -> dict[str, Any]:
        shown = {"default": self.default} if self.show_default else {}
        return {"type": "boolean"} | shown

    def parse(self, name: str, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        raise InvalidInput(f"{name} must be true or false")

    def parse_text(self, name: str, text: str) -> bool:
        if text in ("true", "false"):
            return text == "true"
        raise InvalidInput(f"{name} must be true or false")


@dataclass(frozen=True, kw_only=True)
class Int(Type):
    """A whole number; in a body a JSON integer (not a boolean), in a query its digits."""

    minimum: int | None = None
    maximum: int | None = None

    def base_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema

    def _bounded(self, name: str, number: int | None) -> int:
        low, high = self.minimum, self.maximum
        if (
            number is None
            or (low is not None and number < low)
            or (high is not None and number > high)
        ):
            bounds = f"between {low} and {high}" if high is not None else f"of at least {low}"
            raise InvalidInput(f"{name} must be a whole number {bounds}")
        return number

    def parse(self, name: str, value: Any) -> Any:
        whole = isinstance(value, int) and not isinstance(value, bool)
        return self._bounded(name, value if whole else None)

    def parse_text(self, name: str, text: str) -> int:
        return self._bounded(name, int(text) if _NUMBER.fullmatch(text) else None)


@dataclass(frozen=True, kw_only=True)
class Id(Int):
    """A row's id in a body: a positive whole number, or null (absent)."""

    minimum: int | None = 1

    def parse(self, name: str, value: Any) -> int | None:
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            return value
        raise InvalidInput(f"{name} must be an id (a positive whole number)")


@dataclass(frozen=True, kw_only=True)
class Money(Str):
    """An amount with two decimals as a string ("12.50"): never a float on the wire."""

    pattern: str | None = r"^[0-9]+\.[0-9]{2}$"
    description: str = 'An amount with two decimals, in the business\'s currency: "12.50".'

    def dump(self, value: Any) -> Any:
        return money.as_text(value) if isinstance(value, Decimal) else value


@dataclass(frozen=True, kw_only=True)
class DateTime(Type):
    """A moment, ISO 8601. A view may hand over a datetime (the JSON encoder writes it)
    or a string it formatted in the business's time zone."""

    def base_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}

    def dump(self, value: datetime | str) -> datetime | str:
        return value


@dataclass(frozen=True, kw_only=True)
class Anything(Type):
    """Any JSON (a policy, a history change's old and new values)."""


@dataclass(frozen=True, kw_only=True)
class Nullable(Type):
    """`of`, or null."""

    of: Type = field(default_factory=Type)

    def schema(self) -> dict[str, Any]:
        return {"anyOf": [self.of.schema(), {"type": "null"}]}

    def parse(self, name: str, value: Any) -> Any:
        return None if value is None else self.of.parse(name, value)

    def dump(self, value: Any) -> Any:
        return None if value is None else self.of.dump(value)


@dataclass(frozen=True, kw_only=True)
class Array(Type):
    """A list of `of`."""

    of: Type = field(default_factory=Type)

    def base_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": self.of.schema()}

    def dump(self, value: Any) -> list[Any]:
        return [self.of.dump(item) for item in value]


@dataclass(frozen=True, kw_only=True)
class Shape(Type):
    """An object with named fields. Named shapes are the document's components
    (shown as `$ref`); anonymous ones are written inline.

    `closed`: no other property may appear. `optional`: fields a body may leave
    out and a response may still carry; every other field is required.
    """

    name: str = ""
    fields: dict[str, Type] = field(default_factory=dict)
    optional: tuple[str, ...] = ()
    closed: bool = True

    def required(self) -> list[str]:
        return [name for name in self.fields if name not in self.optional]

    def definition(self) -> dict[str, Any]:
        """The schema itself (a component's body when the shape is named)."""
        schema: dict[str, Any] = {"type": "object"}
        if self.description:
            schema["description"] = self.description
        schema["properties"] = {name: kind.schema() for name, kind in self.fields.items()}
        if self.required():
            schema["required"] = self.required()
        if self.closed:
            schema["additionalProperties"] = False
        return schema

    def schema(self) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{self.name}"} if self.name else self.definition()

    def dump(self, value: Any) -> dict[str, Any]:
        return {name: kind.dump(source_of(kind, name, value)) for name, kind in self.fields.items()}

    def parse(self, name: str, value: Any) -> dict[str, Any]:
        """A JSON object's declared fields, each parsed (its default when absent)."""
        if not isinstance(value, dict):
            raise InvalidInput(f"{name} must be a JSON object")
        unknown = sorted(set(value) - set(self.fields))
        if unknown:
            raise InvalidInput(
                f"unknown field(s): {', '.join(unknown)}", allowed=sorted(self.fields)
            )
        missing = [name for name in self.required() if name not in value]
        if missing:
            raise InvalidInput(f"missing field(s): {', '.join(missing)}")
        return {
            field_name: kind.parse(field_name, value[field_name])
            if field_name in value
            else kind.default
            for field_name, kind in self.fields.items()
        }


@dataclass(frozen=True, kw_only=True)
class Extends(Shape):
    """A shape that adds fields to another (a deadline refusal is an `Error`, and more)."""

    base: Shape = field(default_factory=Shape)

    def definition(self) -> dict[str, Any]:
        return {"allOf": [self.base.schema(), super().definition()]}


def source_of(kind: Type, name: str, obj: Any) -> Any:
    if kind.source is None and isinstance(kind, Const):
        return kind.value
    source = kind.source if kind.source is not None else name
    return source(obj) if callable(source) else read(obj, source)


def nullable(kind: Type, **attributes: Any) -> Nullable:
    return Nullable(of=kind, **attributes)
