"""Base declaration benchmark: 10,000 people with twelve months of wages — every base of
the base year computed and reviewed, the declaration locked, its sheet built (.xlsx and
.csv), and the publicity DMs queued in the outbox for all of them — through the same
services as Slack and the command line.

Run by hand (not in CI):
    python -m bench.bench_bases [--people 10000] [--year 2026]
                                [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
Without ``--database-url`` it uses a new SQLite file in a temporary folder; with a
PostgreSQL URL it creates a database of its own on that server and drops it at the end.
Prints each step's wall and CPU time and the process's peak memory after it: the people
are gone through a chunk at a time and the sheet's rows are streamed, so the peak should
not grow with the company. Sending the queued DMs is paced at Slack's rate (bot/pacing.py:
five a second, ten thousand in about 33 minutes) and is not timed here: bench/bench_bases_send.py
sends them, with three replicas and a misbehaving Slack.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bench.bench_import import ROSTER_HEADER, WAGE_HEADER, database, peak_mb, people, to_file, wage_rows
from bot.domain.months import YearMonth


def make_files(employees: int, year: int) -> tuple[bytes, bytes]:
    staff = people(employees)
    # Everyone with a Slack user: every one of them gets a DM.
    roster = [[*person, f"U{i:08d}"] for i, person in enumerate(staff)]
    months = [YearMonth(year - 1, m) for m in range(1, 13)]
    return (
        to_file("csv", [*ROSTER_HEADER, "Slack 用户"], roster),
        to_file("csv", WAGE_HEADER, wage_rows(staff, months)),
    )


ADMIN = "UBENCHADMIN"


class Steps:
    """Times each step (wall and CPU) and prints it with the process's peak memory after it."""

    def __init__(self) -> None:
        self.total = self.cpu = 0.0
        print("step           wall s   cpu s")

    def __call__(self, label: str, work, detail) -> object:
        started, cpu_started = time.perf_counter(), time.process_time()
        result = work()
        seconds, used = time.perf_counter() - started, time.process_time() - cpu_started
        self.total += seconds
        self.cpu += used
        print(
            f"{label:<14} {seconds:6.2f} {used:7.2f}  {detail(result)}; peak memory {peak_mb():.0f} MB",
            flush=True,
        )
        return result

    def close(self) -> None:
        print(f"total          {self.total:6.2f} {self.cpu:7.2f}", flush=True)


def seed(db, workplace, *, employees: int, year: int, now: datetime) -> bool:
    """The company: its roster (everyone with a Slack user) and a year of wages, imported
    through the services of ``si-bot roster|wages import``. False (and why, on stderr)
    when an import was refused."""
    from bot.services import filing
    from bot.services.roles import CLI_ACTOR
    from bot.services.roster import import_roster
    from bot.services.wages import import_wages

    t0 = time.perf_counter()
    with ProcessPoolExecutor(1) as pool:  # made in another process: the peak memory is the steps'
        roster_file, wage_file = pool.submit(make_files, employees, year).result()
    print(
        f"files          {time.perf_counter() - t0:6.2f} s to write the roster and "
        f"{len(wage_file) / 1e6:.1f} MB of wages"
    )
    with db.session() as session:
        filing.seed_from_settings(session, (ADMIN,), now)
        for importer, name, content in (
            (import_roster, "roster.csv", roster_file),
            (import_wages, "wages.csv", wage_file),
        ):
            outcome = importer(session, workplace, actor=CLI_ACTOR, file_name=name, content=content, now=now)
            if not outcome.imported:
                print(f"{name}: not imported: {outcome.problem or outcome.rejections[:3]}", file=sys.stderr)
                return False
    print(
        f"database       {db.engine.dialect.name}; roster and wages imported (peak memory {peak_mb():.0f} MB)"
    )
    return True


def declare(db, workplace, step: Steps, *, year: int, now: datetime) -> None:
    """Every base computed and reviewed, the declaration locked and its sheet built."""
    from bot.bases_files import declaration_files
    from bot.exports import plain_words
    from bot.messages import Messages
    from bot.services import bases

    words = plain_words(Messages("zh"))

    def compute():
        with db.session() as session:
            return bases.compute(session, workplace, year=year, actor=ADMIN, now=now)

    step(
        "compute",
        compute,
        lambda r: (
            f"{r.people:,} bases: {r.raised:,} raised, {r.lowered:,} lowered, floor {r.floor:,}, "
            f"ceiling {r.ceiling:,}, {len(r.outliers):,} outliers, {len(r.missing):,} to resolve"
        ),
    )

    def lock():
        with db.session() as session:
            return bases.lock(session, workplace, year=year, actor=ADMIN, now=now)

    step("review+lock", lock, lambda r: f"cost change {r.employer_change:,} / {r.employee_change:,} a month")

    def sheet():
        with db.session(read_only=True) as session:
            declaration = bases.declaration_of(session, year)
            return declaration_files(
                year, declaration.start, lambda: bases.lines(session, declaration.id), words
            )

    step("sheet", sheet, lambda files: ", ".join(f"{n} {len(d) / 1e6:.1f} MB" for n, d in files))


def queue_publicity(db, workplace, step: Steps, *, year: int, now: datetime):
    """The publicity DMs queued in the outbox for everyone (sent by whoever runs the outbox)."""
    from bot.services import bases

    def queue():
        return bases.send_publicity(db.session, workplace, year=year, actor=ADMIN, now=now)

    return step("publicity", queue, lambda q: f"{q.queued:,} DMs queued")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_bases", description=__doc__.splitlines()[0])
    parser.add_argument("--employees", "--people", type=int, default=10_000, help="default: %(default)s")
    parser.add_argument("--year", type=int, default=2026, help="the base year's (default: %(default)s)")
    parser.add_argument("--database-url", help="PostgreSQL server to use (default: a temporary SQLite file)")
    args = parser.parse_args(argv)

    from bot.domain.policy import load_policy
    from bot.domain.workplace import Workplace
    from bot.storage.db import Database

    now = datetime.now(UTC)
    workplace = Workplace.of(load_policy(), ZoneInfo("Asia/Shanghai"))
    with database(args.database_url) as url:
        db = Database(url)
        db.upgrade()
        if not seed(db, workplace, employees=args.employees, year=args.year, now=now):
            return 1
        step = Steps()
        declare(db, workplace, step, year=args.year, now=now)
        queue_publicity(db, workplace, step, year=args.year, now=now)
        step.close()
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
