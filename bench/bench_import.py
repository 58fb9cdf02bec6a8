"""Import benchmark: a roster of 10,000 employees and 12 months of their wages (120,000
rows), from files, through the same services as ``si-bot roster|wages import``.

Run by hand (not in CI):
    python -m bench.bench_import [--employees 10000] [--months 12] [--format csv|xlsx]
                                 [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
Without ``--database-url`` it uses a new SQLite file in a temporary folder; with a
PostgreSQL URL it creates a database of its own on that server and drops it at the end.
Prints the time of each step and the process's peak memory after it. Aim: seconds, not
minutes (every import is bulk inserts, with no per-row round trips for lookups).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from bot.domain.months import YearMonth
from bot.domain.resident_id import check_char

AMOUNT = re.compile(r"\d+\.\d{2}")
HUKOU = ("本市城镇", "本市农村", "外埠城镇", "外埠农村", "外籍人员")
ROSTER_HEADER = ["姓名", "身份证号", "户籍类型", "参保月份", "缴费基数（元）"]
WAGE_HEADER = ["身份证号", "姓名", "月份", "应发工资（元）"]


def resident_id(n: int) -> str:
    """A valid, fictitious resident ID for the n-th employee (distinct for n < 10,000,000)."""
    birth = f"{1960 + n % 40:04d}{1 + n % 12:02d}{1 + n % 28:02d}"
    first17 = f"3101{n // 1000 % 100:02d}{birth}{n % 1000:03d}"
    return first17 + check_char(first17)


def people(count: int) -> list[tuple[str, str, str, str, str]]:
    rows = []
    seen: set[str] = set()
    n = 0
    while len(rows) < count:
        number = resident_id(n)
        n += 1
        if number in seen:
            continue
        seen.add(number)
        enrolled = YearMonth(2015 + len(rows) % 10, 1 + len(rows) % 12)
        base = Decimal(7400 + (len(rows) * 37) % 30000)
        rows.append((f"员工{len(rows):05d}", number, HUKOU[len(rows) % 5], str(enrolled), f"{base:.2f}"))
    return rows


def wage_rows(staff, months: list[YearMonth]) -> Iterator[list[str]]:
    for i, (name, number, *_rest) in enumerate(staff):
        for k, month in enumerate(months):
            yield [number, name, str(month), f"{8000 + (i * 131 + k * 17) % 40000}.{(i + k) % 100:02d}"]


def to_file(fmt: str, header: list[str], rows) -> bytes:
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows(rows)
        return text.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook

    # As Excel saves a payroll sheet: strings shared, amounts as numbers (openpyxl's
    # write-only mode writes every string inline, which reads several times slower).
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append([float(cell) if AMOUNT.fullmatch(cell) else cell for cell in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def make_files(fmt: str, employees: int, months: list[YearMonth]) -> tuple[bytes, bytes]:
    staff = people(employees)
    return to_file(fmt, ROSTER_HEADER, staff), to_file(fmt, WAGE_HEADER, wage_rows(staff, months))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


@contextmanager
def database(url: str | None) -> Iterator[str]:
    if not url:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"si_bot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_import", description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000, help="default: %(default)s")
    parser.add_argument("--months", type=int, default=12, help="months of wages each (default: %(default)s)")
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv", help="default: %(default)s")
    parser.add_argument("--database-url", help="PostgreSQL server to use (default: a temporary SQLite file)")
    args = parser.parse_args(argv)

    from zoneinfo import ZoneInfo

    from bot.domain.policy import load_policy
    from bot.domain.workplace import Workplace
    from bot.services.roles import CLI_ACTOR
    from bot.services.roster import import_roster
    from bot.services.wages import import_wages
    from bot.storage.db import Database

    now = datetime.now(UTC)
    last = YearMonth.of(now.date()).plus(-1)
    months = [last.plus(-k) for k in reversed(range(args.months))]
    t0 = time.perf_counter()
    # Made in another process, so that the peak memory printed is the imports' own.
    with ProcessPoolExecutor(1) as pool:
        roster_file, wage_file = pool.submit(make_files, args.format, args.employees, months).result()
    wage_count = args.employees * args.months
    print(
        f"files        {time.perf_counter() - t0:6.2f} s to write: roster {len(roster_file) / 1e6:.1f} MB, "
        f"wages {len(wage_file) / 1e6:.1f} MB ({args.format}, {wage_count:,} rows, {months[0]}..{months[-1]})"
    )
    workplace = Workplace.of(load_policy(), ZoneInfo("Asia/Shanghai"))
    with database(args.database_url) as url:
        db = Database(url)
        db.upgrade()
        print(f"database     {db.engine.dialect.name}  (peak memory so far {peak_mb():.0f} MB)")
        steps = [
            ("roster", import_roster, roster_file, f"roster.{args.format}"),
            ("wages", import_wages, wage_file, f"wages.{args.format}"),
            ("wages again", import_wages, wage_file, f"wages.{args.format}"),
        ]
        total = 0.0
        for label, importer, content, name in steps:
            started = time.perf_counter()
            with db.session() as session:
                outcome = importer(
                    session, workplace, actor=CLI_ACTOR, file_name=name, content=content, now=now
                )
            seconds = time.perf_counter() - started
            total += seconds
            if not outcome.imported:
                print(f"{label}: not imported: {outcome.problem or outcome.rejections[:3]}", file=sys.stderr)
                return 1
            counts = f"{outcome.added:,} added, {outcome.changed:,} changed, {outcome.unchanged:,} unchanged"
            memory = f"peak memory {peak_mb():.0f} MB"
            print(f"{label:<12} {seconds:6.2f} s  {outcome.rows:>8,} rows  ({counts}); {memory}")
        print(f"total        {total:6.2f} s")
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
