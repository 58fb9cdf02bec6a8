"""Measure the help channel's retriever against a labelled set of questions.

    python -m bot.knowledge.evaluate [--tsv PATH] [--json] [--sweep]

The TSV (default ``tests/eval/questions.tsv``) has a header and three columns:
``lang  expected  question``. ``expected`` is a topic id, several ids joined by ``|`` when
the question mixes topics and either answer is right, or ``none`` when the bot must not
answer with a topic (out of scope, chatter: any of out-of-scope pointer, escalation or
silence counts as a correct abstention). ``lang`` is the language the answer must be in.

Prints top-1 accuracy on the in-scope questions (a question the bot abstains on counts as
a miss), the rate of correct abstention on the others, a per-topic table and every miss.
``--sweep`` also shows both figures for a range of thresholds (how THRESHOLD was chosen).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bot.knowledge.kb import KnowledgeBase

DEFAULT_TSV = Path(__file__).resolve().parents[2] / "tests" / "eval" / "questions.tsv"
NONE = "none"


@dataclass(frozen=True)
class Case:
    lang: str
    expected: tuple[str, ...]  # () for "none"
    question: str

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
class TopicRow:
    count: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.count if self.count else 0.0


@dataclass
class Report:
    threshold: float
    in_scope: int = 0
    correct: int = 0
    out_of_scope: int = 0
    abstained: int = 0
    wrong_lang: int = 0
    # How the out-of-scope questions were handled: pointer / escalated / quiet / a topic.
    outcomes: dict[str, int] = field(default_factory=dict)
    topics: dict[str, TopicRow] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.in_scope if self.in_scope else 0.0

    @property
    def abstention(self) -> float:
        return self.abstained / self.out_of_scope if self.out_of_scope else 0.0

    def as_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "in_scope": self.in_scope,
            "correct": self.correct,
            "accuracy": round(self.accuracy, 4),
            "out_of_scope": self.out_of_scope,
            "abstained": self.abstained,
            "abstention": round(self.abstention, 4),
            "wrong_lang": self.wrong_lang,
            "outcomes": dict(sorted(self.outcomes.items())),
            "topics": {
                t: {"count": r.count, "correct": r.correct, "accuracy": round(r.accuracy, 4)}
                for t, r in sorted(self.topics.items())
            },
            "misses": [asdict(m) for m in self.misses],
        }


def read_cases(path: Path) -> list[Case]:
    """The labelled questions of a TSV file (see the module docstring)."""
    cases = []
    with path.open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(rows, None)
        if header != ["lang", "expected", "question"]:
            raise ValueError(f"{path}: the header must be 'lang<TAB>expected<TAB>question', got {header}")
        for number, row in enumerate(rows, start=2):
            if not row or not "".join(row).strip():
                continue
            if len(row) != 3:
                raise ValueError(f"{path}:{number}: expected 3 tab-separated columns, got {len(row)}")
            lang, expected, question = (cell.strip() for cell in row)
            labels = () if expected == NONE else tuple(e.strip() for e in expected.split("|") if e.strip())
            cases.append(Case(lang, labels, question))
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
            if answer.lang != case.lang:
                report.wrong_lang += 1
            if case.in_scope:
                report.in_scope += 1
                ok = answer.topic in case.expected
                report.correct += ok
                row = report.topics.setdefault(case.expected[0], TopicRow())
                row.count += 1
                row.correct += ok
            else:
                report.out_of_scope += 1
                ok = answer.topic is None
                report.abstained += ok
                kind = "pointer" if answer.out_of_scope else "escalated" if answer.escalate else "quiet"
                kind = kind if ok else "answered"
                report.outcomes[kind] = report.outcomes.get(kind, 0) + 1
            if not ok:
                expected = "|".join(case.expected) or NONE
                report.misses.append(Miss(case.lang, expected, got, round(answer.score, 3), case.question))
        return report
    finally:
        kb.threshold = saved


def print_report(report: Report, out=sys.stdout) -> None:
    print(f"threshold            {report.threshold:.2f}", file=out)
    print(
        f"top-1 accuracy       {report.accuracy:6.1%}  ({report.correct}/{report.in_scope} in scope)",
        file=out,
    )
    counts = f"{report.abstained}/{report.out_of_scope} out of scope"
    print(f"correct abstention   {report.abstention:6.1%}  ({counts})", file=out)
    if report.outcomes:
        how = ", ".join(f"{kind} {count}" for kind, count in sorted(report.outcomes.items()))
        print(f"  out of scope handled as: {how}", file=out)
    if report.wrong_lang:
        print(f"answered in the wrong language: {report.wrong_lang}", file=out)
    print(file=out)
    # A question labelled "a|b" counts under its first label.
    width = max((len(t) for t in report.topics), default=5)
    print(f"{'topic':<{width}}  count  correct  accuracy", file=out)
    for topic, row in sorted(report.topics.items()):
        print(f"{topic:<{width}}  {row.count:5d}  {row.correct:7d}  {row.accuracy:8.1%}", file=out)
    if report.misses:
        print(f"\nmisses ({len(report.misses)}):", file=out)
        for m in report.misses:
            print(
                f"  [{m.lang}] expected {m.expected:<22} got {m.got:<22} {m.score:.3f}  {m.question}",
                file=out,
            )


def sweep(kb: KnowledgeBase, cases: Sequence[Case], out=sys.stdout) -> None:
    print("\nthreshold  accuracy  abstention", file=out)
    for step in range(10, 61, 2):
        report = evaluate(kb, cases, threshold=step / 100)
        print(f"     {step / 100:.2f}    {report.accuracy:6.1%}      {report.abstention:6.1%}", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.knowledge.evaluate", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--tsv", type=Path, default=DEFAULT_TSV, help="labelled questions (default: %(default)s)"
    )
    parser.add_argument("--kb", type=Path, default=None, help="knowledge base folder (default: messages/kb)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--sweep", action="store_true", help="also show the figures for a range of thresholds"
    )
    args = parser.parse_args(argv)
    kb = KnowledgeBase.load(args.kb)
    cases = read_cases(args.tsv)
    report = evaluate(kb, cases)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        print_report(report)
        if args.sweep:
            sweep(kb, cases)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
