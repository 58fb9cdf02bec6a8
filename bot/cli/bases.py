"""``si-bot bases compute YEAR [--out DIR]`` (compute the base year's declaration as a draft,
print its review, write the computed sheet as .xlsx and .csv; nothing is locked) and
``si-bot bases status YEAR`` (how the publicity stands: sent, confirmed, disputed,
unanswered, with the names). Both read ``DATABASE_URL`` and ``SI_POLICY_FILE`` as the server
does; the words come from ``messages/<lang>/bases.toml`` (``bases.cli.*``).

Exit codes: 0 done; 2 the command cannot run (no base period starting in YEAR, nothing
computed yet for ``status``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli import common
from bot.config import Settings


def add_parser(sub: Any) -> None:
    """The ``bases`` subcommand group, on the main parser's subparsers."""
    bases = sub.add_parser("bases", help="the yearly contribution-base declaration (缴费基数申报)")
    group = bases.add_subparsers(dest="bases_command", required=True)
    compute = group.add_parser(
        "compute", help="compute every enrolled person's base for the base year starting in YEAR (a draft)"
    )
    compute.add_argument("year", type=int, help="the year the base year starts in, e.g. 2026")
    compute.add_argument("--out", help="folder to write the computed sheet into (.xlsx and .csv)")
    compute.set_defaults(run=compute_bases)
    status = group.add_parser("status", help="how the publicity of YEAR's declaration stands")
    status.add_argument("year", type=int, help="the year the base year starts in, e.g. 2026")
    status.set_defaults(run=publicity_status)


def compute_bases(settings: Settings, args: argparse.Namespace) -> int:
    from bot.bases_files import computed_files
    from bot.domain.errors import Refused
    from bot.exports import plain_words
    from bot.services import bases
    from bot.services.roles import CLI_ACTOR

    words = plain_words(common.Say(settings).messages)
    bot = common.runtime(settings)
    try:
        with bot.db.session() as session:
            review = bases.compute(session, bot.workplace, year=args.year, actor=CLI_ACTOR, now=bot.now())
            declaration = bases.declaration_of(session, args.year)
            files = computed_files(args.year, lambda: bases.lines(session, declaration.id), words)
    except Refused as refused:
        print(words(f"error.{refused.code}", **refused.params), file=sys.stderr)
        return 2
    print(review_text(review, words))
    if args.out:
        paths = common.write_files(Path(args.out), files)
        print(words("bases.cli.written", files=", ".join(paths)))
    return 0


def review_text(review: Any, words: Any) -> str:
    """The review in plain lines (resident IDs masked: a terminal is read over shoulders)."""
    lines = [
        words("bases.review.headline", r=review),
        words("bases.review.counts", r=review),
        words("bases.review.cost", r=review),
    ]
    if review.missing:
        lines.append(words("bases.review.missing", n=len(review.missing)))
        lines += [
            words("bases.review.missing_row", name=p.full_name, id=p.masked_id, months=", ".join(p.missing))
            for p in review.missing
        ]
    if review.outliers:
        lines.append(words("bases.review.outliers", n=len(review.outliers), percent=review.outlier_percent))
        lines += [
            words(
                "bases.review.outlier_row", name=p.full_name, id=p.masked_id, previous=p.previous, base=p.base
            )
            for p in review.outliers
        ]
    return "\n".join(lines)


def publicity_status(settings: Settings, args: argparse.Namespace) -> int:
    from bot.domain.errors import Refused
    from bot.exports import plain_words
    from bot.services import bases
    from bot.services.roles import CLI_ACTOR

    words = plain_words(common.Say(settings).messages)
    bot = common.runtime(settings)
    try:
        with bot.db.session(read_only=True) as session:
            found = bases.status(session, year=args.year, viewer=CLI_ACTOR)
    except Refused as refused:
        print(words(f"error.{refused.code}", **refused.params), file=sys.stderr)
        return 2
    print(words("bases.status.headline", year=found.year, state=found.state))
    for what in ("sent", "confirmed", "disputed", "unanswered", "waiting", "no_slack_user"):
        names = getattr(found, what)
        print(words(f"bases.status.{what}", n=len(names), names="、".join(names)))
    return 0
