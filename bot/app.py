"""The Bolt app: listeners registered on a client that points at ``SLACK_API_URL``."""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App

from bot import handlers
from bot.runtime import SiBot


def build_app(bot: SiBot, *, signing_secret: str | None = None, executor: Executor | None = None) -> App:
    """``process_before_response=True``: each listener's ack part runs in the request
    thread and the response goes out as soon as it returns (fast: no polling for ack());
    slow work — Slack API calls — runs in lazy listeners after the ack."""
    app = App(
        client=bot.client,
        signing_secret=signing_secret if signing_secret is not None else bot.settings.signing_secret,
        process_before_response=True,
        # auth.test would run at construction; the token is checked on first use instead.
        token_verification_enabled=False,
        listener_executor=executor,
        logger=logging.getLogger("slack_bolt.App"),
    )
    handlers.register(app, bot)
    return app
