"""Growth benchmark (issue 16): each view's time as the stored history grows.

Run by hand (not in CI):
    python -m bench.scale [--sizes 10000,100000,1000000]
                          [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
Without ``--database-url`` each size gets a new SQLite file in a temporary folder; with a
PostgreSQL URL each size gets a database of its own on that server, dropped at the end.

Each history is that of a 10,000-person company: the roster and a year of wages imported
and a month's ledger recorded through the services; then ``size`` requests (their events,
card messages and sent outbox rows) and six years of handled reminders, written with bulk
inserts (bot/storage/bulk.py) from payloads the services made. Requests come at the same
pace at every size (``PER_MONTH``, about the 6,000 insured changes a year of the issue plus
complaints), so a bigger history is a longer one, as in year five or fifty, not a busier
month: 1M requests reach back 139 years. Old requests are finished; the open backlog is the
same at every size (``OPEN``): a company's past grows, its pending work does not.

Prints ``VIEW SIZE MILLISECONDS`` (the median of several runs) per view and size, then a
table, and for each view the query plan (EXPLAIN) of its slowest statement, so that a full
scan shows itself. Aim: every view under 50 ms at 1M on PostgreSQL, and at most 2x slower
at 1M than at 10k.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session

from bot.domain.kinds import spec_for
from bot.domain.months import YearMonth
from bot.domain.policy import load_policy
from bot.domain.requests import RequestKind, State
from bot.domain.workplace import Workplace
from bot.storage.bulk import insert_rows
from bot.storage.db import Database
from bot.storage.models import (
    OutboxMessage,
    ReminderOccurrence,
    ReminderSend,
    Request,
    RequestCounter,
    RequestEvent,
    RequestMessage,
)

ADMIN = "UBENCHADMIN"
EMPLOYEES = 10_000
OPEN = 200  # requests still submitted or approved, at every size
YEARS = 6  # of reminders
PER_MONTH = 600  # requests filed a month
CHUNK = 20_000
CHANNEL = "CBENCHADMIN"
RUNS = 7
SHANGHAI = ZoneInfo("Asia/Shanghai")


def slack_user(n: int) -> str:
    return f"U{n % EMPLOYEES:08d}"


# The employee whose Home and /si status are timed: one request in fifty is theirs (insured
# changes), so their own list has more than a page at every size and grows with the history.
WATCHED = "UWATCHED0"


def requester(n: int) -> str:
    return WATCHED if n % 50 == 48 else slack_user(n)


# -- counting what a view asks of the database -----------------------------------------------


@dataclass
class Statement:
    sql: str
    parameters: Any
    seconds: float
    rows: int


@dataclass
class QueryLog:
    """The statements a block of work ran, with each one's time and the rows it fetched.
    Rows: PostgreSQL's cursor says how many a SELECT returned; SQLite's does not, so on
    SQLite each fetched row is counted by the connection's row factory."""

    statements: list[Statement] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.statements)


class QueryCounter:
    """Attached to an engine: ``with counter.recording() as log`` fills ``log``."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self.log: QueryLog | None = None
        self._fetched = 0  # rows fetched so far on SQLite (the row factory counts them)
        self._fetched_before = 0
        self._started = 0.0
        event.listen(engine, "connect", self._on_connect)
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        engine.dispose()  # connections made from now on count their rows

    def _on_connect(self, dbapi_connection, _record) -> None:
        if self.sqlite:

            def counted(cursor, row):
                self._fetched += 1
                return row

            dbapi_connection.row_factory = counted

    def _settle(self) -> None:
        # SQLite's rows are fetched after the statement ran: the last one's are counted
        # when the next one starts, or when the recording ends.
        if self.sqlite and self.log is not None and self.log.statements:
            self.log.statements[-1].rows = self._fetched - self._fetched_before

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self._settle()
        self._started = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.log is None:
            return
        seconds = time.perf_counter() - self._started
        rows = 0 if self.sqlite or cursor.description is None else max(cursor.rowcount, 0)
        self.log.statements.append(Statement(statement, parameters, seconds, rows))
        self._fetched_before = self._fetched

    def close(self) -> None:
        """Detach from the engine (its connections are made afresh, without the counting)."""
        event.remove(self.engine, "connect", self._on_connect)
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)
        self.engine.dispose()

    @contextmanager
    def recording(self) -> Iterator[QueryLog]:
        log = QueryLog()
        self.log = log
        try:
            yield log
        finally:
            self._settle()
            self.log = None


def explain(engine: Engine, statement: Statement) -> str:
    """The query plan of ``statement``, on one line."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement.sql}", statement.parameters)
            return "; ".join(str(row[-1]) for row in rows)
        rows = conn.exec_driver_sql(f"EXPLAIN {statement.sql}", statement.parameters)
        return " / ".join(" ".join(str(row[0]).split()) for row in rows)


# -- building a history ----------------------------------------------------------------------


def templates(db: Database, workplace: Workplace, now: datetime) -> dict[str, dict[str, Any]]:
    """A stored payload of each kind the history holds, as the services write it (filed
    for real, then rolled back)."""
    from bot.services.requests import file_request

    forms = {
        RequestKind.CHANGE: {
            "change_type": "add",
            "person": slack_user(1),
            "full_name": "员工样例",
            "resident_id": "11010519491231002X",
            "hukou": "local_urban",
            "contribution_base": "9000",
            "effective_month": str(YearMonth.of(workplace.today(now))),
        },
        RequestKind.COMPLAINT: {"category": "unpaid_months", "description": "三月的社保没有缴"},
    }
    found = {}
    session = db._sessions()
    try:
        for kind, raw in forms.items():
            filed = file_request(
                session, workplace, kind=kind, actor=slack_user(1), raw=raw, submission_key=None, now=now
            )
            found[kind.value] = dict(filed.request.payload)
    finally:
        session.rollback()
        session.close()
    return found


def history_rows(
    size: int, now: datetime, payloads: dict[str, dict[str, Any]], start: int, stop: int, per_month: int
) -> dict[str, list[dict[str, Any]]]:
    """Requests ``start`` to ``stop`` (of ``size``) with their events, cards and outbox rows.
    Request n is filed ``per_month`` a month, the last one just now; the last ``OPEN`` are
    still open. Nine in ten are insured changes, one in ten a complaint; one in twenty is rejected."""
    pace = timedelta(days=365.25 / 12) / per_month
    tables: dict[str, list[dict[str, Any]]] = {"requests": [], "events": [], "messages": [], "outbox": []}
    month_field = spec_for(RequestKind.CHANGE).month_field
    for n in range(start, stop):
        request_id = n + 1
        created = now - pace * (size - n)
        is_open = n >= size - OPEN
        kind = RequestKind.COMPLAINT if n % 10 == 9 else RequestKind.CHANGE
        if is_open:
            state = State.SUBMITTED if n % 2 else State.APPROVED
        else:
            state = State.REJECTED if n % 20 == 7 else State.DONE
        payload = dict(payloads[kind.value])
        effective = None
        if kind is RequestKind.CHANGE:
            effective = str(YearMonth.of(created.astimezone(SHANGHAI).date()).plus(1))
            payload[month_field] = effective
            payload["full_name"] = f"员工{n % EMPLOYEES:05d}"
        user = requester(n)
        tables["requests"].append(
            {
                "id": request_id,
                "public_id": f"SI-{created.year}-{n:07d}",
                "kind": kind.value,
                "state": state.value,
                "requester_id": user,
                "subject_id": user,
                "payload": payload,
                "effective_month": effective,
                "created_at": created,
                "updated_at": created,  # the last event's, below
                "submission_key": None,
            }
        )
        steps = [("submit", None, State.SUBMITTED)]
        if state is State.REJECTED:
            steps.append(("reject", State.SUBMITTED, State.REJECTED))
        elif state is not State.SUBMITTED:
            steps.append(("approve", State.SUBMITTED, State.APPROVED))
            if state is State.DONE:
                steps.append(("done", State.APPROVED, State.DONE))
        for k, (action, before, after) in enumerate(steps):
            tables["events"].append(
                {
                    "request_id": request_id,
                    "at": created + timedelta(hours=20 * k),
                    "actor_id": user if k == 0 else ADMIN,
                    "action": action,
                    "from_state": None if before is None else before.value,
                    "to_state": after.value,
                    "reason": "",
                }
            )
        tables["requests"][-1]["updated_at"] = created + timedelta(hours=20 * (len(steps) - 1))
        tables["messages"].append(
            {
                "request_id": request_id,
                "channel": CHANNEL,
                "ts": f"{created.timestamp():.6f}{n % 1000:03d}",
                "audience": "shared",
            }
        )
        for notice, target_kind, target in (("request_card", "cards", CHANNEL), ("receipt", "person", user)):
            tables["outbox"].append(
                {
                    "key": f"bench:{request_id}:{notice}",
                    "notice": notice,
                    "target_kind": target_kind,
                    "target": target,
                    "audience": "shared" if target_kind == "cards" else "private",
                    "request_id": request_id,
                    "params": {},
                    "track": target_kind == "cards",
                    "created_at": created,
                    "not_before": created,
                    "claimed_until": None,
                    "sent_at": created + timedelta(seconds=1),
                    "attempts": 1,
                    "last_error": "",
                }
            )
    return tables


def reminder_rows(
    now: datetime, known: set[str], first: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Six years of monthly duties, each reminded twice and handled."""
    occurrences, sends = [], []
    month = YearMonth.of(now.astimezone(SHANGHAI).date())
    for back in range(1, 12 * YEARS + 1):
        period = month.plus(-back)
        for kind in ("payment", "change_cutoff", "ledger_close"):
            key = f"{kind}:{period}"
            if key in known:
                continue
            due = period.day(15)
            at = datetime(due.year, due.month, due.day, 1, tzinfo=UTC)
            occurrences.append(
                {
                    "id": first + len(occurrences) + 1,
                    "key": key,
                    "kind": kind,
                    "period": str(period),
                    "due_on": due,
                    "created_at": at - timedelta(days=3),
                    "handled_at": at,
                    "handled_by": ADMIN,
                    "snoozed_until": None,
                    "snoozed_by": None,
                }
            )
            for stage, days in (("warning", 3), ("due", 0)):
                sends.append(
                    {
                        "key": f"{key}:{stage}:{(due - timedelta(days=days)).isoformat()}",
                        "occurrence_id": first + len(occurrences),
                        "stage": stage,
                        "scheduled_on": due - timedelta(days=days),
                        "sent_at": at - timedelta(days=days),
                        "late": False,
                        "params": {},
                    }
                )
    return occurrences, sends


def build(
    db: Database,
    workplace: Workplace,
    size: int,
    now: datetime,
    *,
    people: int = EMPLOYEES,
    per_month: int = PER_MONTH,
) -> None:
    """Fill an empty, migrated database with the history described above."""
    from bench.bench_import import make_files
    from bot.services import filing, payments, roster, wages
    from bot.services.ledger import month_ledger
    from bot.services.roles import CLI_ACTOR

    payloads = templates(db, workplace, now)
    month = YearMonth.of(workplace.today(now))
    year = [month]
    for _ in range(11):
        year.insert(0, year[0].plus(-1))
    roster_file, wage_file = make_files("csv", people, year)
    with db.session() as session:
        filing.seed_from_settings(session, (ADMIN,), now)
        done = roster.import_roster(
            session, workplace, actor=CLI_ACTOR, file_name="roster.csv", content=roster_file, now=now
        )
        assert done.imported, done.problem or done.rejections[:3]
        done = wages.import_wages(
            session, workplace, actor=CLI_ACTOR, file_name="wages.csv", content=wage_file, now=now
        )
        assert done.imported, done.problem or done.rejections[:3]
        # Slack users for the people, as a roster with a Slack column links them.
        session.execute(
            text("UPDATE employees SET slack_user = 'U' || substr('00000000' || (id - 1), -8, 8)")
            if db.engine.dialect.name == "sqlite"
            else text("UPDATE employees SET slack_user = 'U' || lpad((id - 1)::text, 8, '0')")
        )
    with db.session() as session:
        # Last month's payment records its ledger: ten thousand lines.
        paid = month.plus(-1)
        total = month_ledger(session, workplace, paid).total
        payments.record_payment(
            session,
            workplace,
            month=paid,
            raw={"amount": str(total), "paid_on": str(paid.day(15))},
            actor=ADMIN,
            submission_key=None,
            now=now,
        )
    for start in range(0, size, CHUNK):
        tables = history_rows(size, now, payloads, start, min(size, start + CHUNK), per_month)
        with db.session() as session:
            insert_rows(session, Request.__table__, tables["requests"])
            insert_rows(session, RequestEvent.__table__, tables["events"])
            insert_rows(session, RequestMessage.__table__, tables["messages"])
            insert_rows(session, OutboxMessage.__table__, tables["outbox"])
    with db.session() as session:
        # After those the services recorded (the payment handles its month's reminder).
        known = set(session.scalars(select(ReminderOccurrence.key)))
        first = session.scalar(select(func.max(ReminderOccurrence.id))) or 0
        occurrences, sends = reminder_rows(now, known, first)
        insert_rows(session, ReminderOccurrence.__table__, occurrences)
        insert_rows(session, ReminderSend.__table__, sends)
        # Numbers handed out: the next request filed gets the next one.
        session.merge(RequestCounter(year=now.year, last=size))
        if db.engine.dialect.name == "postgresql":
            for table in ("requests", "request_events", "request_messages", "outbox", "reminder_occurrences"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                session.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


# -- the views ---------------------------------------------------------------------------------


def views(workplace: Workplace, now: datetime, size: int) -> dict[str, Callable[[Session], object]]:
    """Each view as the app computes it for Slack (the values its template shows)."""
    from bot.presenters.requests import present_row
    from bot.services import change_form, home, ledger, reminders, report
    from bot.services.requests import ListFilter, request_page

    month = YearMonth.of(workplace.today(now))
    employee = WATCHED

    def deep_page(session: Session) -> list:
        which = ListFilter(mine=False)
        page = request_page(session, viewer=ADMIN, which=which)
        for _ in range(9):
            page = request_page(session, viewer=ADMIN, which=which, start=page.older)
        return page.rows

    def listed(rows) -> list:
        return [present_row(r, workplace) for r in rows]

    return {
        "home_admin": lambda s: home.home_for(s, workplace, user=ADMIN, now=now),
        "home_employee": lambda s: home.home_for(s, workplace, user=employee, now=now),
        "status": lambda s: listed(request_page(s, viewer=employee, which=ListFilter(mine=True)).rows),
        "admin_list": lambda s: listed(request_page(s, viewer=ADMIN, which=ListFilter(mine=False)).rows),
        "admin_list_filtered": lambda s: listed(
            request_page(
                s, viewer=ADMIN, which=ListFilter(mine=False, kind=RequestKind.CHANGE, state=State.DONE)
            ).rows
        ),
        # The tenth page back: a keyset reads the same rows however deep the page.
        "admin_list_page_10": lambda s: listed(deep_page(s)),
        "change_form": lambda s: change_form.change_form_rows(s, change_form.form_month(workplace, now)),
        "reminders_due": lambda s: reminders.due_reminders(s, workplace, now),
        "ledger_month": lambda s: ledger.month_ledger(s, workplace, month),
        "report": lambda s: report.monthly_figures(s, workplace, month.plus(-1), now),
    }


@dataclass
class Measured:
    milliseconds: float  # wall
    cpu_milliseconds: float  # this process's CPU: what others running on the machine don't inflate
    sql_milliseconds: float  # in the database driver (statements' execution)
    log: QueryLog


def measure(db: Database, counter: QueryCounter, view: Callable[[Session], object]) -> Measured:
    """The median wall time of ``RUNS`` runs (after one to warm caches), and the statements
    of the last run."""
    times, cpu, sql = [], [], []
    for run in range(RUNS + 1):
        with db.session(read_only=True) as session, counter.recording() as log:
            started, cpu_started = time.perf_counter(), time.process_time()
            view(session)
            elapsed, used = time.perf_counter() - started, time.process_time() - cpu_started
        if run:
            times.append(elapsed * 1000)
            cpu.append(used * 1000)
            sql.append(sum(s.seconds for s in log.statements) * 1000)
    median = statistics.median
    return Measured(median(times), median(cpu), median(sql), log)


@contextmanager
def database(url: str | None) -> Iterator[str]:
    from bench.bench_import import database as made

    with made(url) as found:
        yield found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="stored requests (default: %(default)s)")
    parser.add_argument("--database-url", help="PostgreSQL server to use (default: temporary SQLite files)")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]

    now = datetime.now(UTC).replace(microsecond=0)
    workplace = Workplace.of(load_policy(), SHANGHAI)
    table: dict[str, dict[int, Measured]] = {}
    plans: dict[str, str] = {}
    for size in sizes:
        with database(args.database_url) as url:
            db = Database(url)
            db.upgrade()
            started = time.perf_counter()
            build(db, workplace, size, now)
            built = time.perf_counter() - started
            print(f"# {db.engine.dialect.name}: {size:,} requests built in {built:.1f} s")
            counter = QueryCounter(db.engine)
            for name, view in views(workplace, now, size).items():
                found = measure(db, counter, view)
                table.setdefault(name, {})[size] = found
                slowest = max(found.log.statements, key=lambda s: s.seconds)
                plans[name] = (
                    f"{size}: {len(found.log.statements)} statements, {found.log.rows} rows; slowest "
                    f"{slowest.seconds * 1000:.1f} ms: {' '.join(slowest.sql.split())[:160]} -> "
                    f"{explain(db.engine, slowest)}"
                )
                print(f"{name} {size} {found.milliseconds:.1f}", flush=True)
            for name in table:
                print(f"  EXPLAIN {name} {plans[name]}")
            db.engine.dispose()
    print()
    print("milliseconds: wall / this process's CPU / in SQL (medians); growth of wall and CPU")
    print(f"{'view':<22}" + "".join(f"{size:>22,}" for size in sizes) + "   growth")
    for name, row in table.items():
        cells = "".join(
            f"{f'{m.milliseconds:.1f} / {m.cpu_milliseconds:.1f} / {m.sql_milliseconds:.1f}':>22}"
            for m in (row[size] for size in sizes)
        )
        first, last = row[sizes[0]], row[sizes[-1]]
        wall = last.milliseconds / first.milliseconds if first.milliseconds else float("nan")
        cpu = last.cpu_milliseconds / first.cpu_milliseconds if first.cpu_milliseconds else float("nan")
        print(f"{name:<22}{cells}   {wall:5.2f}x {cpu:5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
