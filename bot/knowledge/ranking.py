"""Ranking: which topic a question is about, and how sure we are.

Method: **BM25 (Lucene variant, computed by bm25s) over two token channels**, one document
per topic or out-of-scope domain (its titles, sample questions and keywords in both
languages), each channel's score normalised to 0-1, the two averaged.

- *words*: jieba words and the dictionary words inside them for Chinese, Snowball stems for
  English (see ``text.py``). The precise signal. A lone Chinese character weighs half a word,
  and so do the words inside a question's word the index knows (``PIECE_WEIGHT``); a Chinese
  word the index has never seen backs off to its characters.
- *sounds*: toneless pinyin bigrams for Chinese and spelling-corrected stems for English, so
  that a homophone typed with a pinyin IME (``补交`` for ``补缴``, ``退修`` for ``退休``) or a
  misspelling (``pention``) still meets its topic.

Why this method:
- The questions are short and the topics few (tens), each described by a few dozen sample
  questions written by the people who maintain them. Lexical matching over those samples is
  what an FAQ needs: explainable (``kb.scores`` and the matched words can be shown), fixed by
  adding a sample question or keyword to a TOML file, no training data, in-process, well
  under a millisecond a question. Embedding models would need weights downloaded (not
  allowed here) and give scores that are harder to threshold; fuzzy string similarity alone
  (rapidfuzz over whole questions) cannot tell a topic word from filler.
- BM25 weighs a word by how specific it is to few topics (``补缴`` counts, ``社保`` barely) and
  saturates repeated words, so a topic with more sample questions does not win by bulk; its
  length normalisation (``b``) keeps long topics from drowning short ones. bm25s is a
  maintained numpy implementation that precomputes every (token, document) weight at index
  time; rank-bm25 recomputes in pure Python per query and has not been released since 2022.
- One document per topic (not one per sample question) lets a question that combines words
  from different phrasings of the same topic still score well.

Since round 4 of issue 12, kb.py mixes these scores with a small trained classifier's
probabilities (classifier.py, chosen by cross-validation in crossval.py).

Normalised score — one threshold for any question, short or long, Chinese or English: per
channel, ``sum of BM25(t, topic) over the question's distinct tokens / the question's idf
mass``. The mass is the sum of the known tokens' idf, plus ``UNKNOWN_WEIGHT * n **
UNKNOWN_POWER`` times the highest idf for the ``n`` words the index has never seen, and at
least ``MIN_MASS`` times the highest idf. BM25's term-frequency part is below 1, so the ratio
lies in 0-1: roughly "the share of what is specific in the question that this topic covers".
Unknown words pull it down (chatter such as ``今天中午吃什么`` scores near 0), and a question
made only of words every topic uses (``社保?``) cannot score high. The final score is
``(1 - SOUND_WEIGHT) * words + SOUND_WEIGHT * sounds``. The parameters below were chosen on
``tests/eval/questions.tsv``; the results are flat around them (see the evaluate script).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import bm25s
import numpy as np

from bot.knowledge.text import BACKOFF, CJK_RE, Analysis

K1 = 1.2
B = 0.5
# Weight of the sounds channel in the final score (words: 1 - SOUND_WEIGHT).
SOUND_WEIGHT = 0.5
# How much the words the knowledge base has never seen weigh against a question: n of them
# weigh UNKNOWN_WEIGHT * n ** UNKNOWN_POWER times the highest idf. Less than linear,
# because a long question's extra words are mostly context ("我之前在成都交了三年…").
UNKNOWN_WEIGHT = 0.75
UNKNOWN_POWER = 0.5
# A lone Chinese character (``报``, ``天``) says less than a word: its weight.
SINGLE_CHAR_WEIGHT = 0.5
# The least idf mass a question is measured against, in units of the highest idf: a
# question must say something specific before any topic can score high.
MIN_MASS = 1.0
# The dictionary words inside a question's known Chinese word (养老 and 保险 in 养老保险)
# weigh this much: at 1 a compound counts three times as much as a plain word (补缴), so
# that 补缴养老保险 leans to every topic that says 养老保险. Chosen on the tuning side
# (questions, frozen, both holdouts): 0 to 1 differ by one or two questions; 0.5 has the
# fewest wrong topics without losing a right one.
PIECE_WEIGHT = 0.5


class _Channel:
    """One BM25 index and the idf table used to normalise its scores. bm25s computes every
    (token, document) BM25 weight into a sparse matrix at index time; with tens of
    documents it is turned dense, one row per token, so that a query is a weighted sum of
    a few rows."""

    def __init__(self, corpus: Sequence[Sequence[str]], k1: float, b: float) -> None:
        self.size = len(corpus)
        bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        bm25.index([list(doc) or [""] for doc in corpus], show_progress=False)
        vocab: dict[str, int] = bm25.vocab_dict
        indptr, indices, data = (np.asarray(bm25.scores[k]) for k in ("indptr", "indices", "data"))
        # bm25s adds an empty token to the vocabulary after the matrix: it has no row.
        self._rows = {token: row for token, row in vocab.items() if token and row < len(indptr) - 1}
        matrix = np.zeros((len(indptr) - 1, self.size))
        for row in self._rows.values():
            start, end = indptr[row], indptr[row + 1]
            matrix[row, indices[start:end]] = data[start:end]
        self._matrix = matrix
        df = Counter(token for doc in corpus for token in set(doc))
        self.idf = {token: _idf(count, self.size) for token, count in df.items()}
        self.idf_unknown = _idf(0, self.size)

    def __contains__(self, token: str) -> bool:
        return token in self._rows

    def scores(self, groups: Sequence[Sequence[str]]) -> np.ndarray:
        """BM25 of every document for the query's tokens, over their idf mass: each known
        token's weighted idf, plus the unknown groups' weight (see UNKNOWN_WEIGHT) times the
        highest idf; an unknown Chinese word's known characters then count as tokens of
        their own. An unknown number counts nothing: "25号" says little."""
        weights: dict[str, float] = {}
        unknown = 0.0
        for group in dict.fromkeys(tuple(g) for g in groups):
            own, backoff = _split(group)
            known = [t for t in own if t in self._rows]
            if not known and _numeric(own):
                continue
            if not known:
                # Unknown as a word; its characters, if known, still say something.
                unknown += 1
                known = [c for c in backoff if c in self._rows]
            whole = own[-1] if own else None
            for token in known:
                weight = _weight(token)
                if token != whole and whole in self._rows:
                    weight *= PIECE_WEIGHT
                weights[token] = max(weights.get(token, 0.0), weight)
        mass = (
            sum(w * self.idf[t] for t, w in weights.items())
            + UNKNOWN_WEIGHT * unknown**UNKNOWN_POWER * self.idf_unknown
        )
        # A question made of words every topic uses ("社保?") has matched nothing specific.
        mass = max(mass, MIN_MASS * self.idf_unknown)
        if not weights or mass <= 0:
            return np.zeros(self.size)
        rows = [self._rows[t] for t in weights]
        return np.asarray(list(weights.values())) @ self._matrix[rows] / mass

    def matched(self, groups: Sequence[Sequence[str]], doc: int) -> int:
        """How many of the query's groups share a token with document ``doc``."""
        count = 0
        for group in dict.fromkeys(tuple(g) for g in groups):
            own, backoff = _split(group)
            tokens = [t for t in own if t in self._rows] or [c for c in backoff if c in self._rows]
            count += any(self._matrix[self._rows[t], doc] > 0 for t in tokens)
        return count


def _split(group: Sequence[str]) -> tuple[Sequence[str], Sequence[str]]:
    if BACKOFF in group:
        at = group.index(BACKOFF)
        return group[:at], group[at + 1 :]
    return group, ()


def _weight(token: str) -> float:
    return SINGLE_CHAR_WEIGHT if len(token) == 1 and CJK_RE.match(token) else 1.0


def _numeric(group: Sequence[str]) -> bool:
    return bool(group) and all(t.replace(".", "", 1).isdigit() for t in group)


def _idf(df: int, n: int) -> float:
    # The same formula as bm25s' "lucene" method, so that the normalised score stays <= 1.
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


class Ranker:
    """Scores every document of a corpus against an analysed question."""

    def __init__(
        self,
        docs: Sequence[Analysis],
        *,
        k1: float = K1,
        b: float = B,
        sound_weight: float = SOUND_WEIGHT,
    ) -> None:
        self.sound_weight = sound_weight
        self._words = _Channel([d.word_tokens for d in docs], k1, b)
        self._sounds = _Channel([d.sound_tokens for d in docs], k1, b)

    def word_idf(self, token: str) -> float:
        """The words channel's idf of ``token`` (the highest for a token it has never seen)."""
        return self._words.idf.get(token, self._words.idf_unknown)

    def sound_idf(self, token: str) -> float:
        """The sounds channel's idf of ``token`` (the highest for a token it has never seen)."""
        return self._sounds.idf.get(token, self._sounds.idf_unknown)

    def matched(self, question: Analysis, doc: int) -> int:
        """How many of the question's words meet document ``doc`` (the larger count of the
        two channels)."""
        return max(self._words.matched(question.words, doc), self._sounds.matched(question.sounds, doc))

    def scores(self, question: Analysis) -> np.ndarray:
        """Normalised scores (0-1), one per document, in corpus order."""
        words = self._words.scores(question.words)
        sounds = self._sounds.scores(question.sounds)
        return (1 - self.sound_weight) * words + self.sound_weight * sounds
