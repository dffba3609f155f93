"""Writers: rendered rows in, CSV / JSON text chunks or an XLSX file out, in bounded memory.

They only serialise: the cells come rendered by a resource
(`booking.exports.resources`). What each format does to them:

- CSV: a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
  return gets a leading `'` (OWASP's advice against formula injection: the
  spreadsheet shows the text as typed, and a reader sees it was escaped).
  Only CSV needs it: it is the one format where a spreadsheet guesses what a
  cell is;
- XLSX: every text cell is written as a string cell, never a formula, so its
  text is unaltered (characters XML cannot hold are escaped by XlsxWriter, not
  dropped); numbers stay numbers, dates date cells (`yyyy-mm-dd hh:mm:ss`);
  the header row is bold, frozen and filterable, and each column is as wide as
  its header and the first rows need (within limits);
- JSON: an array of objects keyed by the fields' names, never altered.

CSV and JSON are generators of text chunks (a few hundred rows each) for a
streaming response or a file. XLSX goes through XlsxWriter in constant-memory
mode (each row is flushed to a temporary file as the next begins) into a binary
file the caller provides. django-import-export's own escaping
(`IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT`) strips a leading `=` only, turns
every cell into text and applies to every format, so it stays off.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import batched, chain, islice
from typing import IO, Any

import xlsxwriter

ROWS_PER_CHUNK = 500
FORMULA_TRIGGERS = frozenset("=+-@\t\r")
ESCAPE_PREFIX = "'"
BOM = "\ufeff"

XLSX_SAMPLE_ROWS = 200  # rows read before the columns' widths are set
XLSX_MIN_WIDTH, XLSX_MAX_WIDTH = 8, 60
XLSX_DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
XLSX_DATE_FORMAT = "yyyy-mm-dd"


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


def json_chunks(names: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """A JSON array of objects keyed by the fields' names, streamed."""
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    yield "["
    separator = "\n"
    for batch in batched(rows, ROWS_PER_CHUNK):
        yield separator + ",\n".join(dumps(dict(zip(names, row, strict=True))) for row in batch)
        separator = ",\n"
    yield "\n]\n"


def _width(value: Any) -> int:
    if isinstance(value, datetime):
        return len(XLSX_DATETIME_FORMAT)
    if isinstance(value, date):
        return len(XLSX_DATE_FORMAT)
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
    workbook = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            # Text is text: never guessed into a number, a formula or a link.
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    sheet = workbook.add_worksheet(title[:31])
    rows = iter(rows)
    sample = list(islice(rows, XLSX_SAMPLE_ROWS))
    for index, width in enumerate(column_widths(headers, sample)):
        sheet.set_column(index, index, width)
    sheet.freeze_panes(1, 0)
    bold = workbook.add_format({"bold": True})
    for index, header in enumerate(headers):
        sheet.write_string(0, index, header, bold)
    write = _cell_writers(workbook, sheet)
    last_row = 0
    for last_row, row in enumerate(chain(sample, rows), start=1):
        for index, value in enumerate(row):
            if value is None or value == "":
                continue  # a blank cell
            write.get(value.__class__, sheet.write)(last_row, index, value)
    if headers:
        sheet.autofilter(0, 0, last_row, len(headers) - 1)
    workbook.close()


def _cell_writers(workbook: Any, sheet: Any) -> dict[type, Callable[[int, int, Any], Any]]:
    """The typed write for each kind of rendered value (XlsxWriter's `write` guesses)."""
    datetime_format = workbook.add_format({"num_format": XLSX_DATETIME_FORMAT})
    date_format = workbook.add_format({"num_format": XLSX_DATE_FORMAT})
    return {
        str: sheet.write_string,
        int: sheet.write_number,
        float: sheet.write_number,
        bool: sheet.write_boolean,
        datetime: lambda row, col, value: sheet.write_datetime(row, col, value, datetime_format),
        date: lambda row, col, value: sheet.write_datetime(row, col, value, date_format),
    }


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
