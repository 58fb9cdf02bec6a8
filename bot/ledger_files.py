"""The ledger's files for the administrators: a month's contributions (.xlsx with a row per
person, a summary sheet and the changes since the month before; the same rows as .csv) and a
bill's reconciliation (.xlsx and .csv). Resident IDs are whole: these files go to the
administrators only. Every word comes from ``messages/`` (``ledger.*``, ``bill.*``).
Shared by the Slack handlers and the command line."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bot.domain.ledger import BaseNote, LedgerLine, MonthLedger, late_fee_per_day
from bot.domain.policy import Policy
from bot.services.bills import DifferenceView
from bot.services.change_form import Words
from bot.services.ledger import ContributionsExport
from bot.xlsx import Sheet, workbook


def contributions_names(month: Any) -> tuple[str, str]:
    return f"contributions-{month}.xlsx", f"contributions-{month}.csv"


def scheme_word(scheme: str, words: Words) -> str:
    """A scheme's name in words; a scheme the messages do not know is shown as named in
    the policy file."""
    try:
        return words(f"scheme.{scheme}")
    except KeyError:
        return scheme


def _note(line: LedgerLine, ledger: MonthLedger, words: Words) -> str:
    if line.note is BaseNote.AS_RECORDED:
        return ""
    return words(f"ledger.note.{line.note.value}", floor=ledger.figures.floor, ceiling=ledger.figures.ceiling)


def _header(ledger: MonthLedger, words: Words) -> list[str]:
    columns = [
        words(f"ledger.column.{c}") for c in ("full_name", "resident_id", "base_on_record", "base", "note")
    ]
    for scheme in ledger.schemes:
        name = scheme_word(scheme, words)
        columns += [
            words("ledger.column.employer", scheme=name),
            words("ledger.column.employee", scheme=name),
        ]
    columns += [words(f"ledger.column.{c}") for c in ("employer_total", "employee_total", "total", "change")]
    return columns


def _row(line: LedgerLine, ledger: MonthLedger, change: str, words: Words) -> list[Any]:
    cells: list[Any] = [
        line.full_name,
        line.resident_id,
        line.base_on_record,
        line.base,
        _note(line, ledger, words),
    ]
    for scheme in ledger.schemes:
        share = line.share(scheme)
        cells += [share.employer, share.employee]
    cells += [line.employer, line.employee, line.total, change]
    return cells


def _change(export: ContributionsExport, line: LedgerLine, words: Words) -> str:
    what = export.changes.of(line.employee_id)
    if what == "new_base":
        before = next(c.before for c in export.changes.new_bases if c.after.employee_id == line.employee_id)
        return words("ledger.change.new_base", before=before.base)
    return words("ledger.change.joined") if what else ""


def contribution_rows(export: ContributionsExport, words: Words) -> list[list[Any]]:
    """The people of the month, then the leavers (with no amounts): the .csv's rows and
    the first sheet's."""
    ledger = export.ledger
    rows = [_row(line, ledger, _change(export, line, words), words) for line in ledger.lines]
    blanks = [""] * (len(ledger.schemes) * 2 + 3)
    for line in export.changes.leavers:
        left = words("ledger.change.left", last=str(export.previous.month))
        rows.append([line.full_name, line.resident_id, line.base_on_record, "", "", *blanks, left])
    return rows


def summary_rows(export: ContributionsExport, policy: Policy, words: Words) -> list[list[Any]]:
    """The summary sheet: the month's figures and where they come from, the totals per
    scheme, the payments recorded and how they compare."""
    ledger, figures = export.ledger, export.ledger.figures
    period = figures.period
    w = words
    rows: list[list[Any]] = [
        [w("ledger.summary.month"), str(ledger.month)],
        [w("ledger.summary.period"), f"{period.start} – {period.end}"],
        [w("ledger.summary.floor"), period.floor],
        [w("ledger.summary.ceiling"), period.ceiling],
        [w("ledger.summary.source"), period.source],
    ]
    if ledger.assumed:
        rows.append([w("ledger.summary.note"), w("ledger.summary.assumed", month=str(ledger.month))])
    elif not period.verified:
        rows.append([w("ledger.summary.note"), w("ledger.summary.unverified")])
    rows.append(
        [
            w("ledger.summary.rounding"),
            w(
                "ledger.summary.rounding_rule",
                unit=figures.rounding_unit,
                mode=w(f"ledger.rounding.{figures.rounding_mode}"),
            ),
        ]
    )
    rows.append(
        [w("ledger.summary.state"), w("ledger.summary.closed" if ledger.closed else "ledger.summary.open")]
    )
    rows.append([])
    rows.append(
        [
            w("ledger.summary.scheme"),
            w("ledger.summary.rates"),
            w("ledger.column.employer_total"),
            w("ledger.column.employee_total"),
            w("ledger.column.total"),
        ]
    )
    rates = {r.name: r for r in figures.rates}
    for total in ledger.totals:
        rate = rates.get(total.scheme)
        shown = f"{rate.employer} % / {rate.employee} %" if rate else ""
        rows.append(
            [
                scheme_word(total.scheme, w),
                shown,
                total.employer,
                total.employee,
                total.employer + total.employee,
            ]
        )
    rows.append([w("ledger.summary.all"), "", ledger.employer_total, ledger.employee_total, ledger.total])
    rows.append([])
    rows.append([w("ledger.summary.people"), len(ledger.lines)])
    if ledger.missing_bases:
        rows.append([w("ledger.summary.missing_bases"), ledger.missing_bases])
    changes = export.changes
    rows.append(
        [
            w("ledger.summary.changes"),
            w(
                "ledger.summary.change_counts",
                joined=len(changes.joiners),
                left=len(changes.leavers),
                rebased=len(changes.new_bases),
            ),
        ]
    )
    rows.append([w("ledger.summary.late_fee"), late_fee_per_day(ledger.total, policy)])
    rows.append([])
    if not export.payments:
        rows.append([w("ledger.summary.payments"), w("ledger.summary.no_payment")])
    for payment in export.payments:
        rows.append(
            [
                w("ledger.summary.payments"),
                payment.amount,
                payment.paid_on.isoformat(),
                payment.reference,
                payment.recorded_by,
            ]
        )
    if export.payments:
        rows.append([w("ledger.summary.difference"), export.paid - ledger.total])
    return rows


def changes_rows(export: ContributionsExport, words: Words) -> list[list[Any]]:
    """The changes sheet: joiners, leavers and new bases, one line each."""
    rows: list[list[Any]] = [
        [words(f"ledger.changes.{c}") for c in ("what", "full_name", "resident_id", "before", "after")]
    ]
    changes = export.changes
    for line in changes.joiners:
        rows.append([words("ledger.change.joined"), line.full_name, line.resident_id, "", line.base])
    for line in changes.leavers:
        rows.append([words("ledger.changes.left"), line.full_name, line.resident_id, line.base, ""])
    for change in changes.new_bases:
        after = change.after
        rows.append(
            [
                words("ledger.changes.new_base"),
                after.full_name,
                after.resident_id,
                change.before.base,
                after.base,
            ]
        )
    return rows


def contributions_files(export: ContributionsExport, policy: Policy, words: Words) -> list[tuple[str, bytes]]:
    """``[(file name, content)]``: the month as .xlsx (people, summary, changes) and .csv
    (the people, then the leavers)."""
    ledger = export.ledger
    header = _header(ledger, words)
    rows = contribution_rows(export, words)
    book = workbook(
        [
            Sheet(str(ledger.month), [header, *rows], text_columns=(1,), widths={0: 16, 1: 22}),
            Sheet(
                words("ledger.summary.sheet"),
                summary_rows(export, policy, words),
                header=False,
                widths={0: 30, 1: 30},
            ),
            Sheet(
                words("ledger.changes.sheet"),
                changes_rows(export, words),
                text_columns=(2,),
                widths={1: 16, 2: 22},
            ),
        ]
    )
    xlsx_name, csv_name = contributions_names(ledger.month)
    return [(xlsx_name, book), (csv_name, to_csv([header, *rows]))]


def to_csv(rows: Sequence[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads Chinese; amounts with two
    decimals."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([f"{v:.2f}" if isinstance(v, Decimal) else ("" if v is None else v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


# --- the reconciliation ---------------------------------------------------------------------------


def reconciliation_rows(differences: Sequence[DifferenceView], words: Words) -> list[list[Any]]:
    """A header, then one line per person who differs: both sides' totals, bases and each
    scheme's shares, the likely reason, and what was made of it."""
    schemes = list(dict.fromkeys(s for d in differences for s in d.detail.get("schemes", {})))
    header = [
        words(f"bill.column.{c}")
        for c in (
            "full_name",
            "resident_id",
            "reason",
            "ledger_total",
            "bill_total",
            "difference",
            "ledger_base",
            "bill_base",
        )
    ]
    for scheme in schemes:
        name = scheme_word(scheme, words)
        header += [words("bill.column.ledger", scheme=name), words("bill.column.billed", scheme=name)]
    header += [words("bill.column.state"), words("bill.column.note")]
    rows: list[list[Any]] = [header]
    for d in differences:
        figures = d.detail.get("schemes", {})
        row: list[Any] = [
            d.full_name,
            d.resident_id,
            words(f"bill.reason.{d.reason}"),
            d.ledger_total,
            d.bill_total,
            d.amount,
            d.detail.get("ledger_base") or "",
            d.detail.get("bill_base") or "",
        ]
        for scheme in schemes:
            sides = figures.get(scheme, {})
            row += [" / ".join(sides.get("ledger", [])), " / ".join(sides.get("bill", []))]
        row += [words(f"bill.state.{d.state}"), d.request or d.note]
        rows.append(row)
    return rows


def reconciliation_files(
    month: Any, differences: Sequence[DifferenceView], words: Words
) -> list[tuple[str, bytes]]:
    """``[(file name, content)]``: the differences as .xlsx and .csv."""
    rows = reconciliation_rows(differences, words)
    book = workbook(
        [Sheet(words("bill.sheet", month=str(month)), rows, text_columns=(1,), widths={0: 16, 1: 22, 2: 30})]
    )
    name = f"reconciliation-{month}"
    return [(f"{name}.xlsx", book), (f"{name}.csv", to_csv(rows))]
