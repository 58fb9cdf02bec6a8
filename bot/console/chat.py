"""``si-bot console``: type ``/si ...`` as in Slack, fill forms at prompts, press buttons.

It drives the very same Bolt app as Slack does: each line becomes a signed request that
goes through signature checks, listeners, services and storage; the app's Web API calls
go to a FakeSlack on loopback, and what they would show in Slack is printed here.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt import App, BoltRequest
from sqlalchemy.engine import make_url

from bot.app import build_app
from bot.config import Settings
from bot.console import slack_payloads as payloads
from bot.console.fake_slack import FakeSlack, dm_of
from bot.runtime import SiBot, build_runtime
from bot.services import roles

EMPLOYEE = "U0EMPLOYEE"
CONSOLE_ADMIN = "U0ADMIN"
QUIT = (":quit", ":q", ":exit", "exit", "quit")
CHOICES = ("static_select", "radio_buttons")  # answered by an option's number (or value)
_AT_NAME = re.compile(r"(?<![<\w])@([\w.\-]+)")


class Leaving(Exception):
    """The person typed :quit (or exit) — inside a form too."""


class InlineExecutor(Executor):
    """Runs the work after an ack at once, in the caller's thread, so output appears in order."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the listener's own error handling has logged it
            future.set_exception(exc)
        return future


@dataclass
class Button:
    channel: str
    ts: str
    action_id: str
    value: str


class Console:
    def __init__(
        self,
        settings: Settings,
        *,
        read: Callable[[str], str] = input,
        write: Callable[[str], None] = print,
    ):
        self.fake = FakeSlack().start()
        self.secret = secrets.token_hex(16)
        admins = settings.admins or (CONSOLE_ADMIN,)
        self.settings = replace(
            settings,
            api_url=self.fake.api_url,
            bot_token="xoxb-console",
            signing_secret=self.secret,
            admins=admins,
        )
        self.bot: SiBot = build_runtime(self.settings)
        self.app: App = build_app(self.bot, executor=InlineExecutor())
        self.read, self.write = read, write
        self.user = EMPLOYEE
        self.admin = admins[0]
        for name, user_id in (("employee", EMPLOYEE), ("admin", self.admin)):
            self.fake.people[name] = user_id
        self.seen = 0
        self.buttons: dict[int, Button] = {}

    def t(self, key: str, **params: Any) -> str:
        return _plain_text(str(self.bot.messages.text(f"console.{key}", **params)))

    def is_admin(self, user: str) -> bool:
        with self.bot.db.session(read_only=True) as session:
            return roles.is_admin(session, user)

    def role(self, user: str) -> str:
        return self.t("role_admin" if self.is_admin(user) else "role_employee")

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> None:
        database = make_url(self.settings.database_url).render_as_string(hide_password=True)
        self.write(self.t("banner", user=self.user, role=self.role(self.user), database=database))
        try:
            while True:
                try:
                    line = self.read(f"{self.user}> ").strip()
                except EOFError:
                    break
                if line in QUIT:
                    break
                try:
                    self.handle(line)
                except Leaving:
                    break
        finally:
            self.write(self.t("bye"))
            self.fake.stop()

    def handle(self, line: str) -> None:
        if not line:
            return
        if line.startswith("/si"):
            self.slash(line[3:].strip())
        elif line.startswith(":as "):
            who = line[4:].strip().lstrip("@")
            self.user = {"employee": EMPLOYEE, "admin": self.admin}.get(who, who)
            self.write(self.t("you_are", user=self.user, role=self.role(self.user)))
            if who == "admin" and not self.is_admin(self.user):
                self.write(self.t("admin_gone", user=self.user))
        elif line.startswith(":press "):
            self.press(line[7:].strip())
        elif line.startswith((":", "/")):
            self.write(self.t("unknown"))
        else:
            self.say(line)

    # --- sending Slack's requests -----------------------------------------------------------

    def dispatch(self, signed: payloads.SignedRequest) -> dict[str, Any]:
        response = self.app.dispatch(BoltRequest(body=signed.body, headers=signed.headers))
        body = response.body or ""
        return _json_or_empty(body)

    def mentions(self, text: str) -> str:
        """``@zhang.san`` as Slack sends it (``<@U0ZHANGSAN|zhang.san>``): the stand-in
        workspace knows its people (``@me`` is whoever you act as)."""

        def person(match: re.Match) -> str:
            name = match.group(1)
            user = self.user if name.lower() == "me" else self.fake.person(name)
            return f"<@{user}|{name}>"

        return _AT_NAME.sub(person, text)

    def slash(self, text: str) -> None:
        text = self.mentions(text)
        reply = self.dispatch(
            payloads.slash_command(
                self.secret, text=text, user=self.user, response_url=self.fake.response_url(self.user)
            )
        )
        if reply.get("blocks") or reply.get("text"):
            # An ephemeral answer's buttons are pressed where it was shown (a question
            # asked before acting: /si admin remove).
            self.show(reply, self.t("ephemeral"), self.user, EPHEMERAL_TS)
        self.follow_calls()

    def say(self, text: str) -> None:
        """Anything else typed is a message in one's DM with the bot, where it answers
        social-insurance questions in the thread as in a help channel (bot/handlers/help_channel.py)."""
        ts = f"{time.time():.6f}"  # unique across sessions: the answer's key is the message's
        event = {
            "type": "message",
            "channel": dm_of(self.user),
            "channel_type": "im",
            "user": self.user,
            "text": self.mentions(text),
            "ts": ts,
            "event_ts": ts,
        }
        self.dispatch(payloads.event_callback(self.secret, event, event_id=f"Ev{ts.replace('.', '')}"))
        self.follow_calls()

    def press(self, number: str) -> None:
        button = self.buttons.get(int(number)) if number.isdigit() else None
        if button is None:
            self.write(self.t("no_button", n=number))
            return
        self.dispatch(
            payloads.block_action(
                self.secret,
                user=self.user,
                action_id=button.action_id,
                value=button.value,
                channel=button.channel,
                message_ts=button.ts,
                response_url=self.fake.response_url(self.user),
            )
        )
        self.follow_calls()

    # --- what the app asked Slack to do ------------------------------------------------------

    def follow_calls(self) -> None:
        while self.seen < len(self.fake.calls):
            call = self.fake.calls[self.seen]
            self.seen += 1
            params = call.params
            channel, ts = call.result.get("channel"), call.result.get("ts")
            if call.method == "chat.postMessage":
                self.show(params, self.t("message_to", target=params.get("channel")), channel, ts)
            elif call.method == "chat.update":
                self.show(params, self.t("updated", target=params.get("channel")), channel, ts)
            elif call.method == "response_url":
                self.show(params, self.t("ephemeral"), self.user, EPHEMERAL_TS)
            elif call.method == "views.open":
                self.fill(call.result["view"])  # with its id and hash
            elif call.method == "files.completeUploadExternal" and params.get("channel_id"):
                names = ", ".join(f["name"] for f in call.result.get("files", []))
                comment = {"text": params.get("initial_comment", "")}
                self.show(comment, self.t("files_to", target=params["channel_id"], names=names))

    def fill(self, view: dict[str, Any]) -> None:
        view = {**view, "id": view.get("id") or f"V{secrets.token_hex(4).upper()}"}
        self.write(f"\n┌─ {self.t('modal')}: {_plain_text(view['title']['text'])}")
        self.write("│ " + self.t("modal_help"))
        for block in view["blocks"]:
            if block.get("type") != "input":  # what the form says besides its fields
                for line in self._block_lines(block, None, None):
                    self.write("│ " + line)
        answers: dict[str, str] = {}
        while True:
            inputs = [b for b in view["blocks"] if b.get("type") == "input"]
            redrawn = None
            for block in inputs:
                name = block["block_id"]
                if name in answers:
                    continue
                answer = self.ask(block)
                if answer is None:
                    self.write(self.t("closed"))
                    return
                answers[name] = answer
                if block.get("dispatch_action") and answer != _initial(block["element"]):
                    # A choice that changes the form (as in Slack: the app redraws it).
                    redrawn = self.redraw(view, answers, name)
                    if redrawn:
                        break
            if redrawn:
                view = redrawn
                continue
            reply = self.dispatch(
                payloads.view_submission(self.secret, user=self.user, view=view, answers=answers)
            )
            if reply.get("response_action") == "errors":
                # Each field's mistake right under what was typed in it, then that field again.
                for block in inputs:
                    name = block["block_id"]
                    if name in reply["errors"]:
                        label = _plain_text(block["label"]["text"])
                        self.write(f"│ {label}: {answers.get(name, '')}")
                        self.write(self.t("field_error", error=reply["errors"][name]))
                        answer = self.ask(block)
                        if answer is None:
                            self.write(self.t("closed"))
                            return
                        answers[name] = answer
                continue
            if reply.get("response_action") == "update":
                self.show(reply["view"], _plain_text(reply["view"]["title"]["text"]))
            break
        self.follow_calls()

    def redraw(self, view: dict[str, Any], answers: dict[str, str], name: str) -> dict[str, Any] | None:
        """Send the choice made in ``name``; the view the app redrew the form to, if it did."""
        before = len(self.fake.calls)
        signed = payloads.view_block_action(
            self.secret, user=self.user, view=view, answers=answers, block_id=name
        )
        self.dispatch(signed)
        updates = [c for c in self.fake.calls[before:] if c.method == "views.update" and c.result.get("ok")]
        return updates[-1].result["view"] if updates else None

    def ask(self, block: dict[str, Any]) -> str | None:
        element = block["element"]
        label = _plain_text(block["label"]["text"])
        optional = block.get("optional", False)
        hint = _plain_text(block.get("hint", {}).get("text", ""))
        if hint:
            self.write(f"│   ({hint})")
        initial = _initial(element)
        choices = payloads.options_of(element) if element["type"] in CHOICES else []
        for n, option in enumerate(choices, 1):
            described = option.get("description", {}).get("text", "")
            self.write(
                f"│   {n}. {_plain_text(option['text']['text'])}{f' — {described}' if described else ''}"
            )
        prompt = f"│ {label}{'' if optional else ' *'}{f' [{initial}]' if initial else ''}: "
        try:
            answer = self.read(prompt).strip()
        except EOFError:
            return None
        if answer == ":cancel":
            return None
        if answer in QUIT:
            self.write(self.t("closed"))
            raise Leaving
        answer = answer or initial
        if choices and answer.isdigit():
            index = int(answer) - 1
            answer = choices[index]["value"] if 0 <= index < len(choices) else answer
        if element["type"] == "users_select":
            name = answer.lstrip("@")
            known = {"me": self.user, "employee": EMPLOYEE, "admin": self.admin}
            answer = known.get(name) or (self.fake.person(name) if answer.startswith("@") else answer)
        return answer

    # --- printing Block Kit as text -----------------------------------------------------------

    def show(
        self, message: dict[str, Any], where: str, channel: str | None = None, ts: str | None = None
    ) -> None:
        self.write(f"\n┌─ {where}")
        blocks = message.get("blocks") or []
        if not blocks and message.get("text"):
            self.write("│ " + _plain_text(message["text"]))
        for block in blocks:
            for line in self._block_lines(block, channel, ts):
                self.write("│ " + line)
        self.write("└─")

    def _block_lines(self, block: dict[str, Any], channel: str | None, ts: str | None) -> list[str]:
        kind = block.get("type")
        if kind == "header":
            return [f"== {_plain_text(block['text']['text'])} =="]
        if kind == "section":
            lines = []
            if block.get("text"):
                lines += _plain_text(block["text"]["text"]).splitlines()
            for field in block.get("fields", []):
                lines += ["  " + part for part in _plain_text(field["text"]).split("\n", 1)]
            accessory = block.get("accessory") or {}
            if accessory.get("type") == "static_select":  # what a button beside it will read
                chosen = (accessory.get("initial_option") or {}).get("text", {}).get("text", "…")
                lines[-1:] = [f"{lines[-1] if lines else ''} [{_plain_text(chosen)} ▾]"]
            if accessory.get("type") == "button" and channel and ts:  # Contact the administrator
                number = len(self.buttons) + 1
                self.buttons[number] = Button(channel, ts, accessory["action_id"], accessory.get("value", ""))
                lines.append(f"[{number}] {_plain_text(accessory['text']['text'])}")
            return lines
        if kind == "context":
            return ["  " + " · ".join(_plain_text(e.get("text", "")) for e in block["elements"])]
        if kind == "divider":
            return ["─" * 40]
        if kind == "actions" and channel and ts:
            labels = []
            for element in block["elements"]:
                # An overflow menu's options are pressed like buttons.
                choices = element.get("options", []) if element.get("type") == "overflow" else [element]
                for choice in choices:
                    number = len(self.buttons) + 1
                    self.buttons[number] = Button(channel, ts, element["action_id"], choice.get("value", ""))
                    labels.append(f"[{number}] {_plain_text(choice['text']['text'])}")
            return ["  ".join(labels)]
        return []


EPHEMERAL_TS = "ephemeral"  # an ephemeral message has no ts of its own
_MENTION = re.compile(r"<([@#])([A-Z0-9]+)(?:\|[^>]*)?>")


def _initial(element: dict[str, Any]) -> str:
    return (
        element.get("initial_value")
        or element.get("initial_user")
        or element.get("initial_date")
        or (element.get("initial_option") or {}).get("value", "")
    )


def _plain_text(text: str) -> str:
    text = _MENTION.sub(lambda m: f"{m.group(1)}{m.group(2)}", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _json_or_empty(body: str) -> dict[str, Any]:
    if not body:
        return {}
    try:
        value = json.loads(body)
    except json.JSONDecodeError:
        return {"text": body}
    return value if isinstance(value, dict) else {}
