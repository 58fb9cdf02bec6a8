"""Every view costs the same however long the history (issue 16): the statements each view
runs and the rows it fetches are counted (an SQLAlchemy event listener, bench/scale.py's
QueryCounter) over a history and over one ten times longer, built as the growth benchmark
builds it. A view whose count grows reads the history, and fails here.

The times are the benchmark's business (python -m bench.scale); this counts only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect

from bench import scale
from bot.domain.policy import load_policy
from bot.domain.workplace import Workplace
from bot.services.requests import PAGE_SIZE
from bot.storage.models import Base
from tests.conftest import SHANGHAI

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
WORKPLACE = Workplace.of(load_policy(), SHANGHAI)
PEOPLE = 200
PER_MONTH = 100
SMALL, BIG = 1_000, 10_000  # ten months of requests, and a hundred


def wipe(db) -> None:
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


HISTORY = ("requests", "request_events", "request_messages", "outbox")


def full_scans(db, log) -> list[str]:
    """SQLite's plan steps that read a whole history table (with or without an index): a
    count of rows fetched does not see a scan that filters in the database."""
    if db.engine.dialect.name != "sqlite":
        return []
    found = []
    for statement in log.statements:
        if not statement.sql.lstrip().upper().startswith("SELECT"):
            continue
        plan = scale.explain(db.engine, statement)
        if " LIMIT " in statement.sql and "TEMP B-TREE" not in plan:
            continue  # read in an index's order and stopped at the limit
        found += [step for step in plan.split("; ") if step.startswith(tuple(f"SCAN {t}" for t in HISTORY))]
    return found


def counts(db, size: int) -> dict[str, tuple[int, int]]:
    """Each view's (statements, rows fetched) over a history of ``size`` requests, and
    (under ``scans``) the whole-table scans of history its statements plan."""
    wipe(db)
    scale.build(db, WORKPLACE, size, NOW, people=PEOPLE, per_month=PER_MONTH)
    counter = scale.QueryCounter(db.engine)
    try:
        found = {}
        for name, view in scale.views(WORKPLACE, NOW, size).items():
            with db.session(read_only=True) as session, counter.recording() as log:
                view(session)
            found[name] = (len(log.statements), log.rows)
            found.setdefault("scans", {})[name] = full_scans(db, log)
        return found
    finally:
        counter.close()


@pytest.fixture(scope="module")
def measured(database):
    small = counts(database, SMALL)
    big = counts(database, BIG)
    wipe(database)
    return small, big


def test_the_counter_sees_every_statement_and_row(database):
    wipe(database)
    scale.build(database, WORKPLACE, 50, NOW, people=20, per_month=PER_MONTH)
    counter = scale.QueryCounter(database.engine)
    try:
        with database.session(read_only=True) as session, counter.recording() as log:
            session.execute(scale.text("SELECT id FROM requests")).all()
            # ids, not 1..3: a server's sequences go on after other tests' rows are wiped
            session.execute(scale.text("SELECT id FROM employees ORDER BY id LIMIT 3")).all()
    finally:
        counter.close()
        wipe(database)
    selects = [s for s in log.statements if s.sql.startswith("SELECT")]
    assert [s.rows for s in selects] == [50, 3]
    assert log.rows == 53


def test_each_view_reads_something(measured):
    small, _ = measured
    assert set(small) - {"scans"} == {
        "home_admin",
        "home_employee",
        "status",
        "admin_list",
        "admin_list_filtered",
        "admin_list_page_10",
        "change_form",
        "reminders_due",
        "ledger_month",
        "report",
    }
    for name in scale.views(WORKPLACE, NOW, SMALL):
        assert small[name][0] > 0, name
    # The open backlog is on the form and in the lists; the roster is in the ledger.
    assert small["change_form"][1] > 0
    assert small["admin_list"][1] > PAGE_SIZE  # a page, and one more row: is there a next page
    assert small["ledger_month"][1] >= PEOPLE


def test_no_view_scans_the_history(measured):
    _, big = measured
    assert {name: scans for name, scans in big["scans"].items() if scans} == {}


@pytest.mark.parametrize("view", list(scale.views(WORKPLACE, NOW, SMALL)))
def test_a_ten_times_longer_history_costs_no_more(measured, view):
    small, big = measured
    assert big[view][0] == small[view][0], f"{view}: statements {small[view][0]} -> {big[view][0]}"
    assert big[view][1] <= small[view][1], f"{view}: rows fetched {small[view][1]} -> {big[view][1]}"


def test_the_new_indexes_are_in_the_migrated_schema(database):
    found = inspect(database.engine)
    requests = {ix["name"] for ix in found.get_indexes("requests")}
    assert {
        "ix_requests_kind_created",
        "ix_requests_kind_state_created",
        "ix_requests_updated",
        "ix_requests_state_kind",
    } <= requests
    assert "ix_outbox_unsent" in {ix["name"] for ix in found.get_indexes("outbox")}


def test_the_migration_fills_a_corrections_month_for_rows_stored_before(tmp_path):
    from alembic import command
    from sqlalchemy import text

    from bot.storage.db import Database, alembic_config

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    with db.engine.begin() as conn:
        cfg = alembic_config(db.url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0010_ledger")
        for n, (kind, payload) in enumerate(
            [("correction", '{"month_from": "2025-03"}'), ("complaint", '{"category": "other"}')], 1
        ):
            conn.execute(
                text(
                    "INSERT INTO requests (id, public_id, kind, state, requester_id, subject_id, payload,"
                    " created_at, updated_at) VALUES (:id, :public_id, :kind, 'submitted', 'U1', 'U1',"
                    " :payload, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                ),
                {"id": n, "public_id": f"SI-2026-{n:04d}", "kind": kind, "payload": payload},
            )
        command.upgrade(cfg, "head")
        months = dict(conn.execute(text("SELECT kind, effective_month FROM requests")).all())
    db.engine.dispose()
    assert months == {"correction": "2025-03", "complaint": None}
