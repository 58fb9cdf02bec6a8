"""From a question (or a sample question of the knowledge base) to the tokens the ranker
compares: one analysis for both sides, so that they meet.

1. Slack markup out (``<@U…>`` mentions, ``<#C…>`` channels, links, ``:emoji:``).
2. NFKC (full-width letters and digits to ASCII), lower case, traditional characters to
   simplified (zhconv, MediaWiki's conversion tables), then the lexicon's rewrites
   (``社会保险`` → ``社保``, ``social security`` → ``social insurance``…).
3. Two token streams:
   Place names (provinces and prefecture-level cities, in characters and in pinyin: the
   lexicon's ``places``) are dropped: "2024年泸州社保缴费标准" and "Luzhou social security
   payment standard" ask what any city's people ask, and a city the knowledge base never
   names would only weigh as an unknown word, or meet a topic by one of its characters.
   - **words**: jieba's dictionary segmentation (no HMM guessing of new words: the same
     characters always cut the same way), each word with the dictionary words inside it;
     the lexicon's words and the topics' keywords are added to jieba's dictionary so that
     they stay whole. English words are Snowball-stemmed (PyStemmer). Stopwords dropped.
     A Chinese word the knowledge base has never seen backs off to its characters.
   - **sounds**, for typos: toneless pinyin syllable bigrams of every Chinese run (pypinyin)
     — Chinese typos typed with a pinyin IME are homophones (``补交``/``补缴``,
     ``退修``/``退休``) — and English words spelling-corrected against the knowledge base's
     own vocabulary by edit distance (rapidfuzz: ``pention`` → ``pension``).
4. A question written in toneless pinyin only (``shebao zenme bujiao``: a Chinese asker
   without an IME) is Chinese: its syllables are read back into the knowledge base's own
   Chinese words of the same sound (``社保 怎么 补缴``) before step 3, and it is answered in
   Chinese. Only when every Latin word splits into pinyin syllables and none is one of the
   knowledge base's English words: "hello", "china pension" stay English.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import threading
import tomllib
import unicodedata
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jieba
import numpy as np
import Stemmer
import zhconv
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

# pypinyin's phrase dictionary (about 45 MB resident) only tells polyphones apart by context;
# both sides of the comparison read a polyphone the same way without it, and a `si-bot
# serve` worker has a memory budget (bench/bench_ask.py prints the knowledge base's share).
os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")
from pypinyin import Style, lazy_pinyin  # imported after the setting above

# CJK unified ideographs (basic, extension A, compatibility, extensions B-F).
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
CJK_RE = re.compile(f"[{_CJK}]")
_CJK_RUN_RE = re.compile(f"[{_CJK}]+")
_SLACK_MARKUP_RE = re.compile(r"<[@#!][^>]*>|<(?:https?|mailto):[^>]*>|:[a-z0-9_+\-]+:")
_LATIN_RE = re.compile(r"[a-z][a-z'\-]*[a-z]|[a-z]")
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
_jieba_lock = threading.Lock()


def detect_lang(text: str) -> str:
    """``zh`` when the text holds any Chinese character, else ``en`` (see
    :meth:`Analyzer.detect_lang`, which also knows a question typed in pinyin)."""
    return "zh" if CJK_RE.search(text) else "en"


@cache
def _pinyin_syllables() -> frozenset[str]:
    """Every toneless pinyin syllable (``ü`` written ``v``) of the common CJK characters, but
    the interjections without a vowel (``n``, ``hm``), which would split English words."""
    chars = "".join(chr(c) for c in range(0x4E00, 0x9FA6))
    syllables = lazy_pinyin(chars, style=Style.NORMAL)
    return frozenset(s for s in syllables if s.isascii() and s.isalpha() and re.search("[aeiouv]", s))


# The longest toneless syllable ("zhuang", "shuang") has six letters.
_MAX_SYLLABLE = 6


def split_pinyin(word: str) -> tuple[str, ...] | None:
    """``word`` as the fewest toneless pinyin syllables (``shebaoka`` → she, bao, ka), or
    None when it is not pinyin. An apostrophe separates syllables (``xi'an``)."""
    syllables = _pinyin_syllables()
    out: list[str] = []
    for part in word.split("'"):
        n = len(part)
        # best[i]: the fewest syllables spelling part[:i] (None: it cannot be spelt).
        best: list[tuple[str, ...] | None] = [()] + [None] * n
        for end in range(1, n + 1):
            for start in range(max(0, end - _MAX_SYLLABLE), end):
                head, current = best[start], best[end]
                shorter = head is not None and (current is None or len(head) + 1 < len(current))
                if shorter and part[start:end] in syllables:
                    best[end] = (*head, part[start:end])
        if not part or best[n] is None:
            return None
        out.extend(best[n])
    return tuple(out)


def to_simplified(text: str) -> str:
    """Traditional (and mixed) Chinese to simplified characters; other text unchanged."""
    return zhconv.convert(text, "zh-hans")


@dataclass(frozen=True)
class Lexicon:
    user_words: tuple[str, ...] = ()
    replace: tuple[tuple[str, str, re.Pattern[str] | None], ...] = ()
    stopwords: frozenset[str] = frozenset()
    domain_terms: tuple[str, ...] = ()
    related_terms: tuple[str, ...] = ()
    places: tuple[str, ...] = ()  # in characters; their pinyin is a place too
    places_en: tuple[str, ...] = ()  # Latin spellings pinyin does not give (harbin, xiamen…)
    # A word jieba leaves alone, read as the word it stands for there ("能补吗": 补 → 补缴).
    word_rewrites: tuple[tuple[str, str], ...] = ()

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        """Read ``_lexicon.toml``; a missing file means an empty lexicon."""
        if not path.is_file():
            return cls()
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        pairs = []
        for pair in data.get("replace", []):
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
                raise ValueError(f"{path}: replace entries are [from, to] pairs, got {pair!r}")
            old, new = to_simplified(pair[0].lower()), pair[1].lower()
            # Latin words are replaced whole only ("si" but not the "si" in "basic").
            pattern = re.compile(rf"(?<![a-z]){re.escape(old)}(?![a-z])") if old.isascii() else None
            pairs.append((old, new, pattern))
        return cls(
            user_words=tuple(data.get("user_words", [])),
            replace=tuple(pairs),
            stopwords=frozenset(
                w.lower() for w in data.get("stopwords_zh", []) + data.get("stopwords_en", [])
            ),
            domain_terms=tuple(data.get("domain_terms", [])),
            related_terms=tuple(data.get("related_terms", [])),
            places=tuple(to_simplified(p.strip()) for p in data.get("places", [])),
            places_en=tuple(p.strip().lower() for p in data.get("places_en", [])),
            word_rewrites=tuple(_pairs(path, data, "word_rewrites")),
        )


def _pairs(path: Path, data: dict, key: str) -> list[tuple[str, str]]:
    pairs = data.get(key, [])
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise ValueError(f"{path}: {key} entries are [from, to] pairs, got {pair!r}")
    return [(old, new) for old, new in pairs]


_segmenters: list[jieba.Tokenizer] = []


# jieba's dictionary holds 349,000 words and, with their prefixes, takes about 75 MB in
# memory. The words it has seen fewer than this many times (names, rare idioms: 61 % of it)
# never decide a social-insurance question; without them it takes a third of that. The
# words kept keep their frequencies and the dictionary's total, so they cut as before.
MIN_WORD_FREQ = 5


def _segmenter() -> jieba.Tokenizer:
    """jieba's dictionary, read once per process however many threads ask (about 1 s)."""
    with _jieba_lock:
        if not _segmenters:
            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.FREQ, tokenizer.total = _dictionary(Path(jieba.__file__).with_name("dict.txt"))
            tokenizer.initialized = True
            _segmenters.append(tokenizer)
        return _segmenters[0]


class Frequencies:
    """jieba's prefix dictionary (word → count, a prefix of a word → 0) in 12 bytes an entry:
    each entry's hash and count in two sorted arrays, found by bisection. As a dict of 179,000
    strings it held 22 MB in every process, a ``si-bot serve`` worker's largest share of its
    memory budget; this takes 2 MB. A word added later (the lexicon's, through jieba's
    ``add_word``) goes to a small dict beside it.

    It answers what jieba's ``Tokenizer`` asks of its ``FREQ``: ``in``, ``[]``, ``get`` and
    ``[]=``. A 64-bit string hash stands for the word: two of the entries sharing one (odds
    about 1 in 10⁹), or a question's fragment taking an entry's (1 in 10¹⁴ a lookup), would
    change one cut, never an answer's safety."""

    def __init__(self, hashes: array[int], counts: array[int]) -> None:
        self._hashes = hashes  # sorted, unique
        self._counts = counts
        self._added: dict[str, int] = {}

    def get(self, word: str, default: int | None = None) -> int | None:
        found = self._added.get(word)
        if found is not None:
            return found
        h = hash(word)
        i = bisect_left(self._hashes, h)
        return self._counts[i] if i < len(self._hashes) and self._hashes[i] == h else default

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.get(word) is not None

    def __getitem__(self, word: str) -> int:
        found = self.get(word)
        if found is None:
            raise KeyError(word)
        return found

    def __setitem__(self, word: str, count: int) -> None:
        self._added[word] = count


def _dictionary(path: Path) -> tuple[Frequencies, int]:
    """jieba's prefix dictionary (as its ``gen_pfdict`` builds it: a word's count, the last
    one where the file repeats it; 0 for a prefix of a word that is no word itself) of the
    words seen at least MIN_WORD_FREQ times, and the count of all words. Built in arrays,
    never as a dict of strings, so that loading leaves no garbage behind in the process."""
    hashes, counts, is_word = array("q"), array("q"), array("b")
    total = 0
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            word, count = line.split(" ", 2)[:2]
            count = int(count)
            total += count
            if count < MIN_WORD_FREQ:
                continue
            for end in range(1, len(word) + 1):
                hashes.append(hash(word[:end]))
                counts.append(count if end == len(word) else 0)
                is_word.append(end == len(word))
    h = np.frombuffer(hashes, dtype=np.int64)
    c = np.frombuffer(counts, dtype=np.int64)
    # By hash, then prefixes before words, then in the file's order: each hash's last entry
    # is the one jieba keeps.
    order = np.lexsort((np.arange(len(h)), np.frombuffer(is_word, dtype=np.int8), h))
    h, c = h[order], c[order]
    last = np.append(h[1:] != h[:-1], True)
    return Frequencies(array("q", h[last].tobytes()), array("q", c[last].tobytes())), total


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@dataclass(frozen=True)
class Analysis:
    """A text's tokens, in groups: each group stands for one written word.

    - ``words``: a Chinese word and the dictionary words inside it (``住院费用`` → ``住院``,
      ``费用``, ``住院费用``), then its characters as a back-off for a word the knowledge
      base has never seen (after ``|``); an English stem; a number.
    - ``sounds``: one toneless pinyin bigram; an English stem after spelling correction
      against the knowledge base's own words.

    The ranker counts a group the knowledge base has never seen as unknown once, however
    many tokens it has. A knowledge-base document is indexed with all of its tokens,
    characters included, so that a question's unknown word can meet them."""

    text: str  # the normalised text
    words: tuple[tuple[str, ...], ...]
    sounds: tuple[tuple[str, ...], ...]

    @property
    def empty(self) -> bool:
        return not self.words and not self.sounds

    @property
    def word_tokens(self) -> list[str]:
        return [t for group in self.words for t in group if t != BACKOFF]

    @property
    def sound_tokens(self) -> list[str]:
        return [t for group in self.sounds for t in group if t != BACKOFF]


# Separates a group's own tokens from its back-off characters.
BACKOFF = "|"


class Analyzer:
    """Normalises and tokenises text with one lexicon. Thread-safe once built."""

    def __init__(self, lexicon: Lexicon, extra_words: Iterable[str] = ()) -> None:
        self.lexicon = lexicon
        self._jieba = _segmenter()
        # A place is dropped whether or not its 市/省 is written ("泸州市", "四川省").
        self._places = frozenset(
            f"{place}{suffix}" for place in lexicon.places for suffix in ("", "市", "省")
        )
        self._places_latin = frozenset(
            (*("".join(lazy_pinyin(p, style=Style.NORMAL)) for p in lexicon.places), *lexicon.places_en)
        )
        with _jieba_lock:
            for word in (*lexicon.user_words, *extra_words, *self._places):
                word = to_simplified(word.strip().lower())
                if _CJK_RUN_RE.fullmatch(word) and len(word) > 1 and not self._jieba.FREQ.get(word):
                    self._jieba.add_word(word)
        self._stem = _stemmer()
        self._word_rewrites = dict(lexicon.word_rewrites)
        self._spelling: tuple[str, ...] = ()
        self._spelling_set: frozenset[str] = frozenset()
        # The knowledge base's Chinese words by their toneless syllables (learn_pinyin).
        self._by_sound: dict[tuple[str, ...], str] = {}
        self._longest_sound = 0
        self._domain = self.terms(lexicon.domain_terms)
        self._related = self.terms(lexicon.related_terms)

    def learn_spelling(self, texts: Iterable[str]) -> None:
        """The English words of ``texts`` (the knowledge base) become the dictionary that
        misspelt question words are corrected against."""
        words = {w for text in texts for w in _LATIN_RE.findall(self.normalise(text))}
        words = {w for w in words - self.lexicon.stopwords if not self._is_place(w)}
        self._spelling = tuple(sorted(w for w in words if len(w) >= 4))
        self._spelling_set = frozenset(words)

    def learn_pinyin(self, texts: Iterable[str]) -> None:
        """The Chinese words of ``texts`` (the knowledge base) become what a question typed in
        pinyin is read back into: per sound, the word the knowledge base uses most."""
        counts: Counter[str] = Counter()
        for text in texts:
            for token in self._jieba.cut(self.normalise(text), HMM=False):
                if len(token) > 1 and _CJK_RUN_RE.fullmatch(token):
                    counts[token] += 1
        by_sound: dict[tuple[str, ...], str] = {}
        for word, _ in counts.most_common():
            by_sound.setdefault(tuple(lazy_pinyin(word, style=Style.NORMAL)), word)
        self._by_sound = by_sound
        self._longest_sound = max(map(len, by_sound), default=0)
        _pinyin_syllables()  # built now (0.2 s), not by the first question

    def from_pinyin(self, question: str) -> str | None:
        """A question typed in toneless pinyin, in the knowledge base's Chinese words (a
        syllable no word of it takes stays as written); None when it is not pinyin."""
        if not self._by_sound or CJK_RE.search(question):
            return None
        # As typed: the lexicon's English rewrites ("si" → "social insurance") would hide it.
        norm = to_simplified(unicodedata.normalize("NFKC", _SLACK_MARKUP_RE.sub(" ", question)).lower())
        pieces: list[str | tuple[str, ...]] = []
        words = english = 0
        for token in re.split(r"([a-z']+)", norm):
            if not token or not re.fullmatch(r"[a-z']+", token):
                # A rewrite's Chinese ("shebao" → "社保") is read back with its neighbours.
                for part in re.split(f"([{_CJK}]+)", token):
                    is_cjk = bool(_CJK_RUN_RE.fullmatch(part))
                    pieces.append(tuple(lazy_pinyin(part, style=Style.NORMAL)) if is_cjk else part)
                continue
            split = split_pinyin(token.strip("'"))
            if split is None:
                return None
            words += 1
            english += token in self._spelling_set or token in self.lexicon.stopwords
            pieces.append(split)
        # "he ban", "she me": English words that happen to spell syllables.
        if not words or english * 2 >= words:
            return None
        out: list[str] = []
        run: list[str] = []  # consecutive syllables, read back together across spaces
        for piece in (*pieces, ""):
            if isinstance(piece, tuple):
                run.extend(piece)
                continue
            if piece and not piece.strip() and run:
                continue  # a space between syllables: the run goes on
            out.append(self._words_of(run))
            run = []
            out.append(piece)
        chinese = "".join(out)
        # Pinyin is read as Chinese only when it met at least one of the knowledge base's words.
        return chinese if CJK_RE.search(chinese) else None

    def _words_of(self, syllables: Sequence[str]) -> str:
        """Syllables read greedily into the longest known words; others kept as written."""
        out: list[str] = []
        at = 0
        while at < len(syllables):
            for n in range(min(self._longest_sound, len(syllables) - at), 1, -1):
                word = self._by_sound.get(tuple(syllables[at : at + n]))
                if word:
                    out.append(word)
                    at += n
                    break
            else:
                out.append(f" {syllables[at]} ")
                at += 1
        return "".join(out)

    def detect_lang(self, question: str) -> str:
        """``zh`` for a question with a Chinese character or typed in pinyin, else ``en``."""
        return "zh" if CJK_RE.search(question) or self.from_pinyin(question) else "en"

    def normalise(self, text: str) -> str:
        text = _SLACK_MARKUP_RE.sub(" ", text)
        text = to_simplified(unicodedata.normalize("NFKC", text).lower())
        for old, new, pattern in self.lexicon.replace:
            text = pattern.sub(new, text) if pattern else text.replace(old, new)
        return text

    def _pieces(self, word: str) -> tuple[str, ...]:
        """The word, the dictionary words of two and three characters inside it, and (after
        BACKOFF) its characters."""
        freq = self._jieba.FREQ
        stop = self.lexicon.stopwords
        inner = [
            word[i : i + n]
            for n in (2, 3)
            if len(word) > n
            for i in range(len(word) - n + 1)
            if freq.get(word[i : i + n])
        ]
        pieces = [p for p in dict.fromkeys((*inner, word)) if p not in stop]
        chars = [c for c in dict.fromkeys(word) if c not in stop] if len(word) > 1 else []
        return (*pieces, BACKOFF, *chars) if chars else tuple(pieces)

    def _correct(self, word: str) -> str:
        """A word the knowledge base does not use, replaced by the closest one it does: one
        edit for words of 4-7 letters, two from 8 (``pention`` → ``pension``)."""
        if word in self._spelling_set or len(word) < 4 or not self._spelling:
            return word
        found = process.extractOne(
            word, self._spelling, scorer=Levenshtein.distance, score_cutoff=1 if len(word) < 8 else 2
        )
        return found[0] if found else word

    def analyse(self, text: str) -> Analysis:
        norm = self.from_pinyin(text) or self.normalise(text)
        stop = self.lexicon.stopwords
        words: list[tuple[str, ...]] = []
        latin: list[str] = []
        kept: list[str] = []  # the text without its places, for the sounds
        for token in self._jieba.cut(norm, HMM=False):
            if token.strip() in self._places:
                kept.append(" ")
                continue
            kept.append(token)
            token = token.strip()
            token = self._word_rewrites.get(token, token)
            if not token or token in stop:
                continue
            if CJK_RE.search(token):
                pieces = self._pieces(token)
                if pieces:
                    words.append(pieces)
            elif _NUMBER_RE.fullmatch(token):
                words.append((token,))
            else:
                latin.extend(w for w in _LATIN_RE.findall(token) if w not in stop and not self._is_place(w))
        words.extend((stem,) for stem in self._stem.stemWords(latin))
        sounds: list[tuple[str, ...]] = []
        for run in _CJK_RUN_RE.findall("".join(kept)):
            syllables = lazy_pinyin(run, style=Style.NORMAL)
            sounds.extend((f"{a}_{b}",) for a, b in itertools.pairwise(syllables))
        sounds.extend((stem,) for stem in self._stem.stemWords([self._correct(w) for w in latin]))
        return Analysis(norm, tuple(words), tuple(sounds))

    def _is_place(self, word: str) -> bool:
        return word.removesuffix("'s") in self._places_latin

    def terms(self, terms: Iterable[str]) -> Terms:
        """A matcher for ``terms`` in normalised text (normalised the same way)."""
        return Terms(self.normalise(t).strip() for t in terms)

    def names_social_insurance(self, normalised: str, inside: Terms | None = None) -> bool:
        """Whether a normalised question names social insurance (``社保``, ``pension``…); with
        ``inside``, only a name that is not wholly within one of those terms counts
        ("retirement plan", ``商业养老``)."""
        if inside is None:
            return self._domain.found_in(normalised)
        within = inside.spans(normalised)
        named = self._domain.spans(normalised)
        return any(not any(a <= start and end <= b for a, b in within) for start, end in named)

    def in_domain(self, normalised: str) -> bool:
        """Whether a normalised question is about social insurance or close to it
        (``缴费``, ``基数``…): unsure answers to it go to an administrator."""
        return self._domain.found_in(normalised) or self._related.found_in(normalised)


class Terms:
    """Finds any of a list of terms in normalised text: Chinese ones anywhere, Latin ones as
    whole words (``pension`` but not in ``suspension``; ``retire`` also in ``retirement``)."""

    def __init__(self, terms: Iterable[str]) -> None:
        terms = [t for t in terms if t]
        self._zh = tuple(t for t in terms if CJK_RE.search(t))
        latin = [re.escape(t) for t in terms if not CJK_RE.search(t)]
        self._en = re.compile(r"(?<![a-z])(?:" + "|".join(latin) + ")") if latin else None

    def found_in(self, normalised: str) -> bool:
        if any(term in normalised for term in self._zh):
            return True
        return bool(self._en and self._en.search(normalised))

    def spans(self, normalised: str) -> list[tuple[int, int]]:
        """Where the terms are found in ``normalised``: (start, end) of each occurrence."""
        found = []
        for term in self._zh:
            start = normalised.find(term)
            while start != -1:
                found.append((start, start + len(term)))
                start = normalised.find(term, start + 1)
        if self._en:
            found.extend(m.span() for m in self._en.finditer(normalised))
        return found
