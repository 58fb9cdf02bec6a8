"""Measure the help channel's retriever against labelled sets of questions.

    python -m bot.knowledge.evaluate [--tsv PATH ...] [--misses] [--json] [--sweep]

By default it measures twelve sets side by side (see ``tests/eval/README.md``):
- ``tests/eval/questions.tsv``, the *tuning* set: the questions the knowledge base is tuned on;
- ``tests/eval/frozen.tsv``, the *frozen* set: real questions written by other people on
  public pages (each with its address), collected once; its misses were looked at in round 1
  and it was tuned on in round 2, so its figures are tuned;
- ``tests/eval/holdout.tsv``, round 2's held-out set (more such questions from other pages);
  its misses were shown once round 2 was done and round 3 tuned on it: tuned too;
- ``tests/eval/holdout3.tsv``, round 3's held-out set, written before round 3 changed anything;
  its misses were shown once round 3 was done and round 4 tuned on it by kinds of miss;
- ``tests/eval/pages4.tsv`` and ``tests/eval/pages5.tsv``, round 4's tuning sets of real
  questions from public pages;
- ``tests/eval/holdout4.tsv``, round 4's held-out set: real questions from public pages, committed
  before round 4 changed anything; its misses were shown once round 4 was done and round 5 tunes
  on it by kinds of miss;
- ``tests/eval/holdout5.tsv``, round 5's held-out set: real questions from public pages, committed
  before round 5 changed anything; its misses were shown once round 5 was done and round 6 tunes
  on it by kinds of miss;
- ``tests/eval/holdout6.tsv``, round 6's held-out set: real questions written by other people,
  from public datasets of real Chinese questions on GitHub (legal, medical-search and Baidu
  Zhidao dumps) and from public pages no other set used, committed before round 6 changed
  anything; its misses were shown once round 6 was done and round 7 tunes on it by kinds of
  miss.
- ``tests/eval/holdout7.tsv``, round 7's held-out set: real questions written by other people,
  from further public datasets of real questions on GitHub (Toutiao titles, Baidu Zhidao and
  assistant queries, legal consultations, medical consultations and searches, InsuranceQA) and
  public pages no other set used, committed before round 7 changed anything; its misses were
  shown once round 7 was done and round 8 tunes on it by kinds of miss.
- ``tests/eval/holdout8.tsv``, round 8's held-out set: real questions written by other people,
  from public datasets of real questions on GitHub and public pages no other set used,
  committed before round 8 changed anything; its misses were shown once round 8 was done and
  round 9 tunes on it by kinds of miss.
- ``tests/eval/holdout9.tsv``, round 9's held-out set: real questions written by other people,
  from public datasets of real questions on GitHub (files no other set used), committed before
  round 9 changed anything; its misses were shown once round 9 was done and round 10 tunes on
  it by kinds of miss.
- ``tests/eval/holdout10.tsv``, round 10's held-out set: real questions written by other people,
  from public datasets of real questions on GitHub and GitHub issue threads (files and threads no
  other set used), committed before round 10 changed anything; its misses were shown once round
  10 was done and round 11 tunes on it by kinds of miss.
- ``tests/eval/holdout11.tsv``, round 11's held-out set: real questions written by other people,
  from public datasets of real questions on GitHub and GitHub issue threads (files and threads no
  other set used), committed before round 11 changed anything; its misses were shown once round
  11 was done and round 12 tunes on it by kinds of miss (``BLIND`` names it until round 12's
  blind set is committed).
A round's blind holdout set, whose misses nobody looks at while working, is named in ``BLIND``:
its confusion pairs and misses are shown only with ``--holdout-misses`` (when a round is done).

A TSV has a header and three columns, ``lang  expected  question``, plus an optional fourth,
``source``. ``expected`` is a topic id, several ids joined by ``|`` when the question mixes
topics and either answer is right, or ``none`` when the bot must not answer with a topic (out
of scope, chatter: an out-of-scope pointer, an escalation or silence all count as correctly
declined). ``lang`` is the language the answer must be in.

Figures, per set and per language:
- *right first time*: in-scope questions answered with a right topic (an escalation is a miss);
- *declined*: out-of-scope questions not answered with a topic;
- *wrong topic*: questions answered with a topic that is not right, over all questions (the
  worst outcome: a confident wrong answer);
- *right topic offered*: in-scope questions whose right topic is the answer or one of the
  alternatives offered with it (``Answer.alternatives``);
- *confusion pairs*: expected -> got, with counts, for every miss.
``--sweep`` shows the figures of the first set for a range of thresholds, ``--sweep-margin``
for a range of the too-close-to-call margin.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bot.knowledge import kb as kb_module
from bot.knowledge.kb import KnowledgeBase

EVAL_DIR = Path(__file__).resolve().parents[2] / "tests" / "eval"
DEFAULT_TSV = EVAL_DIR / "questions.tsv"
FROZEN_TSV = EVAL_DIR / "frozen.tsv"
HOLDOUT_TSV = EVAL_DIR / "holdout.tsv"
HOLDOUT3_TSV = EVAL_DIR / "holdout3.tsv"
HOLDOUT4_TSV = EVAL_DIR / "holdout4.tsv"
HOLDOUT5_TSV = EVAL_DIR / "holdout5.tsv"
HOLDOUT6_TSV = EVAL_DIR / "holdout6.tsv"
HOLDOUT7_TSV = EVAL_DIR / "holdout7.tsv"
HOLDOUT8_TSV = EVAL_DIR / "holdout8.tsv"
HOLDOUT9_TSV = EVAL_DIR / "holdout9.tsv"
HOLDOUT10_TSV = EVAL_DIR / "holdout10.tsv"
HOLDOUT11_TSV = EVAL_DIR / "holdout11.tsv"
SETS = {
    "tuning": DEFAULT_TSV,
    "frozen": FROZEN_TSV,
    "holdout": HOLDOUT_TSV,
    "holdout3": HOLDOUT3_TSV,
    "pages4": EVAL_DIR / "pages4.tsv",  # round 4's tuning set from public pages
    "pages5": EVAL_DIR / "pages5.tsv",  # round 4's second tuning set from public pages
    "holdout4": HOLDOUT4_TSV,
    "holdout5": HOLDOUT5_TSV,
    "holdout6": HOLDOUT6_TSV,
    "holdout7": HOLDOUT7_TSV,
    "holdout8": HOLDOUT8_TSV,
    "holdout9": HOLDOUT9_TSV,
    "holdout10": HOLDOUT10_TSV,
    "holdout11": HOLDOUT11_TSV,
}
# Sets whose misses stay hidden unless asked for (tests/eval/README.md): the current round's holdout.
# holdout8 was round 8's; its misses were shown when round 8 was done, so round 9 tunes on it.
# holdout9 was round 9's; its misses were shown when round 9 was done, so round 10 tunes on it
# (crossval.TRAIN_SETS).
# holdout10 was round 10's; its misses were shown when round 10 was done, so round 11 tunes on it
# (crossval.TRAIN_SETS).
# holdout11 was round 11's; its misses were shown when round 11 was done, so round 12 tunes on it
# (crossval.TRAIN_SETS). BLIND names it until round 12's blind set is committed.
BLIND = frozenset({"holdout11"})
NONE = "none"
LANGS = ("zh", "en")


@dataclass(frozen=True)
class Case:
    lang: str
    expected: tuple[str, ...]  # () for "none"
    question: str
    source: str = ""

    @property
    def in_scope(self) -> bool:
        return bool(self.expected)


@dataclass(frozen=True)
class Miss:
    lang: str
    expected: str
    got: str
    score: float
    question: str


@dataclass
class Tally:
    """Counts for one language or one topic."""

    in_scope: int = 0
    correct: int = 0
    out_of_scope: int = 0
    declined: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.in_scope if self.in_scope else 0.0

    @property
    def abstention(self) -> float:
        return self.declined / self.out_of_scope if self.out_of_scope else 0.0


@dataclass
class Report(Tally):
    """A whole set's figures (the totals are the Tally's)."""

    threshold: float = 0.0
    wrong_lang: int = 0
    wrong_topic: int = 0  # answered with a topic that is not right (in scope or not)
    offered: int = 0  # in scope: the right topic is the answer or one of its alternatives
    runner_up: int = 0  # answers that offered a close runner-up besides
    # How the out-of-scope questions were handled: pointer / escalated / quiet / answered.
    outcomes: dict[str, int] = field(default_factory=dict)
    langs: dict[str, Tally] = field(default_factory=dict)
    topics: dict[str, Tally] = field(default_factory=dict)
    confusion: Counter = field(default_factory=Counter)  # (expected, got) -> count
    misses: list[Miss] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.in_scope + self.out_of_scope

    @property
    def wrong_rate(self) -> float:
        return self.wrong_topic / self.total if self.total else 0.0

    @property
    def offered_rate(self) -> float:
        return self.offered / self.in_scope if self.in_scope else 0.0

    def as_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "in_scope": self.in_scope,
            "correct": self.correct,
            "accuracy": round(self.accuracy, 4),
            "out_of_scope": self.out_of_scope,
            "declined": self.declined,
            "abstention": round(self.abstention, 4),
            "wrong_topic": self.wrong_topic,
            "wrong_rate": round(self.wrong_rate, 4),
            "offered": self.offered,
            "offered_rate": round(self.offered_rate, 4),
            "runner_up": self.runner_up,
            "wrong_lang": self.wrong_lang,
            "langs": {
                lang: {
                    **asdict(row),
                    "accuracy": round(row.accuracy, 4),
                    "abstention": round(row.abstention, 4),
                }
                for lang, row in sorted(self.langs.items())
            },
            "outcomes": dict(sorted(self.outcomes.items())),
            "topics": {
                t: {"count": r.in_scope, "correct": r.correct, "accuracy": round(r.accuracy, 4)}
                for t, r in sorted(self.topics.items())
            },
            "confusion": [
                {"expected": e, "got": g, "count": n} for (e, g), n in self.confusion.most_common()
            ],
            "misses": [asdict(m) for m in self.misses],
        }


def read_cases(path: Path) -> list[Case]:
    """The labelled questions of a TSV file (see the module docstring)."""
    cases = []
    with path.open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(rows, None)
        if header not in (["lang", "expected", "question"], ["lang", "expected", "question", "source"]):
            raise ValueError(
                f"{path}: the header must be 'lang<TAB>expected<TAB>question[<TAB>source]', got {header}"
            )
        for number, row in enumerate(rows, start=2):
            if not row or not "".join(row).strip():
                continue
            if len(row) != len(header):
                raise ValueError(
                    f"{path}:{number}: expected {len(header)} tab-separated columns, got {len(row)}"
                )
            lang, expected, question, *source = (cell.strip() for cell in row)
            if lang not in LANGS:
                raise ValueError(f"{path}:{number}: lang must be one of {LANGS}, got {lang!r}")
            labels = () if expected == NONE else tuple(e.strip() for e in expected.split("|") if e.strip())
            cases.append(Case(lang, labels, question, source[0] if source else ""))
    return cases


def evaluate(kb: KnowledgeBase, cases: Iterable[Case], threshold: float | None = None) -> Report:
    """Ask every question (language detected, as in the help channel) and score the answers."""
    saved = kb.threshold
    if threshold is not None:
        kb.threshold = threshold
    try:
        report = Report(threshold=kb.threshold)
        for case in cases:
            answer = kb.answer(case.question)
            got = answer.topic or answer.out_of_scope or ("escalate" if answer.escalate else "quiet")
            lang_row = report.langs.setdefault(case.lang, Tally())
            report.runner_up += bool(answer.topic and answer.alternatives)
            if answer.lang != case.lang:
                report.wrong_lang += 1
            if case.in_scope:
                ok = answer.topic in case.expected
                offered = (answer.topic, *answer.alternatives)
                report.in_scope += 1
                report.correct += ok
                report.offered += any(t in case.expected for t in offered)
                lang_row.in_scope += 1
                lang_row.correct += ok
                row = report.topics.setdefault(case.expected[0], Tally())
                row.in_scope += 1
                row.correct += ok
            else:
                ok = answer.topic is None
                report.out_of_scope += 1
                report.declined += ok
                lang_row.out_of_scope += 1
                lang_row.declined += ok
                kind = "pointer" if answer.out_of_scope else "escalated" if answer.escalate else "quiet"
                kind = kind if ok else "answered"
                report.outcomes[kind] = report.outcomes.get(kind, 0) + 1
            if not ok:
                expected = "|".join(case.expected) or NONE
                report.wrong_topic += answer.topic is not None
                report.confusion[(case.expected[0] if case.expected else NONE, got)] += 1
                report.misses.append(Miss(case.lang, expected, got, round(answer.score, 3), case.question))
        return report
    finally:
        kb.threshold = saved


def _share(part: int, whole: int) -> str:
    return f"{part / whole:6.1%} ({part}/{whole})" if whole else "     -"


def print_reports(
    named: Sequence[tuple[str, Report]],
    out=sys.stdout,
    *,
    misses: bool = False,
    blind: frozenset[str] = frozenset(),
) -> None:
    """The figures of several sets side by side, then each set's confusion pairs (those of the
    ``blind`` sets stay hidden: their misses are not to be looked at while working)."""
    width = 22
    lines: list[tuple[str, list[str]]] = [
        ("questions", [str(r.total) for _, r in named]),
        ("in scope, right first", [_share(r.correct, r.in_scope) for _, r in named]),
    ]
    for lang in LANGS:
        rows = [r.langs.get(lang, Tally()) for _, r in named]
        lines.append((f"  {lang}", [_share(x.correct, x.in_scope) for x in rows]))
    lines.append(("out of scope, declined", [_share(r.declined, r.out_of_scope) for _, r in named]))
    for lang in LANGS:
        rows = [r.langs.get(lang, Tally()) for _, r in named]
        lines.append((f"  {lang}", [_share(x.declined, x.out_of_scope) for x in rows]))
    lines += [
        ("wrong topic (all qs)", [_share(r.wrong_topic, r.total) for _, r in named]),
        ("right topic offered", [_share(r.offered, r.in_scope) for _, r in named]),
        ("answers with runner-up", [_share(r.runner_up, r.total) for _, r in named]),
        ("wrong language", [str(r.wrong_lang) for _, r in named]),
    ]
    print(
        f"{'threshold ' + format(named[0][1].threshold, '.2f'):<24}"
        + "".join(f"{name:<{width}}" for name, _ in named),
        file=out,
    )
    for label, cells in lines:
        print(f"{label:<24}" + "".join(f"{c:<{width}}" for c in cells), file=out)
    for name, report in named:
        if name in blind:
            print(f"\n{name}: confusion pairs and misses hidden (--holdout-misses shows them)", file=out)
            continue
        print(f"\n{name}: confusion pairs (expected -> got)", file=out)
        if not report.confusion:
            print("  none", file=out)
        for (expected, got), count in report.confusion.most_common():
            print(f"  {count:3d}  {expected} -> {got}", file=out)
        if misses and report.misses:
            print(f"\n{name}: misses ({len(report.misses)})", file=out)
            for m in report.misses:
                print(
                    f"  [{m.lang}] expected {m.expected:<22} got {m.got:<22} {m.score:.3f}  {m.question}",
                    file=out,
                )


def sweep(kb: KnowledgeBase, cases: Sequence[Case], out=sys.stdout) -> None:
    print("\nthreshold  accuracy  abstention  wrong topic", file=out)
    for step in range(10, 61, 2):
        report = evaluate(kb, cases, threshold=step / 100)
        print(
            f"     {step / 100:.2f}    {report.accuracy:6.1%}      {report.abstention:6.1%}"
            f"      {report.wrong_rate:6.1%}",
            file=out,
        )


def _sweep_setting(kb, cases, setting: str, values, header: str, line, out) -> None:
    """The figures of ``cases`` for each value of one of kb.py's settings, restored after."""
    saved = getattr(kb_module, setting)
    print(header, file=out)
    try:
        for value in values:
            setattr(kb_module, setting, value)
            print(line(value, evaluate(kb, cases)), file=out)
    finally:
        setattr(kb_module, setting, saved)


def sweep_close(kb: KnowledgeBase, cases: Sequence[Case], out=sys.stdout) -> None:
    """How CLOSE_RATIO trades offered right topics against answers with a runner-up."""
    _sweep_setting(
        kb,
        cases,
        "CLOSE_RATIO",
        [step / 100 for step in range(50, 101, 5)],
        "\nclose ratio  right offered  answers with runner-up",
        lambda v, r: f"     {v:.2f}       {r.offered_rate:6.1%}        {r.runner_up / r.total:6.1%}",
        out,
    )


def sweep_margin(kb: KnowledgeBase, cases: Sequence[Case], out=sys.stdout) -> None:
    """How CLOSE_MARGIN (MIX_CLOSE_MARGIN with the classifier) trades right answers for fewer
    wrong ones (too close to call: escalated)."""
    _sweep_setting(
        kb,
        cases,
        "CLOSE_MARGIN" if kb.bm25_share == 1 else "MIX_CLOSE_MARGIN",
        [step / 100 for step in range(13)],
        "\nclose margin  right first  wrong topic  right offered",
        lambda v, r: (
            f"     {v:.2f}        {r.accuracy:6.1%}      {r.wrong_rate:6.1%}       {r.offered_rate:6.1%}"
        ),
        out,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.knowledge.evaluate", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--tsv",
        type=Path,
        action="append",
        help=f"a labelled set, repeatable (default: {', '.join(path.name for path in SETS.values())})",
    )
    parser.add_argument("--kb", type=Path, default=None, help="knowledge base folder (default: messages/kb)")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    parser.add_argument("--misses", action="store_true", help="also list every miss")
    parser.add_argument(
        "--sweep", action="store_true", help="also show the first set's figures for a range of thresholds"
    )
    parser.add_argument(
        "--sweep-close",
        action="store_true",
        help="also show the first set's offers for a range of CLOSE_RATIO",
    )
    parser.add_argument(
        "--sweep-margin",
        action="store_true",
        help="also show the first set's figures for a range of CLOSE_MARGIN",
    )
    parser.add_argument(
        "--holdout-misses",
        action="store_true",
        help=f"also show the blind set's ({', '.join(sorted(BLIND)) or 'none now'}) confusion pairs and"
        " misses (only once a round of work is done)",
    )
    parser.add_argument(
        "--taught",
        action="store_true",
        help="with the lessons of _taught.toml (default: shipped topics alone)",
    )
    parser.add_argument(
        "--bm25",
        action="store_true",
        help="BM25 alone, without the trained classifier (what answered before it)",
    )
    args = parser.parse_args(argv)
    kb = KnowledgeBase.load(args.kb, taught=args.taught, classifier=not args.bm25)
    paths = args.tsv or list(SETS.values())
    names = {path.resolve(): name for name, path in SETS.items()}
    sets = [(names.get(path.resolve(), path.stem), read_cases(path)) for path in paths]
    named = [(name, evaluate(kb, cases)) for name, cases in sets]
    blind = frozenset() if args.holdout_misses else BLIND
    if args.json:
        reports = {name: r.as_dict() for name, r in named}
        for name in blind & reports.keys():
            hidden = ("confusion", "misses", "topics")
            reports[name] = {k: v for k, v in reports[name].items() if k not in hidden}
        print(json.dumps(reports, ensure_ascii=False, indent=2))
    else:
        print_reports(named, misses=args.misses, blind=blind)
        if args.sweep:
            sweep(kb, sets[0][1])
        if args.sweep_close:
            sweep_close(kb, sets[0][1])
        if args.sweep_margin:
            sweep_margin(kb, sets[0][1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
