"""One shape for every listener.

Each acks at once; its work runs in a unit of work (a session, committed, then the
messages it recorded are sent); what it asks of Slack — a reply, a modal, a redrawn
message — happens after the commit; and a refusal, a field error or an unexpected error
becomes the right reply through ``replies.py``. Work after the ack goes straight to the
lazy pool (bot/lazy.py) with the body Bolt already parsed: Bolt's own lazy listeners
would deep-copy the whole request and inject its arguments a second time, on every press.
A listener function is then only what is particular to it::

    @listen.button(ActionId.APPROVE)
    def approve(press: Interaction, session: Session) -> None:
        act_on_request(session, public_id=press.value, action=Action.APPROVE, ...)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.domain.errors import FieldErrors, Refused
from bot.handlers import replies
from bot.runtime import SiBot

log = logging.getLogger("bot.handlers")
Effect = Callable[[], Any]


def ack_only(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    ack()


@dataclass
class Interaction:
    """A person's button press, or a slash command's follow-up: who, what, and the ways to
    answer them. Answers are queued and made after the unit of work commits."""

    bot: SiBot
    client: WebClient
    user: str
    value: str = ""  # a button's value
    action_id: str = ""
    trigger_id: str = ""
    channel: str = ""  # where it happened ("" on App Home)
    message_ts: str = ""  # the message whose button was pressed ("" on App Home)
    view_id: str = ""  # the modal whose button was pressed ("" elsewhere)
    respond: Callable[..., Any] | None = None  # the response URL ("" on App Home)
    # What the selects of the message show when the button is pressed, by action id.
    chosen: dict[str, str] = field(default_factory=dict)
    view: dict[str, Any] = field(default_factory=dict)  # the modal a choice was made in
    effects: list[Effect] = field(default_factory=list)

    @classmethod
    def of_action(cls, bot: SiBot, body: dict[str, Any], client: WebClient) -> Interaction:
        action = body["actions"][0]
        container = body.get("container") or {}
        on_message = container.get("type") == "message"
        selected = (action.get("selected_option") or {}).get("value")
        return cls(
            bot=bot,
            client=client,
            user=body["user"]["id"],
            value=selected if selected is not None else action.get("value", ""),
            action_id=action["action_id"],
            trigger_id=body.get("trigger_id", ""),
            channel=container.get("channel_id", "") if on_message else "",
            message_ts=container.get("message_ts", "") if on_message else "",
            view_id=container.get("view_id", "") if container.get("type") == "view" else "",
            respond=bot.responses.to(body["response_url"]) if body.get("response_url") else None,
            chosen=_chosen(body),
            view=(body.get("view") or {}) if container.get("type") == "view" else {},
        )

    @classmethod
    def of_command(cls, bot: SiBot, body: dict[str, Any], client: WebClient) -> Interaction:
        return cls(
            bot=bot,
            client=client,
            user=body["user_id"],
            trigger_id=body.get("trigger_id", ""),
            channel=body.get("channel_id", ""),
            respond=bot.responses.to(body["response_url"]) if body.get("response_url") else None,
        )

    # -- answers, made after the commit --------------------------------------------------------

    def reply(self, message: dict[str, Any]) -> None:
        """An answer only this person sees: ephemeral where they acted, or by DM from App
        Home (which has no response URL)."""
        self.effects.append(lambda: self.reply_now(message))

    def open(self, view: dict[str, Any]) -> None:
        """Open a modal (within the trigger's 3 seconds)."""
        self.effects.append(lambda: self.client.views_open(trigger_id=self.trigger_id, view=view))

    def redraw(self, message: dict[str, Any]) -> None:
        """Redraw the message whose button was pressed; from App Home, send it by DM."""
        if self.message_ts:
            self.effects.append(
                lambda: self.client.chat_update(channel=self.channel, ts=self.message_ts, **message)
            )
        else:
            self.effects.append(lambda: self.client.chat_postMessage(channel=self.user, **message))

    def then(self, effect: Effect) -> None:
        """Any other Slack work for after the commit (files, several messages)."""
        self.effects.append(effect)

    def reply_now(self, message: dict[str, Any]) -> None:
        if self.respond is not None:
            self.respond(replace_original=False, **message)
        else:
            plain = {k: v for k, v in message.items() if k != "response_type"}
            self.client.chat_postMessage(channel=self.user, **plain)

    def run(
        self,
        work: Callable[..., Any],
        *,
        read_only: bool,
        where: str,
        refusals_answered: bool = False,
        unit: bool = True,
    ) -> None:
        """Do ``work`` in a unit of work, then its answers; a refusal or an error is
        answered to this person instead (``refusals_answered``: a refusal was already
        answered, by a slash command's ack, and is not repeated). ``unit=False``: ``work``
        takes no session and opens its own units, if it needs any."""
        with replies.replying(self.bot, self.reply_now, where, quiet_refusals=refusals_answered):
            if unit:
                with self.bot.work(read_only=read_only) as session:
                    work(self, session)
            else:
                work(self)
            for effect in self.effects:
                effect()


@dataclass(frozen=True)
class Submission:
    """A submitted modal: who, its values (``{field: text}``) and its view."""

    user: str
    values: dict[str, str]
    view: dict[str, Any]

    @property
    def key(self) -> str:
        """The modal's view id: a double submission finds what the first one recorded."""
        return f"view:{self.view['id']}"


AckFunction = Callable[..., None]


class Listen:
    """Registers listeners of the one shape on a Bolt app; ``pool`` runs what comes after
    the acks.

    Presses and submissions are collected by id, then ``install`` gives Bolt one listener
    for all presses and one for all submissions, each finding its function by id in a dict,
    and the events after them.
    Bolt tries its listeners one after the other, each matcher through its argument
    injection: with a listener per id, a press of the sixtieth id paid for sixty matchers
    before its own ran."""

    def __init__(self, app: App, bot: SiBot, pool: Executor):
        self.app = app
        self.bot = bot
        self.pool = pool
        self._presses: dict[str, AckFunction] = {}
        self._submissions: dict[str, AckFunction] = {}
        self._events: list[tuple[str, AckFunction]] = []

    def install(self) -> None:
        """Give Bolt the presses, submissions and events collected (once every area registered)."""
        presses, submissions = self._presses, self._submissions

        def on_press(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            presses[body["actions"][0]["action_id"]](ack, body, client)

        def on_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
            submissions[view["callback_id"]](ack, body, view)

        self.app.action(_any_of(presses))(on_press)
        self.app.view(_any_of(submissions))(on_submission)
        # Events last: a press, whose person waits for the answer, is matched before them.
        for name, ack_then_work in self._events:
            self.app.event(name)(ack_then_work)

    def _add(self, table: dict[str, AckFunction], ids: tuple[str, ...], function: AckFunction) -> None:
        for each in ids:
            if each in table:
                raise ValueError(f"two listeners for {each!r}")
            table[each] = function

    def later(self, work: Effect, where: str) -> None:
        """``work`` after the ack, in the lazy pool; an error that escapes it is logged
        (a listener's own errors are answered by ``Interaction.run``)."""

        def run() -> None:
            try:
                work()
            except Exception:
                log.exception("%s: the work after the ack failed", where)

        self.pool.submit(run)

    def button(self, *action_ids: str, read_only: bool = False, unit: bool = True):
        """``work(interaction, session)`` after the ack, for presses of ``action_ids``;
        ``unit=False``: ``work(interaction)``, which opens its own units (a press answered
        from one glance when it can't move anything, bot/handlers/requests.py)."""

        def register(work: Callable[..., Any]):
            def ack_then_work(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
                ack()
                press = Interaction.of_action(self.bot, body, client)
                self.later(
                    lambda: press.run(work, read_only=read_only, where=press.action_id, unit=unit),
                    press.action_id,
                )

            self._add(self._presses, action_ids, ack_then_work)
            return work

        return register

    def submission(self, *callback_ids: str, after: Callable[[SiBot, str], Any] | None = None):
        """``work(submission, session)`` within the ack: it returns the ack's answer (None:
        the modal closes). Field errors are shown on their fields; a refusal or an error
        replaces the modal with what happened. Then, after the ack, the outbox is sent
        and ``after(bot, user)`` runs."""

        def register(work: Callable[[Submission, Session], dict[str, Any] | None]):
            def ack_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
                submitted = Submission(body["user"]["id"], field_values(view), view)
                try:
                    with self.bot.db.session() as session:
                        answer = work(submitted, session)
                    ack(**(answer or {}))
                except FieldErrors as exc:
                    ack(**replies.field_errors(self.bot, exc))
                except Refused as exc:
                    ack(
                        response_action="update",
                        view=replies.modal(self.bot, replies.refused(self.bot, exc), "refused"),
                    )
                except Exception as exc:
                    apology = replies.apology(self.bot, exc, view.get("callback_id", "form"))
                    ack(response_action="update", view=replies.modal(self.bot, apology, "error"))
                self.later(lambda: then(submitted.user), view.get("callback_id", "form"))

            def then(user: str) -> None:
                self.bot.deliverer.deliver_pending()
                if after is not None:
                    after(self.bot, user)

            self._add(self._submissions, callback_ids, ack_submission)
            return work

        return register

    def choice(self, *action_ids: str) -> None:
        """Selects whose choice a button of the same message reads (``Interaction.chosen``):
        choosing only needs an ack."""
        self._add(self._presses, action_ids, ack_only)

    def event(self, name: str):
        """``work(event)`` after the ack; an error is logged (there is nobody to answer)."""

        def register(work: Callable[[dict[str, Any]], Any]):
            def ack_then_work(ack: Ack, event: dict[str, Any]) -> None:
                ack()
                self.later(lambda: work(event), f"{name} event")

            self._events.append((name, ack_then_work))
            return work

        return register


def _any_of(ids: dict[str, Any]) -> re.Pattern[str]:
    """The one pattern Bolt matches an id against: exactly one of ``ids``."""
    return re.compile("^(?:" + "|".join(map(re.escape, sorted(ids))) + ")$")


def field_values(view: dict[str, Any]) -> dict[str, str]:
    """``{block_id: value}`` for every input in a submitted view, whatever its element type."""
    values: dict[str, str] = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        for element in actions.values():
            values[block_id] = _element_value(element)
    return values


def _chosen(body: dict[str, Any]) -> dict[str, str]:
    """``{action_id: value}`` of every stateful element of the message a button is on."""
    return {
        action_id: _element_value(element)
        for actions in body.get("state", {}).get("values", {}).values()
        for action_id, element in actions.items()
    }


def _element_value(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind in ("static_select", "radio_buttons", "external_select"):
        option = element.get("selected_option") or {}
        return option.get("value", "")
    if kind == "users_select":
        return element.get("selected_user") or ""
    if kind == "conversations_select":
        return element.get("selected_conversation") or ""
    if kind == "datepicker":
        return element.get("selected_date") or ""
    return element.get("value") or ""
