"""The center's bill (bot/domain/bill.py): its columns in Chinese or English, its rows'
rules, the month it bills, and the reconciliation with the ledger — each likely reason.

The ledger is tests/test_ledger_rules.py's (pension 16 / 8 %, medical 9.5 / 2 %): A on
10,000.00 owes pension 1,600.00 / 800.00 and medical 950.00 / 200.00; B on 8,765.43 owes
1,402.47 / 701.23 and 832.72 / 175.31."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.domain.bill import (
    DifferenceReason,
    OnRoster,
    check_bill,
    is_bill,
    month_in_name,
    reconcile,
    scheme_of,
)
from bot.domain.ledger import compute_month
from bot.domain.months import YearMonth
from bot.domain.roster import ValueProblem
from bot.domain.tables import Row, TableError
from tests.test_ledger_rules import NOVEMBER, person, policy

TODAY = date(2026, 11, 27)
SCHEMES = ["pension", "medical"]
A, B, C = (f"{n:018d}" for n in (1, 2, 3))  # the test people's IDs are not real ones: checked apart


def rows(*lines: list[str]) -> list[Row]:
    return [Row(i, tuple(cells)) for i, cells in enumerate(lines, start=1)]


def check(table, month=NOVEMBER, name="bill.xlsx"):
    return check_bill(table, month=month, file_name=name, schemes=SCHEMES, today=TODAY)


ZHANG = "11010519491231002X"
LI = "440305198506152340"


def test_a_bill_is_read_in_chinese_with_the_tax_portal_s_scheme_names():
    table = rows(
        ["单位社会保险费缴费明细", "", "", "", "", "", ""],
        ["费款所属期", "姓名", "身份证号码", "征收品目", "缴费基数（元）", "单位缴费额", "个人缴费额"],
        ["2026-11", "张三", ZHANG, "基本养老保险费", "9000", "1440.00", "720.00"],
        ["202611", "张三", ZHANG, "职工基本医疗保险费", "9,000.00", "855.00", "180.00"],
        ["2026年11月", "张三", ZHANG, "生育保险", "9000", "0", "0"],
    )
    assert is_bill(table)
    read = check(table, month=None)
    assert read.month == NOVEMBER and read.checked.rejections == []
    assert [(e.scheme, e.employer, e.employee) for e in read.checked.entries] == [
        ("pension", Decimal("1440.00"), Decimal("720.00")),
        ("medical", Decimal("855.00"), Decimal("180.00")),
        # Maternity has been part of medical since 2019: with no scheme of its own in the
        # policy, it is medical's (and added to it when reconciled).
        ("medical", Decimal("0.00"), Decimal("0.00")),
    ]


def test_every_wrong_row_is_rejected_with_its_reason():
    table = rows(
        [
            "Name",
            "Resident ID number",
            "Scheme",
            "Contribution base",
            "Employer amount",
            "Employee amount",
            "Month",
        ],
        ["Zhang San", ZHANG, "pension", "9000", "1440", "720", "2026-11"],
        ["Zhang San", ZHANG, "Pension insurance", "9000", "1440", "720", "2026-11"],
        ["Li Si", "440305198506152341", "medical", "8000", "-1", "160", "2026-11"],
        ["", LI, "housing fund", "8000", "760", "160", "2026-10"],
    )
    read = check(table)
    found = sorted((r.row, r.field, r.code) for r in read.checked.rejections)
    assert found == [
        (3, None, "bill_line_twice"),
        (4, "employer", "bill_amount_negative"),
        (4, "resident_id", "resident_id_check_digit"),
        (5, "full_name", "required"),
        (5, "month", "bill_other_month"),
        (5, "scheme", "bill_scheme_unknown"),
    ]
    assert read.checked.entries[0].scheme == "pension"


def test_the_month_comes_from_the_command_the_month_column_or_the_file_s_name():
    header = ["姓名", "身份证号", "险种", "缴费基数", "单位缴费", "个人缴费"]
    table = rows(header, ["张三", ZHANG, "养老", "9000", "1440", "720"])
    assert check(table, month=None, name="对账单-2026-11.xlsx").month == NOVEMBER
    assert check(table, month=None, name="202611缴费明细.xls").month == NOVEMBER
    assert check(table, month=None, name="bill.xlsx").month is None
    assert month_in_name("2026-13.csv") is None
    with pytest.raises(TableError):
        check(rows(["姓名", "身份证号", "缴费基数"], ["张三", ZHANG, "9000"]))


def test_schemes_are_named_as_centers_name_them():
    assert scheme_of("养老保险费", SCHEMES) == "pension"
    assert scheme_of(" Medical ", SCHEMES) == "medical"
    with pytest.raises(ValueProblem) as problem:
        scheme_of("失业", SCHEMES)  # the policy of this test has no unemployment
    assert problem.value.params == {"value": "失业", "schemes": "pension, medical"}


# --- the reconciliation ---------------------------------------------------------------------------


def ledger():
    return compute_month(
        policy().period_for(NOVEMBER),
        [person(1, "A", "10000.00"), person(2, "B", "8765.43"), person(4, "D", "9000.00")],
    )


def entry(number: str, name: str, scheme: str, base: str, employer: str, employee: str):
    from bot.domain.bill import BillEntry

    return BillEntry(0, number, name, scheme, Decimal(base), Decimal(employer), Decimal(employee))


def roster_of(**people) -> dict[str, OnRoster]:
    return {number: OnRoster(i, enrolled, last) for i, (number, enrolled, last) in enumerate(people.values())}


def test_the_planted_differences_are_each_found_with_their_likely_reason():
    book = ledger()
    d_id = f"{4:018d}"
    bill = [
        # A exactly as the ledger: no difference.
        entry(A, "A", "pension", "10000", "1600.00", "800.00"),
        entry(A, "A", "medical", "10000", "950.00", "200.00"),
        # B with one cent of rounding on medical's employer share (832.72 on the ledger).
        entry(B, "B", "pension", "8765.43", "1402.47", "701.23"),
        entry(B, "B", "medical", "8765.43", "832.73", "175.31"),
        # C left in October and is still billed.
        entry(C, "C", "pension", "8000", "1280.00", "640.00"),
        # D billed on a base of 9,100 instead of 9,000: 1,456.00 / 728.00, 864.50 / 182.00.
        entry(d_id, "D", "pension", "9100", "1456.00", "728.00"),
        entry(d_id, "D", "medical", "9100", "864.50", "182.00"),
    ]
    roster = {
        C: OnRoster(3, YearMonth(2020, 1), YearMonth(2026, 10)),
        A: OnRoster(1, YearMonth(2020, 1), None),
        B: OnRoster(2, YearMonth(2020, 1), None),
        d_id: OnRoster(4, YearMonth(2020, 1), None),
    }
    found = reconcile(book, bill, roster)
    reasons = {d.full_name: (d.reason, d.amount) for d in found.differences}
    assert reasons == {
        "B": (DifferenceReason.ROUNDING, Decimal("0.01")),
        "C": (DifferenceReason.LEAVER_STILL_BILLED, Decimal("1920.00")),
        # D on the ledger: 1,440.00 + 720.00 + 855.00 + 180.00 = 3,195.00; billed 1,456.00 +
        # 728.00 + 864.50 + 182.00 = 3,230.50: 35.50 more.
        "D": (DifferenceReason.BASE_DIFFERS, Decimal("35.50")),
    }
    (d,) = [x for x in found.differences if x.full_name == "D"]
    assert d.detail["ledger_base"] == "9000.00" and d.detail["bill_base"] == "9100.00"
    assert d.detail["schemes"]["pension"] == {"ledger": ["1440.00", "720.00"], "bill": ["1456.00", "728.00"]}
    assert (found.ledger_people, found.bill_people) == (3, 4)


def test_who_is_missing_from_the_bill_or_unknown_to_the_roster():
    book = ledger()
    bill = [entry(f"{9:018d}", "Stranger", "pension", "9000", "1440.00", "720.00")]
    roster = {
        A: OnRoster(1, NOVEMBER, None),  # joined this month: the center has not enrolled them yet
        B: OnRoster(2, YearMonth(2020, 1), None),  # insured for years, missing from the bill
        f"{4:018d}": OnRoster(4, YearMonth(2020, 1), None),
    }
    found = {d.full_name: d.reason for d in reconcile(book, bill, roster).differences}
    assert found == {
        "A": DifferenceReason.JOINER_NOT_ENROLLED,
        "B": DifferenceReason.NOT_BILLED,
        "D": DifferenceReason.NOT_BILLED,
        "Stranger": DifferenceReason.UNKNOWN_PERSON,
    }
    early = reconcile(book, bill, {f"{9:018d}": OnRoster(9, YearMonth(2026, 12), None)}).differences
    assert early[-1].reason is DifferenceReason.NOT_ENROLLED_YET


def test_a_rate_that_differs_and_a_scheme_on_one_side_only():
    book = compute_month(policy().period_for(NOVEMBER), [person(1, "A", "10000.00")])
    rate = [
        entry(A, "A", "pension", "10000", "1600.00", "800.00"),
        entry(A, "A", "medical", "10000", "900.00", "200.00"),
    ]
    assert reconcile(book, rate, {}).differences[0].reason is DifferenceReason.RATE_DIFFERS
    one_scheme = [entry(A, "A", "pension", "10000", "1600.00", "800.00")]
    assert reconcile(book, one_scheme, {}).differences[0].reason is DifferenceReason.SCHEME_DIFFERS
    # Ten fen on one share is more than any rounding: a rate.
    ten_fen = [
        entry(A, "A", "pension", "10000", "1600.10", "800.00"),
        entry(A, "A", "medical", "10000", "950.00", "200.00"),
    ]
    assert reconcile(book, ten_fen, {}).differences[0].reason is DifferenceReason.RATE_DIFFERS
