"""The center's bill (对账单 / 缴费明细, duty 15) and its reconciliation with the ledger.
Pure rules: what a row of the bill holds and why it is rejected, and where the bill and
the ledger differ for each person, with the likely reason.

A bill is a table with one row per person and scheme: name, resident ID, the scheme (险种),
the base and the employer's and employee's amounts, and often the month billed (所属期).
Its columns are found by name in Chinese or English, as the roster's are. The schemes are
named as the center names them (养老, 基本养老保险费, pension…) and mapped to the policy's;
maternity (生育) is part of medical since 2019 (国办发〔2019〕10号), so a bill that still
lists it apart is added to medical when the policy has no maternity scheme of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import PurePath
from typing import Any, NamedTuple

from bot.domain.ledger import ZERO, LedgerLine, MonthLedger
from bot.domain.months import YearMonth
from bot.domain.roster import (
    NAME_HEADERS,
    RESIDENT_ID_HEADERS,
    Checked,
    Rejection,
    RowReader,
    ValueProblem,
    parse_amount,
    parse_month,
)
from bot.domain.tables import Column, Row, TableError, find_header, fold

# A difference of at most this much per scheme and side, on the same base, is rounding:
# the coarsest rounding a center uses is up to the jiao (见分进角), which moves a share by
# at most 0.09 yuan; a real difference of rate on a base of at least the floor (several
# thousand yuan) is tens of fen or more, and a different base is caught by the base itself.
ROUNDING_TOLERANCE = Decimal("0.09")
# Someone on the ledger whose enrolment began this month or the one before, and whom the
# center does not bill yet, is a joiner whose enrolment (增员) the center has not processed.
JOINER_MONTHS = 2

BILL_COLUMNS: tuple[Column, ...] = (
    Column("full_name", NAME_HEADERS),
    Column("resident_id", RESIDENT_ID_HEADERS),
    Column(
        "scheme",
        ("险种", "险种名称", "险种类型", "费种", "征收品目", "scheme", "insurance", "insurance type"),
    ),
    Column(
        "base",
        ("缴费基数", "月缴费基数", "申报基数", "计费基数", "核定基数", "contribution base", "base"),
    ),
    Column(
        "employer",
        (
            "单位缴费",
            "单位缴费额",
            "单位应缴",
            "单位应缴金额",
            "单位缴纳",
            "单位部分",
            "单位金额",
            "employer",
            "employer share",
            "employer amount",
            "employer contribution",
        ),
    ),
    Column(
        "employee",
        (
            "个人缴费",
            "个人缴费额",
            "个人应缴",
            "个人应缴金额",
            "个人缴纳",
            "个人部分",
            "个人金额",
            "employee",
            "employee share",
            "employee amount",
            "employee contribution",
        ),
    ),
    Column(
        "month",
        (
            "所属期",
            "费款所属期",
            "所属月份",
            "费款所属月份",
            "缴费月份",
            "月份",
            "month",
            "period",
            "billing month",
        ),
        required=False,
    ),
)

# The schemes as centers and the tax portal name them; each also with 费 ("…保险费").
_SCHEME_WORDS: dict[str, tuple[str, ...]] = {
    "pension": ("养老", "养老保险", "基本养老保险", "职工基本养老保险", "企业职工基本养老保险", "pension"),
    "medical": ("医疗", "医疗保险", "基本医疗保险", "职工基本医疗保险", "医保", "职工医保", "medical"),
    "unemployment": ("失业", "失业保险", "unemployment"),
    "work_injury": ("工伤", "工伤保险", "work injury", "injury"),
    "maternity": ("生育", "生育保险", "maternity"),
}
_SCHEMES = {
    fold(spelling): scheme
    for scheme, words in _SCHEME_WORDS.items()
    for word in words
    for spelling in (word, f"{word}费", f"{word} insurance")
}
_MONTH_IN_NAME = re.compile(r"(20\d{2})[-_.年]?(0[1-9]|1[0-2])(?!\d)")


def is_bill(rows: Sequence[Row]) -> bool:
    """Whether a table's columns are a bill's (a scheme, a base and both sides' amounts)."""
    try:
        find_header(rows, BILL_COLUMNS)
    except TableError as exc:
        return exc.code == "column_twice"
    return True


def scheme_of(text: str, schemes: Sequence[str]) -> str:
    """The policy's scheme a bill's 险种 names: maternity goes to medical when the policy
    has no maternity of its own. ValueProblem ``bill_scheme_unknown`` otherwise."""
    folded = fold(text)
    found = _SCHEMES.get(folded) or next((s for s in schemes if fold(s) == folded), None)
    if found == "maternity" and "maternity" not in schemes and "medical" in schemes:
        found = "medical"
    if found is None or found not in schemes:
        raise ValueProblem("bill_scheme_unknown", value=text, schemes=", ".join(schemes))
    return found


def month_in_name(file_name: str) -> YearMonth | None:
    """The month a bill's file name carries (对账单-2026-11.xlsx, 202611明细.xls)."""
    m = _MONTH_IN_NAME.search(PurePath(file_name).stem)
    return YearMonth(int(m.group(1)), int(m.group(2))) if m else None


class BillEntry(NamedTuple):
    row: int
    resident_id: str
    full_name: str
    scheme: str
    base: Decimal
    employer: Decimal
    employee: Decimal


@dataclass(frozen=True)
class CheckedBill:
    """A bill read against its rules, and the month it bills (None when neither the
    command, the file's month column nor its name says)."""

    checked: Checked[BillEntry]
    month: YearMonth | None


def check_bill(
    rows: Sequence[Row], *, month: YearMonth | None, file_name: str, schemes: Sequence[str], today: date
) -> CheckedBill:
    """Every data row of a bill checked: name, resident ID (its check digit), the scheme
    (one the policy knows), the base and both amounts (yuan, not negative), each person
    and scheme once; and every row of the month billed. ``month`` is the month given
    (the command line's ``--month``); without it, the file's month column (one month for
    every row) or a month in its name. TableError when the file has no bill header."""
    header = find_header(rows, BILL_COLUMNS)
    data = [r for r in rows if r.number > header.row]
    if not data:
        raise TableError("file_no_rows")
    if month is None:
        month = _month_of(data, header.columns.get("month"), file_name)
    entries: list[BillEntry] = []
    rejections: list[Rejection] = []
    first_rows: dict[tuple[str, str], int] = {}
    known_ids: dict[str, tuple[str, str | None]] = {}
    for row in data:
        read = RowReader(header, row, rejections)
        name = read.text("full_name")
        if not name:
            read.reject("full_name", "required")
        number = read.resident_id(today, known_ids)
        scheme = read.value("scheme", lambda text: scheme_of(text, schemes), required=True)
        base = read.value("base", parse_amount, required=True)
        employer = read.value("employer", parse_amount, required=True)
        employee = read.value("employee", parse_amount, required=True)
        for name_, amount in (("base", base), ("employer", employer), ("employee", employee)):
            if amount is not None and amount < 0:
                read.reject(name_, "bill_amount_negative")
        billed = read.value("month", parse_month, required=False)
        if billed is not None and month is not None and billed != month:
            read.reject("month", "bill_other_month", month=str(month))
        if number and scheme:
            # Maternity billed apart is added to medical, yet is a line of its own.
            named = _SCHEMES.get(fold(read.text("scheme")), scheme)
            first = first_rows.setdefault((number, named), row.number)
            if first != row.number:
                read.reject(None, "bill_line_twice", first_row=first)
        if not read.failed:
            entries.append(BillEntry(row.number, number, name, scheme, base, employer, employee))
    return CheckedBill(Checked(header, entries, rejections, len(data)), month)


def _month_of(data: Sequence[Row], column: int | None, file_name: str) -> YearMonth | None:
    if column is not None:
        months = set()
        for row in data:
            try:
                months.add(parse_month(row.cell(column)))
            except ValueProblem:
                continue
        if len(months) == 1:
            return months.pop()
    return month_in_name(file_name)


# --- the reconciliation -----------------------------------------------------------------------


class DifferenceReason(StrEnum):
    """Why the bill and the ledger differ for a person, as far as the roster tells."""

    JOINER_NOT_ENROLLED = "joiner_not_enrolled"  # on the ledger from this month: not billed yet
    NOT_BILLED = "not_billed"  # on the ledger for a while, missing from the bill
    LEAVER_STILL_BILLED = "leaver_still_billed"  # billed after their last insured month
    NOT_ENROLLED_YET = "not_enrolled_yet"  # billed before their enrolment month
    NOT_ON_LEDGER = "not_on_ledger"  # insured in the month, not on its recorded ledger
    UNKNOWN_PERSON = "unknown_person"  # billed, and not on the roster at all
    NO_BASE = "no_base"  # the roster has no base for them: the ledger could not compute
    BASE_DIFFERS = "base_differs"  # the center bills another base
    ROUNDING = "rounding"  # same base, every share within ROUNDING_TOLERANCE
    RATE_DIFFERS = "rate_differs"  # same base, shares further apart: another rate
    SCHEME_DIFFERS = "scheme_differs"  # a scheme on one side only


@dataclass(frozen=True)
class OnRoster:
    """What the roster says of someone billed but not on the month's ledger."""

    employee_id: int
    enrolled_from: YearMonth
    last_month: YearMonth | None


@dataclass(frozen=True)
class Difference:
    resident_id: str
    full_name: str
    employee_id: int | None
    reason: DifferenceReason
    ledger_total: Decimal
    bill_total: Decimal
    detail: dict[str, Any] = field(default_factory=dict)  # JSON-safe: bases and each scheme's figures

    @property
    def amount(self) -> Decimal:
        """The bill's total for the person less the ledger's."""
        return self.bill_total - self.ledger_total


@dataclass(frozen=True)
class Reconciled:
    month: YearMonth
    differences: list[Difference]
    ledger_people: int
    bill_people: int
    ledger_total: Decimal
    bill_total: Decimal


def reconcile(book: MonthLedger, entries: Sequence[BillEntry], roster: Mapping[str, OnRoster]) -> Reconciled:
    """Compare the bill's ``entries`` with the month's ledger, person by person and scheme
    by scheme; ``roster`` says what the roster knows of each person (by resident ID).
    Everyone who differs is a :class:`Difference`, with the most likely reason: whether
    they should be billed at all, then the base, then the schemes, then the amounts."""
    billed: dict[str, list[BillEntry]] = {}
    for entry in _by_scheme(entries):
        billed.setdefault(entry.resident_id, []).append(entry)
    on_ledger = {line.resident_id: line for line in book.lines}
    differences = []
    for number, line in on_ledger.items():
        found = _compare(book.month, line, billed.get(number), roster.get(number))
        if found is not None:
            differences.append(found)
    for number, lines in billed.items():
        if number not in on_ledger:
            differences.append(_billed_only(book.month, lines, roster.get(number)))
    differences.sort(key=lambda d: (d.full_name, d.resident_id))
    bill_total = sum((e.employer + e.employee for e in entries), ZERO)
    return Reconciled(book.month, differences, len(book.lines), len(billed), book.total, bill_total)


def _by_scheme(entries: Sequence[BillEntry]) -> list[BillEntry]:
    """One entry per person and scheme: lines of the same scheme (maternity billed apart
    from medical) added up."""
    merged: dict[tuple[str, str], BillEntry] = {}
    for e in entries:
        key = (e.resident_id, e.scheme)
        if key in merged:
            before = merged[key]
            e = before._replace(employer=before.employer + e.employer, employee=before.employee + e.employee)
        merged[key] = e
    return list(merged.values())


def _figures(line: LedgerLine | None, lines: Sequence[BillEntry] | None) -> dict[str, Any]:
    schemes: dict[str, dict[str, list[str]]] = {}
    for share in line.shares if line else ():
        schemes.setdefault(share.scheme, {})["ledger"] = [str(share.employer), str(share.employee)]
    for entry in lines or ():
        schemes.setdefault(entry.scheme, {})["bill"] = [str(entry.employer), str(entry.employee)]
    bill_bases = sorted({f"{e.base:.2f}" for e in lines or ()})
    return {
        "ledger_base": str(line.base) if line and line.shares else None,
        "bill_base": ", ".join(bill_bases) or None,
        "schemes": schemes,
    }


def _total(lines: Sequence[BillEntry]) -> Decimal:
    return sum((e.employer + e.employee for e in lines), ZERO)


def _compare(
    month: YearMonth, line: LedgerLine, lines: list[BillEntry] | None, person: OnRoster | None
) -> Difference | None:
    def found(reason: DifferenceReason, bill_total: Decimal = ZERO) -> Difference:
        figures = _figures(line, lines)
        return Difference(
            line.resident_id, line.full_name, line.employee_id, reason, line.total, bill_total, figures
        )

    if not lines:
        joined = person is not None and month.months_since(person.enrolled_from) < JOINER_MONTHS
        return found(DifferenceReason.JOINER_NOT_ENROLLED if joined else DifferenceReason.NOT_BILLED)
    bill_total = _total(lines)
    if not line.shares:
        return found(DifferenceReason.NO_BASE, bill_total)
    if any(e.base != line.base for e in lines):
        return found(DifferenceReason.BASE_DIFFERS, bill_total)
    by_scheme = {e.scheme: e for e in lines if e.employer or e.employee}
    if set(by_scheme) != {s.scheme for s in line.shares if s.employer or s.employee}:
        return found(DifferenceReason.SCHEME_DIFFERS, bill_total)
    gaps = [
        abs(bill - ledger)
        for scheme, entry in by_scheme.items()
        for bill, ledger in (
            (entry.employer, line.share(scheme).employer),
            (entry.employee, line.share(scheme).employee),
        )
    ]
    if any(gap > ROUNDING_TOLERANCE for gap in gaps):
        return found(DifferenceReason.RATE_DIFFERS, bill_total)
    if any(gaps):
        return found(DifferenceReason.ROUNDING, bill_total)
    return None


def _billed_only(month: YearMonth, lines: Sequence[BillEntry], person: OnRoster | None) -> Difference:
    first = lines[0]
    if person is None:
        reason = DifferenceReason.UNKNOWN_PERSON
    elif person.last_month is not None and person.last_month < month:
        reason = DifferenceReason.LEAVER_STILL_BILLED
    elif person.enrolled_from > month:
        reason = DifferenceReason.NOT_ENROLLED_YET
    else:
        reason = DifferenceReason.NOT_ON_LEDGER
    employee_id = person.employee_id if person else None
    return Difference(
        first.resident_id, first.full_name, employee_id, reason, ZERO, _total(lines), _figures(None, lines)
    )
