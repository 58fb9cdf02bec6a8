"""One-statement reads outside a unit of work (bot/storage/glance.py): the same rows, types
and pages as the session's execution, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import bindparam, select

from bot.domain.requests import RequestKind, State
from bot.services.requests import (
    _PRESS,
    PAGE_SIZE,
    ListFilter,
    _list_statements,
    own_first_page,
    request_page,
)
from bot.storage.models import Request
from tests.conftest import ADMIN, EMPLOYEE, STORY_NOW
from tests.stories import add_request


def story(db, count: int) -> None:
    """``count`` requests of the employee an hour apart (the ``bot`` fixture made the
    administrator who moves them)."""
    with db.session() as session:
        for n in range(1, count + 1):
            kind = "complaint" if n % 5 == 0 else "change"
            state = "done" if n % 3 == 0 else "submitted"
            at = STORY_NOW - timedelta(hours=count - n)
            add_request(session, f"SI-2026-{n:04d}", kind, state, at, effective_month="2026-12")


def test_a_glance_reads_what_the_session_reads_with_the_same_types(bot, db):
    story(db, 3)
    page_query, _ = _list_statements(True, False, False, "top")
    params = {"viewer": EMPLOYEE, "kind": None, "state": None, "size": 10}
    glanced = db.glance.rows(page_query, params)
    with db.session(read_only=True) as session:
        executed = [dict(row._mapping) for row in session.connection().execute(page_query, params)]
    assert glanced == executed and len(glanced) == 3
    assert all(row["created_at"].utcoffset() == timedelta(0) for row in glanced)  # aware UTC


def test_a_press_reads_in_one_glance_what_the_session_reads(bot, db):
    """A button press's one read (bot/services/requests.check_action): the request's head,
    whether the presser is an administrator now, and its last event, an aware datetime."""
    story(db, 3)  # SI-2026-0003 is done: filed, approved, done an hour ago
    for presser, admin in [(ADMIN, True), (EMPLOYEE, False)]:
        params = {"public_id": "SI-2026-0003", "actor": presser}
        (glanced,) = db.glance.rows(_PRESS, params)
        with db.session(read_only=True) as session:
            (executed,) = [dict(row._mapping) for row in session.connection().execute(_PRESS, params)]
        assert glanced == {**executed, "actor_is_admin": admin}
        assert bool(executed["actor_is_admin"]) is admin
        assert (glanced["state"], glanced["last_action"], glanced["last_actor"]) == ("done", "done", ADMIN)
        assert glanced["last_at"] == STORY_NOW
        assert glanced["last_at"].utcoffset() == timedelta(0)


def test_a_glance_binds_through_the_types_datetimes_included(bot, db):
    story(db, 4)
    page_query, _ = _list_statements(True, False, False, "older")
    with db.session(read_only=True) as session:
        newest = session.scalars(select(Request).order_by(Request.id.desc())).first()
    params = {"viewer": EMPLOYEE, "kind": None, "state": None, "at": newest.created_at, "id": newest.id}
    older = db.glance.rows(page_query, {**params, "size": 10})
    assert [row["public_id"] for row in older] == ["SI-2026-0003", "SI-2026-0002", "SI-2026-0001"]


def test_the_own_first_page_is_the_page_the_session_gives(bot, db):
    story(db, PAGE_SIZE + 3)
    for kind, state in [(None, None), (RequestKind.CHANGE, None), (None, State.DONE)]:
        which = ListFilter(mine=True, kind=kind, state=state)
        glanced = own_first_page(db.glance, viewer=EMPLOYEE, which=which)
        with db.session(read_only=True) as session:
            paged = request_page(session, viewer=EMPLOYEE, which=which)
        assert glanced == paged, (kind, state)
    whole = own_first_page(db.glance, viewer=EMPLOYEE, which=ListFilter(mine=True))
    assert len(whole.rows) == PAGE_SIZE and whole.total == PAGE_SIZE + 3 and whole.older is not None
    assert own_first_page(db.glance, viewer="UNOBODY", which=ListFilter(mine=True)).total == 0


def test_a_glance_runs_outside_any_transaction(db):
    """It begins none through the engine (nothing a unit of work would see or wait for)."""
    from sqlalchemy import event

    begun = []

    def count(connection) -> None:
        begun.append(connection)

    event.listen(db.engine, "begin", count)
    try:
        own_first_page(db.glance, viewer=EMPLOYEE, which=ListFilter(mine=True))
    finally:
        event.remove(db.engine, "begin", count)
    assert begun == []


def test_everyones_requests_are_never_glanced(db):
    """They need the viewer checked as an administrator, in a unit of work (request_page)."""
    with pytest.raises(ValueError, match="own requests only"):
        own_first_page(db.glance, viewer=EMPLOYEE, which=ListFilter(mine=False))


def test_a_statement_expanded_per_call_is_refused(db):
    expanding = select(Request.id).where(Request.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="expanding"):
        db.glance.rows(expanding, {"ids": [1, 2]})
