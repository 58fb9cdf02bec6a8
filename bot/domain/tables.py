"""Tables from payroll and HR systems: CSV files and workbooks (XLSX, and the older XLS
many payroll systems still export) read into rows of text, and their columns found by
name in Chinese or English.

Chinese payroll exports come in UTF-8 (with or without a byte-order mark), in GBK (GB18030
is read, a superset of it), or as Excel's "Unicode text" (UTF-16, tab separated). Rows keep
the number a spreadsheet shows for them, so a rejected row can be found in the file.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath
from typing import Any, NamedTuple

# A header is looked for in the first rows: exports often put a title line above it.
HEADER_SEARCH_ROWS = 10
CSV_SUFFIXES = frozenset({".csv", ".txt"})
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})
# Dropped before comparing names and words: spaces, punctuation, a "*" for required.
_NOISE = re.compile(r"[\s_\-.,:;/\\|*#'\"’‘“”、，。：；（）()【】\[\]]+")
# "缴费基数（元）", "Gross wage (yuan)": the unit in brackets is not part of the name.
_UNIT = re.compile(r"[（(][^）)]*[）)]")


class TableError(ValueError):
    """The file as a whole cannot be imported (unreadable, no header, a column missing).
    ``code`` and ``params`` select and fill the message (``error.<code>``)."""

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code = code
        self.params = params


class Row(NamedTuple):  # a tuple: a payroll file has a hundred thousand of them
    number: int  # as a spreadsheet shows it: 1 is the first line of the file
    cells: tuple[str, ...]
    numeric: frozenset[int] = frozenset()  # cells that were numbers in the workbook

    def cell(self, index: int | None) -> str:
        if index is None or index >= len(self.cells):
            return ""
        return self.cells[index]


@dataclass(frozen=True)
class Column:
    """A column a file may have: ``field`` is our name for it, ``aliases`` the headers it
    goes by in payroll and HR exports (compared after :func:`fold`)."""

    field: str
    aliases: tuple[str, ...]
    required: bool = True


@dataclass(frozen=True)
class Header:
    row: int  # the header's row number
    columns: dict[str, int]  # field -> index of its cell
    titles: dict[str, str]  # field -> the header as written in the file


def fold(text: str) -> str:
    """A header or a word as compared: full-width characters made plain (NFKC), lower
    case, without spaces, punctuation or a unit in brackets."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    return _NOISE.sub("", _UNIT.sub("", text))


def read_table(name: str, content: bytes) -> list[Row]:
    """The non-empty rows of a .csv file or of a workbook's first visible sheet (.xlsx,
    .xls, .ods). TableError when the file type is none of these or the file cannot be
    read."""
    suffix = PurePath(name).suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_csv(content)
    if suffix in WORKBOOK_SUFFIXES:
        return read_workbook(content)
    raise TableError("file_type", name=PurePath(name).name)


def decode(content: bytes) -> str:
    """The text of a CSV export: UTF-16 when it starts with its byte-order mark, else
    UTF-8 (a BOM is dropped), else GB18030 (GBK's superset)."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise TableError("file_encoding") from exc
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("file_encoding")


def read_csv(content: bytes) -> list[Row]:
    text = decode(content)
    first_line = text.split("\n", 1)[0]
    # Comma, tab (Excel's "Unicode text") or semicolon (European Excel): the most used wins.
    delimiter = max((",", "\t", ";"), key=first_line.count)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise TableError("file_unreadable") from exc
    empty: frozenset[int] = frozenset()
    return _rows((tuple(map(str.strip, record)), empty) for record in records)


def read_workbook(content: bytes) -> list[Row]:
    """The first visible sheet of a workbook, values as the spreadsheet shows them
    (formulas' results). Read with calamine, which takes a second for a year of a large
    company's wages where openpyxl takes most of a minute."""
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError, SheetVisibleEnum

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(content))
        visible = [m.name for m in book.sheets_metadata if m.visible == SheetVisibleEnum.Visible]
        if not visible:
            raise TableError("file_empty")
        values = book.get_sheet_by_name(visible[0]).to_python()
    except PasswordError as exc:
        raise TableError("file_password") from exc
    except CalamineError as exc:
        raise TableError("file_unreadable") from exc
    return _rows(_workbook_cells(row) for row in values)


def _workbook_cells(values: Sequence[Any]) -> tuple[tuple[str, ...], frozenset[int]]:
    cells: list[str] = []
    numeric: set[int] = set()
    for index, value in enumerate(values):
        if isinstance(value, bool):
            cells.append(str(value))
        elif isinstance(value, int | float):
            numeric.add(index)
            cells.append(_number_text(value))
        elif isinstance(value, datetime):
            cells.append(
                value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
            )
        elif isinstance(value, date):
            cells.append(value.isoformat())
        elif value is None:
            cells.append("")
        else:
            cells.append(str(value).strip())
    return tuple(cells), frozenset(numeric)


def _number_text(value: int | float) -> str:
    """A number as text. A float computed by a formula carries binary noise
    (2550.0000000000005): six decimals keep every figure a payroll means and drop it."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _rows(records: Iterable[tuple[tuple[str, ...], frozenset[int]]]) -> list[Row]:
    rows = []
    for number, (cells, numeric) in enumerate(records, start=1):
        if any(cells):
            rows.append(Row(number, cells, numeric))
    return rows


def find_header(rows: Sequence[Row], columns: Sequence[Column]) -> Header:
    """The first row (among the first few) that names every required column. TableError
    ``columns_missing`` (with the fields missing from the best candidate) when there is
    none, ``column_twice`` when one field is named by two columns."""
    if not rows:
        raise TableError("file_empty")
    by_alias = {fold(alias): column.field for column in columns for alias in column.aliases}
    required = [c.field for c in columns if c.required]
    best: tuple[int, list[str]] | None = None
    for row in rows[:HEADER_SEARCH_ROWS]:
        found: dict[str, int] = {}
        for index, title in enumerate(row.cells):
            field = _field_of(title, by_alias)
            if field is None:
                continue
            if field in found:
                raise TableError(
                    "column_twice", field=field, first=row.cells[found[field]], second=title, row=row.number
                )
            found[field] = index
        missing = [f for f in required if f not in found]
        if not missing:
            titles = {field: row.cells[index] for field, index in found.items()}
            return Header(row.number, found, titles)
        if best is None or len(missing) < len(best[1]):
            best = (row.number, missing)
    assert best is not None
    raise TableError("columns_missing", fields=best[1])


def _field_of(title: str, by_alias: dict[str, str]) -> str | None:
    """The field a header names; a bilingual header ("姓名 / Full name") by either part."""
    if not title:
        return None
    field = by_alias.get(fold(title))
    if field is not None:
        return field
    for part in re.split(r"[/|\n]", title):
        field = by_alias.get(fold(part))
        if field is not None:
            return field
    return None


def matches(rows: Sequence[Row], columns: Sequence[Column]) -> bool:
    """Whether a header naming every required column is among the first rows."""
    try:
        find_header(rows, columns)
    except TableError as exc:
        return exc.code == "column_twice"  # the columns are there; the header has a mistake
    return True
