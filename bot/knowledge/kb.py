"""The knowledge base: topics read from ``messages/kb/*.toml``, answers rendered from the
policy, and the decision to answer, point elsewhere, hand over to a human, or stay quiet.

Files in the knowledge base folder:
- ``<topic-id>.toml``: one topic (see any of them for the fields).
- ``_out_of_scope.toml``: one table per recognised domain that is not social insurance
  (housing fund, tax…): sample questions to recognise it and the can't-help text; or,
  with ``quiet = true``, chatter and office talk that the bot recognises to stay out of.
- ``_lexicon.toml``: jieba words, rewrites, stopwords and the in-scope terms.
- ``_taught.toml``: lessons exported from what the administrators taught (lessons.py).

How :meth:`KnowledgeBase.answer` decides:
1. Nothing left once markup and stopwords are gone ("thanks!", ":tada:"): quiet.
2. A question that does not name social insurance (``社保``, ``pension``… —
   ``domain_terms``) but names an out-of-scope domain's marker (``公积金``, ``income tax``…)
   gets that domain's pointer. One that names both gets the pointer only when the domain
   outscores every topic by MARKED_OVER_TOPIC ("社保交几年可以落户"); otherwise it is only
   matched against the topics ("社保和公积金一共扣多少"). A social-insurance word inside a
   marker ("retirement plan", ``商业养老``) does not count as naming social insurance.
3. The best match scores at least ``THRESHOLD`` (see ranking.py for the score; a long Chinese
   question is also scored on its final question, ``LONG_CHARS``) and the
   question either names social insurance or a related term, or shares at least
   ``MIN_MATCHED_WORDS`` words with the match: the topic's answer, the domain's pointer, or
   silence for a quiet domain (chatter). A topic answers a question naming neither only from
   ``UNNAMED_THRESHOLD`` up.
4. What the administrators taught (lessons.py, :meth:`KnowledgeBase.with_lessons`) answers
   a question close enough to a taught phrasing (TAUGHT_MIN_SIMILARITY) unless step 3 found
   a topic that scores higher, or found another domain or chatter: those, teaching never
   overrides.
5. Otherwise: a question with a social-insurance or related term, or one whose best two
   topics scored too close to call (CLOSE_MARGIN), is escalated to the administrators;
   anything else gets silence.
An answer offers the runner-up topic when it scored close (CLOSE_RATIO); when the two best
scored too close to call (CLOSE_MARGIN, below SURE_SCORE), the question is escalated instead
of answered; an escalation offers the best few topics (``Answer.alternatives``).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import re
import threading
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

from bot.domain.kinds import BY_COMMAND
from bot.domain.policy import Policy, load_policy
from bot.knowledge.classifier import Classifier
from bot.knowledge.lessons import (
    TAUGHT_FILE,
    TAUGHT_MIN_SIMILARITY,
    TOPIC_ID_RE,
    Lessons,
    TaughtIndex,
    TaughtPhrasing,
    TaughtTopic,
    read_lessons,
)
from bot.knowledge.ranking import Ranker
from bot.knowledge.text import CJK_RE, Analysis, Analyzer, Lexicon
from bot.messages import mention, money, slack_escape
from bot.resources import resource_dir

DEFAULT_KB_DIR = resource_dir("messages") / "kb"
log = logging.getLogger(__name__)

# An answer is given when the best topic's normalised score (see ranking.py) reaches this.
# Chosen from tests/eval/questions.tsv with `python -m bot.knowledge.evaluate --sweep`.
THRESHOLD = 0.22

# Without a social-insurance term (see _lexicon.toml), a question must share this many
# words with the topic to be answered.
MIN_MATCHED_WORDS = 2

# A question that names neither social insurance nor a related term is answered with a topic
# only from this score up (office talk meets topics in common words: "start date", "salary").
# Chosen on the tuning side (questions, frozen, round 2's holdout): from 0.22 to 0.30, five
# out-of-scope questions fewer answered with a topic, three right answers fewer.
UNNAMED_THRESHOLD = 0.3

# A question that names social insurance and another domain's marker gets that domain's
# pointer only when the domain outscores every topic by this factor. 1.3 until round 10; 1.0
# since (the domain only has to outscore the topics): by 5-fold cross-validation (seeds 12 and
# 7), as many right first, 2-3 more declined and 2-3 fewer wrong topics ("Does disability
# insurance cover maternity?", "Is sick leave pay paid by the Social Security Administration").
MARKED_OVER_TOPIC = 1.0

# Don't guess between two close topics: when the runner-up scores at least CLOSE_RATIO of
# the best, the best is answered and the runner-up offered ("Or is your question about …?").
# When nothing is sure (an escalation), the OFFER_WHEN_UNSURE best topics are offered. A
# topic is offered only from OFFER_MIN up. Chosen with `python -m bot.knowledge.evaluate
# --sweep-close` on tests/eval/questions.tsv.
CLOSE_RATIO = 0.8
OFFER_WHEN_UNSURE = 3
OFFER_MIN = 0.1
# Too close to call: when the runner-up scores within CLOSE_MARGIN of the best and the best
# is under SURE_SCORE, the question is not answered but escalated with both (and a third)
# offered. Wrong topics are the worst outcome: on the real questions of the frozen set a
# small margin is the clearest sign of one (answered right: 0.28 on average; wrong: 0.12).
# Chosen with `python -m bot.knowledge.evaluate --sweep-margin`: the first 0.03 removes
# about one wrong answer for two right ones it turns into offers; wider margins cost more.
CLOSE_MARGIN = 0.03
SURE_SCORE = 0.6

# The trained classifier (classifier.py: logistic regression on hashed n-grams, trained on the
# topics' asks and the labelled sets but the blind one), when ``CLASSIFIER_FILE`` is in the
# knowledge base folder: a topic's score is BM25_SHARE of its BM25 score plus the rest of
# the classifier's probability, and answers start at MIX_THRESHOLD. Both chosen by 5-fold
# cross-validation grouped by source page (`python -m bot.knowledge.crossval`; see
# docs/knowledge-base.md): more right first in both languages, fewer wrong topics, on each of
# four ways of dealing the folds.
CLASSIFIER_FILE = "_classifier.npz"
BM25_SHARE = 0.7
MIX_THRESHOLD = 0.24
# And the two best are too close to call within this (CLOSE_MARGIN for BM25 alone).
MIX_CLOSE_MARGIN = 0.04
# And a question naming neither social insurance nor a related term needs this (UNNAMED_THRESHOLD).
MIX_UNNAMED_THRESHOLD = 0.3

# A long question (a story, then the question: "我在一家企业做了十几年保洁，从来没交过养老保险，
# 能补交吗") is scored on its final question too: every entry's score is raised to the mean of
# its score on the whole question and on its last clauses (at least TAIL_CHARS characters of
# them), if that is higher. Only for Chinese questions of LONG_CHARS characters and more; the
# story still counts (a bare "能补交吗" would not say what is to be paid back). Chosen by
# cross-validation (docs/knowledge-base.md, round 7): on English questions, whose commas do not
# end a question's clauses as often, it turned as many escalations into wrong topics as into
# right ones.
LONG_CHARS = 30
TAIL_CHARS = 12
_CLAUSE_END_RE = re.compile(r"[,.;:!?，。；：！？、\n]+")

LANGS = ("zh", "en")
# A topic names the form it leads to by its /si word (bot/domain/kinds).
REQUEST_KINDS = frozenset(BY_COMMAND)
# Answers stay short: a few sentences or bullets (Slack's own limit is 3,000 a section).
MAX_ANSWER_CHARS = 1500


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

    ``alternatives``: topic ids to offer besides (``kb.topics[id].title(lang)`` names them,
    ``kb.render(id, lang, admins)`` answers them): with an answer, the runner-up when it
    scored close to it; with an escalation, the best few topics. ``taught``: the answer comes
    from what an administrator taught (a taught phrasing or a taught topic).
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
    alternatives: tuple[str, ...] = ()
    taught: bool = False


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


def _finalize(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return str(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Decimal | int | float):
        return _number(value)
    return slack_escape(str(value))


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
    # The messages' own filters (bot/messages.py), and the figures of answers.
    env.filters.update(mention=mention, yuan=money, monthday=_monthday, number=_number, ordinal=_ordinal)
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


_QUIET, _DOMAIN, _TOPIC, _ESCALATE = "quiet", "domain", "topic", "escalate"


@dataclass(frozen=True)
class _Decision:
    kind: str  # _QUIET, _DOMAIN (an out-of-scope pointer), _TOPIC, _ESCALATE
    score: float
    topic: str | None = None  # the topic's or the domain's id
    alternatives: tuple[str, ...] = ()
    taught: bool = False
    closest: str | None = None


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
        self._analyzer.learn_pinyin(texts)
        self._markers = [
            (i, self._analyzer.terms(e.markers)) for i, e in enumerate(self._entries) if e.markers
        ]
        self._any_marker = self._analyzer.terms(m for e in self._entries for m in e.markers)
        self._out_of_scope_mask = np.array([e.out_of_scope for e in self._entries])
        self.topics: Mapping[str, Topic] = MappingProxyType(
            {e.topic.id: e.topic for e in self._entries if not e.out_of_scope}
        )
        self.out_of_scope_domains: Mapping[str, Topic] = MappingProxyType(
            {e.topic.id: e.topic for e in self._entries if e.out_of_scope and not e.quiet}
        )
        self._by_id = {e.topic.id: e for e in self._entries}
        self.load_seconds = 0.0
        # Lessons (see lessons.py): none on the shipped knowledge base itself; a view made by
        # with_lessons() shares everything above and adds its own.
        self._shipped = self
        self._file_lessons = Lessons()
        self.lessons = Lessons()
        self.refused: tuple[tuple[TaughtPhrasing | TaughtTopic, str], ...] = ()
        self._taught_index: TaughtIndex | None = None
        self._taught_topics: Mapping[str, TaughtTopic] = MappingProxyType({})
        self._analysed: dict[str, Analysis] = {}  # lesson text -> analysis, shared by the views
        # The trained classifier (classifier.py), mixed into the ranker's scores: none by default.
        self._classifier: Classifier | None = None
        self._class_of_entry = np.zeros(0, dtype=int)
        self.bm25_share = 1.0
        self._verdicts: dict[str, str | None] = {}  # lesson text -> refusal (see _verdict)
        self._views_lock = threading.Lock()
        self._last_view: tuple[Lessons, KnowledgeBase] | None = None

    @classmethod
    def load(
        cls,
        kb_dir: Path | str | None = None,
        policy: Policy | None = None,
        *,
        threshold: float | None = None,
        tz: tzinfo | None = None,
        taught: bool = True,
        classifier: bool = True,
    ) -> KnowledgeBase:
        """Read every topic of ``kb_dir`` (default: ``messages/kb``), check that each answer
        renders with ``policy`` (default: the shipped policy file), and build the index.
        With ``taught`` (the default), the lessons exported to ``_taught.toml`` count too
        (``taught=False``: the shipped topics alone, as ``evaluate`` measures them). With
        ``classifier`` (the default) and a ``CLASSIFIER_FILE`` whose classes are the topics and
        domains of ``kb_dir``, the trained classifier is mixed in (BM25_SHARE) and
        ``threshold`` defaults to MIX_THRESHOLD; otherwise BM25 alone and THRESHOLD.
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
        kb = cls(entries, Lexicon.load(folder / "_lexicon.toml"), policy, threshold=THRESHOLD, tz=tz)
        kb._check_renders(str(folder))
        model_path = folder / CLASSIFIER_FILE
        if classifier and model_path.is_file():
            model, _ = Classifier.load(model_path)
            known = set(model.classes)
            if all(e.topic.id in known for e in entries):
                kb.use_classifier(model, BM25_SHARE)
                kb.threshold = MIX_THRESHOLD
            else:
                # A topic added since the classifier was trained: BM25 alone until it is retrained.
                missing = sorted(e.topic.id for e in entries if e.topic.id not in known)
                log.warning(
                    "%s does not know %s: retrain it (python -m bot.knowledge.crossval --write)",
                    model_path,
                    ", ".join(missing),
                )
        if threshold is not None:
            kb.threshold = threshold
        if taught:
            try:
                kb._file_lessons = read_lessons(folder / TAUGHT_FILE)
            except ValueError as exc:
                raise KnowledgeBaseError(str(exc)) from exc
            kb = kb.with_lessons()
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
        """A topic's answer without a question (for `/si help <topic>`, a pressed "Or is
        your question about …?" button, tests, previews); taught topics too. Raises
        KeyError for an id that is no topic."""
        lang = lang if lang in LANGS else "zh"
        if topic_id in self._taught_topics:
            return self._taught_answer(self._taught_topics[topic_id], 1.0, lang)
        entry = self._by_id[topic_id]
        if entry.quiet:
            raise KeyError(topic_id)
        return self._answer_with(entry, 1.0, lang, admins)

    def _taught_answer(self, topic: TaughtTopic, score: float, lang: str, **extra: Any) -> Answer:
        # Written by an administrator, shown as written; only Slack's broadcast mentions
        # (<!channel>, <!here>) are defused.
        text = topic.answer(lang).replace("<!", "&lt;!")
        fields: dict[str, Any] = {"closest": topic.id, "taught": True, **extra}
        return Answer(topic=topic.id, score=score, lang=lang, title=topic.title(lang), text=text, **fields)

    def _topic_answer(
        self, topic_id: str, score: float, lang: str, admins: Sequence[str], **extra: Any
    ) -> Answer:
        if topic_id in self._taught_topics:
            return self._taught_answer(self._taught_topics[topic_id], score, lang, **extra)
        return dataclasses.replace(self._answer_with(self._by_id[topic_id], score, lang, admins), **extra)

    def _answer_with(
        self, entry: _Entry, score: float, lang: str, admins: Sequence[str], **extra: Any
    ) -> Answer:
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
                **extra,
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
            **extra,
        )

    def analyse(self, question: str) -> Analysis:
        return self._analyzer.analyse(question)

    def use_classifier(self, classifier: Classifier | None, bm25_share: float = 1.0) -> None:
        """Score topics and domains with ``bm25_share`` of the ranker's score plus the rest of
        ``classifier``'s probability (an entry it has no class for gets 0); None: BM25 alone."""
        self._classifier = classifier
        self.bm25_share = bm25_share if classifier is not None else 1.0
        if classifier is not None:
            position = {c: i for i, c in enumerate(classifier.classes)}
            # The entries the classifier does not know point at an extra, always-zero column.
            missing = len(classifier.classes)
            self._class_of_entry = np.array([position.get(e.topic.id, missing) for e in self._entries])

    def _scores(self, analysis: Analysis) -> np.ndarray:
        """Every entry's score, 0-1: BM25 (ranking.py), mixed with the classifier's probability."""
        scores = self._ranker.scores(analysis)
        if self._classifier is None:
            return scores
        p = np.append(self._classifier.probabilities(analysis), 0.0)[self._class_of_entry]
        return self.bm25_share * scores + (1 - self.bm25_share) * p

    def _question_scores(self, analysis: Analysis) -> np.ndarray:
        """``_scores``, raised for a long question by its final question (LONG_CHARS)."""
        scores = self._scores(analysis)
        tail = final_question(analysis.text)
        if tail is None:
            return scores
        tail_analysis = self._analyzer.analyse(tail)
        if tail_analysis.empty:
            return scores
        return np.maximum(scores, (scores + self._scores(tail_analysis)) / 2)

    def scores(self, question: str) -> dict[str, float]:
        """Every topic's and domain's normalised score for ``question`` (for diagnostics)."""
        values = self._question_scores(self._analyzer.analyse(question))
        return {e.topic.id: float(v) for e, v in zip(self._entries, values, strict=True)}

    def answer(self, question: str, lang: str | None = None, admins: Sequence[str] = ()) -> Answer:
        """Answer ``question`` in ``lang`` (default: Chinese if it holds any Chinese character
        or is typed in pinyin, else English). ``admins`` are the filed administrators' Slack user ids, for the
        topics that name them. See the module docstring for how it decides, and
        :class:`Answer` for the alternatives it offers."""
        lang = lang if lang in LANGS else self._analyzer.detect_lang(question)
        found = self._decide(self._analyzer.analyse(question))
        if found.kind == _DOMAIN:
            return self._answer_with(self._by_id[found.topic], found.score, lang, admins)
        if found.kind == _TOPIC:
            extra = {"alternatives": found.alternatives, "taught": found.taught}
            return self._topic_answer(found.topic, found.score, lang, admins, **extra)
        if found.kind == _ESCALATE:
            return Answer(
                topic=None, score=found.score, lang=lang, escalate=True, closest=found.closest,
                alternatives=found.alternatives,
            )  # fmt: skip
        return Answer(topic=None, score=found.score, lang=lang, quiet=True)

    def _decide(self, analysis: Analysis) -> _Decision:
        """What to do with an analysed question, without rendering anything."""
        if analysis.empty:
            return _Decision(_QUIET, 0.0)
        scores = self._question_scores(analysis)
        in_domain = self._analyzer.in_domain(analysis.text)
        marked = [i for i, terms in self._markers if terms.found_in(analysis.text)]
        # A social-insurance word wholly inside another domain's own term ("retirement plan",
        # 商业养老) does not name social insurance: the question must name it elsewhere.
        inside = self._any_marker if marked else None
        if self._analyzer.names_social_insurance(analysis.text, inside):
            # "社保和公积金一共扣多少": it names social insurance, so a topic answers it, unless
            # the other domain it names is plainly what it is about ("社保交几年可以落户").
            best_marked = max(marked, key=lambda i: scores[i], default=None)
            topic_best = float(np.where(self._out_of_scope_mask, -1.0, scores).max())
            if best_marked is not None and scores[best_marked] > topic_best * MARKED_OVER_TOPIC:
                return _Decision(_DOMAIN, float(scores[best_marked]), self._entries[best_marked].topic.id)
            scores = np.where(self._out_of_scope_mask, -1.0, scores)
        elif marked:
            # "公积金怎么转移": the housing fund's own word decides, whatever else matched.
            best = max(marked, key=lambda i: scores[i])
            return _Decision(_DOMAIN, float(scores[best]), self._entries[best].topic.id)
        best = int(scores.argmax())
        score = float(scores[best])
        entry = self._entries[best]
        # A question that names nothing of social insurance must meet the topic in two
        # words at least: one shared word ("password", "schedule") is chance.
        confident = score >= self.threshold and (
            in_domain or self._ranker.matched(analysis, best) >= MIN_MATCHED_WORDS
        )
        if confident and entry.out_of_scope:
            # Another domain, or chatter: what is taught never overrides that.
            return _Decision(_QUIET if entry.quiet else _DOMAIN, score, entry.topic.id)
        unnamed = UNNAMED_THRESHOLD if self._classifier is None else MIX_UNNAMED_THRESHOLD
        confident = confident and (in_domain or score >= unnamed)
        ranked = self._ranked_topics(scores, analysis)
        taught_id, taught_score = self._best_taught(analysis)
        if taught_id is not None and (not confident or taught_score >= score):
            return _Decision(_TOPIC, taught_score, taught_id, _runner_up(ranked, taught_id), taught=True)
        margin = CLOSE_MARGIN if self._classifier is None else MIX_CLOSE_MARGIN
        too_close = confident and _too_close(ranked, score, margin)
        if confident and not too_close:
            return _Decision(_TOPIC, score, entry.topic.id, _runner_up(ranked, entry.topic.id))
        # Too close to call is still a question for a topic (it met one well enough to be
        # answered): the administrators get it, whether or not it names social insurance.
        if in_domain or too_close:
            offered = tuple(t for s, t in ranked[:OFFER_WHEN_UNSURE] if s >= OFFER_MIN)
            closest = ranked[0][1] if ranked and ranked[0][0] > 0 else None
            return _Decision(_ESCALATE, score, None, offered, closest=closest)
        return _Decision(_QUIET, score)

    def _ranked_topics(self, scores: Any, analysis: Analysis) -> list[tuple[float, str]]:
        """Every topic with its score, best first: the shipped topics' scores, raised to a
        taught phrasing's similarity where one is close enough, and the taught topics."""
        by_topic = {
            e.topic.id: float(s) for e, s in zip(self._entries, scores, strict=True) if not e.out_of_scope
        }
        if self._taught_index is not None:
            for topic, similarity in self._taught_index.similarities(analysis).items():
                if similarity >= TAUGHT_MIN_SIMILARITY:
                    by_topic[topic] = max(by_topic.get(topic, 0.0), similarity)
        return sorted(((s, t) for t, s in by_topic.items()), reverse=True)

    def _best_taught(self, analysis: Analysis) -> tuple[str | None, float]:
        if self._taught_index is None:
            return None, 0.0
        similarities = self._taught_index.similarities(analysis)
        topic, similarity = max(similarities.items(), key=lambda item: item[1], default=(None, 0.0))
        return (topic, similarity) if similarity >= TAUGHT_MIN_SIMILARITY else (None, 0.0)

    # --- lessons -----------------------------------------------------------------------------

    def with_lessons(self, lessons: Lessons = Lessons()) -> KnowledgeBase:  # noqa: B008 - frozen, empty
        """This knowledge base with ``lessons`` (the database's) and those exported to
        ``_taught.toml`` counting at once: a view that shares the shipped index, jieba and
        the policy, and only indexes the lessons. Cheap (see bench/bench_ask.py: a few hundred
        phrasings in milliseconds, and a phrasing already seen is not analysed again), so it
        can run in the request path whenever the taught set changes; asked again with equal
        lessons it returns the same view. Thread-safe.

        Lessons that cannot be taught (:meth:`refusal`) are left out and listed in the
        view's ``refused``, with the reason; the view's ``lessons`` are those applied."""
        shipped = self._shipped
        wanted = shipped._file_lessons + lessons
        with shipped._views_lock:
            if shipped._last_view is not None and shipped._last_view[0] == wanted:
                return shipped._last_view[1]
            view = copy.copy(shipped)
            refused: list[tuple[TaughtPhrasing | TaughtTopic, str]] = []
            topics: dict[str, TaughtTopic] = {}
            for topic in wanted.topics:
                reason = shipped.refusal(topic)
                if reason:
                    refused.append((topic, reason))
                else:
                    topics[topic.id] = topic
            view._taught_topics = MappingProxyType(topics)
            phrasings = []
            for phrasing in wanted.phrasings:
                reason = view.refusal(phrasing)
                if reason:
                    refused.append((phrasing, reason))
                else:
                    phrasings.append(phrasing)
            view.lessons = Lessons(tuple(phrasings), tuple(topics.values()))
            view.refused = tuple(refused)
            indexed = [(p.topic, p.question) for p in phrasings]
            for topic in topics.values():
                indexed += [
                    (topic.id, text) for text in (topic.title_zh, topic.title_en, *topic.questions) if text
                ]
            view._taught_index = (
                TaughtIndex(
                    indexed, shipped._analysed_lesson, shipped._ranker.word_idf, shipped._ranker.sound_idf
                )
                if indexed
                else None
            )
            view.topics = MappingProxyType(
                {**shipped.topics, **{t.id: _as_topic(t) for t in topics.values()}}
            )
            shipped._last_view = (wanted, view)
            return view

    def shipped(self) -> KnowledgeBase:
        """The shipped topics alone, without any lesson (what ``evaluate`` measures)."""
        return self._shipped

    def refusal(self, lesson: TaughtPhrasing | TaughtTopic) -> str | None:
        """Why ``lesson`` cannot be taught, or None when it can. Reasons (for the app to put
        into words): ``empty``; ``unknown-topic`` (a phrasing for no topic); ``chatter`` and
        ``out-of-scope`` (the shipped knowledge base stays quiet on the phrasing, or points it
        to another domain: teaching must never make the bot answer those); ``bad-id`` (lower
        case words joined by '-'), ``id-taken`` (a shipped topic's or domain's id),
        ``no-title``, ``no-answer``, ``too-long`` (over MAX_ANSWER_CHARS) for a taught topic."""
        if isinstance(lesson, TaughtTopic):
            if not TOPIC_ID_RE.fullmatch(lesson.id):
                return "bad-id"
            if lesson.id in self._shipped._by_id:
                return "id-taken"
            if not (lesson.title_zh or lesson.title_en):
                return "no-title"
            if not (lesson.answer_zh or lesson.answer_en):
                return "no-answer"
            if max(len(lesson.answer_zh), len(lesson.answer_en)) > MAX_ANSWER_CHARS:
                return "too-long"
            return None
        if self._shipped._analysed_lesson(lesson.question).empty:
            return "empty"
        if lesson.topic not in self._shipped.topics and lesson.topic not in self._taught_topics:
            return "unknown-topic"
        return self._shipped._verdict(lesson.question)

    def _verdict(self, question: str) -> str | None:
        """``out-of-scope``, ``chatter`` or None: what the shipped topics make of a phrasing
        someone wants to teach (cached: a rebuild judges only the phrasings it has not seen)."""
        verdict = self._verdicts.get(question, "")
        if verdict == "":
            analysis = self._analysed_lesson(question)
            found = self._decide(analysis)
            verdict = None
            if found.kind == _DOMAIN:
                verdict = "out-of-scope"
            elif found.kind == _QUIET and not self._analyzer.in_domain(analysis.text):
                verdict = "chatter"
            if len(self._verdicts) > 20_000:
                self._verdicts.clear()
            self._verdicts[question] = verdict
        return verdict

    def _analysed_lesson(self, text: str) -> Analysis:
        # Cached across views: a rebuild analyses only the phrasings it has not seen.
        found = self._analysed.get(text)
        if found is None:
            if len(self._analysed) > 20_000:
                self._analysed.clear()
            found = self._analysed[text] = self._analyzer.analyse(text)
        return found


def final_question(text: str) -> str | None:
    """The last clauses of a long Chinese question, at least TAIL_CHARS characters of them;
    None for a question under LONG_CHARS characters, of one clause, or without Chinese."""
    text = text.strip()
    if len(text) < LONG_CHARS or not CJK_RE.search(text):
        return None
    clauses = [c.strip() for c in _CLAUSE_END_RE.split(text) if c.strip()]
    if len(clauses) < 2:
        return None
    tail: list[str] = []
    while clauses and sum(map(len, tail)) < TAIL_CHARS:
        tail.insert(0, clauses.pop())
    return "，".join(tail) if clauses else None


def _too_close(ranked: Sequence[tuple[float, str]], best: float, margin: float) -> bool:
    """Whether the two best topics scored too close to answer either (within ``margin``)."""
    return len(ranked) > 1 and best < SURE_SCORE and best - ranked[1][0] < margin


def _runner_up(ranked: Sequence[tuple[float, str]], answered: str) -> tuple[str, ...]:
    """The best other topic, when it scored close to the answered one (CLOSE_RATIO)."""
    best = next((s for s, t in ranked if t == answered), 0.0)
    others = [(s, t) for s, t in ranked if t != answered]
    if others and best > 0 and others[0][0] >= max(best * CLOSE_RATIO, OFFER_MIN):
        return (others[0][1],)
    return ()


def _as_topic(topic: TaughtTopic) -> Topic:
    return Topic(
        id=topic.id,
        title_zh=topic.title("zh"),
        title_en=topic.title("en"),
        request_kind=None,
        asks=topic.questions,
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise KnowledgeBaseError(f"{path} is not valid TOML: {exc}") from exc
