"""Request lists a page at a time: ``/si status``, ``/si admin list`` and App Home's list
modal, with kind and state filters and Previous / Next buttons that carry the keyset (the
filter and the first or last row shown) in their value. The modal chooses its filters with
two selects (the words ``/si`` takes after the subcommand); each option's value is the
whole filter it leads to, so a choice needs nothing else of the view."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.domain.errors import Refused
from bot.domain.requests import RequestKind, State
from bot.handlers.listen import Interaction, Listen
from bot.handlers.replies import ephemeral, modal
from bot.ids import ActionId
from bot.presenters.requests import present_row
from bot.runtime import SiBot
from bot.services.requests import COUNTED_UP_TO, Keyset, ListFilter, Page, request_page


def page_value(which: ListFilter, start: Keyset) -> str:
    """A page button's value: ``mine|kind|state|older|2026-11-27T02:00:00+00:00|42``."""
    where = ["older" if start.older else "newer", start.created_at.isoformat(), str(start.id)]
    return "|".join([filter_value(which), *where])


def filter_value(which: ListFilter) -> str:
    """A filter select option's value: ``all|change|`` (any state)."""
    return "|".join(
        [
            "mine" if which.mine else "all",
            which.kind.value if which.kind else "",
            which.state.value if which.state else "",
        ]
    )


def read_filter_value(value: str) -> ListFilter:
    try:
        mine, kind, state = value.split("|")
        return ListFilter(
            mine=mine == "mine",
            kind=RequestKind(kind) if kind else None,
            state=State(state) if state else None,
        )
    except ValueError as exc:
        raise Refused("bad_list_page") from exc


def filter_choices(which: ListFilter) -> dict[str, list[dict[str, str]]]:
    """The options of the kind and the state selects: each the filter it leads to (the
    other select kept) and the word it shows (``kind`` / ``state``, "" for all)."""
    kinds = [None, *RequestKind]
    states = [None, *State]
    return {
        "kinds": [
            {"value": filter_value(replace(which, kind=k)), "kind": k.value if k else ""} for k in kinds
        ],
        "states": [
            {"value": filter_value(replace(which, state=st)), "state": st.value if st else ""}
            for st in states
        ],
    }


def read_page_value(value: str) -> tuple[ListFilter, Keyset]:
    try:
        mine, kind, state, direction, at, row_id = value.split("|")
        which = read_filter_value(f"{mine}|{kind}|{state}")
        return which, Keyset(datetime.fromisoformat(at), int(row_id), older=direction == "older")
    except ValueError as exc:
        raise Refused("bad_list_page") from exc


def list_message(bot: SiBot, page: Page, *, which: ListFilter, selects: bool = False) -> dict[str, Any]:
    """One page of a list, as an ephemeral message; ``selects``: with the kind and state
    selects (the list modal; /si takes them as words)."""
    links = {
        row.public_id: bot.message_link(card.channel, card.ts)
        for row in page.rows
        if (card := page.cards.get(row.id)) is not None
    }
    return ephemeral(
        bot,
        "request_list",
        views=[present_row(row, bot.workplace) for row in page.rows],
        links=links,
        total=page.total,
        counted_up_to=COUNTED_UP_TO,
        mine=which.mine,
        kind=which.kind.value if which.kind else "",
        state=which.state.value if which.state else "",
        newer=page_value(which, page.newer) if page.newer else "",
        older=page_value(which, page.older) if page.older else "",
        choices=filter_choices(which) if selects else None,
    )


def register(listen: Listen) -> None:
    bot = listen.bot

    @listen.button(ActionId.LIST_PAGE, ActionId.LIST_PAGE_OLDER, read_only=True)
    def turn_page(press: Interaction, session: Session) -> None:
        which, start = read_page_value(press.value)
        modal_list = bool(press.view_id)  # the list modal of App Home
        page = request_page(session, viewer=press.user, which=which, start=start)
        message = list_message(bot, page, which=which, selects=modal_list)
        if modal_list:
            view = modal(bot, message, "requests_mine" if which.mine else "requests_all")
            press.then(lambda: bot.client.views_update(view_id=press.view_id, view=view))
        elif press.respond is not None:  # an ephemeral answer to /si: replaced in place
            press.then(lambda: press.respond(replace_original=True, **message))
        else:
            press.reply(message)

    @listen.button(ActionId.LIST_KIND, ActionId.LIST_STATE, read_only=True)
    def filter_chosen(press: Interaction, session: Session) -> None:
        """A kind or a state chosen in the list modal: its first page under the new filter."""
        which = read_filter_value(press.value)
        if not press.view_id:  # the selects are only ever in the modal
            raise Refused("bad_list_page")
        page = request_page(session, viewer=press.user, which=which)
        message = list_message(bot, page, which=which, selects=True)
        view = modal(bot, message, "requests_mine" if which.mine else "requests_all")
        press.then(lambda: bot.client.views_update(view_id=press.view_id, view=view))
