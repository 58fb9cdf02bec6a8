"""November 2026 as the monthly report's tests know it: requests, help-channel questions,
reminders, the roster and the month's payment made through the services, in the order they
happen, the clock moved to each.

The figures the report must give were counted by hand from this story (EXPECTED, below).
Shanghai's default policy: change cut-off on the 20th, payment on the 25th (both working
days in November 2026), three working days' warning, reminders from 09:00, a request stale
after 3 working days. November 2026 has no public holiday; 1 December is a Tuesday.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update

from bot.domain.months import YearMonth
from bot.domain.requests import Action, RequestKind
from bot.services import help, payments, reminders, roster
from bot.services.requests import act_on_request, file_request
from bot.storage.models import OutboxMessage
from tests.conftest import ADMIN, EMPLOYEE, OTHER, SHANGHAI
from tests.stories import FORMS, new_hire

HELP_CHANNEL = "C0HELP"
# The roster before the story's new hires (each enrolled from November when their change is
# done): 陈明 and 林芳 insured all along, 王强 on a base under the floor, leaving in October.
ROSTER = """姓名,身份证号,户籍类型,参保月份,停保月份,缴费基数（元）
陈明,310105198503150219,本市城镇,2020-01,,9000.00
林芳,310104199007080328,外埠农村,2021-03,,8000.50
王强,310110199302210452,本市城镇,2024-05,2026-10,6000.00
""".encode()


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class Said:
    """What the stand-in knowledge base says to one question (bot.services.help.KnowledgeAnswer)."""

    topic: str | None
    escalate: bool = False
    out_of_scope: str | None = None
    score: float = 0.9
    lang: str = "en"
    title: str = "A topic"
    text: str = "The answer."
    sources: tuple[str, ...] = ()
    request_kind: str | None = None
    quiet: bool = False
    alternatives: tuple[str, ...] = ()  # the topics offered besides (none in this month)


@dataclass
class StandIn:
    """A knowledge base that answers each question as the story says (bot.services.help.Answerer)."""

    said: dict[str, Said] = field(default_factory=dict)
    topics: dict[str, Any] = field(default_factory=dict)

    def answer(self, question: str, lang: str | None = None, admins=()) -> Said:
        return self.said[question]


QUESTIONS = {
    "oct-payback": Said("payback"),
    "payback-1": Said("payback"),
    "payback-2": Said("payback"),
    "payback-3": Said("payback"),
    "card-1": Said("si-card"),
    "transfer-unsure-1": Said("transfer", escalate=True, score=0.3),
    "transfer-unsure-2": Said("transfer", escalate=True, score=0.3),
    "nothing-matched": Said(None, escalate=True, score=0.1),
    "housing-fund": Said("housing-fund", out_of_scope="housing-fund"),
}


class Story:
    """Runs the month on a bot: each step at its moment, with the clock moved there. The
    messages the services record (cards, receipts, reminders) stay in the outbox unsent: the
    report counts what was recorded, and sending them would only slow the story down."""

    def __init__(self, bot, clock):
        self.bot = bot
        self.clock = clock
        self.answerer = StandIn(QUESTIONS)
        self.answers: dict[str, int] = {}

    def step(self, moment: datetime, work: Callable[[Any], Any]) -> Any:
        self.clock.move_to(moment)
        with self.bot.db.session() as session:
            return work(session)

    def file(self, kind: str, moment: datetime, public_id: str) -> None:
        kind = RequestKind(kind)
        number = int(public_id.rsplit("-", 1)[1])
        raw = (
            {**new_hire(number), "effective_month": "2026-11"} if kind is RequestKind.CHANGE else FORMS[kind]
        )

        def work(session):
            request = file_request(
                session,
                self.bot.workplace,
                kind=kind,
                actor=EMPLOYEE,
                raw=raw,
                submission_key=None,
                now=moment,
            ).request
            assert request.public_id == public_id, (request.public_id, public_id)

        self.step(moment, work)

    def act(self, public_id: str, action: Action, moment: datetime) -> None:
        actor = EMPLOYEE if action is Action.CANCEL else ADMIN
        self.step(
            moment,
            lambda s: act_on_request(
                s, public_id=public_id, action=action, actor=actor, now=moment, reason="no"
            ),
        )

    def ask(self, text: str, moment: datetime) -> None:
        question = help.Question(
            key=f"msg:{HELP_CHANNEL}:{text}", channel=HELP_CHANNEL, thread_ts=f"{moment.timestamp():.6f}",
            asker=EMPLOYEE, text=text, addressed=True,
        )  # fmt: skip
        row = self.step(
            moment, lambda s: help.answer_question(s, self.bot.workplace, self.answerer, question, now=moment)
        )
        self.answers[text] = row.id

    def feedback(self, text: str, user: str, helpful: bool, moment: datetime) -> None:
        answer_id = self.answers[text]
        self.step(
            moment,
            lambda s: help.record_feedback(
                s,
                self.bot.workplace,
                self.answerer,
                answer_id=answer_id,
                user=user,
                helpful=helpful,
                now=moment,
            ),
        )

    def tick(self, moment: datetime) -> None:
        """The reminder tick, without its delivery (bot.scheduler.reminder_tick)."""
        self.step(moment, lambda s: reminders.send_due(s, self.bot.workplace, moment))

    def messages_sent(self) -> None:
        """Mark what the story recorded as sent, for tests about what is sent after it."""
        with self.bot.db.session() as session:
            session.execute(update(OutboxMessage).values(sent_at=self.bot.now()))

    def import_roster(self, content: bytes, moment: datetime) -> None:
        def work(session):
            outcome = roster.import_roster(
                session, self.bot.workplace, actor=ADMIN, file_name="roster.csv", content=content, now=moment
            )
            assert outcome.imported, outcome

        self.step(moment, work)

    def pay(self, month: str, amount: str, paid_on: str, moment: datetime) -> None:
        raw = {"amount": amount, "paid_on": paid_on, "reference": f"bank {month}"}
        self.step(
            moment,
            lambda s: payments.record_payment(
                s,
                self.bot.workplace,
                month=YearMonth.parse(month),
                raw=raw,
                actor=ADMIN,
                submission_key=None,
                now=moment,
            ),
        )

    def done(self, occurrence: str, moment: datetime) -> None:
        self.step(moment, lambda s: reminders.mark_done(s, key=occurrence, actor=ADMIN, now=moment))

    def snooze(self, occurrence: str, moment: datetime) -> None:
        self.step(
            moment,
            lambda s: reminders.snooze(s, self.bot.workplace, key=occurrence, actor=ADMIN, now=moment),
        )


def november(bot, clock) -> Story:
    """Play the month (with October's request and question before it, and what happens on 1
    and 2 December after it, none of which November's report counts)."""
    s = Story(bot, clock)
    A, D, R, C = Action.APPROVE, Action.DONE, Action.REJECT, Action.CANCEL
    # October: the roster; one change, a day to approval, three to done; one question;
    # October's contributions paid before their deadline (the 25th, a Sunday: the 26th).
    s.import_roster(ROSTER, at(10, 9))
    s.file("change", at(10, 12), "SI-2026-0001")
    s.act("SI-2026-0001", A, at(10, 13))
    s.act("SI-2026-0001", D, at(10, 15))
    s.pay("2026-10", "8876.01", "2026-10-23", at(10, 23, 15))
    s.ask("oct-payback", at(10, 30))
    s.tick(at(11, 2, 9, 5))  # the first reminder tick: reminders start on 2 November
    s.feedback("oct-payback", OTHER, True, at(11, 2, 11))  # October's answer, November's press
    s.file("change", at(11, 2), "SI-2026-0002")
    s.file("change", at(11, 2, 10, 30), "SI-2026-0003")
    s.ask("payback-1", at(11, 2, 15))
    s.act("SI-2026-0002", A, at(11, 3))  # 24 h
    s.file("change", at(11, 3, 10, 30), "SI-2026-0004")
    s.ask("payback-2", at(11, 3, 15))
    s.feedback("payback-1", OTHER, True, at(11, 3, 16))
    s.feedback("payback-1", EMPLOYEE, True, at(11, 3, 17))
    s.feedback("payback-2", OTHER, False, at(11, 3, 18))
    s.act("SI-2026-0003", A, at(11, 4, 10, 30))  # 48 h
    s.act("SI-2026-0004", A, at(11, 4, 10, 30))  # 24 h, then nobody touches it in November
    s.act("SI-2026-0002", D, at(11, 5))  # 72 h
    s.ask("payback-3", at(11, 5, 15))
    s.ask("card-1", at(11, 6, 15))
    s.feedback("card-1", EMPLOYEE, False, at(11, 6, 16))
    s.file("change", at(11, 9), "SI-2026-0005")
    s.act("SI-2026-0005", A, at(11, 9, 16))  # 6 h, then nobody touches it in November
    s.act("SI-2026-0003", D, at(11, 10, 10, 30))  # 192 h
    s.ask("transfer-unsure-1", at(11, 11, 15))
    s.ask("transfer-unsure-2", at(11, 12, 15))
    s.ask("nothing-matched", at(11, 13, 15))
    s.file("complaint", at(11, 16), "SI-2026-0006")  # nobody touches it
    s.ask("housing-fund", at(11, 16, 15))
    s.tick(at(11, 17, 9, 5))  # cut-off warning, digest
    s.tick(at(11, 18, 9, 5))  # cut-off warning, digest
    s.tick(at(11, 19, 9, 5))  # cut-off warning, digest
    s.done("change_cutoff:2026-11", at(11, 19, 15))
    s.tick(at(11, 20, 9, 5))  # payment warning, digest (the cut-off is done)
    s.file("change", at(11, 20), "SI-2026-0007")
    s.snooze("payment:2026-11", at(11, 20, 10, 30))  # until Monday the 23rd
    s.tick(at(11, 23, 9, 5))  # payment warning, digest
    s.act("SI-2026-0007", R, at(11, 23))
    s.tick(at(11, 24, 9, 5))  # payment warning, digest
    s.file("complaint", at(11, 24), "SI-2026-0008")
    s.act("SI-2026-0008", C, at(11, 24, 11))
    s.tick(at(11, 25, 9, 5))  # payment due day, digest
    s.tick(at(11, 26, 9, 5))  # payment missed, digest
    s.file("change", at(11, 26), "SI-2026-0009")
    s.file("change", at(11, 27), "SI-2026-0010")
    # December: none of this is November's.
    s.tick(at(12, 1, 9, 5))  # digest
    s.act("SI-2026-0010", A, at(12, 1))
    s.act("SI-2026-0004", D, at(12, 2))
    s.feedback("payback-3", OTHER, True, at(12, 2))
    # November's contributions, paid on the 27th (after the missed alert), recorded now: the
    # month's ledger is recorded as it stands, with 0004's new hire enrolled this morning.
    s.pay("2026-11", "19164.98", "2026-11-27", at(12, 2, 15))
    return s


def _request(kind: str, **states: int) -> dict[str, Any]:
    full = dict.fromkeys(("submitted", "approved", "done", "rejected", "cancelled"), 0) | states
    return {"kind": kind, "total": sum(full.values()), "states": full}


def _spread(count: int, median: float | None, p90: float | None) -> dict[str, Any]:
    return {"count": count, "median_hours": median, "p90_hours": p90}


NONE = _spread(0, None, None)
EXPECTED: dict[str, Any] = {
    # Filed in November: 0002-0010 (nine). At the month's end: 0002, 0003 done; 0004, 0005
    # approved; 0009, 0010 submitted (0010 is approved on 1 December); 0007 rejected; the
    # complaints 0006 submitted and 0008 cancelled.
    "requests": {
        "total": 9,
        "states": {"submitted": 3, "approved": 2, "done": 2, "rejected": 1, "cancelled": 1},
        "by_kind": [
            _request("change", submitted=2, approved=2, done=2, rejected=1),
            _request("complaint", submitted=1, cancelled=1),
        ],
    },
    # Approved in November after 24, 48, 24 and 6 hours: sorted 6, 24, 24, 48 -> median 24,
    # 90th percentile at rank 2.7: 24 + 0.7 * 24 = 40.8. Done after 72 and 192 hours: median
    # 132, 90th percentile 72 + 0.9 * 120 = 180. October: one of each, 24 and 72 hours.
    "turnaround": {
        "compared": 5,
        "months": [
            {"month": "2026-06", "approved": NONE, "done": NONE},
            {"month": "2026-07", "approved": NONE, "done": NONE},
            {"month": "2026-08", "approved": NONE, "done": NONE},
            {"month": "2026-09", "approved": NONE, "done": NONE},
            {"month": "2026-10", "approved": _spread(1, 24.0, 24.0), "done": _spread(1, 72.0, 72.0)},
            {"month": "2026-11", "approved": _spread(4, 24.0, 40.8), "done": _spread(2, 132.0, 180.0)},
        ],
    },
    # Open at the end of November, untouched since (working days to Monday 30th): 0004 since
    # the 4th (18), 0005 since the 9th (15), 0006 since the 16th (10). 0009 (the 26th: 2)
    # and 0010 (the 27th: 1) have not waited 3.
    "waiting": {
        "limit": 3,
        "count": 3,
        "requests": [
            {
                "public_id": "SI-2026-0004",
                "kind": "change",
                "state": "approved",
                "since": "2026-11-04",
                "waited": 18,
                "confidential": False,
            },
            {
                "public_id": "SI-2026-0005",
                "kind": "change",
                "state": "approved",
                "since": "2026-11-09",
                "waited": 15,
                "confidential": False,
            },
            {
                "public_id": "SI-2026-0006",
                "kind": "complaint",
                "state": "submitted",
                "since": "2026-11-16",
                "waited": 10,
                "confidential": True,
            },
        ],
    },
    # Asked in November: payback x3 answered, card answered, transfer x2 escalated, one with
    # no topic escalated, housing fund pointed elsewhere: 8. Pressed in November: helpful on
    # payback x3 (one on October's answer), not helpful on payback x1 and card x1 (the press
    # on 2 December is not November's). Escalations: transfer 2, payback 1, card 1, none 1.
    "help": {
        "answered": 4,
        "escalated": 3,
        "out_of_scope": 1,
        "helpful": 3,
        "not_helpful": 2,
        "questions": 8,
        "topics": [
            {
                "topic": "payback",
                "answered": 3,
                "escalated": 0,
                "out_of_scope": 0,
                "helpful": 3,
                "not_helpful": 1,
                "questions": 3,
                "escalations": 1,
            },
            {
                "topic": "transfer",
                "answered": 0,
                "escalated": 2,
                "out_of_scope": 0,
                "helpful": 0,
                "not_helpful": 0,
                "questions": 2,
                "escalations": 2,
            },
            {
                "topic": "si-card",
                "answered": 1,
                "escalated": 0,
                "out_of_scope": 0,
                "helpful": 0,
                "not_helpful": 1,
                "questions": 1,
                "escalations": 1,
            },
            {
                "topic": None,
                "answered": 0,
                "escalated": 1,
                "out_of_scope": 0,
                "helpful": 0,
                "not_helpful": 0,
                "questions": 1,
                "escalations": 1,
            },
            {
                "topic": "housing-fund",
                "answered": 0,
                "escalated": 0,
                "out_of_scope": 1,
                "helpful": 0,
                "not_helpful": 0,
                "questions": 1,
                "escalations": 0,
            },
        ],
        "escalating": [
            {"topic": "transfer", "escalations": 2},
            {"topic": "payback", "escalations": 1},
            {"topic": "si-card", "escalations": 1},
            {"topic": None, "escalations": 1},
        ],
    },
    # Cut-off (the 20th): warnings on the 17th, 18th and 19th, then marked done. Payment (the
    # 25th): warnings on the 20th, then snoozed to the 23rd (warning), the 24th; due day the
    # 25th; missed alert the 26th. The digest on each tick day from the 17th to the 26th (0010
    # has waited 3 working days on the 9th): 8. 2 November sent nothing; 1 December's digest
    # is December's.
    "reminders": {
        "sent": 16,
        "done": 1,
        "snoozed": 1,
        "missed": 1,
        "stages": {"warning": 6, "due_day": 1, "missed": 1, "digest": 8},
        "by_kind": [
            {"kind": "change_cutoff", "sent": 3, "done": 1, "snoozed": 0, "missed": 0},
            {"kind": "payment", "sent": 5, "done": 0, "snoozed": 1, "missed": 1},
            {"kind": "stale_digest", "sent": 8, "done": 0, "snoozed": 0, "missed": 0},
        ],
    },
    # The ledger (Shanghai, base period 2026-07..2027-06: floor 7,546, ceiling 37,731; rates
    # employer/employee pension 16/8 %, medical 9/2 %, unemployment 0.5/0.5 %, work injury
    # 0.16/0 %; each share to the cent, half up). A person's shares:
    #   base 9,000.00: pension 1,440.00/720.00, medical 810.00/180.00, unemployment
    #     45.00/45.00, work injury 14.40/0;
    #   base 8,000.50: pension 1,280.08/640.04, medical 720.05 (720.045)/160.01, unemployment
    #     40.00 (40.0025)/40.00, work injury 12.80 (12.8008)/0;
    #   base 6,000 raised to the floor 7,546: pension 1,207.36/603.68, medical 679.14/150.92,
    #     unemployment 37.73/37.73, work injury 12.07 (12.0736)/0.
    # October (recorded when paid on the 23rd): 陈明 9,000, 林芳 8,000.50, 王强 (floor): 3 people.
    #   pension 1,440.00 + 1,280.08 + 1,207.36 = 3,927.44 / 720.00 + 640.04 + 603.68 = 1,963.72
    #   medical 810.00 + 720.05 + 679.14 = 2,209.19 / 180.00 + 160.01 + 150.92 = 490.93
    #   unemployment 45.00 + 40.00 + 37.73 = 122.73 / the same 122.73
    #   work injury 14.40 + 12.80 + 12.07 = 39.27 / 0
    #   employer 6,298.63, employee 2,577.38, total 8,876.01.
    # November (recorded on 2 December): 陈明, 林芳 and the new hires of 0001-0004 (done on
    # 15 Oct, 5 Nov, 10 Nov and 2 Dec, each enrolled from November on 9,000): 6 people; joined
    # the four new hires, left 王强 (his leaving month was October).
    #   pension 5 x 1,440.00 + 1,280.08 = 8,480.08 / 5 x 720.00 + 640.04 = 4,240.04
    #   medical 5 x 810.00 + 720.05 = 4,770.05 / 5 x 180.00 + 160.01 = 1,060.01
    #   unemployment 5 x 45.00 + 40.00 = 265.00 / the same 265.00
    #   work injury 5 x 14.40 + 12.80 = 84.80 / 0
    #   employer 13,599.93, employee 5,565.05, total 19,164.98.
    # Due Wednesday 25 November (a working day); paid on the 27th: 2 days late.
    "ledger": {
        "headcount": 6,
        "previous_headcount": 3,
        "joiners": 4,
        "leavers": 1,
        "recorded": True,
        "assumed": False,
        "missing_bases": 0,
        "previous_month": "2026-10",
        "schemes": [
            {
                "scheme": "pension",
                "employer": "8480.08",
                "employee": "4240.04",
                "previous_employer": "3927.44",
                "previous_employee": "1963.72",
            },
            {
                "scheme": "medical",
                "employer": "4770.05",
                "employee": "1060.01",
                "previous_employer": "2209.19",
                "previous_employee": "490.93",
            },
            {
                "scheme": "unemployment",
                "employer": "265.00",
                "employee": "265.00",
                "previous_employer": "122.73",
                "previous_employee": "122.73",
            },
            {
                "scheme": "work_injury",
                "employer": "84.80",
                "employee": "0.00",
                "previous_employer": "39.27",
                "previous_employee": "0.00",
            },
        ],
        "employer": "13599.93",
        "employee": "5565.05",
        "total": "19164.98",
        "previous_employer": "6298.63",
        "previous_employee": "2577.38",
        "previous_total": "8876.01",
        "payment": {
            "timing": "paid_late",
            "due": "2026-11-25",
            "paid_on": "2026-11-27",
            "paid": "19164.98",
            "days_late": 2,
        },
    },
}


# November's report as the service builds it on 3 December (tests/test_report.py holds the
# service to it), with the titles the knowledge base gives its topics: what the message,
# the charts and the workbook are drawn from.
NOVEMBER_REPORT: dict[str, Any] = {
    "month": "2026-11",
    "as_of": "2026-11-30",
    "complete": True,
    "sections": EXPECTED,
    "titles": {
        "housing-fund": {"zh": "住房公积金", "en": "Housing provident fund"},
        "payback": {"zh": "补缴社保", "en": "Paying back missed contributions"},
        "si-card": {"zh": "社保卡", "en": "Social security card"},
        "transfer": {"zh": "社保关系转移", "en": "Transferring social insurance"},
    },
}
