"""What the administrators teach the help channel, kept apart from the shipped topics.

Two kinds of lesson, both plain values (the database rows and the Slack buttons that make
them are the app's; this module only says what they mean for retrieval):
- :class:`TaughtPhrasing`: "this question belongs to topic X" (a shipped topic or a taught one);
- :class:`TaughtTopic`: a topic an administrator wrote for questions no topic covers: an id,
  titles, the answer in one or both languages, and the question(s) that led to it.

:meth:`KnowledgeBase.with_lessons` makes a set of lessons count at once (see kb.py). The
lessons are indexed on their own, not added to the topics' sample questions: the shipped
index, its idf and the evaluation stay as they are, and a rebuild only analyses phrasings it
has not seen (:class:`TaughtIndex`).

Exported lessons live in ``messages/kb/_taught.toml`` (:func:`lessons_toml`,
:func:`read_lessons`), which the loader reads as lessons too. Why one file of lessons rather
than lines added to each topic's asks: the topic files are written and reviewed by people
(comments, order, wording), a generated rewrite would churn them; taught lessons stay
visible as such, ``evaluate`` can still measure the shipped topics alone, and a maintainer
promotes a lesson into a topic's asks by hand when it has proved itself. An admin-written
topic has no sources and maybe one language, which a topic file must have: it stays a
lesson until someone completes it.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.knowledge.text import BACKOFF, CJK_RE, Analysis

TAUGHT_FILE = "_taught.toml"
TOPIC_ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

# How close a question must be to a taught phrasing to take its topic: the share of the
# question's (and the phrasing's) specific words they have in common, 0-1. Chosen with
# tests/test_knowledge_lessons.py: a re-asked question with a word changed still passes,
# one that shares only its topic word ("社保") does not.
TAUGHT_MIN_SIMILARITY = 0.6
SOUND_WEIGHT = 0.5
SINGLE_CHAR_WEIGHT = 0.5


class LessonError(ValueError):
    """A lesson that cannot be taught (the message says why, for the administrator)."""


@dataclass(frozen=True)
class TaughtPhrasing:
    """``question`` belongs to topic ``topic`` (an administrator said so)."""

    question: str
    topic: str


@dataclass(frozen=True)
class TaughtTopic:
    """A topic an administrator wrote. ``answer_zh`` or ``answer_en`` may be empty (the other
    language is used); ``questions`` are the question(s) that led to it."""

    id: str
    title_zh: str
    title_en: str
    answer_zh: str = ""
    answer_en: str = ""
    questions: tuple[str, ...] = ()

    def title(self, lang: str) -> str:
        return (self.title_zh if lang == "zh" else self.title_en) or self.title_zh or self.title_en

    def answer(self, lang: str) -> str:
        return (self.answer_zh if lang == "zh" else self.answer_en) or self.answer_zh or self.answer_en


@dataclass(frozen=True)
class Lessons:
    """Everything taught, in the order taught. Hashable: equal lessons build one index."""

    phrasings: tuple[TaughtPhrasing, ...] = ()
    topics: tuple[TaughtTopic, ...] = ()

    def __add__(self, other: Lessons) -> Lessons:
        return merge(self, other)

    def __bool__(self) -> bool:
        return bool(self.phrasings or self.topics)


def merge(*sets: Lessons) -> Lessons:
    """One set of lessons from several (file and database): each phrasing once; a topic id
    taught twice keeps its last version."""
    phrasings = dict.fromkeys(p for s in sets for p in s.phrasings)
    topics = {t.id: t for s in sets for t in s.topics}
    return Lessons(tuple(phrasings), tuple(topics.values()))


# --- the _taught.toml file ------------------------------------------------------------------


def read_lessons(path: Path) -> Lessons:
    """The lessons of a ``_taught.toml`` file; a missing file holds none. Raises
    :class:`LessonError` naming the file for a malformed one."""
    if not path.is_file():
        return Lessons()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise LessonError(f"{path} is not valid TOML: {exc}") from exc
    try:
        phrasings = tuple(
            TaughtPhrasing(question=_req(p, "question"), topic=_req(p, "topic"))
            for p in data.get("phrasing", [])
        )
        topics = tuple(
            TaughtTopic(
                id=topic_id,
                title_zh=str(t.get("title_zh", "")).strip(),
                title_en=str(t.get("title_en", "")).strip(),
                answer_zh=str(t.get("answer_zh", "")).strip(),
                answer_en=str(t.get("answer_en", "")).strip(),
                questions=tuple(str(q).strip() for q in t.get("questions", []) if str(q).strip()),
            )
            for topic_id, t in data.get("topic", {}).items()
        )
    except (AttributeError, TypeError, KeyError) as exc:
        raise LessonError(f"{path}: malformed lesson: {exc}") from exc
    return Lessons(phrasings, topics)


def _req(table: Mapping[str, object], key: str) -> str:
    value = str(table[key]).strip()
    if not value:
        raise KeyError(key)
    return value


def _toml_string(text: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes), non-ASCII kept readable.
    return json.dumps(text, ensure_ascii=False)


def lessons_toml(lessons: Lessons) -> str:
    """The text of a ``_taught.toml`` holding ``lessons`` (for ``si-bot kb export``): read
    the existing file, :func:`merge` it with the database's lessons, and write this back."""
    lines = [
        "# Taught by the administrators in Slack and exported with `si-bot kb export`.",
        "# The knowledge base reads these as lessons, apart from the topics' own asks:",
        "# move a phrasing into its topic's asks, or complete a taught topic into a topic",
        "# file (sources, both languages), once it has proved itself.",
    ]
    for p in lessons.phrasings:
        lines += [
            "",
            "[[phrasing]]",
            f"topic = {_toml_string(p.topic)}",
            f"question = {_toml_string(p.question)}",
        ]
    for t in lessons.topics:
        lines += ["", f"[topic.{t.id}]"]
        for key in ("title_zh", "title_en", "answer_zh", "answer_en"):
            if getattr(t, key):
                lines.append(f"{key} = {_toml_string(getattr(t, key))}")
        lines.append("questions = [" + ", ".join(_toml_string(q) for q in t.questions) + "]")
    return "\n".join(lines) + "\n"


# --- the index --------------------------------------------------------------------------------


class TaughtIndex:
    """Nearest taught phrasing: for each phrasing, the share of specific words (weighted by
    the shipped index's idf) it has in common with a question, in both token channels; a
    topic's similarity is that of its closest phrasing.

    ``analyse`` is the knowledge base's cached analyser, so rebuilding after a lesson only
    analyses the new phrasing; the weights come from ``word_idf``/``sound_idf`` (the shipped
    index's), so a taught phrasing does not change how the shipped topics rank."""

    def __init__(
        self,
        phrasings: Sequence[tuple[str, str]],  # (topic id, text)
        analyse: Callable[[str], Analysis],
        word_idf: Callable[[str], float],
        sound_idf: Callable[[str], float],
    ) -> None:
        self.topic_ids = tuple(dict.fromkeys(topic for topic, _ in phrasings))
        position = {topic: i for i, topic in enumerate(self.topic_ids)}
        self._topic_of = np.array([position[topic] for topic, _ in phrasings], dtype=int)
        self._channels = []
        for tokens_of, idf in ((_word_tokens, word_idf), (_sound_tokens, sound_idf)):
            postings: dict[str, list[tuple[int, float]]] = {}
            mass = np.zeros(len(phrasings))
            for n, (_, text) in enumerate(phrasings):
                for token, weight in _weights(tokens_of(analyse(text)), idf).items():
                    postings.setdefault(token, []).append((n, weight))
                    mass[n] += weight
            self._channels.append((tokens_of, idf, postings, mass))

    def __len__(self) -> int:
        return len(self._topic_of)

    def similarities(self, question: Analysis) -> dict[str, float]:
        """Each taught topic's similarity (0-1) to ``question``: its closest phrasing's."""
        if not len(self):
            return {}
        total = np.zeros(len(self))
        for share, (tokens_of, idf, postings, mass) in zip(
            (1 - SOUND_WEIGHT, SOUND_WEIGHT), self._channels, strict=True
        ):
            weights = _weights(tokens_of(question), idf)
            shared = np.zeros(len(self))
            for token, weight in weights.items():
                for n, w in postings.get(token, ()):
                    shared[n] += min(weight, w)
            denominator = np.maximum(mass, sum(weights.values()))
            total += share * np.divide(shared, denominator, out=np.zeros(len(self)), where=denominator > 0)
        best: dict[str, float] = {}
        for n, similarity in enumerate(total):
            topic = self.topic_ids[self._topic_of[n]]
            best[topic] = max(best.get(topic, 0.0), float(similarity))
        return best


def _word_tokens(analysis: Analysis) -> list[str]:
    # A group's own tokens, not its back-off characters: whole words carry the meaning.
    return [
        t for group in analysis.words for t in (group[: group.index(BACKOFF)] if BACKOFF in group else group)
    ]


def _sound_tokens(analysis: Analysis) -> list[str]:
    return [t for group in analysis.sounds for t in group]


def _weights(tokens: Iterable[str], idf: Callable[[str], float]) -> dict[str, float]:
    return {
        t: idf(t) * (SINGLE_CHAR_WEIGHT if len(t) == 1 and CJK_RE.match(t) else 1.0)
        for t in dict.fromkeys(tokens)
    }
