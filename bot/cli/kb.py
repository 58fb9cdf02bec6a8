"""``si-bot kb``: what the administrators taught the help channel.

- ``taught [--all]``: the lessons that count (``--all``: retired ones too), one a line:
  the question (or a new topic's title), its topic, who taught it and when; a lesson the
  knowledge base does not accept (kb.refusal) says why.
- ``export [--out PATH]``: writes the lessons into ``messages/kb/_taught.toml`` (or PATH),
  merged with what the file holds, for a maintainer to review and commit.
- ``retire N``: lesson N stops counting, at once, on every replica (the row stays).

What the command prints comes from ``messages/<lang>/help.toml`` (``help.kb_cli.*``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli import common
from bot.cli.common import Say
from bot.config import Settings


def add_parser(sub: Any) -> None:
    """The ``kb`` subcommand group, on the main parser's subparsers."""
    kb = sub.add_parser("kb", help="the help channel's knowledge base: what the administrators taught")
    group = kb.add_subparsers(dest="kb_command", required=True)
    taught = group.add_parser("taught", help="list the lessons: question or title, topic, who, when")
    taught.add_argument("--all", action="store_true", help="retired lessons too")
    export = group.add_parser("export", help="write the lessons into messages/kb/_taught.toml")
    export.add_argument("--out", help="the file to write (default: messages/kb/_taught.toml)")
    retire = group.add_parser("retire", help="a lesson stops counting (its record stays)")
    retire.add_argument("number", type=int, help="the lesson's number, as `si-bot kb taught` shows it")
    kb.set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    say = Say(settings)
    bot = common.runtime(settings)
    if args.kb_command == "taught":
        return taught(bot, say, include_retired=args.all)
    if args.kb_command == "export":
        return export(bot, say, args.out)
    return retire(bot, say, args.number)


def taught(bot, say: Say, *, include_retired: bool) -> int:
    from bot.services.help import TOPIC, taught_lessons

    with bot.db.session(read_only=True) as session:
        rows = taught_lessons(session, retired=include_retired)
    if not rows:
        say.out("help.kb_cli.none")
        return 0
    refused = _refused(bot, rows)
    for row in rows:
        topic = row.kind == TOPIC
        title = row.title_zh if bot.lang == "zh" else row.title_en
        say.out(
            "help.kb_cli.row",
            id=row.id,
            kind=say(f"help.kb_cli.kind_{row.kind}"),
            text=" ".join(((title or row.title_zh or row.title_en) if topic else row.question).split()),
            topic=row.topic,
            who=row.taught_by,
            when=_local(row.taught_at, bot),
            retired=_local(row.retired_at, bot) if row.retired_at else "",
            retired_by=row.retired_by or "",
            refused=_why(say, refused.get(_lesson(row))) if row.retired_at is None else "",
        )
    return 0


def export(bot, say: Say, out: str | None) -> int:
    from bot.knowledge import DEFAULT_KB_DIR, LessonError, lessons_toml, merge_lessons, read_lessons
    from bot.knowledge.lessons import TAUGHT_FILE, Lessons
    from bot.services.help import lessons_of, taught_lessons

    path = Path(out) if out else DEFAULT_KB_DIR / TAUGHT_FILE
    with bot.db.session(read_only=True) as session:
        rows = taught_lessons(session)
    refused = _refused(bot, rows)
    lessons = lessons_of(rows)
    # A lesson the knowledge base does not accept would not count from the file either.
    accepted = Lessons(
        tuple(p for p in lessons.phrasings if p not in refused),
        tuple(t for t in lessons.topics if t not in refused),
    )
    try:
        merged = merge_lessons(read_lessons(path), accepted)
    except LessonError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(lessons_toml(merged), encoding="utf-8")
    say.out(
        "help.kb_cli.exported", phrasings=len(merged.phrasings), topics=len(merged.topics), path=str(path)
    )
    return 0


def retire(bot, say: Say, number: int) -> int:
    from bot.domain.errors import Refused
    from bot.services.help import CLI_ACTOR, retire_lesson

    try:
        with bot.db.session() as session:
            retire_lesson(session, lesson_id=number, actor=CLI_ACTOR, now=bot.now())
    except Refused as exc:
        say.err(f"error.{exc.code}", **exc.params)
        return 1
    say.out("help.kb_cli.retired", number=number)
    return 0


def _refused(bot, rows) -> dict[Any, str]:
    """The lessons of ``rows`` the knowledge base leaves out, with the reason."""
    from bot.services.help import lessons_of

    view = bot.knowledge.with_lessons(lessons_of(rows))
    return dict(view.refused)


def _why(say: Say, reason: str | None) -> str:
    """kb.refusal's reason in words (the administrators' refusal message)."""
    from bot.services.help import refusal_code

    return say(f"error.{refusal_code(reason)}") if reason else ""


def _lesson(row) -> Any:
    """A lesson row's value for the knowledge base (a TaughtPhrasing or a TaughtTopic)."""
    from bot.services.help import lessons_of

    lessons = lessons_of([row])
    return (lessons.phrasings + lessons.topics)[0]


def _local(moment, bot) -> str:
    return moment.astimezone(bot.settings.tz).strftime("%Y-%m-%d %H:%M")
