"""What every ``si-bot`` command shares: one way to print, one way to build what it works on."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.config import Settings


class Say:
    """Prints the words of ``messages/`` (the key's full name) as plain text, in the
    language of SI_LANGUAGE."""

    def __init__(self, settings: Settings) -> None:
        from bot.messages import Messages

        self.messages = Messages(settings.language)

    def __call__(self, key: str, /, **params: object) -> str:
        return self.messages.plain(key, **params)

    def out(self, key: str, /, *, file: TextIO | None = None, **params: object) -> None:
        print(self(key, **params), file=file or sys.stdout)

    def err(self, key: str, /, **params: object) -> None:
        self.out(key, file=sys.stderr, **params)


def workplace(settings: Settings):
    """The policy, calendar and time zone, for commands that need no database."""
    from bot.domain.policy import load_policy
    from bot.domain.workplace import Workplace

    return Workplace.of(load_policy(settings.policy_file or None), settings.tz, settings.admin_channel)


def runtime(settings: Settings, clock: Callable[[], datetime] | None = None):
    """Everything the server builds (database migrated, administrators seeded, policy),
    for commands that work on the data."""
    from bot.runtime import build_runtime

    return build_runtime(settings, clock=clock) if clock else build_runtime(settings)


def write_files(folder: Path, files: Iterable[tuple[str, bytes]]) -> list[str]:
    """Each ``(name, content)`` written into ``folder`` (made if missing); the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in files:
        (folder / name).write_bytes(content)
        paths.append(str(folder / name))
    return paths
