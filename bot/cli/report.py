"""``si-bot report YYYY-MM --out DIR``: the month's report without Slack — its figures
printed, section by section, and its charts (PNG) and workbook (.xlsx) written into DIR. A
month in progress is reported as of now; a month that has not begun is refused. What the
command prints comes from ``messages/<lang>/report.toml``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli import common
from bot.config import Settings


def add_parser(sub: Any) -> None:
    """The ``report`` subcommand, on the main parser's subparsers."""
    report = sub.add_parser("report", help="a month's report: its figures, charts (PNG) and workbook (.xlsx)")
    report.add_argument("month", help="YYYY-MM, e.g. 2026-11")
    report.add_argument("--out", required=True, help="folder to write the charts and the workbook into")
    report.set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.domain.errors import Refused
    from bot.domain.months import YearMonth
    from bot.exports import plain_words
    from bot.presenters.report import report_view, topic_titles
    from bot.report.files import report_files
    from bot.services.report import monthly_figures

    bot = common.runtime(settings)
    words = plain_words(bot.messages)
    try:
        month = YearMonth.parse(args.month)
    except ValueError:
        print(words("error.bad_month", value=args.month), file=sys.stderr)
        return 2
    try:
        with bot.db.session(read_only=True) as session:
            figures = monthly_figures(
                session, bot.workplace, month, bot.now(), lambda: topic_titles(bot.knowledge)
            )
    except Refused as exc:
        print(words(f"error.{exc.code}", **exc.params), file=sys.stderr)
        return 2
    view = report_view(figures, bot.lang)
    title = "report.title" if view["complete"] else "report.title_partial"
    print(words(title, month=view["month"]))
    if view["empty"]:
        print(words("report_cli.nothing", month=view["month"]))
        return 0
    for name, section in view["sections"].items():
        print(f"\n{words(f'report.section.{name}')}")
        print(words(f"report.text.{name}", complete=view["complete"], **section))
    written = common.write_files(Path(args.out), report_files(view, words))
    print()
    print(words("report_cli.wrote", month=view["month"], as_of=view["as_of"], files=", ".join(written)))
    return 0
