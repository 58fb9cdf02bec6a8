"""The administrator's workspace, end to end through the real Bolt app: the monthly change
form (its files read back with openpyxl, then marked filed), App Home for both roles, the
administrators' filing, the certificate registry and the handover of the role."""

from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook
from sqlalchemy import select

from bot.console import slack_payloads as payloads
from bot.storage.models import Administrator, AuditEntry, Request, UnitDocument
from tests.conftest import ADMIN, ADMIN2, ADMIN_CHANNEL, EMPLOYEE, HR, OTHER, SECRET, is_admin
from tests.slack import message_text

VALID_ID = "11010519491231002X"
OTHER_ID = "110105197006100016"
CHANGE = {
    "change_type": "add",
    "person": EMPLOYEE,
    "full_name": "Zhang San",
    "resident_id": VALID_ID,
    "hukou": "local_urban",
    "effective_month": "2026-12",
    "contribution_base": "9000",
}


def file_change(slack, user=EMPLOYEE, **answers) -> str:
    view = slack.open_form("change add", user=user)
    reply = slack.submit(view, {**CHANGE, **answers}, user=user, view_id=view["id"])
    assert reply.body["response_action"] == "update", reply.raw
    text = message_text(reply.body["view"])
    return next(word.strip("*") for word in text.split() if word.strip("*").startswith("SI-"))


def state_of(db, public_id: str) -> str:
    with db.session() as session:
        return session.scalar(select(Request.state).where(Request.public_id == public_id))


def approve(slack, public_id: str) -> None:
    """Approve, and wait until the administrators' card shows it (redrawn, or posted late
    already approved)."""
    slack.press("request_approve", public_id, user=ADMIN)
    slack.wait_card(public_id, "Approved")


def uploaded(fake) -> dict[str, bytes]:
    """File name -> the bytes the app uploaded (files_upload_v2's three steps)."""
    names = {c.result["file_id"]: c.params["filename"] for c in fake.calls_to("files.getUploadURLExternal")}
    return {names[c.params["file_id"]]: c.params["content"] for c in fake.calls_to("upload")}


def buttons(message: dict) -> dict[str, str]:
    found = {}
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            found.setdefault(element["action_id"], element.get("value", ""))
        if block.get("accessory", {}).get("type") == "button":
            found.setdefault(block["accessory"]["action_id"], block["accessory"]["value"])
    return found


def open_home(slack, user: str, n: int):
    event = {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home"}
    assert slack.event(event, event_id=f"EvHome{user}{n}").status == 200
    published = slack.fake.wait_for("views.publish", n)
    assert len(published) >= n
    return published[n - 1].params


def wait_home(fake, user: str, needle: str) -> dict:
    """The first Home published for ``user`` that shows ``needle`` (redraws run in threads)."""

    def shown(calls) -> list[dict]:
        return [
            c.params["view"]
            for c in calls
            if c.method == "views.publish"
            and c.params["user_id"] == user
            and needle in message_text(c.params["view"])
        ]

    assert fake.wait_until(shown), f"no Home for {user} shows {needle!r}"
    return shown(fake.calls)[0]


def press_home(slack, action_id: str, value: str, *, user: str):
    return slack.send(payloads.home_block_action(SECRET, user=user, action_id=action_id, value=value))


# --- the monthly change form ----------------------------------------------------------------


def test_admin_exports_the_change_form_and_reads_it_back(slack, db):
    first = file_change(slack)
    second = file_change(
        slack,
        user=OTHER,
        change_type="remove",
        person=OTHER,
        full_name="Li Si",
        resident_id=OTHER_ID,
        hukou="nonlocal_rural",
        contribution_base="",
    )
    waiting = file_change(slack, user=HR, person=HR, full_name="Wang Wu", resident_id=OTHER_ID)
    january = file_change(slack, full_name="Zhao Liu", effective_month="2027-01")
    # Effective in November, approved too late for November's form: it belongs on December's.
    november = file_change(slack, full_name="Sun Qi", effective_month="2026-11")
    slack.wait_posts(10)
    approve(slack, first)
    approve(slack, second)
    approve(slack, january)
    approve(slack, november)

    reply = slack.command("export change-form 2026-12", user=ADMIN)
    assert reply.body["response_type"] == "ephemeral" and "arrives in your DM" in message_text(reply.body)
    complete = slack.fake.wait_for("files.completeUploadExternal", 1)[0].params
    assert complete["channel_id"] == "DADMIN0001"  # the administrator's DM, not a channel
    files = uploaded(slack.fake)
    assert set(files) == {"change-form-2026-12.xlsx", "change-form-2026-12.csv"}

    sheet = load_workbook(io.BytesIO(files["change-form-2026-12.xlsx"])).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert "2026-12" in rows[0][0]
    assert rows[1] == [
        "Name",
        "Resident ID number",
        "Change",
        "Effective month",
        "Contribution base (yuan)",
        "Hukou type",
        "Request",
        "Note",
    ]
    late = "late: effective 2026-11, missed an earlier form"
    assert rows[2:] == [
        ["Sun Qi", VALID_ID, "Addition", "2026-11", 9000, "Local, urban", november, late],
        ["Zhang San", VALID_ID, "Addition", "2026-12", 9000, "Local, urban", first, None],
        ["Li Si", OTHER_ID, "Removal", "2026-12", None, "Non-local, rural", second, None],
    ]  # one row a person; the waiting one and January's are not on it
    assert sheet.cell(row=3, column=2).data_type == "s"  # the ID is text, every digit kept

    text = files["change-form-2026-12.csv"].decode("utf-8")
    assert text.startswith("\ufeff")  # so that Excel reads Chinese names
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert table[2] == ["Zhang San", VALID_ID, "Addition", "2026-12", "9000.00", "Local, urban", first, ""]
    assert len(table) == 4

    message = next(p for p in slack.wait_posts(15) if p["channel"] == "DADMIN0001")
    assert "3 people — 2 addition(s), 1 removal(s), 0 update(s)." in message_text(message)
    assert "change_form_filed" in buttons(message)
    assert state_of(db, waiting) == "submitted"


def test_marking_the_form_filed_completes_each_change_and_tells_each_requester(slack, db):
    first = file_change(slack)
    second = file_change(slack, user=OTHER, person=OTHER, full_name="Li Si", resident_id=OTHER_ID)
    slack.wait_posts(4)
    approve(slack, first)
    approve(slack, second)
    slack.command("export change-form 2026-12", user=ADMIN)
    posts = slack.wait_posts(7)
    message = next(p for p in posts if p["channel"] == "DADMIN0001")
    export_id = buttons(message)["change_form_filed"]
    late = file_change(slack, full_name="Late Comer", resident_id=OTHER_ID)
    approve(slack, late)  # approved after the export: not on the filed form

    assert slack.press("change_form_filed", export_id, user=EMPLOYEE).status == 200
    assert "Only the filed" in message_text(slack.fake.wait_for("response_url", 1)[0].params)
    assert state_of(db, first) == "approved"

    slack.press("change_form_filed", export_id, user=ADMIN2)

    def filed_redraws(calls) -> list[dict]:
        return [c.params for c in calls if c.method == "chat.update" and "is filed" in message_text(c.params)]

    assert slack.fake.wait_until(filed_redraws)
    assert "2 change(s) done" in message_text(filed_redraws(slack.fake.calls)[0])
    assert (state_of(db, first), state_of(db, second), state_of(db, late)) == ("done", "done", "approved")
    slack.wait_posts(12)
    for requester, public_id in ((EMPLOYEE, first), (OTHER, second)):
        told = [
            p
            for p in slack.posts_to(requester)
            if public_id in message_text(p) and "*Done*" in message_text(p)
        ]
        assert len(told) == 1

    slack.press("change_form_filed", export_id, user=ADMIN)
    refusals = [message_text(r.params) for r in slack.fake.wait_for("response_url", 2)]
    assert "already marked filed" in refusals[-1]


def test_exporting_is_for_administrators_and_an_empty_month_says_so(slack, db):
    reply = slack.command("export change-form 2026-12", user=EMPLOYEE)
    assert "Only the filed" in message_text(reply.body)
    slack.command("export change-form 2027-02", user=ADMIN)
    (post,) = slack.wait_posts(1)
    assert post["channel"] == ADMIN and "nothing to put on the form" in message_text(post)
    assert not slack.fake.calls_to("files.getUploadURLExternal")


def test_the_command_line_exports_the_same_form(slack, db, tmp_path, monkeypatch):
    first = file_change(slack)
    slack.wait_posts(2)
    approve(slack, first)
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("SI_LANGUAGE", "zh")
    monkeypatch.setenv("SI_ADMINS", f"{ADMIN},{ADMIN2}")
    from bot.cli import main

    assert main(["export", "change-form", "--month", "2026-12", "--out", str(tmp_path / "form.xlsx")]) == 0
    sheet = load_workbook(tmp_path / "form.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:3] == ("姓名", "公民身份号码", "变更类型")
    assert rows[2] == ("Zhang San", VALID_ID, "增员", "2026-12", 9000, "本市城镇", first, None)
    assert (tmp_path / "form.csv").read_text(encoding="utf-8-sig").splitlines()[1].startswith("Zhang San,")


# --- App Home ------------------------------------------------------------------------------


def test_app_home_for_an_administrator_and_its_refresh_after_an_action(slack, db):
    first = file_change(slack)
    view = slack.open_form("complaint", user=OTHER)
    slack.submit(view, {"category": "wrong_base", "description": "My base is too low"}, user=OTHER)
    slack.wait_posts(5)

    home = open_home(slack, ADMIN, 1)
    assert home["user_id"] == ADMIN
    view = home["view"]
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    text = message_text(view)
    assert "Open requests (2)" in text
    assert "Enrolment change: 1 waiting, 0 approved" in text and "Complaint: 1 waiting" in text
    assert "Change form 2026-12" in text and "waiting for approval: 1" in text
    assert "Next deadlines" in text and "2026-12-21 — change cut-off for 2026-12" in text  # Sun 20 -> Mon 21
    assert "Complaints awaiting a reply (1)" in text and "SI-2026-0002" in text
    assert "My base is too low" not in text  # the complaint itself stays out of Home
    assert {"home_command", "home_open_form"} <= set(buttons(view))

    approve(slack, first)
    again = wait_home(slack.fake, ADMIN, "On the form (approved): 1")
    assert "Enrolment change: 0 waiting, 1 approved" in message_text(again)


def test_app_home_for_an_employee_opens_each_form(slack, db):
    public_id = file_change(slack)
    home = open_home(slack, EMPLOYEE, 1)["view"]
    text = message_text(home)
    assert "Your requests" in text and public_id in text and "Submitted" in text
    assert "Open requests" not in text and "Change form" not in text
    forms = [
        e["value"]
        for b in home["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "home_open_form"
    ]
    # Three common forms as buttons; every other in the "More…" select; no topic paragraph.
    assert forms == ["card", "medical", "transfer"]
    (more,) = [
        e
        for b in home["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "home_open_form_more"
    ]
    assert more["placeholder"]["text"] == "More…"
    assert [o["value"] for o in more["options"]] == [
        "change",
        "payback",
        "complaint",
        "retirement",
        "unemployment",
        "settlement",
        "correction",
    ]
    assert "Help topics" not in text and "Your insurance record" not in text  # no roster row linked

    press_home(slack, "home_open_form", "retirement", user=EMPLOYEE)
    opened = slack.fake.wait_for("views.open", 2)[-1]
    assert opened.params["trigger_id"] == "trigger-home"
    assert opened.result["view"]["callback_id"] == "retirement_form"
    # An employee's press on an administrator's button is refused, by DM (Home has no response URL).
    press_home(slack, "home_command", "export", user=EMPLOYEE)
    assert slack.fake.wait_until(
        lambda calls: any(
            c.method == "chat.postMessage"
            and c.params["channel"] == EMPLOYEE
            and "Only the filed" in message_text(c.params)
            for c in calls
        )
    )


# --- filing, contact, the registry ------------------------------------------------------------


def test_filed_administrators_are_kept_and_changes_are_logged(slack, db):
    with db.session() as session:
        rows = session.scalars(select(Administrator).order_by(Administrator.user_id)).all()
        assert [(r.user_id, r.source) for r in rows] == [(ADMIN, "SI_ADMINS"), (ADMIN2, "SI_ADMINS")]

    assert "Only the filed" in message_text(slack.command(f"admin add <@{HR}>", user=EMPLOYEE).body)
    added = slack.command(f"admin add <@{HR}> 2026-01-05", user=ADMIN)
    assert "now a filed administrator (filed on 2026-01-05)" in message_text(added.body)
    contact = message_text(slack.command("contact", user=EMPLOYEE).body)
    assert f"<@{HR}> — filed with the social security center on 2026-01-05" in contact
    assert f"<@{ADMIN}>" in contact and "12333" in contact and "Shanghai Social Insurance" in contact

    public_id = file_change(slack)
    slack.wait_posts(2)
    slack.press("request_approve", public_id, user=HR)  # a filed administrator now
    slack.fake.wait_for("chat.update", 1)
    assert state_of(db, public_id) == "approved"

    # Removing asks first: a danger button with a confirm; nothing changes until it is pressed.
    asked = slack.command(f"admin remove <@{HR}>", user=ADMIN).body
    (button,) = [e for b in asked["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["style"] == "danger" and button["confirm"]["style"] == "danger"
    assert f"Remove <@{HR}> as an administrator?" in message_text(asked)
    assert is_admin(db, HR)
    posts = len(slack.fake.calls_to("chat.postMessage"))
    slack.press(button["action_id"], button["value"], user=ADMIN)
    done = slack.fake.wait_for("response_url", 1)[-1].params
    assert "no longer an administrator" in message_text(done)
    # The removed person and the administrators' channel are told.
    told = {p["channel"]: p for p in slack.wait_posts(posts + 2)[posts:]}
    assert f"<@{ADMIN}> removed your administrator rights" in message_text(told[HR])
    assert told[HR]["text"] == "You are no longer an administrator"
    assert f"<@{ADMIN}> removed <@{HR}> as an administrator" in message_text(told[ADMIN_CHANNEL])
    slack.press("admin_remove", ADMIN2, user=ADMIN)
    slack.fake.wait_for("response_url", 2)
    last = slack.command(f"admin remove <@{ADMIN}>", user=ADMIN)
    assert "the only filed administrator" in message_text(last.body)
    with db.session() as session:
        log = [(e.action, e.subject) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert ("admin_add", HR) in log and ("admin_remove", HR) in log and ("admin_remove", ADMIN2) in log


def test_documents_are_registered_and_listed(slack, db):
    assert "Only the filed" in message_text(slack.command("docs", user=EMPLOYEE).body)
    assert slack.command("docs add", user=ADMIN).status == 200
    view = slack.fake.wait_for("views.open", 1)[0].result["view"]
    assert view["callback_id"] == "document_form"
    answers = {
        "category": "certificate",
        "name": "",
        "location": "HR cabinet 3",
        "holder": ADMIN,
        "due_on": "2027-01-31",
    }
    reply = slack.submit(view, answers, user=ADMIN)
    assert set(reply.body["errors"]) == {"name", "due_kind"}
    reply = slack.submit(
        view,
        {**answers, "name": "Social insurance registration certificate", "due_kind": "exam"},
        user=ADMIN,
        view_id=view["id"],
    )
    assert "Registered" in message_text(reply.body["view"])
    listed = message_text(slack.command("docs", user=ADMIN).body)
    assert "Social insurance registration certificate" in listed and "HR cabinet 3" in listed
    assert "annual examination 2027-01-31" in listed and f"<@{ADMIN}>" in listed
    home = message_text(open_home(slack, ADMIN, 1)["view"])
    assert "2027-01-31 — annual examination: Social insurance registration certificate" in home


# --- handover ---------------------------------------------------------------------------------


def test_handover_from_start_to_confirmation(slack, db):
    slack.command("docs add", user=ADMIN)
    view = slack.fake.wait_for("views.open", 1)[0].result["view"]
    slack.submit(
        view,
        {"category": "account", "name": "Online service U-key", "location": "Safe", "holder": ADMIN},
        user=ADMIN,
        view_id=view["id"],
    )
    public_id = file_change(slack)
    slack.wait_posts(2)

    assert "yourself" in message_text(slack.command(f"admin handover <@{ADMIN}>", user=ADMIN).body)
    assert "Only the filed" in message_text(slack.command(f"admin handover <@{HR}>", user=EMPLOYEE).body)
    started = slack.command(f"admin handover <@{HR}>", user=ADMIN)
    assert "on its way to you and to" in message_text(started.body)
    posts = slack.wait_posts(4)
    outgoing = next(p for p in posts if p["channel"] == ADMIN)
    successor = next(p for p in posts if p["channel"] == HR)
    for copy in (outgoing, successor):
        text = message_text(copy)
        assert "Online service U-key" in text and "Safe" in text and public_id in text
        assert "change cut-off for 2026-12" in text and "经办人变更" in text
    assert "handover_confirm" in buttons(successor) and "handover_confirm" not in buttons(outgoing)
    number = buttons(successor)["handover_confirm"]

    slack.press("handover_confirm", number, user=OTHER)
    assert "Only <@UHRSTAFF01>" in message_text(slack.fake.wait_for("response_url", 1)[0].params)
    assert is_admin(db, ADMIN)

    slack.press("handover_confirm", number, user=HR, channel="DHRSTAFF01")
    done = [p for p in slack.wait_posts(7) if "is confirmed" in message_text(p)]
    assert {p["channel"] for p in done} == {ADMIN, HR, ADMIN_CHANNEL}
    assert is_admin(db, HR) and not is_admin(db, ADMIN)
    with db.session() as session:
        assert session.scalar(select(UnitDocument.holder_id)) == HR
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-5:] == [
        "handover_start",
        "admin_add",
        "admin_remove",
        "documents_move",
        "handover_confirm",
    ]

    # The old administrator can no longer approve; the successor can.
    slack.press("request_approve", public_id, user=ADMIN)
    refusals = slack.fake.wait_for("response_url", 2)
    assert "Only the filed" in message_text(refusals[-1].params)
    assert state_of(db, public_id) == "submitted"
    slack.press("request_approve", public_id, user=HR)
    slack.fake.wait_for("chat.update", 2)
    assert state_of(db, public_id) == "approved"

    again = slack.command(f"admin handover <@{OTHER}>", user=ADMIN)
    assert "Only the filed" in message_text(again.body)

    # The whole handover is logged and can be exported.
    reply = slack.command("export handover", user=HR)
    assert f"#{number}" in message_text(reply.body)
    slack.fake.wait_for("files.completeUploadExternal", 1)
    files = uploaded(slack.fake)
    sheet = load_workbook(io.BytesIO(files[f"handover-{number}.xlsx"])).active
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert "Online service U-key" in cells and public_id in cells and "confirmed" in cells
    assert "handover_confirm" in cells and "admin_remove" in cells
    assert files[f"handover-{number}.csv"].decode("utf-8-sig").startswith("Section,Item")
    complete = json.loads(slack.fake.calls_to("files.completeUploadExternal")[0].params["files"])
    assert len(complete) == 2
