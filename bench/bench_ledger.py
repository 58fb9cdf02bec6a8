"""Ledger benchmark: a month's contributions for 10,000 people — worked out, exported as
.xlsx and .csv, recorded when its payment is recorded — the center's bill for them
reconciled (a row per person and scheme: 40,000 rows, with differences planted), and a
year's statements queued for all of them, through the same services as Slack and the
command line.

Run by hand (not in CI):
    python -m bench.bench_ledger [--employees 10000]
                                 [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
Without ``--database-url`` it uses a new SQLite file in a temporary folder; with a
PostgreSQL URL it creates a database of its own on that server and drops it at the end.
Prints each step's time and the process's peak memory after it. Aim: seconds, not minutes.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bench.bench_import import ROSTER_HEADER, database, peak_mb, people, to_file
from bot.domain.months import YearMonth

BILL_HEADER = ["费款所属期", "姓名", "身份证号码", "险种", "缴费基数", "单位缴费", "个人缴费"]
SCHEME_WORDS = {
    "pension": "基本养老保险费",
    "medical": "职工基本医疗保险费",
    "unemployment": "失业保险费",
    "work_injury": "工伤保险费",
}


def bill_rows(staff, month: YearMonth) -> list[list[str]]:
    """The center's bill of ``month`` for ``staff``: each person's shares as the ledger has
    them, but one person in a hundred a cent off (rounding) and one in a thousand billed
    on a base 100 yuan higher."""
    from bot.domain.ledger import base_used
    from bot.domain.policy import load_policy

    figures = load_policy().period_for(month)
    rows = []
    for i, (name, number, _hukou, _enrolled, base) in enumerate(staff):
        on_record = Decimal(base) + (100 if i % 1000 == 7 else 0)
        used, _ = base_used(figures, on_record)
        for k, share in enumerate(figures.contributions(used)):
            employer = share.employer + (Decimal("0.01") if i % 100 == 3 and k == 0 else 0)
            rows.append(
                [
                    str(month),
                    name,
                    number,
                    SCHEME_WORDS[share.scheme],
                    f"{used:.2f}",
                    f"{employer:.2f}",
                    f"{share.employee:.2f}",
                ]
            )
    return rows


def make_files(employees: int, month: YearMonth) -> tuple[bytes, bytes]:
    staff = people(employees)
    # Everyone with a Slack user: every one of them gets a statement.
    roster = [[*person, f"U{i:08d}"] for i, person in enumerate(staff)]
    return to_file("csv", [*ROSTER_HEADER, "Slack 用户"], roster), to_file(
        "csv", BILL_HEADER, bill_rows(staff, month)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_ledger", description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000, help="default: %(default)s")
    parser.add_argument("--database-url", help="PostgreSQL server to use (default: a temporary SQLite file)")
    args = parser.parse_args(argv)

    from bot.domain.policy import load_policy
    from bot.domain.workplace import Workplace
    from bot.exports import plain_words
    from bot.ledger_files import contributions_files, reconciliation_files
    from bot.messages import Messages
    from bot.services import bills, filing, ledger, payments, statements
    from bot.services.roles import CLI_ACTOR
    from bot.services.roster import import_roster
    from bot.storage.db import Database

    admin = "UBENCHADMIN"
    now = datetime.now(UTC)
    workplace = Workplace.of(load_policy(), ZoneInfo("Asia/Shanghai"))
    month = YearMonth.of(workplace.today(now))
    words = plain_words(Messages("zh"))
    t0 = time.perf_counter()
    with ProcessPoolExecutor(1) as pool:  # made in another process: the peak memory is the steps'
        roster_file, bill_file = pool.submit(make_files, args.employees, month).result()
    written = time.perf_counter() - t0
    print(f"files          {written:6.2f} s to write the roster and a bill ({len(bill_file) / 1e6:.1f} MB)")
    with database(args.database_url) as url:
        db = Database(url)
        db.upgrade()
        with db.session() as session:
            filing.seed_from_settings(session, (admin,), now)
            outcome = import_roster(
                session, workplace, actor=CLI_ACTOR, file_name="roster.csv", content=roster_file, now=now
            )
        assert outcome.imported, outcome.problem or outcome.rejections[:3]
        imported = f"roster of {outcome.added:,} imported (peak memory {peak_mb():.0f} MB)"
        print(f"database       {db.engine.dialect.name}; {imported}")
        print("step           wall s   cpu s")
        total = cpu = 0.0

        def step(label: str, work, detail) -> object:
            # Wall time, and this process's CPU time (the server may be busy with others).
            nonlocal total, cpu
            started, cpu_started = time.perf_counter(), time.process_time()
            result = work()
            seconds, used = time.perf_counter() - started, time.process_time() - cpu_started
            total += seconds
            cpu += used
            print(f"{label:<14} {seconds:6.2f} {used:7.2f}  {detail(result)}; peak memory {peak_mb():.0f} MB")
            return result

        def compute():
            with db.session(read_only=True) as session:
                return ledger.month_ledger(session, workplace, month)

        book = step("month", compute, lambda b: f"{len(b.lines):,} people, {b.total:,.2f} yuan")

        def export():
            with db.session(read_only=True) as session:
                found = ledger.export_contributions(session, workplace, month=month, actor=CLI_ACTOR)
                return contributions_files(found, workplace.policy, words)

        step(
            "export",
            export,
            lambda files: ", ".join(f"{name} {len(data) / 1e6:.1f} MB" for name, data in files),
        )

        def pay():
            with db.session() as session:
                raw = {"amount": str(book.total), "paid_on": str(workplace.today(now))}
                return payments.record_payment(
                    session, workplace, month=month, raw=raw, actor=admin, submission_key=None, now=now
                )

        step("payment", pay, lambda r: f"the month recorded: {r.people:,} lines, difference {r.difference}")

        def reconcile():
            with db.session() as session:
                found = bills.import_bill(
                    session,
                    workplace,
                    month=month,
                    actor=CLI_ACTOR,
                    file_name="bill.csv",
                    content=bill_file,
                    now=now,
                )
                files = reconciliation_files(month, found.differences, words)
                return found, files

        def reconciled(result) -> str:
            found, files = result
            rec = found.reconciliation
            size = sum(len(d) for _, d in files) / 1e6
            return (
                f"{found.rows:,} rows, {rec.bill_people:,} people, {rec.by_reason} ({size:.1f} MB of files)"
            )

        step("bill", reconcile, reconciled)

        def queue():
            return statements.send_statements(db.session, workplace, year=month.year, actor=admin, now=now)

        step(
            "statements",
            queue,
            lambda c: (
                f"{c.queued:,} queued for {len(book.lines):,} people, a year of {month.month} months each"
            ),
        )
        print(f"total          {total:6.2f} {cpu:7.2f}")
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
