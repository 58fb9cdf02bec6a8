"""``si-bot export contributions YYYY-MM --out DIR`` (the month's ledger as .xlsx and .csv)
and ``si-bot bill import FILE --month YYYY-MM`` (the center's bill, imported and reconciled
with the ledger), without Slack. Both read ``DATABASE_URL`` and ``SI_POLICY_FILE`` as the
server does. What they print comes from ``messages/<lang>/ledger.toml`` (``*.cli.*``).

Exit codes: 0 done (a reconciliation with differences is done too: it prints them); 1 the
bill's rows are rejected (nothing imported, each row printed with its reason); 2 the
command cannot run (a month that is not YYYY-MM, a file that cannot be read).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli import common
from bot.config import Settings


def add_export(group: Any) -> None:
    """``export contributions``, on the ``export`` group's subparsers (bot/cli/exports.py)."""
    command = group.add_parser(
        "contributions", help="the month's contributions per person (the ledger), as .xlsx and .csv"
    )
    command.add_argument("month", help="YYYY-MM, e.g. 2026-11")
    command.add_argument("--out", required=True, help="folder to write the .xlsx and .csv into")
    command.set_defaults(run=export_contributions)


def add_parser(sub: Any) -> None:
    """The ``bill`` subcommand group, on the main parser's subparsers."""
    bill = sub.add_parser("bill", help="the social security center's monthly bill (对账单), reconciled")
    group = bill.add_subparsers(dest="bill_command", required=True)
    imported = group.add_parser(
        "import", help="import the bill (.csv, .xlsx or .xls) and print the reconciliation"
    )
    imported.add_argument("file", help="the bill as downloaded from the center or the tax portal")
    imported.add_argument("--month", required=True, help="the month it bills, YYYY-MM")
    bill.set_defaults(run=import_bill)


def _month(value: str, words) -> Any:
    from bot.domain.months import YearMonth

    try:
        return YearMonth.parse(value)
    except ValueError:
        print(words("error.bad_month", value=value), file=sys.stderr)
        return None


def export_contributions(settings: Settings, args: argparse.Namespace) -> int:
    from bot.exports import plain_words
    from bot.ledger_files import contributions_files
    from bot.services import ledger
    from bot.services.roles import CLI_ACTOR

    words = plain_words(common.Say(settings).messages)
    month = _month(args.month, words)
    if month is None:
        return 2
    bot = common.runtime(settings)
    with bot.db.session(read_only=True) as session:
        export = ledger.export_contributions(session, bot.workplace, month=month, actor=CLI_ACTOR)
        files = contributions_files(export, bot.policy, words)
    paths = common.write_files(Path(args.out), files)
    book = export.ledger
    print(
        words(
            "ledger.cli.exported",
            month=str(month),
            people=len(book.lines),
            employer=book.employer_total,
            employee=book.employee_total,
            total=book.total,
            files=", ".join(paths),
        )
    )
    if book.assumed:
        print(words("ledger.summary.assumed", month=str(month)))
    if book.missing_bases:
        print(words("ledger.cli.missing_bases", n=book.missing_bases))
    changes = export.changes
    print(
        words(
            "ledger.cli.changes",
            joined=len(changes.joiners),
            left=len(changes.leavers),
            rebased=len(changes.new_bases),
        )
    )
    return 0


def import_bill(settings: Settings, args: argparse.Namespace) -> int:
    from bot.exports import plain_words

    words = plain_words(common.Say(settings).messages)
    month = _month(args.month, words)
    if month is None:
        return 2
    path = Path(args.file)
    if not path.is_file():
        print(words("roster.cli.not_found", file=str(path)), file=sys.stderr)
        return 2
    return _import_bill(settings, month, path, words)


def _import_bill(settings: Settings, month: Any, path: Path, words) -> int:
    from bot.cli.roster import print_rejected
    from bot.domain.resident_id import mask
    from bot.ledger_files import reconciliation_files
    from bot.roster_files import reason
    from bot.services import bills
    from bot.services.roles import CLI_ACTOR

    bot = common.runtime(settings)
    with bot.db.session() as session:
        outcome = bills.import_bill(
            session,
            bot.workplace,
            month=month,
            actor=CLI_ACTOR,
            file_name=path.name,
            content=path.read_bytes(),
            now=bot.now(),
        )
    if outcome.problem:
        print(
            words("bill.cli.problem", file=path.name, reason=reason(outcome.problem, words)), file=sys.stderr
        )
        return 2
    if outcome.rejections:
        print_rejected(outcome, path.name, words, header="bill.cli.rejected")
        return 1
    rec = outcome.reconciliation
    assert rec is not None
    print(
        words(
            "bill.cli.imported",
            month=str(month),
            file=path.name,
            rows=outcome.rows,
            bill_people=rec.bill_people,
            bill_total=rec.bill_total,
            ledger_people=rec.ledger_people,
            ledger_total=rec.ledger_total,
        )
    )
    if outcome.seen_before:
        print(words("bill.cli.seen_before", month=str(month)))
    if rec.reconciled:
        print(words("bill.cli.reconciled", month=str(month)))
    if outcome.differences:
        print(words("bill.cli.differences", differences=rec.differences, open=rec.open))
        for d in outcome.differences:
            state = "" if d.state == bills.OPEN else words("bill.cli.state", state=d.state)
            print(
                words(
                    "bill.cli.row",
                    name=d.full_name,
                    masked_id=mask(d.resident_id),
                    reason=words(f"bill.reason.{d.reason}"),
                    amount=d.amount,
                    bill=d.bill_total,
                    ledger=d.ledger_total,
                    state=state,
                )
            )
        # In the working directory.
        paths = common.write_files(Path(), reconciliation_files(month, outcome.differences, words))
        print(words("bill.cli.written", files=", ".join(paths)))
    return 0
