"""django-import-export widgets for the exports: how one value becomes one cell.

Widgets render for every format alike, except that XLSX (a binary format, for
which import-export passes `force_native_type=True`) keeps dates as dates:

- text stays exactly as stored (an empty value is ""); formula escaping is
  CSV's business and happens where CSV is written (`booking.exports.writers`);
- a phone number gets a leading `'` in every format, so that a spreadsheet
  opening any of them keeps the leading `+` and zeros rather than reading a
  number (or a formula);
- a date and time is UTC: ISO 8601 text (`2030-03-04T09:30:00+00:00`), or a
  naive UTC datetime in XLSX (spreadsheets have no time zones; the headers say
  "(UTC)");
- numbers and booleans are import-export's own widgets with
  `coerce_to_string=False`: they stay numbers and booleans.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date
from typing import Any

from import_export.widgets import BooleanWidget, IntegerWidget, Widget

PHONE_PREFIX = "'"

__all__ = [
    "PHONE_PREFIX",
    "BooleanWidget",
    "DateWidget",
    "IntegerWidget",
    "LabelWidget",
    "PhoneWidget",
    "TextWidget",
    "UtcDateTimeWidget",
]


class TextWidget(Widget):
    """Text as stored; None becomes ""."""

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value)


class LabelWidget(Widget):
    """A stored value shown as its label (a status's "Cancelled" for `cancelled`)."""

    def __init__(self, labels: Mapping[Any, str]) -> None:
        super().__init__(coerce_to_string=True)
        self.labels = labels

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        if value is None:
            return ""
        return str(self.labels.get(value, value))


class PhoneWidget(Widget):
    """A phone number as typed, after a `'`: spreadsheets keep it text."""

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return PHONE_PREFIX + value if value else ""


class UtcDateTimeWidget(Widget):
    """A date and time in UTC: ISO 8601 text, or a naive UTC datetime for XLSX."""

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if value is None:
            return None
        utc = value.astimezone(UTC)
        if kwargs.get("force_native_type"):
            return utc.replace(tzinfo=None)
        return utc.isoformat()


class DateWidget(Widget):
    """A calendar date: ISO 8601 text (`2030-03-04`), or a date for XLSX."""

    def render(self, value: date | None, obj: Any = None, **kwargs: Any) -> Any:
        if value is None:
            return None
        return value if kwargs.get("force_native_type") else value.isoformat()


class MoneyWidget(Widget):
    """An amount (two decimals) as a number in every format.

    XLSX gets a float (a number cell); CSV and JSON the `Decimal`, which CSV
    writes as "12.50" and the JSON writer as the number 12.5 (two decimals
    survive a float's shortest repr exactly).
    """

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if value is None:
            return None
        return float(value) if kwargs.get("force_native_type") else value


def native(widget_class: type[Widget]) -> Widget:
    """import-export's number or boolean widget, keeping the value's type in every format."""
    return widget_class(coerce_to_string=False)
