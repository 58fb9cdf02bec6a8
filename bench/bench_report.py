"""Monthly report benchmark: a year of a 10,000-person company's requests, help-channel
questions, reminders, roster and paid ledger, then the time to build one month's report — its
figures from the database, the message, the six charts and the workbook — and App Home's
headline.

Run by hand (not in CI):
    python -m bench.bench_report [--employees 10000] [--month 2026-11]
                                 [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
Without ``--database-url`` it uses a new SQLite file in a temporary folder; with a PostgreSQL
URL it creates a database of its own on that server and drops it at the end. The year is
written with bulk inserts (the report reads rows, however they were made): per employee and
year 3 requests (3 events each at most; those of the last two months partly still open) and
2 help questions (a third of them rated), and the reminders of the year's deadlines and
daily digests. The roster: ``--employees`` people insured at the reported month's end, with
CHURN of them joining and as many leaving each month of the year; each month's ledger
recorded with its payment (as recording a payment does), the reported month's too. Prints
the volumes, each step's time, the ledger section alone for a month not yet recorded (worked
out from the roster) and the month's figures. Aim: seconds.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from bench.bench_import import HUKOU, resident_id
from bot.domain.months import YearMonth
from bot.domain.policy import load_policy
from bot.domain.requests import RequestKind
from bot.domain.workplace import Workplace
from bot.storage.db import Database
from bot.storage.models import (
    Employee,
    HelpAnswer,
    HelpFeedback,
    Payment,
    ReminderEngine,
    ReminderOccurrence,
    ReminderSend,
    Request,
    RequestEvent,
)

TZ = ZoneInfo("Asia/Shanghai")
REQUESTS_A_YEAR = 3  # per employee
QUESTIONS_A_YEAR = 2  # per employee
KINDS = [k.value for k in RequestKind]
# How often each kind is filed, by kind (a kind added later is filed as rarely as the rarest).
KIND_WEIGHT = {"change": 60, "payback": 8, "complaint": 2, "card": 10, "transfer": 6, "retirement": 4,
               "unemployment": 4, "medical": 4, "settlement": 2}  # fmt: skip
KIND_WEIGHTS = [KIND_WEIGHT.get(kind, 2) for kind in KINDS]
TOPICS = ["payback", "si-card", "transfer", "retirement", "maternity", "contribution-base", None]
BATCH = 5000
CHURN = 150  # people joining, and as many leaving, each month of the year


@contextmanager
def database(url: str | None) -> Iterator[Database]:
    if not url:
        with tempfile.TemporaryDirectory() as folder:
            db = Database(f"sqlite:///{Path(folder) / 'bench-report.db'}")
            db.upgrade()
            yield db
            db.engine.dispose()
        return
    name = f"si_bot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(make_url(url).set(database=name).render_as_string(hide_password=False))
    try:
        db.upgrade()
        yield db
    finally:
        db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _moment(rng: random.Random, month: YearMonth) -> datetime:
    """A working-hours moment of ``month``."""
    day = rng.randint(1, 28)
    return datetime.combine(month.day(day), clock_time(rng.randint(9, 17), rng.randint(0, 59)), tzinfo=TZ)


def year_of_work(employees: int, last: YearMonth, seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    """The rows of the twelve months up to ``last``."""
    rng = random.Random(seed)
    months = [last.plus(i - 11) for i in range(12)]
    rows: dict[str, list[dict[str, Any]]] = {
        name: [] for name in ("requests", "events", "answers", "feedback")
    }
    request_id = event_id = 0
    for month in months:
        for _ in range(employees * REQUESTS_A_YEAR // 12):
            request_id += 1
            filed = _moment(rng, month)
            kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
            path = [("submit", "submitted", filed)]
            roll = rng.random()
            recent = month >= last.plus(-1)  # older requests have all been closed
            if roll < 0.03:
                path.append(("cancel", "cancelled", filed + timedelta(hours=rng.uniform(1, 48))))
            elif roll < 0.08:
                path.append(("reject", "rejected", filed + timedelta(hours=rng.uniform(2, 96))))
            elif roll < 0.97 or not recent:  # the rest wait
                approved = filed + timedelta(hours=rng.lognormvariate(3, 1))
                path.append(("approve", "approved", approved))
                if rng.random() < 0.85 or not recent:
                    path.append(("done", "done", approved + timedelta(hours=rng.lognormvariate(4, 0.8))))
            for action, state, at in path:
                event_id += 1
                rows["events"].append(
                    {
                        "id": event_id,
                        "request_id": request_id,
                        "at": at,
                        "actor_id": "UBENCH",
                        "action": action,
                        "from_state": None,
                        "to_state": state,
                        "reason": "",
                    }
                )
            rows["requests"].append(
                {
                    "id": request_id,
                    "public_id": f"SI-{month.year}-{request_id:06d}",
                    "kind": kind,
                    "state": path[-1][1],
                    "requester_id": f"U{request_id % employees:08d}",
                    "subject_id": f"U{request_id % employees:08d}",
                    "payload": {},
                    "effective_month": str(month),
                    "created_at": filed,
                    "updated_at": path[-1][2],
                    "submission_key": None,
                }
            )
        for _ in range(employees * QUESTIONS_A_YEAR // 12):
            answer_id = len(rows["answers"]) + 1
            topic = rng.choice(TOPICS)
            outcome = "escalated" if topic is None or rng.random() < 0.1 else "answered"
            asked = _moment(rng, month)
            rows["answers"].append(
                {
                    "id": answer_id,
                    "key": f"msg:C0HELP:{answer_id}",
                    "channel": "C0HELP",
                    "thread_ts": str(answer_id),
                    "asker_id": "UASKER",
                    "question": "…",
                    "lang": "zh",
                    "topic": topic,
                    "score": 0.5,
                    "outcome": outcome,
                    "created_at": asked,
                }
            )
            if rng.random() < 0.33:
                rows["feedback"].append(
                    {
                        "answer_id": answer_id,
                        "user_id": "UASKER",
                        "helpful": rng.random() < 0.8,
                        "at": asked + timedelta(minutes=5),
                    }
                )
    return rows


def roster_of_the_year(employees: int, last: YearMonth, seed: int = 11) -> list[dict[str, Any]]:
    """``employees`` people insured in ``last``: those enrolled before the year, and CHURN
    joining each month of it; and CHURN leaving each month (insured up to the month before)."""
    rng = random.Random(seed)
    first = last.plus(-11)
    joiners = [first.plus(i) for i in range(12) for _ in range(CHURN)]
    rows = []
    created = datetime(2026, 1, 1, tzinfo=TZ)
    for n in range(employees + CHURN * 12):
        staying = n < employees
        joined = n - (employees - len(joiners))  # the last of those staying joined in the year
        joining = staying and 0 <= joined < len(joiners)
        enrolled = joiners[joined] if joining else YearMonth(2015 + n % 10, 1 + n % 12)
        # Leavers' last months insured: the month before the year to the month before ``last``.
        leaving = None if staying else first.plus((n - employees) // CHURN - 1)
        rows.append(
            {
                "id": n + 1,
                "resident_id": resident_id(n),
                "full_name": f"员工{n:05d}",
                "slack_user": None,
                "hukou": HUKOU[n % len(HUKOU)],
                "enrolled_from": str(enrolled),
                "leaving_month": None if leaving is None else str(leaving),
                "contribution_base": 6000 + rng.randrange(0, 40000, 50),
                "status": "enrolled" if leaving is None else "left",
                "retired_on": None,
                "created_at": created,
                "updated_at": created,
            }
        )
    return rows


def ledger_of_the_year(db: Database, workplace: Workplace, last: YearMonth) -> None:
    """Each month of the year recorded with its payment, as recording a payment does: paid
    on the 20th, every third month on the 28th (late)."""
    from bot.services import ledger

    for month in (last.plus(i - 11) for i in range(12)):
        paid_on = month.day(28 if month.month % 3 == 0 else 20)
        recorded_at = datetime.combine(paid_on, clock_time(16), tzinfo=TZ)
        with db.session() as session:
            book = ledger.close_month(session, workplace, month=month, actor="UBENCH", now=recorded_at)
            session.add(
                Payment(
                    month=str(month),
                    amount=book.total,
                    paid_on=paid_on,
                    reference="bench",
                    ledger_total=book.total,
                    recorded_by="UBENCH",
                    recorded_at=recorded_at,
                )
            )


def reminders_of_the_year(session, last: YearMonth, workplace: Workplace) -> int:
    """The year's cut-off and payment reminders (three warnings, the due day) and a digest
    each working day; a third of the duties marked done, some snoozed."""
    sends = 0
    first = last.plus(-11)
    day = first.day(1)
    end = last.plus(1).day(1)
    calendar = workplace.calendar
    while day < end:
        if calendar.is_working_day(day):
            occurrence = ReminderOccurrence(
                key=f"stale_digest:{day}",
                kind="stale_digest",
                period=str(day),
                due_on=day,
                created_at=datetime.combine(day, clock_time(9), tzinfo=TZ),
            )
            session.add(occurrence)
            session.flush()
            session.add(
                ReminderSend(
                    key=f"stale_digest:{day}",
                    occurrence_id=occurrence.id,
                    stage="digest",
                    scheduled_on=day,
                    sent_at=occurrence.created_at,
                    params={},
                )
            )
            sends += 1
        day += timedelta(days=1)
    for month in (first.plus(i) for i in range(12)):
        for kind, due_day in (("change_cutoff", 20), ("payment", 25)):
            due = calendar.next_working_day(month.day(due_day))
            occurrence = ReminderOccurrence(
                key=f"{kind}:{month}",
                kind=kind,
                period=str(month),
                due_on=due,
                created_at=datetime.combine(due, clock_time(9), tzinfo=TZ),
                handled_at=datetime.combine(due, clock_time(15), tzinfo=TZ) if month.month % 3 else None,
                snoozed_until=calendar.add_working_days(due, -1) if month.month % 4 == 0 else None,
            )
            session.add(occurrence)
            session.flush()
            for k, stage in ((3, "warning"), (2, "warning"), (1, "warning"), (0, "due_day")):
                on = calendar.add_working_days(due, -k)
                session.add(
                    ReminderSend(
                        key=f"{kind}:{month}:{stage}:{on}",
                        occurrence_id=occurrence.id,
                        stage=stage,
                        scheduled_on=on,
                        sent_at=datetime.combine(on, clock_time(9), tzinfo=TZ),
                        params={},
                    )
                )
                sends += 1
    return sends


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_report", description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--month", default="2026-11", help="the month reported on (default: %(default)s)")
    parser.add_argument("--database-url", help="a PostgreSQL server (default: a new SQLite file)")
    args = parser.parse_args(argv)
    month = YearMonth.parse(args.month)
    workplace = Workplace.of(load_policy(), TZ)

    from bot.exports import plain_words
    from bot.messages import Messages
    from bot.presenters.report import report_message, report_view
    from bot.report.files import report_files
    from bot.services import report

    with database(args.database_url) as db:
        print(f"database: {db.engine.dialect.name}; {args.employees:,} employees; the year to {month}")
        started = time.perf_counter()
        rows = year_of_work(args.employees, month)
        with db.session() as session:
            for model, name in ((Request, "requests"), (RequestEvent, "events"), (HelpAnswer, "answers")):
                for i in range(0, len(rows[name]), BATCH):
                    session.execute(insert(model), rows[name][i : i + BATCH])
            for i in range(0, len(rows["feedback"]), BATCH):
                session.execute(insert(HelpFeedback), rows["feedback"][i : i + BATCH])
            sends = reminders_of_the_year(session, month, workplace)
            session.add(ReminderEngine(id=1, started_on=month.plus(-11).day(1), started_at=datetime.now(TZ)))
            staff = roster_of_the_year(args.employees, month)
            for i in range(0, len(staff), BATCH):
                session.execute(insert(Employee), staff[i : i + BATCH])
        ledger_of_the_year(db, workplace, month)
        with db.engine.begin() as conn:
            # The planner's statistics, as autovacuum (PostgreSQL) keeps them on a live database:
            # right after a bulk load they are missing, and plans are far off.
            conn.execute(text("ANALYZE"))
        print(
            f"written in {time.perf_counter() - started:.1f} s: {len(rows['requests']):,} requests, "
            f"{len(rows['events']):,} events, {len(rows['answers']):,} questions, "
            f"{len(rows['feedback']):,} ratings, {sends:,} reminders, {len(staff):,} people on the "
            f"roster, 12 months of ledger recorded"
        )
        now = datetime.combine(month.plus(1).day(3), clock_time(10), tzinfo=TZ)
        timings = {}
        for attempt in ("cold", "warm"):
            started = time.perf_counter()
            with db.session(read_only=True) as session:
                figures = report.monthly_figures(session, workplace, month, now)
            timings[f"figures ({attempt})"] = time.perf_counter() - started
        messages = Messages("zh")
        started = time.perf_counter()
        report_message(messages, figures)
        timings["message"] = time.perf_counter() - started
        started = time.perf_counter()
        files = report_files(report_view(figures, "zh"), plain_words(messages, "zh"))
        timings[f"{len(files) - 1} charts and the workbook"] = time.perf_counter() - started
        middle = datetime.combine(month.day(15), clock_time(12), tzinfo=TZ)
        started = time.perf_counter()
        with db.session(read_only=True) as session:
            headline = report.headline(session, workplace, middle)
        timings["App Home headline"] = time.perf_counter() - started
        # The next month, not recorded yet: its ledger worked out from the roster.
        ahead = datetime.combine(month.plus(1).day(20), clock_time(12), tzinfo=TZ)
        started = time.perf_counter()
        with db.session(read_only=True) as session:
            unrecorded = report.contributions(
                session, workplace, report.window(workplace, month.plus(1), ahead)
            )
        timings["ledger section, not recorded"] = time.perf_counter() - started
        for step, seconds in timings.items():
            print(f"  {step:<32} {seconds * 1000:9.0f} ms")
        built = timings["figures (cold)"] + sum(
            v for k, v in timings.items() if not k.startswith(("fig", "App"))
        )
        print(f"  {'the whole report (cold)':<32} {built * 1000:9.0f} ms")
        sections = figures["sections"]
        r, t = sections["requests"], sections["turnaround"]["months"][-1]
        print(f"\nthe report of {month}:")
        print(
            f"  requests received {r['total']:,}: " + ", ".join(f"{s} {n:,}" for s, n in r["states"].items())
        )
        print(
            f"  approved {t['approved']['count']:,} (median {t['approved']['median_hours']} h, "
            f"p90 {t['approved']['p90_hours']} h); done {t['done']['count']:,} "
            f"(median {t['done']['median_hours']} h, p90 {t['done']['p90_hours']} h)"
        )
        waiting = sections.get("waiting", {"count": 0})
        print(f"  waiting too long at the month's end: {waiting['count']:,}")
        h = sections["help"]
        print(
            f"  questions {h['questions']:,}: answered {h['answered']:,}, escalated {h['escalated']:,}; "
            f"helpful {h['helpful']:,}, not helpful {h['not_helpful']:,}"
        )
        m = sections["reminders"]
        print(f"  reminders sent {m['sent']}, done {m['done']}, snoozed {m['snoozed']}, missed {m['missed']}")
        c = sections["ledger"]
        print(
            f"  insured {c['headcount']:,} ({c['joiners']} joined, {c['leavers']} left); contributions "
            f"{c['total']} (employer {c['employer']}, employee {c['employee']}; the month before "
            f"{c['previous_total']}); payment {c['payment']['timing']} on {c['payment']['paid_on']}"
        )
        assert unrecorded is not None
        print(
            f"  {month.plus(1)} so far, worked out from the roster: insured {unrecorded['headcount']:,}, "
            f"contributions {unrecorded['total']}, payment {unrecorded['payment']['timing']}"
        )
        print(f"  files: {', '.join(f'{name} ({len(content) // 1024} KB)' for name, content in files)}")
        print(f"App Home headline on {middle:%Y-%m-%d}: {headline}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
