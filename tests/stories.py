"""Requests for a test's story, made the way users make them: through the services."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.domain import resident_id
from bot.domain.policy import load_policy
from bot.domain.requests import Action, RequestKind
from bot.domain.workplace import Workplace
from bot.services.requests import act_on_request, file_request
from bot.storage.models import Request
from tests.conftest import ADMIN, EMPLOYEE, SHANGHAI

VALID_ID = "11010519491231002X"
NAME = "Zhang San"
WORKPLACE = Workplace.of(load_policy(), SHANGHAI)
FORMS = {
    RequestKind.CHANGE: {
        "change_type": "add",
        "person": EMPLOYEE,
        "full_name": NAME,
        "resident_id": VALID_ID,
        "hukou": "local_urban",
        "contribution_base": "9000",
    },
    RequestKind.COMPLAINT: {
        "category": "unpaid_months",
        "description": "My March contributions were never paid",
    },
}


def new_hire(number: int) -> dict[str, str]:
    """A change form for the ``number``-th new hire of a story: a person of their own (the
    roster refuses to enrol one person twice), with a valid resident ID."""
    first17 = f"3101011990{1 + number // 28 % 12:02d}{1 + number % 28:02d}{number % 1000:03d}"
    return {
        **FORMS[RequestKind.CHANGE],
        "full_name": f"New hire {number}",
        "resident_id": first17 + resident_id.check_char(first17),
    }


# The actions that lead from submitted to each state.
PATHS = {
    "submitted": [],
    "approved": [Action.APPROVE],
    "done": [Action.APPROVE, Action.DONE],
    "rejected": [Action.REJECT],
}


def add_request(
    session: Session, public_id: str, kind: str, state: str, at: datetime, effective_month: str = "2026-02"
) -> Request:
    """File a request of ``kind`` at ``at`` as an employee, and move it to ``state`` as an
    administrator would; ``public_id`` is the id the story expects it to get."""
    kind = RequestKind(kind)
    form = new_hire(int(public_id.rsplit("-", 1)[1])) if kind is RequestKind.CHANGE else FORMS[kind]
    raw = {**form, "effective_month": effective_month}
    request = file_request(
        session, WORKPLACE, kind=kind, actor=EMPLOYEE, raw=raw, submission_key=None, now=at
    ).request
    assert request.public_id == public_id, (request.public_id, public_id)
    for action in PATHS[state]:
        act_on_request(session, public_id=public_id, action=action, actor=ADMIN, now=at, reason="no")
    return request
