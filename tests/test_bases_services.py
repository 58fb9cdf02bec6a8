"""The yearly declaration's services (bot/services/bases.py): compute from the roster's
wages, the review, an override with its reason, the lock, and the ledger reading the
declared bases. Base year 2026 (from 2026-07, Shanghai): floor 7,546, ceiling 37,731; the
rates of 2026-06 and 2026-07 are the same: employer 16 + 9 + 0.5 + 0.16 %, employee
8 + 2 + 0.5 %, each share rounded to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from bot.domain.errors import FieldErrors, Refused
from bot.domain.ledger import BaseSource
from bot.domain.months import YearMonth
from bot.services import bases, ledger, roster, wages
from bot.services.filing import seed_admins
from bot.storage.models import Base, DeclarationEvent, Employee
from tests.conftest import ADMIN, EMPLOYEE, STORY_NOW
from tests.stories import WORKPLACE
from tests.test_roster_cli import cli  # noqa: F401 - the fixture

ZHANG = "11010519491231002X"
LI = "440305198506152340"
WANG = "110101198001010010"
ROSTER = f"""姓名,身份证号,Slack 用户,户籍类型,参保月份,停保月份,缴费基数（元）
张三,{ZHANG},UEMPLOYEE1,本市城镇,2020-01,,9000.00
李四,{LI},,外埠农村,2021-03,,8000.50
王五,{WANG},UWANG0001,本市城镇,2025-09,,7460.00
""".encode()


def wage_file(rows: list[tuple[str, str, str, str]]) -> bytes:
    lines = ["身份证号,姓名,月份,应发工资", *(",".join(r) for r in rows)]
    return ("\n".join(lines) + "\n").encode()


# 张三: twelve months of 12,000 -> 12,000 (raised from 9,000, by 33 %: an outlier).
# 李四: twelve months of 5,000 -> 5,000, held to the floor 7,546 (lowered from 8,000.50).
# 王五: enrolled 2025-09, so October to December count; November is missing.
WAGES = wage_file(
    [(ZHANG, "张三", f"2025-{m:02}", "12000") for m in range(1, 13)]
    + [(LI, "李四", f"2025-{m:02}", "5000") for m in range(1, 13)]
    + [(WANG, "王五", "2025-10", "9000"), (WANG, "王五", "2025-12", "9600")]
)


@pytest.fixture
def people(db):
    with db.session() as session:
        seed_admins(session, [ADMIN], STORY_NOW)
        assert roster.import_roster(
            session, WORKPLACE, actor=ADMIN, file_name="roster.csv", content=ROSTER, now=STORY_NOW
        ).imported
        assert wages.import_wages(
            session, WORKPLACE, actor=ADMIN, file_name="wages.csv", content=WAGES, now=STORY_NOW
        ).imported
    return db


def compute(db, year: int = 2026) -> bases.Review:
    with db.session() as session:
        return bases.compute(session, WORKPLACE, year=year, actor=ADMIN, now=STORY_NOW)


def test_the_new_tables_match_their_migration(db):
    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    mine = {"base_declarations", "declared_bases", "declaration_events"}
    assert [d for d in differences if any(t in repr(d) for t in mine)] == []


def test_compute_reviews_raised_lowered_held_missing_and_outliers(people):
    review = compute(people)
    assert (review.start, review.state, review.people) == (YearMonth(2026, 7), "draft", 3)
    assert (review.raised, review.lowered, review.same, review.new) == (1, 1, 0, 0)
    assert (review.floor, review.ceiling) == (1, 0)
    # 王五 is listed first to resolve, with the month missing, not guessed or counted.
    assert [(p.full_name, p.missing, p.computed) for p in review.missing] == [
        ("王五", ["2025-11"], Decimal("9300.00"))
    ]
    assert [(p.full_name, p.previous, p.base) for p in review.outliers] == [
        ("张三", Decimal("9000.00"), Decimal("12000.00"))
    ]
    # 张三 +3,000: employer 480 + 270 + 15 + 4.80 = 769.80, employee 240 + 60 + 15 = 315.
    # 李四 8,000.50 -> 7,546: employer 1,936.30 - 2,052.93 = -116.63 (1,280.08 + 720.05 +
    # 40.00 + 12.80 before); employee 792.33 - 840.05 = -47.72.
    assert (review.employer_change, review.employee_change) == (Decimal("653.17"), Decimal("267.28"))
    assert not review.ready


def test_an_override_needs_a_base_within_the_bounds_and_a_reason(people):
    compute(people)
    with people.session() as session, pytest.raises(FieldErrors) as wrong:
        bases.override(
            session, WORKPLACE, year=2026, raw={"person": WANG, "base": "5000"}, actor=ADMIN, now=STORY_NOW
        )
    assert {k: p.code for k, p in wrong.value.problems.items()} == {
        "base": "base_out_of_range",
        "reason": "required",
    }
    with people.session() as session, pytest.raises(Refused) as refused:
        bases.override(
            session,
            WORKPLACE,
            year=2026,
            raw={"person": "310101199203040025", "base": "9300", "reason": "x"},
            actor=ADMIN,
            now=STORY_NOW,
        )
    assert refused.value.code == "bases_person_not_found"
    with people.session() as session, pytest.raises(Refused) as refused:
        bases.override(
            session,
            WORKPLACE,
            year=2026,
            raw={"person": WANG, "base": "9300", "reason": "x"},
            actor=EMPLOYEE,
            now=STORY_NOW,
        )
    assert refused.value.code == "admins_only"


def test_lock_waits_for_the_missing_months_then_the_ledger_reads_the_declared_bases(people):
    compute(people)
    with people.session() as session, pytest.raises(Refused) as refused:
        bases.lock(session, WORKPLACE, year=2026, actor=ADMIN, now=STORY_NOW)
    assert (refused.value.code, refused.value.params["count"]) == ("bases_unresolved", 1)

    reason = "November's payslip: 9,000 (not imported)"
    with people.session() as session:
        line = bases.override(
            session,
            WORKPLACE,
            year=2026,
            raw={"person": WANG, "base": "9,300", "reason": reason},
            actor=ADMIN,
            now=STORY_NOW,
        )
    assert (line.base, line.override_reason) == (Decimal("9300.00"), reason)
    # A re-computation keeps the override.
    review = compute(people)
    assert review.ready and review.overridden == 1 and review.raised == 2
    # 王五 7,460 -> 9,300 (+1,840, 24.7 %: not an outlier): employer 294.40 + 165.60 + 9.20
    # + 2.94 = 472.14, employee 147.20 + 36.80 + 9.20 = 193.20.
    assert (review.employer_change, review.employee_change) == (Decimal("1125.31"), Decimal("460.48"))
    assert [p.full_name for p in review.outliers] == ["张三"]

    with people.session() as session:
        locked = bases.lock(session, WORKPLACE, year=2026, actor=ADMIN, now=STORY_NOW)
    assert locked.state == "locked"
    with people.session() as session:
        rows = list(session.execute(select(Employee.id, Employee.resident_id, Employee.contribution_base)))
        july = ledger.recorded_bases(session, YearMonth(2026, 7), rows)
        june = ledger.recorded_bases(session, YearMonth(2026, 6), rows)
        ids = {r.resident_id: r.id for r in rows}
        assert july[ids[WANG]] == ledger.RecordedBase(Decimal("9300.00"), BaseSource.DECLARED)
        assert july[ids[LI]] == ledger.RecordedBase(Decimal("7546.00"), BaseSource.DECLARED)
        assert june[ids[LI]] == ledger.RecordedBase(Decimal("8000.50"), BaseSource.ROSTER)
        actions = [
            (e.action, e.detail.get("reason"))
            for e in session.scalars(select(DeclarationEvent).order_by(DeclarationEvent.id))
        ]
    assert actions == [("computed", None), ("override", reason), ("computed", None), ("locked", None)]
    with people.session() as session, pytest.raises(Refused) as refused:
        bases.compute(session, WORKPLACE, year=2026, actor=ADMIN, now=STORY_NOW)
    assert refused.value.code == "bases_locked"


def test_a_year_with_no_base_period_is_not_computed(people):
    with people.session() as session, pytest.raises(Refused) as refused:
        bases.compute(session, WORKPLACE, year=2028, actor=ADMIN, now=STORY_NOW)
    assert (refused.value.code, refused.value.params) == ("bases_no_period", {"year": 2028})


def test_si_bot_bases_compute_writes_the_computed_sheet_and_status_counts(people, cli, tmp_path):  # noqa: F811
    code, out, err = cli("bases", "compute", "2026", "--out", str(tmp_path / "out"))
    assert (code, err) == (0, "")
    assert "Base year 2026 (from 2026-07), draft: 3 people. Floor 7,546.00, ceiling 37,731.00." in out
    assert "Raised 1, lowered 1, the same 0, no base before 0; held to the floor 1, to the ceiling 0" in out
    assert "Monthly cost change: the company +653.17, the employees +267.28." in out
    assert "王五 1101**********0010: 2025-11" in out
    assert "张三 1101**********002X: 9,000.00 → 12,000.00" in out
    rows = (tmp_path / "out" / "bases-2026-computed.csv").read_bytes().decode("utf-8-sig").splitlines()
    assert rows == [
        "Resident ID,Name,Base,Months averaged,Held to,Wage months missing,Overridden because",
        f"{ZHANG},张三,12000.00,2025-01 – 2025-12 (12),,,",
        f"{LI},李四,7546.00,2025-01 – 2025-12 (12),the floor,,",
        f"{WANG},王五,9300.00,2025-10 – 2025-12 (2),,2025-11,",
    ]
    assert (tmp_path / "out" / "bases-2026-computed.xlsx").read_bytes()[:2] == b"PK"

    code, out, _ = cli("bases", "status", "2026")
    assert code == 0
    assert "Declaration 2026: draft (not locked, no publicity yet)." in out
    assert "No Slack user on the roster (not told in Slack) 1: 李四" in out
    assert cli("bases", "status", "2025")[0] == 2
    code, _, err = cli("bases", "compute", "2028")
    assert code == 2 and "no base period starting in 2028" in err


def test_a_dispute_resolved_by_correcting_the_wages_is_computed_again_and_told_anew(people):
    from bot.storage.models import OutboxMessage

    WANG_USER = "UWANG0001"
    compute(people)
    with people.session() as session:
        bases.override(
            session,
            WORKPLACE,
            year=2026,
            raw={"person": WANG, "base": "9300", "reason": "payslip"},
            actor=ADMIN,
            now=STORY_NOW,
        )
        bases.lock(session, WORKPLACE, year=2026, actor=ADMIN, now=STORY_NOW)
    queued = bases.send_publicity(people.session, WORKPLACE, year=2026, actor=ADMIN, now=STORY_NOW)
    assert queued.queued == 2  # 张三 and 王五; 李四 has no Slack user
    assert bases.send_publicity(people.session, WORKPLACE, year=2026, actor=ADMIN, now=STORY_NOW).queued == 0
    with people.session() as session:
        employee_id = session.scalar(select(Employee.id).where(Employee.resident_id == WANG))
        public_id = bases.dispute(
            session,
            WORKPLACE,
            reference=f"2026:{employee_id}",
            raw={
                "full_name": "王五",
                "resident_id": WANG,
                "month_from": "2026-07",
                "issue": "base_wrong",
                "expected": "9200",
                "description": "November was 9,000",
            },
            actor=WANG_USER,
            submission_key="view:1",
            now=STORY_NOW,
        )
    # Resolving with no base while November is still missing is refused: nothing is guessed.
    with people.session() as session, pytest.raises(Refused) as refused:
        bases.resolve(
            session, WORKPLACE, year=2026, raw={"person": WANG, "reason": "wages"}, actor=ADMIN, now=STORY_NOW
        )
    assert refused.value.params == {"months": "2025-11"}
    # November's wage is imported; the base is computed again: (9,000 + 9,000 + 9,600) / 3.
    with people.session() as session:
        assert wages.import_wages(
            session,
            WORKPLACE,
            actor=ADMIN,
            file_name="november.csv",
            content=wage_file([(WANG, "王五", "2025-11", "9000")]),
            now=STORY_NOW,
        ).imported
        line = bases.resolve(
            session,
            WORKPLACE,
            year=2026,
            raw={"person": WANG, "reason": f"{public_id}: November imported"},
            actor=ADMIN,
            now=STORY_NOW,
        )
    assert (line.base, line.override, line.publicity) == (Decimal("9200.00"), None, "sent")
    with people.session() as session:
        revised = session.scalar(
            select(OutboxMessage).where(OutboxMessage.key == f"bases:2026:{employee_id}:1")
        )
        assert (revised.target, revised.params["base"], revised.params["revised"]) == (
            WANG_USER,
            "9200.00",
            True,
        )
        assert revised.params["averaged"] == ["2025-10", "2025-11", "2025-12"]
        # Resolved once: a second resolution needs a new dispute.
        with pytest.raises(Refused) as refused:
            bases.resolve(
                session,
                WORKPLACE,
                year=2026,
                raw={"person": WANG, "base": "9300", "reason": "again"},
                actor=ADMIN,
                now=STORY_NOW,
            )
        assert refused.value.code == "bases_not_disputed"
