"""The center's bill, end to end: sent to si-bot in a DM (a signed ``file_shared``), imported,
reconciled with the ledger; each planted difference found with its likely reason, then
explained, turned into a request, or explained as rounding, until the month is reconciled;
``/si bill``; ``si-bot bill import``.

The roster, under the shipped Shanghai policy (2026-11: pension 16 / 8 %, medical 9 / 2 %,
unemployment 0.5 / 0.5 %, work injury 0.16 / 0 %):
- 张三 9,000.00 (billed as the ledger has him: 3,254.40);
- 李四 8,000.50 — the ledger 2,892.98 (tests/test_payments_e2e.py) — billed on a base of
  8,500.00: 1,360.00 + 680.00 + 765.00 + 170.00 + 42.50 + 42.50 + 13.60 = 3,073.60,
  180.62 more: a base that differs;
- 王五 left in October, still billed for pension on 7,600.00: 1,216.00 + 608.00 = 1,824.00:
  a leaver still billed;
- 赵六 8,765.43: pension 1,402.4688 -> 1,402.47 / 701.2344 -> 701.23; medical 788.8887 ->
  788.89 / 175.3086 -> 175.31; unemployment 43.82715 -> 43.83 / 43.83; work injury
  14.024688 -> 14.02 — the bill has 43.82 for the employer's unemployment: one cent less, a
  rounding difference.
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from bot.services import roster
from bot.storage.models import Bill, BillDifference, Request, StoredFile
from tests.conftest import ADMIN, ADMIN_CHANNEL, EMPLOYEE, STORY_NOW
from tests.slack import message_text
from tests.stories import WORKPLACE
from tests.test_roster_cli import cli  # noqa: F401 - the fixture
from tests.test_roster_e2e import send_file, uploaded
from tests.test_roster_rules import xlsx

ZHANG, LI, WANG, ZHAO = "11010519491231002X", "440305198506152340", "440305197901015552", "310101198503151232"
ROSTER = f"""姓名,身份证号,Slack 用户,户籍类型,参保月份,停保月份,缴费基数（元）
张三,{ZHANG},{EMPLOYEE},本市城镇,2020-01,,9000.00
李四,{LI},,外埠农村,2021-03,,8000.50
王五,{WANG},,本市城镇,2019-05,2026-10,7600.00
赵六,{ZHAO},,本市城镇,2022-01,,8765.43
""".encode()
HEADER = ["费款所属期", "姓名", "身份证号码", "险种", "缴费基数（元）", "单位缴费（元）", "个人缴费（元）"]


def lines(name: str, number: str, base: str, shares: str) -> list[list[object]]:
    """A person's rows of the bill: ``shares`` is "employer/employee" for pension,
    medical, unemployment and work injury, in that order, as many as are billed."""
    schemes = ("养老保险", "医疗保险", "失业保险", "工伤保险")
    pairs = [pair.split("/") for pair in shares.split()]
    return [
        ["2026-11", name, number, scheme, base, er, ee]
        for scheme, (er, ee) in zip(schemes, pairs, strict=False)
    ]


ZHANG_LINES = lines("张三", ZHANG, "9000", "1440.00/720.00 810.00/180.00 45.00/45.00 14.40/0")
LI_LINES = lines("李四", LI, "8500", "1360.00/680.00 765.00/170.00 42.50/42.50 13.60/0")
WANG_LINES = lines("王五", WANG, "7600", "1216.00/608.00")
ZHAO_LINES = lines("赵六", ZHAO, "8765.43", "1402.47/701.23 788.89/175.31 43.82/43.83 14.02/0")
BILL = xlsx([["单位社会保险费对账单 2026年11月"], HEADER, *ZHANG_LINES, *LI_LINES, *WANG_LINES, *ZHAO_LINES])


@pytest.fixture
def enrolled(db):
    with db.session() as session:
        assert roster.import_roster(
            session, WORKPLACE, actor="cli", file_name="roster.csv", content=ROSTER, now=STORY_NOW
        ).imported


def options(message: dict) -> dict[str, list[str]]:
    """Each listed difference's name and the values of its overflow menu."""
    found = {}
    for block in message["blocks"]:
        accessory = block.get("accessory") or {}
        if accessory.get("type") == "overflow":
            name = block["text"]["text"].split("*")[1]
            found[name] = [o["value"] for o in accessory["options"]]
    return found


def reconciliation(slack) -> dict:
    return [p for p in slack.posts_to(ADMIN) if "Bill 2026-11 reconciled" in message_text(p)][-1]


def test_a_bill_with_planted_differences_each_found_and_explained(slack, db, enrolled):
    send_file(slack, "对账单-2026-11.xlsx", BILL)
    slack.fake.wait_for("files.completeUploadExternal")
    slack.idle()
    message = reconciliation(slack)
    text = message_text(message)
    # Billed: 3,254.40 + 3,073.60 + 1,824.00 + 3,169.57 = 11,321.57; the ledger: 3,254.40 +
    # 2,892.98 + 3,169.58 = 9,316.96 (赵六: employer 2,249.21, employee 920.37).
    assert "The center bills 4 people, *11,321.57 yuan*; the ledger has 3, *9,316.96 yuan*." in text
    assert "*3 difference(s), 3 open*" in text
    listed = options(message)
    assert list(listed) == ["李四", "王五", "赵六"]
    assert "a base that differs: *180.62*" in text and "base: bill 8500.00, ledger 8000.50" in text
    assert "a leaver still billed: *1,824.00*" in text and "a rounding difference: *-0.01*" in text
    files = uploaded(slack.fake)
    rows = list(csv.reader(io.StringIO(files["reconciliation-2026-11.csv"].decode("utf-8-sig"))))
    assert [r[:3] for r in rows[1:]] == [
        ["李四", LI, "a base that differs"],
        ["王五", WANG, "a leaver still billed"],
        ["赵六", ZHAO, "a rounding difference"],
    ]
    with db.session() as session:
        stored = session.get(StoredFile, session.scalar(select(Bill.file_id)))
        assert stored.content == BILL  # the original file is kept

    # 王五: explained.
    slack.press("bill_difference", listed["王五"][0], user=ADMIN, channel="D" + ADMIN[1:])
    form = slack.fake.wait_for("views.open")[-1].result["view"]
    assert "*王五* (4403**********5552) — a leaver still billed: *1,824.00 yuan*." in message_text(form)
    assert slack.submit(form, {"note": ""}, user=ADMIN).body["response_action"] == "errors"
    reply = slack.submit(
        form, {"note": "Left on 31 October; the removal was filed on 5 November."}, user=ADMIN
    )
    assert "王五: marked explained. 2 difference(s) of 2026-11 still open" in message_text(reply.body["view"])

    # 李四: turned into a contribution record correction, filled in from the difference.
    slack.press("bill_difference", listed["李四"][1], user=ADMIN, channel="D" + ADMIN[1:])
    form = slack.fake.wait_for("views.open", 2)[-1].result["view"]
    initial = {
        b["block_id"]: b["element"].get("initial_value")
        or (b["element"].get("initial_option") or {}).get("value")
        for b in form["blocks"]
        if b["type"] == "input"
    }
    assert (
        initial["full_name"] == "李四" and initial["resident_id"] == LI and initial["month_from"] == "2026-11"
    )
    assert initial["issue"] == "base_wrong" and initial["expected"] == "3073.60"
    reply = slack.submit(form, {}, user=ADMIN)  # every field as filled in
    assert "李四: filed as SI-2026-0001" in message_text(reply.body["view"])
    slack.idle()
    card = [p for p in slack.posts_to(ADMIN_CHANNEL) if "SI-2026-0001" in str(p.get("text"))]
    assert card and "Contribution record correction" in message_text(card[0])
    assert "4403**********2340" in message_text(card[0])  # masked in the channel

    # 赵六's cent: explained as rounding from the message itself, which is redrawn.
    slack.press(
        "bill_explain_rounding", str(bill_id(db)), user=ADMIN, channel="D" + ADMIN[1:], message_ts="1.2"
    )
    (redrawn,) = slack.fake.wait_for("chat.update")
    assert ":white_check_mark: *2026-11 is reconciled*" in message_text(redrawn.params)
    with db.session() as session:
        states = dict(session.execute(select(BillDifference.full_name, BillDifference.state)).all())
        request = session.scalar(select(Request))
    assert states == {"李四": "request", "王五": "explained", "赵六": "explained"}
    assert request.kind == "correction" and request.requester_id == ADMIN

    # /si bill: the month, reconciled.
    reply = slack.command("bill 2026-11", user=ADMIN)
    assert "Reconciling 2026-11" in reply.body["text"]
    slack.idle()
    assert "*2026-11 is reconciled*" in message_text(reconciliation(slack))

    # A second press on a resolved difference changes nothing, and says why.
    slack.press("bill_difference", listed["王五"][0], user=ADMIN, channel="D" + ADMIN[1:])
    slack.idle()
    assert any("王五's difference is already explained" in message_text(r) for r in slack.responses())


def bill_id(db) -> int:
    with db.session() as session:
        return session.scalar(select(Bill.id))


def test_the_same_bill_again_is_not_imported_twice_and_others_may_not_send_one(slack, db, enrolled):
    send_file(slack, "对账单-2026-11.xlsx", BILL)
    slack.fake.wait_for("files.completeUploadExternal")
    send_file(slack, "对账单 2026-11 again.xlsx", BILL)
    assert slack.fake.wait_until(
        lambda calls: (
            sum(
                "Bill 2026-11 reconciled" in message_text(c.params)
                for c in calls
                if c.method == "chat.postMessage"
            )
            == 2
        )
    )
    slack.idle()
    assert "This very file was imported before" in message_text(reconciliation(slack))
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Bill)) == 1
    assert (
        "Only the filed social-insurance administrators"
        in slack.command("bill 2026-11", user=EMPLOYEE).body["text"]
    )
    assert "No bill of 2026-10 is imported yet" in slack.command("bill 2026-10", user=ADMIN).body["text"]


def test_a_bill_without_a_month_is_answered_with_what_to_do(slack, db, enrolled):
    send_file(slack, "bill.xlsx", xlsx([HEADER[1:], *(row[1:] for row in ZHANG_LINES)]))
    assert slack.fake.wait_until(
        lambda calls: any("which month this bill is for" in message_text(c.params) for c in calls)
    )


def test_si_bot_bill_import_prints_the_reconciliation(cli, db, enrolled, tmp_path):  # noqa: F811
    (tmp_path / "bill.xlsx").write_bytes(BILL)
    code, out, err = cli("bill", "import", "bill.xlsx", "--month", "2026-11")
    assert code == 0, err
    assert (
        "Bill of 2026-11 (bill.xlsx): 13 rows, 4 people, 11,321.57 yuan; the ledger: 3 people, 9,316.96 yuan."
        in out
    )
    assert "3 difference(s), 3 open:" in out
    assert "  李四 (4403**********2340): a base that differs: 180.62 (bill 3,073.60, ledger 2,892.98)" in out
    assert (tmp_path / "reconciliation-2026-11.csv").exists()
    code, _, err = cli("bill", "import", "bill.xlsx", "--month", "2026-10")
    assert code == 1 and "every row must be of 2026-10" in err
    assert cli("bill", "import", "missing.xlsx", "--month", "2026-11")[0] == 2
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Bill)) == 1
