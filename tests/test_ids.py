"""Action and callback ids have one spelling (bot/ids.py): every id a template writes has a
listener in the real app, and every listener's id is written by some template."""

from __future__ import annotations

import re

import pytest

from bot.ids import FORM_CALLBACKS, ActionId, CallbackId
from bot.messages import MESSAGES_DIR
from tests.conftest import ADMIN

TEMPLATES = "\n".join(p.read_text(encoding="utf-8") for p in (MESSAGES_DIR / "blocks").glob("*.j2"))
# ``ids.APPROVE``, or a numbered family written as ``ids['OFFER_' ~ loop.index]``.
_FAMILIES = set(re.findall(r"\bids\['([A-Z_]+)' ~", TEMPLATES))
WRITTEN = set(re.findall(r"\bids\.([A-Z_0-9]+)\b", TEMPLATES)) | {
    name for name in ActionId.__members__ if any(name.startswith(family) for family in _FAMILIES)
}


def test_templates_write_ids_only_through_bot_ids():
    assert not re.findall(r'"action_id": "[a-z]', TEMPLATES), "an action id spelt out in a template"
    assert set(ActionId.__members__) >= WRITTEN


def test_every_listener_id_is_written_by_some_template():
    assert set(ActionId.__members__) == WRITTEN


@pytest.mark.parametrize("name", sorted(WRITTEN))
def test_every_id_a_template_writes_has_a_listener(slack, name):
    # Bolt answers 404 to a request no listener matches.
    reply = slack.press(ActionId[name].value, "0", user=ADMIN)
    assert reply.status == 200, (name, reply.status)


@pytest.mark.parametrize("callback_id", [*FORM_CALLBACKS, *(c.value for c in CallbackId)])
def test_every_modal_has_a_listener(slack, callback_id):
    view = {"type": "modal", "callback_id": callback_id, "blocks": [], "private_metadata": "{}"}
    assert slack.submit(view, {}, user=ADMIN).status == 200


def test_an_unknown_id_is_not_taken_for_a_listener(slack):
    """The checks above can fail: a press nobody listens for is not a 200."""
    assert slack.press("no_such_action", "0", user=ADMIN).status == 404
