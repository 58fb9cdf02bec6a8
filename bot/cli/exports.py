"""``si-bot export``: the monthly change form and a handover record, as .xlsx with a .csv
alongside, from the command line (no Slack needed).

``--out FILE``: the workbook is FILE with the suffix ``.xlsx``, the CSV the same name with
``.csv`` (``--out forms/2026-12`` writes ``forms/2026-12.xlsx`` and ``forms/2026-12.csv``).
What the command prints comes from ``messages/<lang>/workspace.toml`` (``export_cli.*``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli import common, ledger
from bot.config import Settings


def add_parser(sub: Any) -> None:
    """The ``export`` subcommand group, on the main parser's subparsers."""
    export = sub.add_parser("export", help="the monthly change form or a handover record, as .xlsx and .csv")
    group = export.add_subparsers(dest="export_command", required=True)
    form = group.add_parser("change-form", help="the month's insured change form from the approved changes")
    form.add_argument("--month", required=True, help="YYYY-MM, e.g. 2026-12")
    form.add_argument("--out", required=True, help="file to write (.xlsx; the .csv goes alongside)")
    record = group.add_parser("handover", help="the record of a handover of the administrator role")
    record.add_argument("--id", type=int, help="the handover's number (default: the latest)")
    record.add_argument("--out", required=True, help="file to write (.xlsx; the .csv goes alongside)")
    export.set_defaults(run=run)
    # The month's contributions (the ledger): bot/cli/ledger.py.
    ledger.add_export(group)


def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.domain.months import YearMonth
    from bot.exports import change_form_files, handover_files, plain_words
    from bot.services import change_form, handover
    from bot.services.roles import CLI_ACTOR

    bot = common.runtime(settings)
    words = plain_words(bot.messages)
    out = Path(args.out)
    if args.export_command == "change-form":
        try:
            month = YearMonth.parse(args.month)
        except ValueError:
            print(words("error.bad_month", value=args.month), file=sys.stderr)
            return 2
        with bot.db.session() as session:
            exported = change_form.export_change_form(
                session, bot.workplace, month=month, actor=CLI_ACTOR, now=bot.now()
            )
            number = exported.export.id
        files = change_form_files(exported.rows, month, words)
        paths = _write(out, files)
        key = "export_cli.change_form" if exported.rows else "export_cli.change_form_empty"
        print(
            words(key, month=str(month), rows=len(exported.rows), number=number or "", files=", ".join(paths))
        )
        return 0
    with bot.db.session(read_only=True) as session:
        record = _latest(session, args.id)
        if record is None:
            print(words("error.handover_not_found", number=args.id or ""), file=sys.stderr)
            return 1
        files = handover_files(record, handover.handover_log(session, record), words)
        number = record.id
    paths = _write(out, files)
    print(words("export_cli.handover", number=number, files=", ".join(paths)))
    return 0


def _latest(session, number: int | None):
    from sqlalchemy import select

    from bot.storage.models import Handover

    if number is not None:
        return session.get(Handover, number)
    return session.scalar(select(Handover).order_by(Handover.id.desc()).limit(1))


def _write(out: Path, files: list[tuple[str, bytes]]) -> list[str]:
    paths = []
    for name, content in files:
        path = out.with_suffix(Path(name).suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        paths.append(str(path))
    return paths
