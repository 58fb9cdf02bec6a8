"""The declaration's files for the administrators (resident IDs whole: they go to them
only): the computed sheet (``si-bot bases compute --out``: ID, name, base, the months
averaged, held or not) and the declaration sheet a social security center takes (ID, name,
base, the month it applies from). Each as .xlsx and .csv, the rows streamed from the
database (bot/services/bases.py ``lines``). Every word comes from ``messages/`` (``bases.*``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from bot.services.bases import PersonLine
from bot.services.change_form import Words
from bot.xlsx import Sheet, workbook

Lines = Callable[[], Iterator[PersonLine]]  # the declaration's people, streamed afresh each call


def _months(months: Sequence[str]) -> str:
    if not months:
        return ""
    return months[0] if len(months) == 1 else f"{months[0]} – {months[-1]} ({len(months)})"


def computed_header(words: Words) -> list[str]:
    return [
        words(f"bases.column.{c}")
        for c in ("resident_id", "full_name", "base", "months_averaged", "held", "missing", "override_reason")
    ]


def computed_rows(lines: Iterable[PersonLine], words: Words) -> Iterator[list[Any]]:
    for line in lines:
        held = words(f"bases.held.{line.held}") if line.held and line.override is None else ""
        yield [
            line.resident_id,
            line.full_name,
            line.base,
            _months(line.averaged),
            held,
            ", ".join(line.missing),
            line.override_reason,
        ]


def declaration_header(words: Words) -> list[str]:
    return [words(f"bases.column.{c}") for c in ("resident_id", "full_name", "base", "effective_month")]


def declaration_rows(lines: Iterable[PersonLine], start: str) -> Iterator[list[Any]]:
    for line in lines:
        yield [line.resident_id, line.full_name, line.base, start]


def _csv(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([f"{v:.2f}" if isinstance(v, Decimal) else v for v in row])
    return out.getvalue().encode("utf-8-sig")  # the byte-order mark: Excel reads Chinese


def computed_files(year: int, lines: Lines, words: Words) -> list[tuple[str, bytes]]:
    header = computed_header(words)
    name = words("bases.file.computed_sheet", year=year)
    sheet = Sheet(name, _with(header, computed_rows(lines(), words)), text_columns=(0,))
    return [
        (f"bases-{year}-computed.xlsx", workbook([sheet])),
        (f"bases-{year}-computed.csv", _csv(header, computed_rows(lines(), words))),
    ]


def declaration_files(year: int, start: str, lines: Lines, words: Words) -> list[tuple[str, bytes]]:
    header = declaration_header(words)
    name = words("bases.file.declaration_sheet", year=year)
    sheet = Sheet(name, _with(header, declaration_rows(lines(), start)), text_columns=(0, 3))
    return [
        (f"bases-{year}-declaration.xlsx", workbook([sheet])),
        (f"bases-{year}-declaration.csv", _csv(header, declaration_rows(lines(), start))),
    ]


def _with(header: list[str], rows: Iterable[list[Any]]) -> Iterator[list[Any]]:
    yield header
    yield from rows
