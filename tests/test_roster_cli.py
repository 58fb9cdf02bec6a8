"""``si-bot roster template|import`` and ``si-bot wages template|import`` as an administrator
runs them, reading DATABASE_URL and SI_POLICY_FILE like the server."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.cli import main
from bot.domain.policy import DEFAULT_POLICY_FILE
from bot.storage.models import Employee, WageCorrection, WageRecord

ZHANG = "11010519491231002X"
LI = "440305198506152340"
ROSTER = f"""Full name,Resident ID number,Hukou type,Enrolment month,Leaving month,Contribution base (yuan)
Zhang San,{ZHANG},"Local, urban",2020-01,,9000
Li Si,{LI},"Non-local, rural",2021-03,,8000.50
"""
WAGES = f"""Resident ID number,Full name,Month,Gross wage (yuan)
{ZHANG},Zhang San,2026-10,12000
{LI},Li Si,2026-10,8000
"""


@pytest.fixture
def cli(db, clock, tmp_path, monkeypatch, capsys):
    """Run ``si-bot ARGS`` in a working directory, against the test database, in English."""
    monkeypatch.chdir(tmp_path)
    for name in ("SI_ADMINS", "SLACK_BOT_TOKEN", "SI_POLICY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("SI_LANGUAGE", "en")
    monkeypatch.setenv("SI_LOG_LEVEL", "WARNING")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> str:
    (tmp_path / name).write_text(text, encoding=encoding)
    return name


def count(db, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_the_templates_are_written_as_xlsx_or_csv_and_their_example_is_not_imported(cli, tmp_path, db):
    code, out, _ = cli("roster", "template", "--out", "roster.xlsx")
    assert code == 0 and "Template written: roster.xlsx" in out
    book = load_workbook(tmp_path / "roster.xlsx")
    header, example = ([c.value for c in row] for row in book.worksheets[0].iter_rows(max_row=2))
    assert header == [
        "Full name",
        "Resident ID number",
        "Slack user",
        "Hukou type",
        "Enrolment month",
        "Leaving month",
        "Contribution base (yuan)",
        "Status",
        "Retirement date",
    ]
    assert example[:2] == ["Zhang San", "310104199001011233"] and book.sheetnames[1] == "How to fill it in"

    assert cli("wages", "template", "--out", "wages.csv", "--lang", "zh")[0] == 0
    rows = list(csv.reader(io.StringIO((tmp_path / "wages.csv").read_text(encoding="utf-8-sig"))))
    assert rows == [
        ["身份证号", "姓名", "月份", "应发工资（元）"],
        ["310104199001011233", "张三", "2026-01", "12000.00"],
    ]

    code, _, err = cli("roster", "import", "roster.xlsx")
    assert code == 1 and "row 2 · Resident ID number" in err and "template's example row: delete it" in err
    assert count(db, Employee) == 0
    assert cli("roster", "template", "--out", "roster.ods")[0] == 2


def test_a_roster_and_its_wages_are_imported_and_importing_again_changes_nothing(cli, tmp_path, db):
    code, out, err = cli("roster", "import", write(tmp_path, "roster.csv", ROSTER))
    assert code == 0, err
    assert "roster.csv: imported (roster): 2 added, 0 changed, 0 unchanged." in out
    code, out, _ = cli("wages", "import", write(tmp_path, "wages.csv", WAGES, encoding="gbk"))
    assert code == 0 and "2 added" in out and count(db, WageRecord) == 2

    code, out, _ = cli("roster", "import", "roster.csv")
    assert code == 0 and "roster.csv: nothing to change: the 2 rows are already recorded as they are." in out
    assert "This file was imported on 2026-11-27 10:00 by the command line (roster.csv)." in out

    revised = WAGES.replace("12000", "12500")
    code, out, _ = cli("wages", "import", write(tmp_path, "wages-revised.csv", revised))
    assert code == 0 and "0 added, 1 changed, 1 unchanged" in out
    assert count(db, WageRecord) == 2 and count(db, WageCorrection) == 1


def test_a_bad_import_exits_non_zero_imports_nothing_and_prints_each_rejected_row(cli, tmp_path, db):
    bad = ROSTER + f"Wang Wu,{LI},Mars,2022-13,,\n"
    code, out, err = cli(
        "roster", "import", write(tmp_path, "roster.csv", bad), "--report", "out/report.xlsx"
    )
    assert code == 1 and out == ""
    assert "roster.csv: NOT imported, nothing was changed: 1 of 3 rows are wrong." in err
    assert "  row 4 · Resident ID number (“4403**********2340”): Already in row 3 of this file." in err
    assert "  row 4 · Hukou type (“Mars”): “Mars” is not a hukou type" in err
    assert "  row 4 · Enrolment month (“2022-13”): “2022-13” is not a month" in err
    assert LI not in err  # masked on the terminal
    assert count(db, Employee) == 0
    report = load_workbook(tmp_path / "out" / "report.xlsx").active
    assert [c.value for c in report[2]][:3] == [
        4,
        "Resident ID number",
        LI,
    ]  # whole in the administrator's report
    assert (tmp_path / "out" / "report.csv").exists()


def test_wages_for_people_not_on_the_roster_are_rejected(cli, tmp_path, db):
    code, _, err = cli("wages", "import", write(tmp_path, "wages.csv", WAGES))
    assert code == 1 and err.count("Nobody on the roster has this resident ID number") == 2
    assert count(db, WageRecord) == 0


def test_a_file_that_cannot_be_imported_says_why_and_exits_2(cli, tmp_path, db):
    code, _, err = cli("roster", "import", write(tmp_path, "wages.csv", WAGES))
    assert code == 2 and "This is a wage file, not a roster" in err
    assert cli("wages", "import", "missing.csv")[0] == 2
    code, _, err = cli("roster", "import", write(tmp_path, "notes.csv", "a,b\n1,2\n"))
    assert (
        code == 2
        and "I cannot find “Full name”, “Resident ID number”, “Hukou type”, “Enrolment month”" in err
    )


def test_the_policy_file_decides_how_far_ahead_an_enrolment_may_be(cli, tmp_path, db, monkeypatch):
    ahead = ROSTER.replace("2021-03", "2027-04")
    assert cli("roster", "import", write(tmp_path, "ahead.csv", ahead))[0] == 1  # default: 3 months ahead
    policy = tmp_path / "policy.toml"
    holidays = DEFAULT_POLICY_FILE.with_name("holidays.toml")
    (tmp_path / "holidays.toml").write_bytes(holidays.read_bytes())  # the policy names it beside itself
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    assert "change_max_months_ahead = 3" in text
    policy.write_text(
        text.replace("change_max_months_ahead = 3", "change_max_months_ahead = 6"), encoding="utf-8"
    )
    monkeypatch.setenv("SI_POLICY_FILE", str(policy))
    assert cli("roster", "import", "ahead.csv")[0] == 0


def test_the_readmes_example_files_import(cli, tmp_path, db):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### The roster and the wage records") :]
    blocks = [block.split("\n", 1)[1] for block in section.split("```")[1::2]]
    roster, wages = blocks[0], blocks[1]
    assert roster.startswith("姓名,身份证号") and wages.startswith("Resident ID number,")
    code, out, err = cli("roster", "import", write(tmp_path, "roster.csv", roster))
    assert code == 0, err
    assert "3 added" in out
    code, out, err = cli("wages", "import", write(tmp_path, "wages.csv", wages))
    assert code == 0, err
    assert "2 added" in out
