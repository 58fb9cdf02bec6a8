"""Draws si-bot's App Home for a person and publishes it (``views.publish``): when they
open it, and after each change that concerns them (a request filed or moved, a form
marked filed, a handover). Redrawing is best effort: a failure is logged, and the tab is
drawn afresh the next time it is opened."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.domain.requests import Kind
from bot.services import home

if TYPE_CHECKING:
    from bot.runtime import SiBot
    from bot.storage.models import Request

log = logging.getLogger(__name__)
FORM_KINDS = [k.value for k in Kind]


class HomePublisher:
    def __init__(self, bot: SiBot):
        self.bot = bot

    def view(self, user: str) -> dict:
        """The Home tab view for ``user``."""
        bot = self.bot
        with bot.db.session(read_only=True) as session:
            data = home.home_for(session, bot.workplace, user=user, now=bot.now())
        return bot.messages.render(
            "home",
            home=data,
            user=user,
            policy=bot.policy,
            form_kinds=FORM_KINDS,
            help_channels=list(bot.settings.help_channels),
            # What the help channel can answer, from the knowledge base itself.
            topics=[topic.title(bot.lang) for topic in bot.knowledge.topics.values()],
        )

    def publish(self, user: str) -> None:
        self.bot.client.views_publish(user_id=user, view=self.view(user))

    def opened(self, user: str) -> None:
        """``app_home_opened``: remember the person, and draw their Home."""
        with self.bot.db.session() as session:
            home.opened(session, user, self.bot.now())
        self.publish(user)

    def refresh(self, users: Iterable[str]) -> None:
        """Redraw the Home of those of ``users`` who have opened it."""
        with self.bot.db.session(read_only=True) as session:
            targets = home.watchers(session, list(users))
        for user in targets:
            try:
                self.publish(user)
            except Exception:
                log.warning("App Home of %s not redrawn", user, exc_info=True)

    def after_request(self, request: Request) -> None:
        """A request was filed or moved: its requester's Home and the administrators'."""
        self.refresh([request.requester_id, *self.bot.workplace.admins])
