"""The knowledge base: topics read from ``messages/kb/*.toml``, answers rendered from the
policy, and the decision to answer, point elsewhere, hand over to a human, or stay quiet.

Files in the knowledge base folder:
- ``<topic-id>.toml``: one topic (see any of them for the fields).
- ``_out_of_scope.toml``: one table per recognised domain that is not social insurance
  (housing fund, tax…): sample questions to recognise it and the can't-help text; or,
  with ``quiet = true``, chatter and office talk that the bot recognises to stay out of.
- ``_lexicon.toml``: jieba words, rewrites, stopwords and the in-scope terms.

How :meth:`KnowledgeBase.answer` decides:
1. Nothing left once markup and stopwords are gone ("thanks!", ":tada:"): quiet.
2. A question that names social insurance (``社保``, ``pension``… — ``domain_terms``) is
   only matched against the topics. One that does not, but names an out-of-scope domain's
   marker (``公积金``, ``income tax``…), gets that domain's pointer.
3. The best match scores at least ``THRESHOLD`` (see ranking.py for the score) and the
   question either names social insurance or a related term, or shares at least
   ``MIN_MATCHED_WORDS`` words with the match: the topic's answer, the domain's pointer, or
   silence for a quiet domain.
4. Otherwise: a question with a social-insurance or related term is escalated to the
   administrators; anything else gets silence.
"""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from jinja2 import Environment, StrictUndefined, Template, TemplateError
from markupsafe import Markup

from bot.domain.policy import Policy, load_policy
from bot.knowledge.ranking import Ranker
from bot.knowledge.text import Analysis, Analyzer, Lexicon, detect_lang
from bot.resources import resource_dir

DEFAULT_KB_DIR = resource_dir("messages") / "kb"

# An answer is given when the best topic's normalised score (see ranking.py) reaches this.
# Chosen from tests/eval/questions.tsv with `python -m bot.knowledge.evaluate --sweep`.
THRESHOLD = 0.22

# Without a social-insurance term (see _lexicon.toml), a question must share this many
# words with the topic to be answered.
MIN_MATCHED_WORDS = 2

LANGS = ("zh", "en")
REQUEST_KINDS = frozenset(
    {"change", "payback", "complaint", "card", "transfer", "retire", "unemployment", "medical", "settle"}
)
# Answers stay short: a few sentences or bullets (Slack's own limit is 3,000 a section).
MAX_ANSWER_CHARS = 1500
_USER_ID_RE = re.compile(r"[UW][A-Z0-9]{2,}")


class KnowledgeBaseError(ValueError):
    """A knowledge base file is missing a field or holds one that cannot work."""


@dataclass(frozen=True)
class Answer:
    """What the help channel should say to one question.

    - ``topic`` set: ``text`` answers it (mrkdwn), ``sources`` cite it.
    - ``out_of_scope`` set (``"housing-fund"``, ``"tax"``…): not social insurance; ``text``
      says where to go instead.
    - ``escalate``: a social-insurance question the knowledge base is not sure about: an
      administrator should answer (``closest`` is the best guess, for them).
    - ``quiet``: chatter or unrelated: say nothing.

    ``score`` is the best normalised score (0-1); the bot answers from ``THRESHOLD`` up.
    """

    topic: str | None
    score: float
    lang: str
    title: str = ""
    text: str = ""
    sources: tuple[str, ...] = ()
    request_kind: str | None = None
    escalate: bool = False
    out_of_scope: str | None = None
    quiet: bool = False
    closest: str | None = None


@dataclass(frozen=True)
class Topic:
    """A topic's metadata (its answer is rendered on demand)."""

    id: str
    title_zh: str
    title_en: str
    request_kind: str | None
    asks: tuple[str, ...]  # sample questions and keywords, both languages: what is indexed
    keywords: tuple[str, ...] = ()

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en


@dataclass(frozen=True)
class _Entry:
    topic: Topic
    out_of_scope: bool
    answers: Mapping[str, Template]
    sources: tuple[Template, ...]
    quiet: bool = False  # a recognised domain the bot says nothing about
    markers: tuple[str, ...] = ()  # out-of-scope terms: they decide unless social insurance is named


def _number(value: Decimal | int | float) -> str:
    """Figures as people write them: ``7,460``, ``16``, ``0.5``."""
    value = Decimal(str(value))
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.normalize():,f}"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _finalize(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return str(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Decimal | int | float):
        return _number(value)
    return _slack_escape(str(value))


def _mention(user_id: str) -> Markup:
    user_id = str(user_id).strip()
    return Markup(f"<@{user_id}>") if _USER_ID_RE.fullmatch(user_id) else Markup(_slack_escape(user_id))


def _yuan(value: Any) -> str:
    return f"{Decimal(str(value)):,.2f}"


_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")  # fmt: skip


def _ordinal(day: int) -> str:
    """``1`` → ``1st``, ``22`` → ``22nd``, ``13`` → ``13th``."""
    day = int(day)
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _monthday(value: str, lang: str = "zh") -> str:
    """``"07-01"`` → ``7月1日`` / ``1 July``."""
    month, _, day = str(value).partition("-")
    if not (month.isdigit() and day.isdigit() and 1 <= int(month) <= 12):
        return str(value)
    if lang == "zh":
        return f"{int(month)}月{int(day)}日"
    return f"{int(day)} {_MONTHS_EN[int(month) - 1]}"


def _environment() -> Environment:
    env = Environment(
        autoescape=False,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(mention=_mention, yuan=_yuan, monthday=_monthday, number=_number, ordinal=_ordinal)
    return env


def _strings(data: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise KnowledgeBaseError(f"{where}: '{key}' must be a list of non-empty strings")
    if required and not value:
        raise KnowledgeBaseError(f"{where}: '{key}' is empty")
    return tuple(v.strip() for v in value)


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeBaseError(f"{where}: missing '{key}'")
    return value.strip()


def _parse_entry(data: Mapping[str, Any], where: str, env: Environment, *, out_of_scope: bool) -> _Entry:
    topic_id = _text(data, "id", where)
    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", topic_id):
        raise KnowledgeBaseError(f"{where}: id {topic_id!r} must be lower-case words joined by '-'")
    kind = data.get("request_kind")
    if kind is not None and (out_of_scope or kind not in REQUEST_KINDS):
        raise KnowledgeBaseError(f"{where}: request_kind {kind!r} is not one of {sorted(REQUEST_KINDS)}")
    asks: list[str] = []
    keywords: list[str] = []
    for lang in LANGS:
        asks += _strings(data, f"ask_{lang}", where, required=True)
        keywords += _strings(data, f"keywords_{lang}", where)
    quiet = data.get("quiet", False)
    if not isinstance(quiet, bool) or (quiet and not out_of_scope):
        raise KnowledgeBaseError(f"{where}: 'quiet' is true or false, and only for out-of-scope domains")
    try:
        answers = (
            {} if quiet else {lang: env.from_string(_text(data, f"answer_{lang}", where)) for lang in LANGS}
        )
        sources = tuple(
            env.from_string(s) for s in _strings(data, "sources", where, required=not out_of_scope)
        )
    except TemplateError as exc:
        raise KnowledgeBaseError(f"{where}: bad template: {exc}") from exc
    topic = Topic(
        id=topic_id,
        title_zh=_text(data, "title_zh", where),
        title_en=_text(data, "title_en", where),
        request_kind=kind,
        asks=tuple(asks + keywords),
        keywords=tuple(keywords),
    )
    markers = _strings(data, "markers", where)
    if markers and not out_of_scope:
        raise KnowledgeBaseError(f"{where}: 'markers' are only for out-of-scope domains")
    return _Entry(topic, out_of_scope, MappingProxyType(answers), sources, quiet, markers)


class KnowledgeBase:
    """Topics, their answers, and a ranker over their sample questions. Build it once with
    :meth:`load` and share it: :meth:`answer` only reads."""

    def __init__(
        self,
        entries: Sequence[_Entry],
        lexicon: Lexicon,
        policy: Policy,
        *,
        threshold: float,
        tz: tzinfo | None = None,
    ) -> None:
        self.policy = policy
        # Answers quote the figures of the month they are given in (SI_TIMEZONE).
        self.tz = tz or ZoneInfo("Asia/Shanghai")
        self.threshold = threshold
        # The policy's sources for its rates, each once, one a line (a source per line).
        parts = (p.strip() for r in policy.rates for p in r.source.split(";"))
        self._rate_sources = "\n".join(dict.fromkeys(p for p in parts if p))
        self._entries = tuple(entries)
        # The topics' Chinese keywords join jieba's dictionary, so that they are cut whole.
        keywords = (k for e in self._entries for k in e.topic.keywords)
        self._analyzer = Analyzer(lexicon, extra_words=keywords)
        texts = ["\n".join((e.topic.title_zh, e.topic.title_en, *e.topic.asks)) for e in self._entries]
        self._ranker = Ranker([self._analyzer.analyse(text) for text in texts])
        self._analyzer.learn_spelling(texts)
        self._markers = [
            (i, self._analyzer.terms(e.markers)) for i, e in enumerate(self._entries) if e.markers
        ]
        self._out_of_scope_mask = np.array([e.out_of_scope for e in self._entries])
        self.topics: Mapping[str, Topic] = MappingProxyType(
            {e.topic.id: e.topic for e in self._entries if not e.out_of_scope}
        )
        self.out_of_scope_domains: Mapping[str, Topic] = MappingProxyType(
            {e.topic.id: e.topic for e in self._entries if e.out_of_scope and not e.quiet}
        )
        self.load_seconds = 0.0

    @classmethod
    def load(
        cls,
        kb_dir: Path | str | None = None,
        policy: Policy | None = None,
        *,
        threshold: float = THRESHOLD,
        tz: tzinfo | None = None,
    ) -> KnowledgeBase:
        """Read every topic of ``kb_dir`` (default: ``messages/kb``), check that each answer
        renders with ``policy`` (default: the shipped policy file), and build the index.
        Raises :class:`KnowledgeBaseError` naming the file at fault."""
        started = time.perf_counter()
        folder = Path(kb_dir) if kb_dir is not None else DEFAULT_KB_DIR
        policy = policy if policy is not None else load_policy()
        env = _environment()
        entries: list[_Entry] = []
        for path in sorted(folder.glob("*.toml")):
            if path.name.startswith("_"):
                continue
            entry = _parse_entry(_read(path), str(path), env, out_of_scope=False)
            if entry.topic.id != path.stem:
                raise KnowledgeBaseError(f"{path}: id {entry.topic.id!r} differs from the file name")
            entries.append(entry)
        if not entries:
            raise KnowledgeBaseError(f"{folder}: no topics (*.toml) found")
        oos_path = folder / "_out_of_scope.toml"
        if oos_path.is_file():
            for domain, table in _read(oos_path).items():
                if not isinstance(table, dict):
                    raise KnowledgeBaseError(f"{oos_path}: [{domain}] must be a table")
                entries.append(
                    _parse_entry({"id": domain, **table}, f"{oos_path} [{domain}]", env, out_of_scope=True)
                )
        ids = [e.topic.id for e in entries]
        if len(set(ids)) != len(ids):
            raise KnowledgeBaseError(
                f"{folder}: duplicate ids {sorted({i for i in ids if ids.count(i) > 1})}"
            )
        kb = cls(entries, Lexicon.load(folder / "_lexicon.toml"), policy, threshold=threshold, tz=tz)
        kb._check_renders(str(folder))
        kb.load_seconds = time.perf_counter() - started
        return kb

    def _check_renders(self, where: str) -> None:
        for entry in self._entries:
            if entry.quiet:
                continue
            for lang in LANGS:
                for admins in ((), ("U0ADMIN1", "U0ADMIN2")):
                    try:
                        text, _ = self._render(entry, lang, admins)
                    except (TemplateError, ArithmeticError, KeyError, TypeError) as exc:
                        raise KnowledgeBaseError(
                            f"{where}: {entry.topic.id} ({lang}) does not render: {exc}"
                        ) from exc
                    if len(text) > MAX_ANSWER_CHARS:
                        raise KnowledgeBaseError(
                            f"{where}: {entry.topic.id} ({lang}) is {len(text)} characters long;"
                            f" keep answers under {MAX_ANSWER_CHARS}"
                        )

    def _render(self, entry: _Entry, lang: str, admins: Sequence[str]) -> tuple[str, tuple[str, ...]]:
        ctx = {
            "policy": self.policy,
            # This month's figures (``period.assumed``: no base period covers it).
            "period": self.policy.period_on(datetime.now(self.tz).date()),
            "admins": list(admins),
            "lang": lang,
            "rate_sources": self._rate_sources,
        }
        text = entry.answers[lang].render(ctx).strip()
        # A rendered source may list several, one a line: each is cited once.
        pieces = (p.strip() for t in entry.sources for p in t.render(ctx).splitlines())
        return text, tuple(dict.fromkeys(p for p in pieces if p))

    def render(self, topic_id: str, lang: str = "zh", admins: Sequence[str] = ()) -> Answer:
        """A topic's answer without a question (for `/si help <topic>`, tests, previews)."""
        entry = next(e for e in self._entries if e.topic.id == topic_id and not e.quiet)
        return self._answer_with(entry, 1.0, lang if lang in LANGS else "zh", admins)

    def _answer_with(self, entry: _Entry, score: float, lang: str, admins: Sequence[str]) -> Answer:
        text, sources = self._render(entry, lang, admins)
        if entry.out_of_scope:
            return Answer(
                topic=None,
                score=score,
                lang=lang,
                title=entry.topic.title(lang),
                text=text,
                sources=sources,
                out_of_scope=entry.topic.id,
                closest=entry.topic.id,
            )
        return Answer(
            topic=entry.topic.id,
            score=score,
            lang=lang,
            title=entry.topic.title(lang),
            text=text,
            sources=sources,
            request_kind=entry.topic.request_kind,
            closest=entry.topic.id,
        )

    def analyse(self, question: str) -> Analysis:
        return self._analyzer.analyse(question)

    def scores(self, question: str) -> dict[str, float]:
        """Every topic's and domain's normalised score for ``question`` (for diagnostics)."""
        values = self._ranker.scores(self._analyzer.analyse(question))
        return {e.topic.id: float(v) for e, v in zip(self._entries, values, strict=True)}

    def answer(self, question: str, lang: str | None = None, admins: Sequence[str] = ()) -> Answer:
        """Answer ``question`` in ``lang`` (default: Chinese if it holds any Chinese character,
        else English). ``admins`` are the filed administrators' Slack user ids, for the
        topics that name them."""
        lang = lang if lang in LANGS else detect_lang(question)
        analysis = self._analyzer.analyse(question)
        if analysis.empty:
            return Answer(topic=None, score=0.0, lang=lang, quiet=True)
        scores = self._ranker.scores(analysis)
        in_domain = self._analyzer.in_domain(analysis.text)
        if self._analyzer.names_social_insurance(analysis.text):
            # "社保和公积金一共扣多少": it names social insurance, so that is what it gets.
            scores = np.where(self._out_of_scope_mask, -1.0, scores)
        else:
            # "公积金怎么转移": the housing fund's own word decides, whatever else matched.
            marked = [i for i, terms in self._markers if terms.found_in(analysis.text)]
            if marked:
                best = max(marked, key=lambda i: scores[i])
                return self._answer_with(self._entries[best], float(scores[best]), lang, admins)
        best = int(scores.argmax())
        score = float(scores[best])
        entry = self._entries[best]
        # A question that names nothing of social insurance must meet the topic in two
        # words at least: one shared word ("password", "schedule") is chance.
        confident = score >= self.threshold and (
            in_domain or self._ranker.matched(analysis, best) >= MIN_MATCHED_WORDS
        )
        if confident and not entry.quiet:
            return self._answer_with(entry, score, lang, admins)
        if in_domain:
            closest = self._best_topic(scores)
            return Answer(topic=None, score=score, lang=lang, escalate=True, closest=closest)
        return Answer(topic=None, score=score, lang=lang, quiet=True)

    def _best_topic(self, scores: Any) -> str | None:
        ranked = sorted(
            (
                (float(s), e.topic.id)
                for e, s in zip(self._entries, scores, strict=True)
                if not e.out_of_scope
            ),
            reverse=True,
        )
        return ranked[0][1] if ranked and ranked[0][0] > 0 else None


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise KnowledgeBaseError(f"{path} is not valid TOML: {exc}") from exc
