"""The streaming XLSX writer: what a spreadsheet reads back (here, openpyxl)."""

import io
import zipfile
from datetime import date, datetime

from openpyxl import load_workbook
from openpyxl.utils.escape import unescape

from booking.exports.writers import write_xlsx
from booking.exports.xlsx import MAX_CELL_TEXT, sheet_name


def written(headers, rows, title="Bookings"):
    target = io.BytesIO()
    write_xlsx(title, headers, rows, target)
    target.seek(0)
    return target


def test_cells_keep_their_types_and_text_stays_text():
    rows = [[7, 2.5, True, "=1+1", datetime(2030, 3, 4, 9, 30), date(2030, 3, 4), None, ""]]
    sheet = load_workbook(written(list("abcdefgh"), rows)).active
    [cells] = list(sheet.iter_rows(min_row=2))
    assert [c.value for c in cells] == [
        7,
        2.5,
        True,
        "=1+1",
        datetime(2030, 3, 4, 9, 30),
        datetime(2030, 3, 4),
        None,
        None,
    ]
    assert [c.data_type for c in cells[:4]] == ["n", "n", "b", "s"]
    assert cells[4].number_format == "yyyy-mm-dd hh:mm:ss"
    assert cells[5].number_format == "yyyy-mm-dd"


def test_text_is_kept_whole_through_ooxml_escapes():
    texts = ["Bell\x07", "a _x0041_ b", "<&>\"'", " padded ", "Zoë 🙂"]
    sheet = load_workbook(written(["t"], [[text] for text in texts])).active
    read = [unescape(row[0]) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert read == texts


def test_text_beyond_excels_cell_limit_is_cut_there():
    sheet = load_workbook(written(["t"], [["x" * (MAX_CELL_TEXT + 10)]])).active
    assert len(sheet["A2"].value) == MAX_CELL_TEXT


def test_header_is_bold_frozen_filterable_and_columns_are_sized():
    sheet = load_workbook(written(["Reference", "Client email"], [["AB12CD34", "a" * 80]])).active
    assert sheet["A1"].font.b and not sheet["A2"].font.b
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:B2"
    assert sheet.column_dimensions["A"].width == len("Reference") + 2
    assert sheet.column_dimensions["B"].width == 60  # capped


def test_many_rows_stream_into_one_sheet():
    target = written(["n"], ([n] for n in range(1234)))
    assert zipfile.ZipFile(target).testzip() is None
    sheet = load_workbook(target, read_only=True).active
    values = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert values == list(range(1234))


def test_sheet_names_are_valid():
    assert sheet_name("Audit trail") == "Audit trail"
    assert sheet_name("a/b [c]: d*?") == "a b  c   d"
    assert len(sheet_name("x" * 40)) == 31
    assert sheet_name("[]") == "Sheet1"
