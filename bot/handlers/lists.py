"""Request lists a page at a time: ``/si status``, ``/si admin list`` and App Home's list
modal, with kind and state filters and Previous / Next buttons that carry the keyset (the
filter and the first or last row shown) in their value."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.domain.errors import Refused
from bot.domain.requests import RequestKind, State
from bot.handlers.listen import Interaction, Listen
from bot.handlers.replies import ephemeral, modal
from bot.ids import ActionId
from bot.presenters.requests import present
from bot.runtime import SiBot
from bot.services.requests import COUNTED_UP_TO, Keyset, ListFilter, Page, request_page


def page_value(which: ListFilter, start: Keyset) -> str:
    """A page button's value: ``mine|kind|state|older|2026-11-27T02:00:00+00:00|42``."""
    return "|".join(
        [
            "mine" if which.mine else "all",
            which.kind.value if which.kind else "",
            which.state.value if which.state else "",
            "older" if start.older else "newer",
            start.created_at.isoformat(),
            str(start.id),
        ]
    )


def read_page_value(value: str) -> tuple[ListFilter, Keyset]:
    try:
        mine, kind, state, direction, at, row_id = value.split("|")
        which = ListFilter(
            mine=mine == "mine",
            kind=RequestKind(kind) if kind else None,
            state=State(state) if state else None,
        )
        return which, Keyset(datetime.fromisoformat(at), int(row_id), older=direction == "older")
    except ValueError as exc:
        raise Refused("bad_list_page") from exc


def list_message(
    bot: SiBot, session: Session, *, user: str, which: ListFilter, start: Keyset | None = None
) -> dict[str, Any]:
    """One page of a list, as an ephemeral message."""
    page: Page = request_page(session, viewer=user, which=which, start=start)
    links = {
        row.public_id: bot.message_link(card.channel, card.ts)
        for row in page.rows
        if (card := page.cards.get(row.id)) is not None
    }
    return ephemeral(
        bot,
        "request_list",
        views=[present(row, bot.workplace, whole=True) for row in page.rows],
        links=links,
        total=page.total,
        counted_up_to=COUNTED_UP_TO,
        mine=which.mine,
        kind=which.kind.value if which.kind else "",
        state=which.state.value if which.state else "",
        newer=page_value(which, page.newer) if page.newer else "",
        older=page_value(which, page.older) if page.older else "",
    )


def register(listen: Listen) -> None:
    bot = listen.bot

    @listen.button(ActionId.LIST_PAGE, ActionId.LIST_PAGE_OLDER, read_only=True)
    def turn_page(press: Interaction, session: Session) -> None:
        which, start = read_page_value(press.value)
        message = list_message(bot, session, user=press.user, which=which, start=start)
        if press.view_id:  # the list modal of App Home
            title = bot.messages.text("list.mine_title" if which.mine else "list.all_title")
            view = modal(bot, message, title=str(title))
            press.then(lambda: bot.client.views_update(view_id=press.view_id, view=view))
        elif press.respond is not None:  # an ephemeral answer to /si: replaced in place
            press.then(lambda: press.respond(replace_original=True, **message))
        else:
            press.reply(message)
