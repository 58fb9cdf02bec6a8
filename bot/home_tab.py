"""Draws si-bot's App Home for a person and publishes it (``views.publish``): when they
open it, and after each change that concerns them (a request filed or moved, a form
marked filed, a handover). Built once per runtime and given to the outbox's deliverer.
Redrawing is best effort: a failure is logged, and the tab is drawn afresh the next time
it is opened."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.domain.requests import RequestKind
from bot.domain.workplace import Workplace
from bot.messages import Messages
from bot.services import home, roles
from bot.storage.db import Database
from bot.storage.models import Request

log = logging.getLogger(__name__)
FORM_KINDS = [k.value for k in RequestKind]
# The forms an employee's Home offers as buttons, the ones people file most for
# themselves; the others are in its "More…" select.
COMMON_FORMS = [RequestKind.CARD.value, RequestKind.MEDICAL.value, RequestKind.TRANSFER.value]


class HomePublisher:
    def __init__(
        self,
        db: Database,
        workplace: Workplace,
        messages: Messages,
        client: WebClient,
        settings: Settings,
        clock: Callable[[], datetime],
    ):
        self.db = db
        self.workplace = workplace
        self.messages = messages
        self.client = client
        self.settings = settings
        self.clock = clock

    def view(self, session: Session, user: str) -> dict:
        """The Home tab view for ``user``."""
        data = home.home_for(session, self.workplace, user=user, now=self.clock())
        return self.messages.render(
            "home",
            home=data,
            user=user,
            policy=self.workplace.policy,
            form_kinds=FORM_KINDS,
            common_forms=COMMON_FORMS,
            help_channels=list(self.settings.help_channels),
        )

    def publish(self, session: Session, user: str) -> None:
        self.client.views_publish(user_id=user, view=self.view(session, user))

    def opened(self, user: str) -> None:
        """``app_home_opened``: remember the person, and draw their Home."""
        with self.db.session() as session:
            home.opened(session, user, self.clock())
            view = self.view(session, user)
        self.client.views_publish(user_id=user, view=view)

    def refresh(self, users: Iterable[str], *, admins: bool = False) -> None:
        """Redraw the Home of those of ``users`` (and of every administrator, with
        ``admins``) who have opened it."""
        with self.db.session(read_only=True) as session:
            self._refresh(session, list(users), admins=admins)

    def after_request(self, session: Session, request: Request) -> None:
        """A request was filed or moved: its requester's Home and the administrators'."""
        self._refresh(session, [request.requester_id], admins=True)

    def _refresh(self, session: Session, users: list[str], *, admins: bool) -> None:
        wanted = users + (roles.admin_ids(session) if admins else [])
        for user in home.watchers(session, wanted):
            try:
                self.publish(session, user)
            except Exception:
                log.warning("App Home of %s not redrawn", user, exc_info=True)
