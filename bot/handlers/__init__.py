"""Slack glue: one module per kind of listener, each with ``register(app, bot)``."""

from slack_bolt import App

from bot.handlers import actions, answers, commands, events, reminders, views, workspace
from bot.runtime import SiBot


def register(app: App, bot: SiBot) -> None:
    workspace.register(app, bot)  # first: its /si subcommands before the catch-all
    commands.register(app, bot)
    actions.register(app, bot)
    views.register(app, bot)
    events.register(app, bot)
    answers.register(app, bot)
    reminders.register(app, bot)
