"""The roster's and the wage records' import rules (bot/domain/roster.py, tables.py), with
worked examples: what a payroll or HR export looks like, and why a row is rejected."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.domain.kinds.change import Hukou
from bot.domain.kinds.retirement import RetirementRequest
from bot.domain.months import YearMonth
from bot.domain.retirement import Category
from bot.domain.roster import (
    EXAMPLE_RESIDENT_ID,
    MAX_MONTHLY_WAGE,
    EmployeeStatus,
    FileKind,
    ValueProblem,
    check_roster,
    check_wages,
    detect_kind,
    parse_amount,
    parse_date,
    parse_hukou,
    parse_month,
    parse_slack_user,
    parse_status,
    retirement_day,
    same_name,
)
from bot.domain.tables import TableError, decode, fold, read_table

TODAY = date(2026, 11, 27)
LATEST = YearMonth(2027, 2)
ZHANG = "11010519491231002X"
LI = "440305198506152340"
WANG = "110101198001010010"


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.strip().encode(encoding)


def roster(text: str, encoding: str = "utf-8", name: str = "roster.csv"):
    return check_roster(read_table(name, csv_bytes(text, encoding)), today=TODAY, latest_month=LATEST)


def wages(text: str):
    return check_wages(read_table("wages.csv", csv_bytes(text)), today=TODAY)


def codes(checked) -> list[tuple[int, str | None, str]]:
    return [(r.row, r.field, r.code) for r in checked.rejections]


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- reading files ------------------------------------------------------------------------


def test_a_gbk_payroll_export_with_a_title_line_is_read_by_its_chinese_headers():
    checked = roster(
        """
员工花名册（2026年11月）
序号,姓名,公民身份号码,户口性质,参保年月,停保年月,缴费基数（元）,部门
1,张三,11010519491231002x,本市城镇,2020-01,,"9,000",财务部
2,李四,440305198506152340,外地农村,202103,2025年6月,8000.5,销售部
""",
        encoding="gbk",
    )
    assert checked.rejections == [] and checked.rows == 2 and checked.header.row == 2
    zhang, li = checked.entries
    assert (zhang.row, zhang.full_name, zhang.resident_id) == (3, "张三", ZHANG)  # x made upper case
    assert zhang.hukou is Hukou.LOCAL_URBAN and zhang.enrolled_from == YearMonth(2020, 1)
    assert zhang.contribution_base == Decimal("9000.00") and zhang.status is EmployeeStatus.ENROLLED
    assert li.hukou is Hukou.NONLOCAL_RURAL and li.leaving_month == YearMonth(2025, 6)
    assert li.status is EmployeeStatus.LEFT  # derived from the leaving month


def test_english_headers_in_any_spelling_and_a_bom():
    checked = roster(
        "\ufeffNAME,ID Number,Hukou Type,Enrollment month,Status,Retirement date,Slack user\n"
        f"Wang Wu,{WANG},Foreign national,2022-05,Retired,2026-10-31,<@U0WANGWU|wang>"
    )
    assert checked.rejections == []
    (wang,) = checked.entries
    assert wang.status is EmployeeStatus.RETIRED and wang.retired_on == date(2026, 10, 31)
    assert wang.slack_user == "U0WANGWU" and wang.hukou is Hukou.FOREIGN


def test_bilingual_headers_and_excel_unicode_text_are_read():
    header = (
        "姓名 / Full name\t身份证号 / Resident ID number\t户籍类型 / Hukou type\t参保月份 / Enrolment month"
    )
    text = f"{header}\n张三\t{ZHANG}\t本市城镇\t2020-01\n"
    rows = read_table("export.txt", text.encode("utf-16"))
    assert check_roster(rows, today=TODAY, latest_month=LATEST).entries[0].resident_id == ZHANG


def test_gbk_and_utf8_are_told_apart():
    assert decode("张三".encode("gbk")) == "张三"
    assert decode("张三".encode("utf-8-sig")) == "张三"
    assert fold("缴费基数（元）") == fold("缴费 基数") == "缴费基数"
    assert fold("Gross wage (yuan)") == fold("gross_wage") == "grosswage"


def test_an_xlsx_with_dates_and_formula_noise_is_read_as_the_spreadsheet_shows_it():
    content = xlsx(
        [
            ["身份证号", "姓名", "月份", "应发工资"],
            [
                ZHANG,
                "张三",
                datetime(2026, 10, 1),
                2550.0000000000005,
            ],  # "2026-10" typed, Excel made it a date
            [LI, "李四", "2026-10", 8000],
        ]
    )
    checked = check_wages(read_table("wages.xlsx", content), today=TODAY)
    assert checked.rejections == []
    assert [(e.month, e.gross_wage) for e in checked.entries] == [
        (YearMonth(2026, 10), Decimal("2550.00")),
        (YearMonth(2026, 10), Decimal("8000.00")),
    ]


def test_an_old_excel_file_from_a_payroll_system_is_read():
    content = (Path(__file__).parent / "data" / "wages-2026-10.xls").read_bytes()
    checked = check_wages(read_table("wages-2026-10.xls", content), today=TODAY)
    assert checked.rejections == [] and checked.header.row == 2
    assert [(e.row, e.resident_id, e.month, e.gross_wage) for e in checked.entries] == [
        (3, ZHANG, YearMonth(2026, 10), Decimal("12000.50")),
        (4, LI, YearMonth(2026, 10), Decimal("8000.00")),
    ]


def test_an_id_typed_as_a_number_in_excel_is_rejected_for_what_it_is():
    content = xlsx(
        [["姓名", "身份证号", "户籍类型", "参保月份"], ["李四", 440305198506152340, "外埠农村", "2021-03"]]
    )
    checked = check_roster(read_table("r.xlsx", content), today=TODAY, latest_month=LATEST)
    assert codes(checked) == [(2, "resident_id", "resident_id_number_cell")]


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0", "file_unreadable"),
        ("photo.png", b"\x89PNG", "file_type"),
        ("broken.xlsx", b"not a zip", "file_unreadable"),
    ],
)
def test_files_that_are_not_tables_are_refused_whole(name, content, code):
    with pytest.raises(TableError) as caught:
        read_table(name, content)
    assert caught.value.code == code


def test_a_file_without_the_columns_says_which_are_missing():
    with pytest.raises(TableError) as caught:
        roster("姓名,身份证号,部门\n张三,11010519491231002X,财务部")
    assert caught.value.code == "columns_missing"
    assert caught.value.params == {"fields": ["hukou", "enrolled_from"]}


def test_two_columns_for_one_thing_are_refused_rather_than_guessed():
    with pytest.raises(TableError) as caught:
        wages(f"身份证号,月份,应发工资,工资总额\n{ZHANG},2026-10,1,1")
    assert caught.value.code == "column_twice"
    assert caught.value.params["first"] == "应发工资" and caught.value.params["second"] == "工资总额"


def test_a_wage_file_given_as_a_roster_is_recognised_and_the_kind_detected():
    wage_file = read_table(
        "w.csv", csv_bytes(f"身份证号,姓名,月份,应发工资,实发工资\n{ZHANG},张三,2026-10,12000,9000")
    )
    assert detect_kind(wage_file) is FileKind.WAGES
    with pytest.raises(TableError) as caught:
        check_roster(wage_file, today=TODAY, latest_month=LATEST)
    assert caught.value.code == "file_is_wages"
    roster_file = read_table(
        "r.csv", csv_bytes(f"姓名,身份证号,户籍类型,参保月份\n张三,{ZHANG},本市城镇,2020-01")
    )
    assert detect_kind(roster_file) is FileKind.ROSTER
    assert detect_kind(read_table("x.csv", b"a,b\n1,2")) is None


def test_a_header_without_rows_has_nothing_to_import():
    with pytest.raises(TableError) as caught:
        roster("姓名,身份证号,户籍类型,参保月份\n")
    assert caught.value.code == "file_no_rows"


# --- the roster's rules -------------------------------------------------------------------


def test_every_wrong_row_of_a_roster_is_rejected_with_its_row_and_reason():
    checked = roster(
        f"""
姓名,身份证号,户籍类型,参保月份,停保月份,缴费基数,状态,退休日期,Slack
张三,{ZHANG},本市城镇,2020-01,,9000,,,U0ZHANG
,110105194912310021,火星,2020-13,,-1,在保,,not-a-user
李四,{LI},外埠农村,2024-05,2024-03,,,,
张三,{ZHANG},本市城镇,2020-01,,,,,U0ZHANG
王五,{WANG},外籍人员,2027-06,,,停保,,
赵六,{EXAMPLE_RESIDENT_ID},本市城镇,2026-01,,,,,
钱七,110101192001010013,本市城镇,1919-01,2024-01,,在保,1910-01-01,
"""
    )
    assert codes(checked) == [
        (3, "full_name", "required"),
        (3, "resident_id", "resident_id_check_digit"),
        (3, "slack_user", "slack_user_format"),
        (3, "hukou", "hukou_unknown"),
        (3, "enrolled_from", "month_format"),
        (3, "contribution_base", "amount_out_of_range"),
        (4, "leaving_month", "leaving_before_enrolment"),
        (5, "resident_id", "duplicate_in_file"),
        (5, "slack_user", "duplicate_in_file"),
        (6, "enrolled_from", "month_too_late"),
        (6, "leaving_month", "leaving_month_required"),
        (7, "resident_id", "example_row"),
        (8, "enrolled_from", "month_before_birth"),
        (8, "retired_on", "date_before_birth"),
        (8, "status", "status_conflict"),
    ]
    assert [e.full_name for e in checked.entries] == ["张三"]
    assert checked.rejected_rows == 6
    duplicate = next(r for r in checked.rejections if r.row == 5 and r.field == "resident_id")
    assert duplicate.params == {"first_row": 2} and duplicate.title == "身份证号" and duplicate.value == ZHANG


def test_a_retiree_needs_a_retirement_date():
    checked = roster(f"姓名,身份证号,户籍类型,参保月份,状态\n王五,{WANG},外籍人员,2022-05,退休")
    assert codes(checked) == [(2, "retired_on", "retired_on_required")]


def test_a_leaving_month_in_the_enrolment_month_is_one_insured_month():
    checked = roster(f"姓名,身份证号,户籍类型,参保月份,停保月份\n李四,{LI},外埠农村,2024-05,2024-05")
    assert checked.rejections == [] and checked.entries[0].status is EmployeeStatus.LEFT


# --- the wage rules -----------------------------------------------------------------------


def test_every_wrong_wage_row_is_rejected_with_its_reason():
    checked = wages(
        f"""
身份证号,姓名,月份,应发工资
{ZHANG},张三,2026-10,"12,000.00"
{ZHANG},张三,2026-10,12000
{LI},李四,2026-12,8000
{LI},李四,2026-11,-0.01
{WANG},王五,2026-11,8000.123
{WANG},王五,2026-10,10000000
{WANG},王五,2026-09,
"""
    )
    assert codes(checked) == [
        (3, None, "duplicate_wage_in_file"),
        (4, "month", "wage_month_in_future"),
        (5, "gross_wage", "wage_negative"),
        (6, "gross_wage", "amount_format"),
        (7, "gross_wage", "wage_too_large"),
        (8, "gross_wage", "required"),
    ]
    assert [(e.row, e.gross_wage) for e in checked.entries] == [(2, Decimal("12000.00"))]


def test_a_zero_wage_and_the_largest_one_are_wages():
    checked = wages(f"身份证号,月份,应发工资\n{ZHANG},2026-10,0\n{ZHANG},2026-11,{MAX_MONTHLY_WAGE}")
    assert checked.rejections == [] and checked.entries[0].full_name == ""


# --- single values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("2026-01", YearMonth(2026, 1)),
        ("2026/1", YearMonth(2026, 1)),
        ("202601", YearMonth(2026, 1)),
        ("2026年1月", YearMonth(2026, 1)),
        ("2026-01-01", YearMonth(2026, 1)),
        ("2026.01", YearMonth(2026, 1)),
    ],
)
def test_months_as_payroll_writes_them(text, month):
    assert parse_month(text) == month


@pytest.mark.parametrize("text", ["2026-13", "26-01", "January", "2026-02-30"])
def test_not_months(text):
    with pytest.raises(ValueProblem):
        parse_month(text)


def test_dates_amounts_words_and_slack_users():
    assert parse_date("2026年1月5日") == parse_date("20260105") == parse_date("2026/1/5") == date(2026, 1, 5)
    assert parse_amount("¥8,500.5元") == Decimal("8500.50")
    with pytest.raises(ValueProblem):
        parse_amount("8500.555")
    assert parse_hukou("Non-local, urban") is parse_hukou("外地城镇") is Hukou.NONLOCAL_URBAN
    assert parse_status("已离职") is parse_status("Left") is EmployeeStatus.LEFT
    assert parse_slack_user("<@U012AB3CD>") == parse_slack_user("U012AB3CD") == "U012AB3CD"
    assert (
        same_name("Zhang  San", "ZHANG SAN") and same_name("张 三", "张三") and not same_name("张三", "张四")
    )


def test_a_done_retirement_retires_from_the_wanted_month_or_the_statutory_day():
    form = RetirementRequest("李四", "310104197508150049", Category.FEMALE_55, Decimal("20"), None, "")
    assert retirement_day(form) == form.statutory.reached_on
    wanted = RetirementRequest(
        "李四", "310104197508150049", Category.FEMALE_55, Decimal("20"), YearMonth(2031, 3), ""
    )
    assert retirement_day(wanted) == date(2031, 3, 1)
