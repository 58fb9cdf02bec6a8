"""Cross-validation of the trained classifier (classifier.py) mixed with BM25.

    python -m bot.knowledge.crossval [--folds 5] [--grid] [--write]

The labelled questions of the sets that may be tuned on (questions, frozen, holdout, holdout3,
pages4, pages5, since round 5 holdout4, since round 6 holdout5, since round 7 holdout6, since round
8 holdout7, since round 9 holdout8, since round 10 holdout9, since round 11 holdout10 and since
round 12 holdout11 — never the round's blind set, ``evaluate.BLIND``) are split into K folds,
grouped by source page where a question has one (questions of one page stay in one fold, so
near-duplicates do not leak). For each fold, a classifier is trained on every topic's and domain's
asks, titles and keywords plus the other folds' questions, and the fold's questions are answered by
the knowledge base with that classifier (kb.py decides as always: thresholds, markers, too close to
call, out of scope). The baseline, BM25 alone as shipped, needs no training: it answers the same
held-out questions. Printed: right first, declined and wrong topic per language, for the baseline
and for the combined model (``--grid``: for every mix and threshold).
"""

from __future__ import annotations

import argparse
import functools
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.knowledge import classifier
from bot.knowledge import kb as kb_module
from bot.knowledge.classifier import Classifier, Example, features, fingerprint
from bot.knowledge.evaluate import SETS, Case, evaluate, print_reports, read_cases
from bot.knowledge.kb import BM25_SHARE, CLASSIFIER_FILE, DEFAULT_KB_DIR, MIX_THRESHOLD, KnowledgeBase

# The sets the classifier may learn from: every set but the round's blind one (tests/eval/README.md).
# holdout4 was round 4's blind set; its misses were shown when round 4 was done, so round 5 tunes on it.
# holdout5, round 5's, likewise since round 6; holdout6, round 6's, since round 7; holdout7,
# round 7's, since round 8; holdout8, round 8's, since round 9; holdout9, round 9's, since
# round 10; holdout10, round 10's, since round 11; holdout11, round 11's, since round 12. The
# round's blind set (evaluate.BLIND: holdout12), never.
TRAIN_SETS = (
    "tuning",
    "frozen",
    "holdout",
    "holdout3",
    "pages4",
    "pages5",
    "holdout4",
    "holdout5",
    "holdout6",
    "holdout7",
    "holdout8",
    "holdout9",
    "holdout10",
    "holdout11",
)
NONE_CLASS = "none"
SEED = 12


@dataclass(frozen=True)
class Labelled:
    case: Case
    group: str


def labelled_questions() -> list[Labelled]:
    """The tunable sets' questions, each once (the first set that has it), with its group:
    its source page, or itself when it has none."""
    seen: set[str] = set()
    out = []
    for name in TRAIN_SETS:
        for n, case in enumerate(read_cases(SETS[name])):
            if case.question in seen:
                continue
            seen.add(case.question)
            page = case.source if case.source.startswith("http") else f"{name}:{n}"
            out.append(Labelled(case, page))
    return out


def folds_of(items: Sequence[Labelled], k: int, seed: int = SEED) -> list[int]:
    """A fold for each item: whole groups, shuffled, dealt to the smallest fold."""
    groups: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(item.group, []).append(i)
    order = list(groups)
    random.Random(seed).shuffle(order)
    order.sort(key=lambda g: -len(groups[g]))  # big groups first, ties in shuffled order
    sizes = [0] * k
    fold = [0] * len(items)
    for g in order:
        f = sizes.index(min(sizes))
        sizes[f] += len(groups[g])
        for i in groups[g]:
            fold[i] = f
    return fold


def kb_examples(kb: KnowledgeBase, weight: float = 1.0) -> list[Example]:
    """Every topic's and domain's titles, asks and keywords, one example each."""
    out = []
    for entry in kb._entries:
        topic = entry.topic
        for text in (topic.title_zh, topic.title_en, *topic.asks):
            analysis = kb.analyse(text)
            if not analysis.empty:
                out.append(Example(features(analysis), (topic.id,), weight))
    return out


def case_example(kb: KnowledgeBase, case: Case, weight: float = 1.0) -> Example:
    return Example(features(kb.analyse(case.question)), case.expected or (NONE_CLASS,), weight)


def classes_of(kb: KnowledgeBase) -> list[str]:
    return [e.topic.id for e in kb._entries] + [NONE_CLASS]


class _FoldAnswerer:
    """Answers each held-out question with the classifier of its fold (for evaluate())."""

    def __init__(
        self, kb: KnowledgeBase, fold_of: dict[str, int], models: Sequence[Classifier], share: float
    ):
        self.kb, self.fold_of, self.models, self.share = kb, fold_of, models, share
        self.threshold = kb.threshold

    def answer(self, question: str):
        self.kb.use_classifier(self.models[self.fold_of[question]], self.share)
        saved = self.kb.threshold
        self.kb.threshold = self.threshold
        try:
            return self.kb.answer(question)
        finally:
            self.kb.threshold = saved


def cross_validate(
    kb: KnowledgeBase,
    items: Sequence[Labelled],
    k: int,
    *,
    ask_weight: float = 1.0,
    question_weight: float = 1.0,
    seed: int = SEED,
    **train_args,
) -> tuple[dict[str, int], list[Classifier]]:
    """One classifier per fold, trained on the asks and the other folds' questions."""
    fold = folds_of(items, k, seed)
    asks = kb_examples(kb, ask_weight)
    examples = [case_example(kb, item.case, question_weight) for item in items]
    models = []
    for f in range(k):
        train = asks + [e for e, g in zip(examples, fold, strict=True) if g != f]
        models.append(Classifier.train(train, classes_of(kb), **train_args))
    return {item.case.question: f for item, f in zip(items, fold, strict=True)}, models


def training_examples(kb_dir: Path = DEFAULT_KB_DIR) -> tuple[list[Example], list[str]]:
    """What the shipped classifier learns from: every topic's and domain's asks and every
    tunable set's question, as the analyser reads them; and the classes."""
    kb = KnowledgeBase.load(kb_dir, taught=False, classifier=False)
    examples = kb_examples(kb) + [case_example(kb, item.case) for item in labelled_questions()]
    return examples, classes_of(kb)


def training_fingerprint(kb_dir: Path = DEFAULT_KB_DIR) -> str:
    """A digest of exactly what training reads — each example's features and classes, the
    classes and the settings —, so that an answer's wording can change without retraining,
    and a new ask, keyword, lexicon rewrite or labelled question cannot."""
    examples, classes = training_examples(kb_dir)
    settings = repr(
        (
            classifier.HASH_BITS,
            classifier.NGRAMS,
            classifier.L2,
            classifier.STEPS,
            classifier.LEARNING_RATE,
            SEED,
            classes,
        )
    )
    return fingerprint([settings, *(f"{e.labels}{e.weight}{sorted(e.rows.tolist())}" for e in examples)])


def write_classifier(kb_dir: Path = DEFAULT_KB_DIR) -> Path:
    """Train on every topic's and domain's asks and every tunable set's question; save."""
    examples, classes = training_examples(kb_dir)
    model = Classifier.train(examples, classes)
    path = kb_dir / CLASSIFIER_FILE
    model.save(path, training_fingerprint(kb_dir))
    return path


def _cached(kb: KnowledgeBase) -> None:
    """Analyses and BM25 scores computed once per question (the grid asks each many times)."""
    kb._analyzer.analyse = functools.lru_cache(maxsize=None)(kb._analyzer.analyse)
    kb._ranker.scores = functools.lru_cache(maxsize=None)(kb._ranker.scores)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.knowledge.crossval", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--share", type=float, action="append", help="BM25's share of the mix (repeatable)")
    parser.add_argument("--threshold", type=float, action="append", help="answer threshold (repeatable)")
    parser.add_argument("--margin", type=float, action="append", help="too close to call (repeatable)")
    parser.add_argument(
        "--unnamed", type=float, action="append", help="the bar without a social-insurance term (repeatable)"
    )
    parser.add_argument("--l2", type=float, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--bits", type=int, default=None)
    parser.add_argument("--seed", type=int, default=SEED, help="how the groups are dealt to folds")
    parser.add_argument(
        "--write",
        action="store_true",
        help=f"train on every asks and labelled question, write {DEFAULT_KB_DIR.name}/{CLASSIFIER_FILE}",
    )
    parser.add_argument("--full", action="store_true", help="the evaluate report of every model")
    parser.add_argument("--ask-weight", type=float, default=1.0)
    args = parser.parse_args(argv)
    if args.write:
        path = write_classifier()
        print(f"wrote {path}")
        return 0
    kb = KnowledgeBase.load(taught=False, classifier=False)
    _cached(kb)
    items = labelled_questions()
    cases = [item.case for item in items]
    train_args = {
        key: value
        for key, value in (("l2", args.l2), ("steps", args.steps), ("bits", args.bits))
        if value is not None
    }
    fold_of, models = cross_validate(
        kb, items, args.folds, ask_weight=args.ask_weight, seed=args.seed, **train_args
    )
    kb.use_classifier(None)
    named = [("baseline", evaluate(kb, cases))]
    for share in args.share or [BM25_SHARE]:
        for threshold in args.threshold or [MIX_THRESHOLD]:
            for margin in args.margin or [kb_module.MIX_CLOSE_MARGIN]:
                for unnamed in args.unnamed or [kb_module.MIX_UNNAMED_THRESHOLD]:
                    answerer = _FoldAnswerer(kb, fold_of, models, share)
                    answerer.threshold = threshold
                    saved = kb_module.MIX_CLOSE_MARGIN, kb_module.MIX_UNNAMED_THRESHOLD
                    kb_module.MIX_CLOSE_MARGIN, kb_module.MIX_UNNAMED_THRESHOLD = margin, unnamed
                    try:
                        report = evaluate(answerer, cases)
                    finally:
                        kb_module.MIX_CLOSE_MARGIN, kb_module.MIX_UNNAMED_THRESHOLD = saved
                    name = f"mix {share:.2f} t {threshold:.2f} m {margin:.2f} u {unnamed:.2f}"
                    named.append((name, report))
    kb.use_classifier(None)
    if args.full:
        for start in range(0, len(named), 4):
            print_reports(named[start : start + 4], blind=frozenset(n for n, _ in named))
            print()
    else:
        print_table(named)
    return 0


def print_table(named: Sequence[tuple[str, object]], out=sys.stdout) -> None:
    """One line per model: right first (all, zh, en), declined, wrong topic, right offered."""
    print(
        f"{'':<33}{'right first':>12}{'zh':>8}{'en':>8}{'declined':>10}{'zh':>8}{'en':>8}"
        f"{'wrong':>8}{'offered':>9}",
        file=out,
    )
    for name, r in named:
        zh, en = r.langs["zh"], r.langs["en"]
        print(
            f"{name:<33}{r.accuracy:>12.1%}{zh.accuracy:>8.1%}{en.accuracy:>8.1%}{r.abstention:>10.1%}"
            f"{zh.abstention:>8.1%}{en.abstention:>8.1%}{r.wrong_rate:>8.1%}{r.offered_rate:>9.1%}"
            f"   ({r.correct}/{r.in_scope} right, {r.declined}/{r.out_of_scope} declined,"
            f" {r.wrong_topic} wrong)",
            file=out,
        )


if __name__ == "__main__":
    sys.exit(main())
