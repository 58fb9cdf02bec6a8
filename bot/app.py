"""The Bolt app: listeners registered on a client that points at ``SLACK_API_URL``."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError

from bot import handlers
from bot.lazy import LazyPool
from bot.runtime import SiBot

log = logging.getLogger("bot.app")


def build_app(bot: SiBot, *, signing_secret: str | None = None, executor: Executor | None = None) -> App:
    """``process_before_response=True``: each listener's ack part runs in the request
    thread and the response goes out as soon as it returns (fast: no polling for ack());
    slow work — Slack API calls — runs after the ack, in the lazy pool.

    Bolt does not verify signatures here: over HTTP the gate in front of it does
    (bot/inbound.py, before anything is parsed and without Bolt's log of the whole body of
    a refused request), Socket Mode's requests are not signed, and the console makes its
    own. A request nothing listens for is answered 404 with one log line (``on_error``),
    instead of Bolt's warning that quotes the body and suggests code. The work after the
    acks runs in ``executor``: by default the lazy pool with a bounded queue (bot/lazy.py),
    not Bolt's unbounded one."""
    pool = executor if executor is not None else LazyPool()
    app = App(
        client=bot.client,
        signing_secret=signing_secret if signing_secret is not None else bot.settings.signing_secret,
        process_before_response=True,
        # auth.test would run at construction; the token is checked on first use instead.
        token_verification_enabled=False,
        request_verification_enabled=False,
        raise_error_for_unhandled_request=True,
        listener_executor=pool,
        logger=logging.getLogger("slack_bolt.App"),
    )
    app.error(on_error)
    handlers.register(app, bot, pool)
    return app


def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
    """Bolt's error handler. A request no listener matches: one line naming what it was
    (404, as Bolt answers). Any other error escaped a listener or Bolt's middleware: its
    trace, once (the response stays Bolt's 500)."""
    if isinstance(error, BoltUnhandledRequestError):
        log.warning("no listener for %s", _what(body))
        return BoltResponse(status=404, body="")
    log.error("error in Bolt for %s", _what(body), exc_info=error)
    return None


def _what(body: dict[str, Any]) -> str:
    """The kind of a request and its ids, never its values."""
    kind = body.get("type") or ("slash command" if "command" in body else "request")
    parts = [str(kind)]
    event = body.get("event")
    if isinstance(event, dict) and event.get("type"):
        parts.append(f"event {event.get('type')!r}")
    if "command" in body:
        parts.append(f"command {body.get('command')!r}")
    view = body.get("view")
    if isinstance(view, dict) and view.get("callback_id"):
        parts.append(f"callback_id {view.get('callback_id')!r}")
    if body.get("callback_id"):
        parts.append(f"callback_id {body.get('callback_id')!r}")
    actions = body.get("actions")
    if isinstance(actions, list):
        ids = [a.get("action_id") for a in actions if isinstance(a, dict)]
        parts.append(f"action_id {ids!r}")
    return ", ".join(parts)
