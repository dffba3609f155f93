"""Formula escaping: a text cell never reaches a spreadsheet as a formula.

A spreadsheet treats a cell that starts with `=`, `+`, `-` or `@` as a formula
(and a leading tab or carriage return can smuggle one past a naive check), so a
client named `=HYPERLINK("http://evil", "click")` would run in support's Excel.
Such text gets a leading apostrophe, the prefix OWASP recommends: the
spreadsheet shows the text as typed, and a reader sees that it was escaped.

Only text is escaped: numbers (including negative ones), booleans and dates
stay what they are. django-import-export's own escaping strips a leading `=`
only and turns every cell into text, so our formats replace it with this one.
"""

from __future__ import annotations

from typing import Any

FORMULA_TRIGGERS = frozenset("=+-@\t\r")
ESCAPE_PREFIX = "'"


def escape_text(text: str) -> str:
    if text and text[0] in FORMULA_TRIGGERS:
        return ESCAPE_PREFIX + text
    return text


def escape_cell(value: Any) -> Any:
    """The value as it may be written to a cell: text escaped, anything else untouched."""
    if isinstance(value, str):
        return escape_text(value)
    return value
