"""Writers: rows in, CSV / JSON text chunks or an XLSX file out, in bounded memory.

CSV and JSON are generators of text chunks (a few hundred rows each) for a
`StreamingHttpResponse` or a file; XLSX goes through openpyxl's write-only
workbook, which keeps rows in a temporary XML file rather than in memory, into
a binary file the caller provides (a temporary file, then streamed).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import batched
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

ROWS_PER_CHUNK = 500


def csv_chunks(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for batch in batched(rows, ROWS_PER_CHUNK):
        writer.writerows(batch)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def json_chunks(names: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """A JSON array of objects keyed by the columns' names, streamed."""
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    yield "["
    separator = "\n"
    for batch in batched(rows, ROWS_PER_CHUNK):
        yield separator + ",\n".join(dumps(dict(zip(names, row, strict=True))) for row in batch)
        separator = ",\n"
    yield "\n]\n"


def write_xlsx(
    title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], target: IO[bytes]
) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append(row)
    workbook.save(target)


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    content_type: str
    native: bool  # cells keep native types (XLSX) rather than text (CSV, JSON)


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


def write_file(
    fmt: Format,
    *,
    title: str,
    headers: Sequence[str],
    names: Sequence[str],
    rows: Iterable[Sequence[Any]],
    target: IO[bytes],
) -> None:
    """Write a whole export into a binary file (background jobs, XLSX responses)."""
    if fmt.name == "xlsx":
        write_xlsx(title, headers, rows, target)
        return
    chunks = csv_chunks(headers, rows) if fmt.name == "csv" else json_chunks(names, rows)
    for chunk in chunks:
        target.write(chunk.encode())
