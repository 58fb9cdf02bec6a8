"""Slack glue: one module per area, each with ``register``; every listener has the one
shape of ``listen.py``, and ``/si`` is the table of ``subcommands.py``."""

from concurrent.futures import Executor

from slack_bolt import App

from bot.handlers import (
    bases,
    files,
    forms,
    help_channel,
    ledger,
    lists,
    reminders,
    requests,
    roster,
    subcommands,
    workspace,
)
from bot.handlers.listen import Listen
from bot.runtime import SiBot


def register(app: App, bot: SiBot, pool: Executor) -> None:
    listen = Listen(app, bot, pool)
    subcommands.register(listen)  # first: /si is what most requests are
    requests.register(listen)
    forms.register(listen)
    workspace.register(listen)
    lists.register(listen)
    help_channel.register(listen)
    reminders.register(listen)
    roster.register(listen)
    files.register(listen)
    ledger.register(listen)
    bases.register(listen)
    listen.install()
