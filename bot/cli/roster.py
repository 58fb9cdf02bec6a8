"""``si-bot roster template|import`` and ``si-bot wages template|import``: the insured
roster and the wage records from the HR and payroll systems' files, without Slack.

``import`` exits 0 when every row is imported (or was already recorded as it is), 1 when
rows are rejected — then nothing is imported and each rejected row is printed with its
reason — and 2 when the file as a whole cannot be imported. Resident ID numbers are
masked in what it prints; ``--report FILE`` writes the rejected rows whole, for the
administrator. What the commands print comes from ``messages/<lang>/roster.toml``
(``roster.cli.*``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli import common
from bot.config import LANGUAGES, Settings
from bot.domain.roster import FileKind

COMMANDS = {"roster": FileKind.ROSTER, "wages": FileKind.WAGES}


def add_parser(sub: Any) -> None:
    """The ``roster`` and ``wages`` subcommand groups, on the main parser's subparsers."""
    helps = {
        "roster": "the insured roster: import template, import from the HR system's .csv, .xlsx or .xls",
        "wages": "monthly gross wages (income accounts): template, import from payroll's .csv, .xlsx or .xls",
    }
    for name in COMMANDS:
        command = sub.add_parser(name, help=helps[name])
        command.set_defaults(run=run)
        group = command.add_subparsers(dest="file_command", required=True)
        template = group.add_parser("template", help="write the import template (.xlsx or .csv by the name)")
        template.add_argument("--out", required=True, help="file to write: NAME.xlsx or NAME.csv")
        template.add_argument(
            "--lang", choices=LANGUAGES, help="language of the headers (default SI_LANGUAGE)"
        )
        imported = group.add_parser("import", help="import a .csv, .xlsx or .xls file: every row, or none")
        imported.add_argument("file", help="the .csv, .xlsx or .xls file")
        imported.add_argument(
            "--report", help="if rows are rejected, write them with their reasons to this .xlsx (and .csv)"
        )


def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.exports import plain_words

    kind = COMMANDS[args.command]
    say = common.Say(settings)
    if args.file_command == "template":
        return write_template(kind, Path(args.out), plain_words(say.messages, args.lang))
    return import_file(settings, kind, Path(args.file), args.report, plain_words(say.messages))


def write_template(kind: FileKind, out: Path, words) -> int:
    from bot.roster_files import FORMATS, template_file

    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        print(words("roster.cli.bad_out", file=str(out)), file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(template_file(kind, suffix, words))
    print(words("roster.cli.template_written", file=str(out)))
    return 0


def print_rejected(outcome: Any, file_name: str, words, *, header: str) -> None:
    """An import's rejected rows on standard error, each with its reason (resident IDs
    masked), under the line ``header`` says."""
    from bot.domain.resident_id import mask_in_text
    from bot.roster_files import reason

    print(words(header, file=file_name, rejected=outcome.rejected_rows, rows=outcome.rows), file=sys.stderr)
    for r in outcome.rejections:
        value = mask_in_text(r.value)
        line = words(
            "roster.cli.rejected_row", row=r.row, column=r.title, value=value, reason=reason(r, words)
        )
        print(line, file=sys.stderr)


def import_file(settings: Settings, kind: FileKind, path: Path, report: str | None, words) -> int:
    from bot.roster_files import reason, report_files
    from bot.services.roles import CLI_ACTOR
    from bot.services.roster import import_roster
    from bot.services.wages import import_wages

    if not path.is_file():
        print(words("roster.cli.not_found", file=str(path)), file=sys.stderr)
        return 2
    content = path.read_bytes()
    bot = common.runtime(settings)
    importer = import_roster if kind is FileKind.ROSTER else import_wages
    with bot.db.session() as session:
        outcome = importer(
            session, bot.workplace, actor=CLI_ACTOR, file_name=path.name, content=content, now=bot.now()
        )
    if outcome.problem:
        print(
            words("roster.cli.problem", file=path.name, reason=reason(outcome.problem, words)),
            file=sys.stderr,
        )
        return 2
    if outcome.rejections:
        print_rejected(outcome, path.name, words, header="roster.cli.rejected")
        if report:
            paths = []
            for name, data in report_files(outcome, words):
                target = Path(report).with_suffix(Path(name).suffix)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                paths.append(str(target))
            print(words("roster.cli.report_written", files=", ".join(paths)), file=sys.stderr)
        return 1
    counts = dict(file=path.name, kind=kind.value, rows=outcome.rows)
    if outcome.added or outcome.changed:
        print(
            words(
                "roster.cli.imported",
                added=outcome.added,
                changed=outcome.changed,
                unchanged=outcome.unchanged,
                **counts,
            )
        )
    else:
        print(words("roster.cli.nothing_changed", **counts))
        seen = outcome.seen_before
        if seen:
            actor = words("roster.summary.cli_actor") if seen.actor == CLI_ACTOR else seen.actor
            at = seen.at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
            print(words("roster.cli.seen_before", at=at, actor=actor, file=seen.file_name))
    return 0
