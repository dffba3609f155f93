"""Writers: rendered rows in, CSV / JSON text chunks or an XLSX file out, in bounded memory.

They only serialise: the cells come rendered by a resource
(`booking.exports.resources`). What each format does to them:

- CSV: a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
  return gets a leading `'` (OWASP's advice against formula injection: the
  spreadsheet shows the text as typed, and a reader sees it was escaped).
  Only CSV needs it: it is the one format where a spreadsheet guesses what a
  cell is;
- XLSX: every text cell is written as a string cell, never a formula, so its
  text is unaltered (characters XML cannot hold are escaped as OOXML does,
  not dropped); numbers stay numbers, dates date cells (`yyyy-mm-dd hh:mm:ss`);
  the header row is bold, frozen and filterable, and each column is as wide as
  its header and the first rows need (within limits);
- JSON: an array of objects keyed by the fields' names, never altered.

CSV and JSON are generators of text chunks (a few hundred rows each) for a
streaming response or a file. XLSX is streamed into a binary file the caller
provides by `booking.exports.xlsx` (rows are compressed as they come: constant
memory). django-import-export's own escaping
(`IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT`) strips a leading `=` only, turns
every cell into text and applies to every format, so it stays off.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import batched, chain, islice
from typing import IO, Any

from booking.exports.xlsx import write_sheet

ROWS_PER_CHUNK = 500
FORMULA_TRIGGERS = frozenset("=+-@\t\r")
ESCAPE_PREFIX = "'"
BOM = "\ufeff"

XLSX_SAMPLE_ROWS = 200  # rows read before the columns' widths are set
XLSX_MIN_WIDTH, XLSX_MAX_WIDTH = 8, 60
XLSX_DATETIME_WIDTH = len("yyyy-mm-dd hh:mm:ss")
XLSX_DATE_WIDTH = len("yyyy-mm-dd")


def escape_formula(value: Any) -> Any:
    """A CSV cell: text that a spreadsheet would run as a formula gets a leading `'`."""
    if value.__class__ is str and value and value[0] in FORMULA_TRIGGERS:
        return ESCAPE_PREFIX + value
    return value


def csv_chunks(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """CSV text, starting with a byte order mark so that Excel reads it as UTF-8."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)
    writer.writerow([escape_formula(header) for header in headers])
    triggers, prefix = FORMULA_TRIGGERS, ESCAPE_PREFIX
    for batch in batched(rows, ROWS_PER_CHUNK):
        # escape_formula, inlined: this runs once per cell.
        writer.writerows(
            [
                prefix + cell if cell.__class__ is str and cell and cell[0] in triggers else cell
                for cell in row
            ]
            for row in batch
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _json_number(value: Any) -> Any:
    """An amount (`Decimal`) as a JSON number: two decimals survive a float exactly."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_chunks(names: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """A JSON array of objects keyed by the fields' names, streamed."""
    dumps = json.JSONEncoder(ensure_ascii=False, default=_json_number).encode
    yield "["
    separator = "\n"
    for batch in batched(rows, ROWS_PER_CHUNK):
        yield separator + ",\n".join(dumps(dict(zip(names, row, strict=True))) for row in batch)
        separator = ",\n"
    yield "\n]\n"


def _width(value: Any) -> int:
    if isinstance(value, datetime):
        return XLSX_DATETIME_WIDTH
    if isinstance(value, date):
        return XLSX_DATE_WIDTH
    return len(str(value)) if value is not None else 0


def column_widths(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[int]:
    """Each column wide enough for its header and the given rows, within limits."""
    widths = [len(header) + 2 for header in headers]  # the header is bold
    for row in rows:
        for index, value in enumerate(row):
            widths[index] = max(widths[index], _width(value) + 1)
    return [min(max(width, XLSX_MIN_WIDTH), XLSX_MAX_WIDTH) for width in widths]


def write_xlsx(
    title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], target: IO[bytes]
) -> None:
    """The sheet, its columns as wide as the header and the first rows need."""
    rows = iter(rows)
    sample = list(islice(rows, XLSX_SAMPLE_ROWS))
    write_sheet(
        target,
        title=title,
        headers=headers,
        widths=column_widths(headers, sample),
        rows=chain(sample, rows),
    )


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    content_type: str
    native: bool  # cells keep native dates (XLSX: import-export's `force_native_type`)


FORMATS = {
    "csv": Format("csv", "csv", "text/csv; charset=utf-8", native=False),
    "xlsx": Format(
        "xlsx",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        native=True,
    ),
    "json": Format("json", "json", "application/json", native=False),
}
FORMAT_LABELS = {"csv": "CSV", "xlsx": "Excel (XLSX)", "json": "JSON"}
DEFAULT_FORMAT = "csv"


def text_chunks(
    fmt: Format, *, headers: Sequence[str], names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Iterator[str]:
    """A CSV or JSON export as text chunks."""
    return csv_chunks(headers, rows) if fmt.name == "csv" else json_chunks(names, rows)


def write_file(
    fmt: Format,
    *,
    title: str,
    headers: Sequence[str],
    names: Sequence[str],
    rows: Iterable[Sequence[Any]],
    target: IO[bytes],
) -> None:
    """Write a whole export into a binary file (XLSX, background jobs, the report)."""
    if fmt.name == "xlsx":
        write_xlsx(title, headers, rows, target)
        return
    for chunk in text_chunks(fmt, headers=headers, names=names, rows=rows):
        target.write(chunk.encode())
