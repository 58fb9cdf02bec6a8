"""Help-channel retriever benchmark: start-up cost, memory, time per answer, and the cost of
making what the administrators taught count.

Run by hand (not in CI):   python -m bench.bench_ask [--rounds 5] [--tsv PATH] [--taught 300]
Loads the knowledge base once (printing what that cost in time and resident memory), then
answers every question of the evaluation sets for several rounds and prints the median and
p95 milliseconds per answer, then rebuilds the taught index with ``--taught`` phrasings
(cold: none analysed before; after one more lesson: the others are cached). Aims: answer
p95 < 20 ms; a rebuild well under 50 ms; a whole `si-bot serve` worker under 150 MB RSS.
Exits non-zero when the answer p95 misses its aim.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

EVAL_DIR = Path(__file__).resolve().parents[1] / "tests" / "eval"
P95_AIM_MS = 20.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def rss_mb() -> float:
    """This process's resident memory now (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_ask", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=5, help="times each question is asked (default: %(default)s)"
    )
    parser.add_argument(
        "--tsv",
        type=Path,
        action="append",
        help="questions, repeatable (default: tests/eval/questions.tsv, frozen.tsv and holdout.tsv)",
    )
    parser.add_argument(
        "--taught",
        type=int,
        default=300,
        help="taught phrasings for the rebuild timing (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    before = rss_mb()
    started = time.perf_counter()
    # The imports (jieba, numpy, bm25s, pypinyin…) are part of the start-up cost.
    from bot.knowledge import KnowledgeBase, Lessons, TaughtPhrasing
    from bot.knowledge.evaluate import read_cases

    imported = time.perf_counter()
    kb = KnowledgeBase.load()
    loaded = time.perf_counter()
    cost = f"imports {imported - started:.3f} s, load {loaded - imported:.3f} s"
    print(f"start-up     {loaded - started:6.3f} s  ({cost})")
    after = rss_mb()
    grown = after - before
    print(f"memory       {after:6.1f} MB resident ({before:.1f} MB before the imports: +{grown:.1f} MB)")
    again = KnowledgeBase.load()
    print(f"second load  {again.load_seconds:6.3f} s  (jieba's dictionary is loaded once per process)")

    paths = args.tsv or [EVAL_DIR / name for name in ("questions.tsv", "frozen.tsv", "holdout.tsv")]
    cases = [case for path in paths for case in read_cases(path)]
    questions = [case.question for case in cases]
    kb.answer(questions[0])  # warm-up
    timings: list[float] = []
    for _ in range(args.rounds):
        for question in questions:
            t0 = time.perf_counter()
            kb.answer(question, admins=("U0ADMIN",))
            timings.append((time.perf_counter() - t0) * 1000)
    p95 = percentile(timings, 0.95)
    print(f"answers      {len(timings)} ({len(questions)} questions x {args.rounds} rounds)")
    print(f"median       {statistics.median(timings):6.2f} ms")
    print(f"p95          {p95:6.2f} ms  (aim < {P95_AIM_MS:.0f} ms)")
    print(f"max          {max(timings):6.2f} ms")

    # Taught phrasings: the in-scope questions, each taught to its own topic, as an
    # administrator would teach them one after the other.
    taught = [TaughtPhrasing(c.question, c.expected[0]) for c in cases if c.in_scope][: args.taught]
    shipped = KnowledgeBase.load(taught=False)
    t0 = time.perf_counter()
    view = shipped.with_lessons(Lessons(phrasings=tuple(taught[:-1])))
    cold = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    view = shipped.with_lessons(Lessons(phrasings=tuple(taught)))
    warm = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    same = shipped.with_lessons(Lessons(phrasings=tuple(taught)))
    unchanged = (time.perf_counter() - t0) * 1000
    assert same is view
    print(f"taught       {len(view.lessons.phrasings)} phrasings ({len(view.refused)} refused)")
    print(f"  rebuild    {cold:6.2f} ms cold (none analysed before), {warm:6.2f} ms after one more lesson")
    print(f"  unchanged  {unchanged:6.3f} ms (the same lessons: the same view)")
    view.answer(questions[0])
    taught_timings: list[float] = []
    for question in questions:
        t0 = time.perf_counter()
        view.answer(question)
        taught_timings.append((time.perf_counter() - t0) * 1000)
    print(f"  answer p95 {percentile(taught_timings, 0.95):6.2f} ms with them")
    print(f"memory       {rss_mb():6.1f} MB resident at the end")
    return 0 if p95 < P95_AIM_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
