"""The filed administrators: seeded from SI_ADMINS once, then changed only by command or
handover — a restart never brings back someone whose rights ended."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.errors import Refused
from bot.services import filing, handover
from tests.conftest import ADMIN, ADMIN2, EMPLOYEE, HR, OTHER, admins, is_admin


def test_a_removed_administrator_stays_removed_across_restarts(make_bot, db):
    bot = make_bot()
    assert admins(db) == [ADMIN, ADMIN2] and is_admin(db, ADMIN2)
    with db.session() as session:
        filing.remove_admin(session, bot.workplace, actor=ADMIN, user_id=ADMIN2, now=bot.now())
    assert not is_admin(db, ADMIN2)  # at once, without a restart

    make_bot(admins=(ADMIN, ADMIN2, HR))  # SI_ADMINS still lists ADMIN2, and a newcomer
    assert admins(db) == [ADMIN, HR]
    assert is_admin(db, HR) and not is_admin(db, ADMIN2)


def test_the_filing_date_is_recorded_and_only_administrators_change_the_list(make_bot, db):
    bot = make_bot()
    with db.session() as session:
        with pytest.raises(Refused) as refused:
            filing.add_admin(
                session, bot.workplace, actor=EMPLOYEE, user_id=EMPLOYEE, filed_on=None, now=bot.now()
            )
        assert refused.value.code == "admins_only"
        added = filing.add_admin(
            session, bot.workplace, actor=ADMIN, user_id=HR, filed_on=None, now=bot.now()
        )
    assert added.outcome == "added" and str(added.filed_on) == "2026-11-27"  # today in Shanghai
    with db.session() as session:
        updated = filing.add_admin(
            session, bot.workplace, actor=ADMIN, user_id=HR, filed_on=date(2026, 1, 5), now=bot.now()
        )
        assert updated.outcome == "updated"
        assert [a.filed_on for a in filing.active_admins(session) if a.user_id == HR] == [date(2026, 1, 5)]


def test_a_handover_from_someone_no_longer_administrator_cannot_be_confirmed(make_bot, db):
    bot = make_bot()
    with db.session() as session:
        started = handover.start_handover(
            session, bot.workplace, actor=ADMIN2, successor=OTHER, now=bot.now()
        )
        number = started.handover.id
    with db.session() as session:
        filing.remove_admin(session, bot.workplace, actor=ADMIN, user_id=ADMIN2, now=bot.now())
    with db.session() as session, pytest.raises(Refused) as refused:
        handover.confirm_handover(session, bot.workplace, handover_id=number, actor=OTHER, now=bot.now())
    assert refused.value.code == "handover_outgoing_gone"
    assert not is_admin(db, OTHER)


def test_handing_over_to_a_fellow_administrator_keeps_their_filing_date(make_bot, db):
    bot = make_bot()
    with db.session() as session:
        filing.add_admin(
            session, bot.workplace, actor=ADMIN, user_id=ADMIN2, filed_on=date(2025, 3, 1), now=bot.now()
        )
        number = handover.start_handover(
            session, bot.workplace, actor=ADMIN, successor=ADMIN2, now=bot.now()
        ).handover.id
    with db.session() as session:
        handover.confirm_handover(session, bot.workplace, handover_id=number, actor=ADMIN2, now=bot.now())
        assert [(a.user_id, a.filed_on) for a in filing.active_admins(session)] == [
            (ADMIN2, date(2025, 3, 1))
        ]
