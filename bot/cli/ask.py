"""``si-bot ask``: the help channel's answer to a question, without Slack or a database."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.cli.common import Say
from bot.config import Settings


def add_parser(sub: Any) -> None:
    ask = sub.add_parser("ask", help="print the help channel's answer to a question")
    ask.add_argument("question", help='the question, or "-" to read one question a line from standard input')
    ask.add_argument("--lang", choices=["zh", "en"], help="answer in this language (default: the question's)")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Answer like the help channel does."""
    from bot.domain.policy import load_policy
    from bot.knowledge import KnowledgeBase

    say = Say(settings)
    kb = KnowledgeBase.load(policy=load_policy(settings.policy_file or None))
    questions = (line.strip() for line in sys.stdin) if args.question == "-" else [args.question]
    for text in questions:
        if not text:
            continue
        found = kb.answer(text, lang=args.lang, admins=settings.admins)
        escalate = found.escalate or not found.topic
        if args.json:
            record = {
                "question": text,
                "topic": found.topic,
                "score": round(float(found.score), 4),
                "lang": found.lang,
                "escalate": escalate and not found.out_of_scope and not found.quiet,
                "out_of_scope": found.out_of_scope,
                "quiet": found.quiet,
                "answer": found.text,
            }
            print(json.dumps(record, ensure_ascii=False), flush=True)
        else:
            topic = found.topic or (f"- ({found.out_of_scope})" if found.out_of_scope else "-")
            say.out("cli.ask_result", topic=topic, score=f"{found.score:.3f}")
            if found.text:
                print(found.text)
            elif escalate:
                say.out("cli.ask_escalate")
    return 0
