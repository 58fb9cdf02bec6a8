"""Slack glue: one module per kind of listener, each with ``register(app, bot)``."""

from slack_bolt import App

from bot.handlers import actions, answers, commands, events, files, reminders, views, workspace
from bot.runtime import SiBot


def register(app: App, bot: SiBot) -> None:
    commands.register(app, bot)  # first: /si is what most requests are
    workspace.register(app, bot)
    actions.register(app, bot)
    views.register(app, bot)
    events.register(app, bot)
    answers.register(app, bot)
    reminders.register(app, bot)
    files.register(app, bot)
