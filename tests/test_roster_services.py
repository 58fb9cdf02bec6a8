"""Importing the roster and the wage records, correcting a wage, keeping the roster current
from done requests, and who sees what (bot/services/roster.py, wages.py, imports.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from bot.domain.errors import Refused
from bot.domain.kinds.change import ChangeType, Hukou, InsuredChange
from bot.domain.kinds.retirement import RetirementRequest
from bot.domain.months import YearMonth
from bot.domain.policy import load_policy
from bot.domain.requests import RequestKind
from bot.domain.retirement import Category
from bot.domain.roster import COLUMNS, EmployeeStatus, FileKind
from bot.domain.workplace import Workplace
from bot.services import roster, wages
from bot.services.filing import seed_admins
from bot.services.imports import claim_delivery, import_file
from bot.services.requests import file_request
from bot.services.roles import CLI_ACTOR
from bot.storage.models import Base, Employee, EmployeeChange, ImportBatch, WageCorrection, WageRecord
from tests.conftest import ADMIN, EMPLOYEE, OTHER, SHANGHAI, STORY_NOW

WORKPLACE = Workplace.of(load_policy(), SHANGHAI)
ZHANG = "11010519491231002X"
LI = "440305198506152340"
WANG = "110101198001010010"
NEWCOMER = "310101199203040025"
ROSTER = f"""姓名,身份证号,Slack 用户,户籍类型,参保月份,停保月份,缴费基数（元）
张三,{ZHANG},{EMPLOYEE},本市城镇,2020-01,,9000
李四,{LI},{OTHER},外埠农村,2021-03,,8000.50
王五,{WANG},,外籍人员,2022-05,2025-06,
""".encode()
WAGES = f"""身份证号,姓名,月份,应发工资
{ZHANG},张三,2026-09,12000
{ZHANG},张三,2026-10,12500.50
{LI},李四,2026-10,8000
""".encode()


@pytest.fixture(autouse=True)
def filed_administrator(db):
    with db.session() as session:
        seed_admins(session, [ADMIN], STORY_NOW)


def import_roster(
    session, content: bytes = ROSTER, name: str = "roster.csv", actor: str = ADMIN, now=STORY_NOW
):
    return roster.import_roster(session, WORKPLACE, actor=actor, file_name=name, content=content, now=now)


def import_wages(session, content: bytes = WAGES, name: str = "wages.csv", actor: str = ADMIN, now=STORY_NOW):
    return wages.import_wages(session, WORKPLACE, actor=actor, file_name=name, content=content, now=now)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def employee(session, number: str) -> Employee:
    return session.scalar(select(Employee).where(Employee.resident_id == number))


def test_the_new_tables_match_their_migration(db):
    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    mine = {"employees", "employee_changes", "wage_records", "wage_corrections", "import_batches"}
    ours = [d for d in differences if any(t in repr(d) for t in mine)]
    assert ours == []


# --- the roster ---------------------------------------------------------------------------


def test_a_roster_is_imported_with_each_person_and_their_history(db):
    with db.session() as session:
        outcome = import_roster(session)
    assert outcome.imported and (outcome.added, outcome.changed, outcome.unchanged) == (3, 0, 0)
    with db.session() as session:
        zhang, wang = employee(session, ZHANG), employee(session, WANG)
        assert (zhang.full_name, zhang.slack_user, zhang.hukou) == ("张三", EMPLOYEE, "local_urban")
        assert zhang.contribution_base == Decimal("9000.00") and zhang.status == "enrolled"
        assert (wang.status, wang.leaving_month, wang.contribution_base) == ("left", "2025-06", None)
        (created,) = session.scalars(select(EmployeeChange).where(EmployeeChange.employee_id == zhang.id))
        assert (created.actor_id, created.action, created.source, created.reference) == (
            ADMIN,
            "created",
            "import",
            "roster.csv",
        )
        assert created.changes["full_name"] == [None, "张三"]
        assert created.changes["contribution_base"] == [None, "9000.00"]
        assert count(session, ImportBatch) == 1


def test_a_bad_roster_is_rejected_whole_with_every_reason(db):
    bad = ROSTER + f"赵六,{ZHANG},本市城镇,本市城镇,2020-01,2019-12,\n".encode()
    with db.session() as session:
        outcome = import_roster(session, bad)
    assert not outcome.imported and outcome.rows == 4 and outcome.rejected_rows == 1
    assert [(r.row, r.code) for r in outcome.rejections] == [
        (5, "duplicate_in_file"),
        (5, "slack_user_format"),
        (5, "leaving_before_enrolment"),
    ]
    with db.session() as session:
        assert count(session, Employee) == count(session, EmployeeChange) == count(session, ImportBatch) == 0


def test_importing_the_same_roster_again_changes_nothing_and_says_so(db):
    with db.session() as session:
        import_roster(session)
    later = STORY_NOW + timedelta(days=3)
    with db.session() as session:
        again = import_roster(session, name="roster-copy.csv", now=later)
    assert again.imported and (again.added, again.changed, again.unchanged) == (0, 0, 3)
    assert again.seen_before is not None
    assert (again.seen_before.actor, again.seen_before.file_name) == (ADMIN, "roster.csv")
    assert again.seen_before.at == STORY_NOW
    with db.session() as session:
        assert count(session, EmployeeChange) == 3 and count(session, ImportBatch) == 1


def test_a_newer_roster_changes_what_changed_and_keeps_what_it_leaves_empty(db):
    with db.session() as session:
        import_roster(session)
    newer = f"""姓名,身份证号,户籍类型,参保月份,停保月份,状态
张三,{ZHANG},本市城镇,2020-01,2026-11,停保
李四,{LI},外埠农村,2021-03,,
王五,{WANG},外籍人员,2026-12,,在保
""".encode()
    with db.session() as session:
        outcome = import_roster(session, newer, name="roster-dec.csv")
    assert (outcome.added, outcome.changed, outcome.unchanged) == (0, 2, 1)
    with db.session() as session:
        zhang, wang = employee(session, ZHANG), employee(session, WANG)
        # The file says nothing of Slack users and bases: those stay.
        assert (zhang.status, zhang.leaving_month, zhang.slack_user) == ("left", "2026-11", EMPLOYEE)
        assert zhang.contribution_base == Decimal("9000.00")
        assert (wang.status, wang.enrolled_from, wang.leaving_month) == ("enrolled", "2026-12", None)
        history = roster.employee_history(session, viewer=ADMIN, employee_id=zhang.id)
    assert [h.action for h in history] == ["created", "updated"]
    assert history[1].changes == {"leaving_month": [None, "2026-11"], "status": ["enrolled", "left"]}
    assert history[1].reference == "roster-dec.csv" and history[1].actor == ADMIN


def test_a_slack_user_someone_else_holds_is_rejected_and_one_that_moves_is_not(db):
    with db.session() as session:
        import_roster(session)
    taken = f"姓名,身份证号,Slack 用户,户籍类型,参保月份\n王五,{WANG},{EMPLOYEE},外籍人员,2022-05\n".encode()
    with db.session() as session:
        outcome = import_roster(session, taken)
    assert [(r.code, r.params) for r in outcome.rejections] == [("slack_user_taken", {"holder": "张三"})]
    swap = f"""姓名,身份证号,Slack 用户,户籍类型,参保月份
张三,{ZHANG},{OTHER},本市城镇,2020-01
李四,{LI},{EMPLOYEE},外埠农村,2021-03
""".encode()
    with db.session() as session:
        assert import_roster(session, swap).changed == 2
    with db.session() as session:
        assert employee(session, ZHANG).slack_user == OTHER and employee(session, LI).slack_user == EMPLOYEE


def test_only_administrators_import(db):
    with db.session() as session, pytest.raises(Refused) as refused:
        import_roster(session, actor=EMPLOYEE)
    assert refused.value.code == "admins_only"
    with db.session() as session:
        assert import_roster(session, actor=CLI_ACTOR).imported


def test_an_unreadable_file_is_an_outcome_with_its_problem(db):
    with db.session() as session:
        outcome = import_roster(session, b"\x00\x01", name="roster.xlsx")
    assert outcome.problem == ("file_unreadable", {}) and not outcome.imported


# --- wage records -------------------------------------------------------------------------


def test_wages_are_imported_by_resident_id(db):
    with db.session() as session:
        import_roster(session)
        outcome = import_wages(session)
    assert (outcome.added, outcome.changed, outcome.unchanged) == (3, 0, 0)
    with db.session() as session:
        zhang = employee(session, ZHANG)
        records = wages.wages_of(session, viewer=ADMIN, employee_id=zhang.id)
    assert [(str(r.month), r.gross_wage) for r in records] == [
        ("2026-09", Decimal("12000.00")),
        ("2026-10", Decimal("12500.50")),
    ]
    assert records[0].reference == "wages.csv" and records[0].recorded_by == ADMIN


def test_a_bad_wage_file_is_rejected_whole_with_its_report(db):
    with db.session() as session:
        import_roster(session)
    extra = f"310104199001011233,示例,2026-10,1\n{WANG},王六,2026-10,1\n{NEWCOMER},,2026-10,1\n"
    bad = WAGES + extra.encode()
    with db.session() as session:
        outcome = import_wages(session, bad)
    assert [(r.row, r.field, r.code) for r in outcome.rejections] == [
        (5, "resident_id", "example_row"),
        (6, "full_name", "name_mismatch"),
        (7, "resident_id", "not_on_roster"),
    ]
    assert outcome.rejections[1].params == {"roster_name": "王五"}
    with db.session() as session:
        assert count(session, WageRecord) == 0


def test_reimporting_wages_changes_nothing_and_a_new_figure_keeps_the_old_one(db):
    with db.session() as session:
        import_roster(session)
        import_wages(session)
    with db.session() as session:
        again = import_wages(session)
    assert (again.added, again.changed, again.unchanged) == (0, 0, 3) and again.seen_before is not None
    revised = WAGES.replace(b"12500.50", b"12600")
    with db.session() as session:
        outcome = import_wages(session, revised, name="wages-revised.csv")
    assert (outcome.added, outcome.changed, outcome.unchanged) == (0, 1, 2)
    with db.session() as session:
        (correction,) = session.scalars(select(WageCorrection))
        assert (correction.old_wage, correction.new_wage) == (Decimal("12500.50"), Decimal("12600.00"))
        assert (correction.source, correction.reference) == ("import", "wages-revised.csv")


def test_a_correction_keeps_the_old_figure_with_who_and_why(db):
    with db.session() as session:
        import_roster(session)
        import_wages(session)
    later = STORY_NOW + timedelta(hours=1)
    with db.session() as session:
        changed = wages.correct_wage(
            session,
            actor=ADMIN,
            resident_id_number=ZHANG,
            month=YearMonth(2026, 10),
            gross_wage="12,800",
            reason="October overtime was left out",
            now=later,
        )
        same = wages.correct_wage(
            session,
            actor=ADMIN,
            resident_id_number=ZHANG,
            month=YearMonth(2026, 10),
            gross_wage="12800.00",
            reason="again",
            now=later,
        )
    assert changed is True and same is False
    with db.session() as session:
        records = wages.wages_of(session, viewer=ADMIN, employee_id=employee(session, ZHANG).id)
    october = records[1]
    assert october.gross_wage == Decimal("12800.00")
    (correction,) = october.corrections
    assert (correction.old_wage, correction.new_wage) == (Decimal("12500.50"), Decimal("12800.00"))
    assert (correction.actor, correction.at, correction.reason) == (
        ADMIN,
        later,
        "October overtime was left out",
    )


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"reason": " "}, "reason_required"),
        ({"gross_wage": "-1"}, "wage_negative"),
        ({"gross_wage": "12.345"}, "amount_format"),
        ({"gross_wage": "10000000"}, "wage_too_large"),
        ({"month": YearMonth(2026, 8)}, "wage_not_found"),
        ({"resident_id_number": WANG.replace("0010", "0028")}, "roster_not_found"),
        ({"actor": EMPLOYEE}, "admins_only"),
    ],
)
def test_a_correction_is_refused_when(db, changes, code):
    with db.session() as session:
        import_roster(session)
        import_wages(session)
    values = {
        "actor": ADMIN,
        "resident_id_number": ZHANG,
        "month": YearMonth(2026, 10),
        "gross_wage": "1",
        "reason": "typo",
        **changes,
    }
    with db.session() as session, pytest.raises(Refused) as refused:
        wages.correct_wage(session, now=STORY_NOW, **values)
    assert refused.value.code == code


def test_an_employee_sees_their_own_wages_and_only_their_own(db):
    with db.session() as session:
        import_roster(session)
        import_wages(session)
    with db.session() as session:
        zhang, li = employee(session, ZHANG), employee(session, LI)
        own = wages.own_wages(session, EMPLOYEE)
        assert [str(r.month) for r in own] == ["2026-09", "2026-10"]
        assert len(wages.wages_of(session, viewer=EMPLOYEE, employee_id=zhang.id)) == 2
        with pytest.raises(Refused) as refused:
            wages.wages_of(session, viewer=EMPLOYEE, employee_id=li.id)
        assert refused.value.code == "roster_not_found"
        with pytest.raises(Refused):
            roster.employee_history(session, viewer=EMPLOYEE, employee_id=li.id)
        assert wages.own_wages(session, "UNOBODY01") == []
        mine = roster.own_record(session, EMPLOYEE)
        assert mine is not None and mine.resident_id == ZHANG and mine.masked_id == "1101**********002X"


def test_import_file_tells_a_roster_from_a_wage_file(db):
    with db.session() as session:
        first = import_file(session, WORKPLACE, actor=ADMIN, file_name="a.csv", content=ROSTER, now=STORY_NOW)
        second = import_file(session, WORKPLACE, actor=ADMIN, file_name="b.csv", content=WAGES, now=STORY_NOW)
        unknown = import_file(
            session, WORKPLACE, actor=ADMIN, file_name="c.csv", content=b"a,b\n1,2", now=STORY_NOW
        )
    assert (first.kind, first.added) == (FileKind.ROSTER, 3)
    assert (second.kind, second.added) == (FileKind.WAGES, 3)
    assert unknown.problem == ("file_kind_unknown", {})


def test_a_delivery_is_claimed_once(db):
    with db.session() as session:
        assert claim_delivery(session, "file_shared:F1", STORY_NOW)
        assert not claim_delivery(session, "file_shared:F1", STORY_NOW)


# --- done requests keep the roster current ------------------------------------------------


DECEMBER = YearMonth(2026, 12)


def change(kind: ChangeType, number: str = ZHANG, month: YearMonth = DECEMBER, person: str = EMPLOYEE):
    return InsuredChange(kind, person, "张三", number, Hukou.LOCAL_URBAN, month, Decimal("9500"), "")


def test_an_add_for_someone_enrolled_and_a_remove_for_someone_not_are_refused(db):
    with db.session() as session:
        # No roster yet: the bot cannot know, and refuses nothing.
        roster.check_change(session, change(ChangeType.REMOVE))
        import_roster(session)
    with db.session() as session:
        with pytest.raises(Refused) as refused:
            roster.check_change(session, change(ChangeType.ADD))
        assert (refused.value.code, refused.value.params) == (
            "roster_already_enrolled",
            {"name": "张三", "since": "2020-01"},
        )
        with pytest.raises(Refused) as refused:
            roster.check_change(session, change(ChangeType.REMOVE, WANG, person="UWANGWU01"))
        assert refused.value.code == "roster_not_enrolled"
        with pytest.raises(Refused) as refused:
            roster.check_change(session, change(ChangeType.REMOVE, month=YearMonth(2019, 12)))
        assert refused.value.code == "roster_leaving_before_enrolment"
        roster.check_change(session, change(ChangeType.ADD, WANG))  # left: may be enrolled again
        roster.check_change(session, change(ChangeType.UPDATE, "310104199001011233"))


def test_a_done_add_enrols_and_a_done_remove_ends_the_enrolment(db):
    with db.session() as session:
        import_roster(session)
        added = roster.apply_done_change(
            session,
            change=change(ChangeType.ADD, NEWCOMER, person="UNEWCOMER"),
            public_id="SI-2026-0007",
            actor=ADMIN,
            now=STORY_NOW,
        )
        removed = roster.apply_done_change(
            session, change=change(ChangeType.REMOVE), public_id="SI-2026-0008", actor=ADMIN, now=STORY_NOW
        )
        back = roster.apply_done_change(
            session,
            change=change(ChangeType.ADD, WANG, person="UWANGWU01"),
            public_id="SI-2026-0009",
            actor=ADMIN,
            now=STORY_NOW,
        )
    assert added is not None and (added.status, added.enrolled_from) == (
        EmployeeStatus.ENROLLED,
        YearMonth(2026, 12),
    )
    assert added.slack_user == "UNEWCOMER" and added.contribution_base == Decimal("9500.00")
    assert removed is not None and (removed.status, removed.leaving_month) == (
        EmployeeStatus.LEFT,
        YearMonth(2026, 12),
    )
    assert back is not None and (back.status, back.leaving_month, back.enrolled_from) == (
        EmployeeStatus.ENROLLED,
        None,
        YearMonth(2026, 12),
    )
    with db.session() as session:
        history = roster.employee_history(session, viewer=ADMIN, employee_id=removed.id)
    assert (history[-1].action, history[-1].source, history[-1].reference) == (
        "left",
        "request",
        "SI-2026-0008",
    )
    assert history[-1].changes == {"leaving_month": [None, "2026-12"], "status": ["enrolled", "left"]}


def test_a_done_retirement_moves_the_person_to_retired_with_the_date(db):
    with db.session() as session:
        import_roster(session)
        form = RetirementRequest("李四", LI, Category.MALE, Decimal("30"), YearMonth(2027, 1), "")
        retired = roster.retire_from_request(
            session, form=form, subject=OTHER, public_id="SI-2026-0010", actor=ADMIN, now=STORY_NOW
        )
        nobody = RetirementRequest("x", "310104197508150049", Category.FEMALE_55, Decimal("20"), None, "")
        assert (
            roster.retire_from_request(
                session,
                form=nobody,
                subject="UNOBODY01",
                public_id="SI-2026-0011",
                actor=ADMIN,
                now=STORY_NOW,
            )
            is None
        )
    assert retired is not None and (retired.status, retired.retired_on) == (
        EmployeeStatus.RETIRED,
        date(2027, 1, 1),
    )
    with db.session() as session:
        assert [p.full_name for p in roster.retirees(session, viewer=ADMIN)] == ["李四"]
        with pytest.raises(Refused):
            roster.retirees(session, viewer=EMPLOYEE)
        assert roster.roster_counts(session) == {
            EmployeeStatus.ENROLLED: 1,
            EmployeeStatus.LEFT: 1,
            EmployeeStatus.RETIRED: 1,
        }


# --- looking people up --------------------------------------------------------------------


def test_administrators_look_people_up_by_user_id_name_or_request(db):
    raw = {
        "change_type": "update",
        "person": EMPLOYEE,
        "full_name": "张三",
        "resident_id": ZHANG,
        "hukou": "local_urban",
        "effective_month": "2026-12",
        "contribution_base": "9500",
    }
    with db.session() as session:
        import_roster(session)
        request = file_request(
            session,
            WORKPLACE,
            kind=RequestKind.CHANGE,
            actor=EMPLOYEE,
            raw=raw,
            submission_key=None,
            now=STORY_NOW,
        ).request
    with db.session() as session:

        def names(text: str) -> list[str]:
            return [p.full_name for p in roster.look_up(session, viewer=ADMIN, text=text)]

        assert names(f"<@{OTHER}|li.si>") == ["李四"]
        assert names(ZHANG.lower()) == ["张三"]
        assert names("王") == ["王五"]
        assert names("王五") == ["王五"]
        assert names(request.public_id) == ["张三"]
        assert names("nobody") == [] and names("%") == []
        with pytest.raises(Refused) as refused:
            roster.look_up(session, viewer=EMPLOYEE, text="张三")
        assert refused.value.code == "admins_only"


def test_every_reason_a_row_or_a_file_is_rejected_has_words_in_both_languages():
    import re

    from bot.messages import MESSAGES_DIR, Messages

    sources = ["domain/roster.py", "domain/tables.py", "services/roster.py", "services/wages.py"]
    sources += ["services/imports.py", "services/file_import.py"]
    patterns = [
        r'reject\([^,]+,\s*"([a-z_]+)"',  # a row's reason
        r'(?:ValueProblem|TableError|Refused)\(\s*"([a-z_]+)"',  # a value's, a file's, a refusal
        r'problem=\(\s*"([a-z_]+)"',  # a file's, as an outcome
    ]
    fields = {column.field for columns in COLUMNS.values() for column in columns}
    codes = {f"file_is_{kind.value}" for kind in FileKind}
    for name in sources:
        source = (MESSAGES_DIR.parent / "bot" / name).read_text(encoding="utf-8")
        for pattern in patterns:
            codes |= set(re.findall(pattern, source))
        # A Rejection built by a service: its code is the literal that is neither a column nor a key.
        for call in re.findall(r"Rejection\((?:[^()]|\([^()]*\))*\)", source):
            codes |= set(re.findall(r'"([a-z_]+)"(?!\s*:)', call)) - fields
    assert {"not_on_roster", "name_mismatch", "slack_user_taken", "file_kind_unknown", "example_row"} <= codes
    for lang in ("zh", "en"):
        texts = Messages(lang)._texts(lang)
        missing = sorted(code for code in codes if f"error.{code}" not in texts)
        assert not missing, f"{lang}: {missing}"
