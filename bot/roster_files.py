"""The roster and wage files si-bot writes — the import templates and the report of an
import's rejected rows — and an import's outcome as the Slack summary's parameters. Every
word comes from ``messages/`` (``roster.*``). Shared by the Slack handlers and the
command line."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.roster import COLUMNS, EXAMPLE_RESIDENT_ID, EmployeeStatus, FileKind, ImportOutcome, Rejection
from bot.services.change_form import Words

FORMATS = (".xlsx", ".csv")
REPORT_COLUMNS = ("row", "column", "value", "reason")
_TEXT = "@"  # Excel's text format: an ID or a month typed in stays as typed


def template_columns(kind: FileKind) -> list[str]:
    """The template's columns: every column of the kind, in the order of COLUMNS."""
    return [column.field for column in COLUMNS[kind]]


def template_example(kind: FileKind, words: Words) -> dict[str, str]:
    """The example row: a fictitious person whose resident ID the import rejects."""
    if kind is FileKind.ROSTER:
        return {
            "full_name": words("roster.example.full_name"),
            "resident_id": EXAMPLE_RESIDENT_ID,
            "slack_user": "U012AB3CD",
            "hukou": words("hukou.local_urban"),
            "enrolled_from": "2026-01",
            "leaving_month": "",
            "contribution_base": "9000.00",
            "status": words(f"roster.status.{EmployeeStatus.ENROLLED.value}"),
            "retired_on": "",
        }
    return {
        "resident_id": EXAMPLE_RESIDENT_ID,
        "full_name": words("roster.example.full_name"),
        "month": "2026-01",
        "gross_wage": "12000.00",
    }


def template_file(kind: FileKind, suffix: str, words: Words) -> bytes:
    """The import template as .xlsx (with a sheet that explains each column) or .csv
    (UTF-8 with a BOM, which Excel opens correctly): a header and one example row."""
    fields = template_columns(kind)
    header = [words(f"roster.column.{f}") for f in fields]
    example = template_example(kind, words)
    row = [example[f] for f in fields]
    if suffix == ".csv":
        return _csv([header, row])
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = words(f"roster.kind.{kind.value}")[:31]
    sheet.append(header)
    sheet.append(row)
    for index, _ in enumerate(fields, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = 22
        sheet.column_dimensions[letter].number_format = _TEXT
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.cell(row=2, column=index).number_format = _TEXT
    notes = book.create_sheet(words("roster.notes.sheet")[:31])
    notes.append([words("roster.notes.column"), words("roster.notes.needed"), words("roster.notes.what")])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for column, title in zip(COLUMNS[kind], header, strict=True):
        needed = words("roster.notes.required" if column.required else "roster.notes.optional")
        notes.append([title, needed, words(f"roster.notes.{column.field}")])
    notes.append([])
    notes.append([words("roster.notes.example")])
    notes.append([words("roster.notes.all_or_nothing")])
    for letter, width in zip("ABC", (26, 12, 100), strict=True):
        notes.column_dimensions[letter].width = width
    return _xlsx(book)


def template_name(kind: FileKind, suffix: str, words: Words) -> str:
    return words("roster.template.file_name", kind=words(f"roster.kind.{kind.value}")) + suffix


def reason(rejection: Rejection | tuple[str, dict[str, Any]], words: Words) -> str:
    """Why a row (or a whole file) was rejected, in words."""
    if isinstance(rejection, Rejection):
        return words(f"error.{rejection.code}", **rejection.params)
    code, params = rejection
    return words(f"error.{code}", **params)


def report_rows(outcome: ImportOutcome, words: Words) -> list[list[str | int]]:
    """One line per rejection: row number, column as headed in the file, the value as
    given (whole: the report goes to an administrator), and the reason."""
    return [[r.row, r.title, r.value, reason(r, words)] for r in outcome.rejections]


def report_files(outcome: ImportOutcome, words: Words) -> list[tuple[str, bytes]]:
    """``[(file name, content)]``: the rejected rows as .xlsx and as .csv."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    header = [words(f"roster.report.{c}") for c in REPORT_COLUMNS]
    rows = report_rows(outcome, words)
    book = Workbook()
    sheet = book.active
    sheet.title = words("roster.report.sheet")[:31]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
        sheet.cell(row=sheet.max_row, column=3).number_format = _TEXT
    for letter, width in zip("ABCD", (8, 24, 26, 90), strict=True):
        sheet.column_dimensions[letter].width = width
    name = words("roster.report.file_name", name=PurePath(outcome.file_name).stem)
    return [(f"{name}.xlsx", _xlsx(book)), (f"{name}.csv", _csv([header, *rows]))]


def _csv(rows: Sequence[Sequence[Any]]) -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode("utf-8-sig")


def _xlsx(book: Any) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def summary_params(outcome: ImportOutcome, tz: ZoneInfo, *, limit: int = 10) -> dict[str, Any]:
    """The ``import_summary`` message's parameters, JSON-safe (they wait in the outbox):
    the counts, the first ``limit`` rejections and how many more are in the report."""
    seen = outcome.seen_before
    return {
        "file": outcome.file_name,
        "kind": outcome.kind.value if outcome.kind else "unknown",
        "rows": outcome.rows,
        "added": outcome.added,
        "changed": outcome.changed,
        "unchanged": outcome.unchanged,
        "imported": outcome.imported,
        "rejected": outcome.rejected_rows,
        "rejections": [
            {"row": r.row, "column": r.title, "code": r.code, "params": _plain(r.params)}
            for r in outcome.rejections[:limit]
        ],
        "more": max(0, len(outcome.rejections) - limit),
        "problem": {"code": outcome.problem[0], "params": _plain(outcome.problem[1])}
        if outcome.problem
        else None,
        "seen_before": (
            {"at": _local(seen.at, tz), "actor": seen.actor, "file": seen.file_name} if seen else None
        ),
    }


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in params.items()}


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")
