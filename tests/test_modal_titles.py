"""Every modal says what it is about in its title, within Slack's 24 characters; none is
titled with the bot's name, which Slack already shows above it (issue 15, item 9)."""

from __future__ import annotations

import re

import pytest

from bot.messages import APP_NAME, MAX_TITLE, MESSAGES_DIR, Messages
from tests.test_messages import texts

PARAMS = {"public_id": "SI-2026-0001", "month": "2026-12", "year": 2026, "number": 12}
MESSAGE_TITLES = sorted(k.removeprefix("modal_title.") for k in texts("zh") if k.startswith("modal_title."))


def modal_templates() -> dict[str, str]:
    """Each modal template's view-level title line (the first ``"title"`` after the
    ``"type": "modal"``; confirm dialogs' titles come later, inside elements)."""
    found = {}
    for path in sorted((MESSAGES_DIR / "blocks").glob("*.json.j2")):
        source = path.read_text()
        if '"type": "modal"' in source:
            found[path.name.removesuffix(".json.j2")] = next(
                line for line in source.splitlines() if line.lstrip().startswith('"title"')
            )
    return found


def test_there_are_modal_templates_and_message_modal_titles():
    assert len(modal_templates()) >= 20 and "form_message" in modal_templates()
    assert {"refused", "error", "request", "requests_all", "contact", "docs"} <= set(MESSAGE_TITLES)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(("name", "line"), sorted(modal_templates().items()))
def test_every_modal_template_has_a_real_title(lang, name, line):
    messages = Messages(lang)
    if name == "form_message":  # the title is chosen by the caller among modal_title.*
        titles = [
            messages.render("form_message", blocks=[], title=key, params=PARAMS)["title"]["text"]
            for key in MESSAGE_TITLES
        ]
    else:
        keys = re.findall(r"""t\(['"]([\w.]+)['"]""", line)
        assert keys, f"{name}: its title is not words from messages/{lang}: {line}"
        titles = [str(messages.text(key, lang, **PARAMS)) for key in keys]
    for title in titles:
        assert title.strip() and title.strip().lower() != APP_NAME, (name, title)
        assert len(title) <= MAX_TITLE, (name, title)


def test_a_modal_titled_with_the_bots_name_is_refused(tmp_path):
    for folder in ("blocks", "en", "zh"):
        (tmp_path / folder).mkdir()
    (tmp_path / "blocks" / "m.json.j2").write_text(
        '{"type": "modal", "title": {"type": "plain_text", "text": "{{ v }}"}, "blocks": []}'
    )
    messages = Messages("en", root=tmp_path)
    for title in ("si-bot", "SI-BOT ", ""):
        with pytest.raises(ValueError, match="title"):
            messages.render("m", v=title)
    assert messages.render("m", v="Requests")["title"]["text"] == "Requests"
