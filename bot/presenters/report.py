"""What the monthly report shows, from its figures (bot/services/report.py), for one language:
times in days, help topics by their titles, what is left unlisted. The message, the charts
and the workbook all draw from this one view, so they always agree."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from bot.messages import Messages, money

HOURS_A_DAY = 24


def days(hours: float | None) -> float | None:
    """Hours as days, to a tenth (how the report shows every time)."""
    return None if hours is None else round(hours / HOURS_A_DAY, 1)


def topic_title(figures: dict[str, Any], topic: str | None, lang: str) -> str | None:
    """A help topic's title in ``lang`` (its id when the knowledge base has no title for it;
    None for the questions no topic matched)."""
    if topic is None:
        return None
    return figures.get("titles", {}).get(topic, {}).get(lang) or topic


def report_view(figures: dict[str, Any], lang: str) -> dict[str, Any]:
    """The report of ``figures`` as the message, charts and workbook show it in ``lang``:
    the figures, with ``empty``, times in days (``median_days``, ``p90_days``), topic titles
    (``title``), the number of waiting requests not listed (``more``) and the contributions'
    change since the month before, signed (``change``)."""
    view = copy.deepcopy(figures)
    sections = view["sections"]
    view["empty"] = not sections
    view["lang"] = lang
    for month in sections.get("turnaround", {}).get("months", []):
        for spread in (month["approved"], month["done"]):
            spread["median_days"] = days(spread["median_hours"])
            spread["p90_days"] = days(spread["p90_hours"])
    if "waiting" in sections:
        waiting = sections["waiting"]
        waiting.setdefault("confidential", 0)
        waiting["more"] = waiting["count"] - len(waiting["requests"]) - waiting["confidential"]
    if "help" in sections:
        for row in sections["help"]["topics"] + sections["help"]["escalating"]:
            row["title"] = topic_title(figures, row["topic"], lang)
    if "ledger" in sections:
        ledger = sections["ledger"]
        change = Decimal(ledger["total"]) - Decimal(ledger["previous_total"])
        ledger["change"] = ("+" if change >= 0 else "-") + money(abs(change))
    return view


def topic_titles(answerer: Any) -> dict[str, dict[str, str]]:
    """Every help topic's title in both languages (id -> {"zh", "en"}), from the knowledge
    base (bot.services.help.Answerer), out-of-scope domains included: the report names them."""
    topics = {**getattr(answerer, "out_of_scope_domains", {}), **answerer.topics}
    return {topic: {"zh": t.title("zh"), "en": t.title("en")} for topic, t in topics.items()}


def report_message(messages: Messages, figures: dict[str, Any], lang: str | None = None) -> dict[str, Any]:
    """The report's message: its figures in words, section by section (the charts come as
    files after it), or that nothing happened."""
    lang = messages.lang(lang)
    return messages.render("monthly_report", lang=lang, view=report_view(figures, lang))
