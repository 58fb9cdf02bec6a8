"""Help-channel retriever benchmark: start-up cost and time per answer.

Run by hand (not in CI):   python -m bench.bench_ask [--rounds 5] [--tsv PATH]
Loads the knowledge base once (printing what that cost), then answers every question of
the evaluation set for several rounds and prints the median and p95 milliseconds per
answer. Aim: p95 < 20 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

DEFAULT_TSV = Path(__file__).resolve().parents[1] / "tests" / "eval" / "questions.tsv"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_ask", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=5, help="times each question is asked (default: %(default)s)"
    )
    parser.add_argument("--tsv", type=Path, default=DEFAULT_TSV, help="questions (default: %(default)s)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    # The imports (jieba, numpy, bm25s, pypinyin…) are part of the start-up cost.
    from bot.knowledge import KnowledgeBase
    from bot.knowledge.evaluate import read_cases

    imported = time.perf_counter()
    kb = KnowledgeBase.load()
    loaded = time.perf_counter()
    cost = f"imports {imported - started:.3f} s, load {loaded - imported:.3f} s"
    print(f"start-up     {loaded - started:6.3f} s  ({cost})")
    again = KnowledgeBase.load()
    print(f"second load  {again.load_seconds:6.3f} s  (jieba's dictionary is loaded once per process)")

    questions = [case.question for case in read_cases(args.tsv)]
    kb.answer(questions[0])  # warm-up
    timings: list[float] = []
    for _ in range(args.rounds):
        for question in questions:
            t0 = time.perf_counter()
            kb.answer(question, admins=("U0ADMIN",))
            timings.append((time.perf_counter() - t0) * 1000)
    print(f"answers      {len(timings)} ({len(questions)} questions x {args.rounds} rounds)")
    print(f"median       {statistics.median(timings):6.2f} ms")
    print(f"p95          {percentile(timings, 0.95):6.2f} ms")
    print(f"max          {max(timings):6.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
