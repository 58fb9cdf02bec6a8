"""One place that turns outcomes and errors into what the user sees."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bot.domain.errors import FieldErrors, Refused
from bot.runtime import SiBot

log = logging.getLogger("bot.handlers")


def ephemeral(bot: SiBot, name: str, /, **ctx: Any) -> dict[str, Any]:
    """A rendered message for a slash-command or response_url reply, seen by the user only."""
    message = bot.messages.render(name, policy=bot.policy, **ctx)
    return {"response_type": "ephemeral", **message}


def notice(bot: SiBot, key: str, /, **params: Any) -> dict[str, Any]:
    return ephemeral(bot, "notice", body=bot.messages.text(key, **params))


def refused(bot: SiBot, exc: Refused) -> dict[str, Any]:
    return notice(bot, f"error.{exc.code}", **exc.params)


def apology(bot: SiBot, exc: BaseException, where: str) -> dict[str, Any]:
    """Log the whole trace under a short reference the user can quote; show only that."""
    reference = uuid.uuid4().hex[:8].upper()
    log.error("unexpected error in %s [ref %s]", where, reference, exc_info=exc)
    return notice(bot, "error.unexpected", reference=reference)


def modal(bot: SiBot, message: dict[str, Any], title: str, /, **params: Any) -> dict[str, Any]:
    """A message's blocks shown in a modal (an answer to a form, or information), under the
    title ``modal_title.<title>`` (messages/*/modals.toml: what the modal is about, within
    Slack's 24 characters; never the bot's name)."""
    return bot.messages.render("form_message", blocks=message["blocks"], title=title, params=params)


def field_errors(bot: SiBot, exc: FieldErrors) -> dict[str, Any]:
    """``response_action: errors``, a message under each field that needs fixing."""
    return {
        "response_action": "errors",
        "errors": {
            name: str(bot.messages.text(f"error.{problem.code}", **problem.params))
            for name, problem in exc.problems.items()
        },
    }


@contextmanager
def replying(
    bot: SiBot, reply: Callable[[dict[str, Any]], Any], where: str, *, quiet_refusals: bool = False
) -> Iterator[None]:
    """Run a listener's work; a refusal or an unexpected error is answered with ``reply``
    (the refusal's words, or an apology with a reference and the trace in the log)."""
    try:
        yield
    except Refused as exc:
        if quiet_refusals:
            log.debug("%s refused (%s): already answered", where, exc.code)
        else:
            reply(refused(bot, exc))
    except Exception as exc:
        reply(apology(bot, exc, where))
