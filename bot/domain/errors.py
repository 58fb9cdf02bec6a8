"""Errors the rules raise. They carry codes and parameters, never sentences: the words
for each code live in ``messages/<lang>/texts.toml`` (``error.<code>``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input: ``code`` names the rule, ``params`` fill the message."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


class FieldErrors(ValueError):
    """Some fields of a form are wrong; maps field name -> Problem. Nothing was saved."""

    def __init__(self, problems: dict[str, Problem]):
        super().__init__(", ".join(f"{k}: {v.code}" for k, v in problems.items()))
        self.problems = problems


class Refused(Exception):
    """A user asked for something the rules do not allow (wrong state, not theirs, not an
    administrator...). ``code`` and ``params`` select and fill the message."""

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code = code
        self.params = params


class Collector:
    """Gathers every field problem of a form so the user sees them all at once."""

    def __init__(self) -> None:
        self.problems: dict[str, Problem] = {}

    def add(self, field_name: str, code: str, **params: Any) -> None:
        self.problems.setdefault(field_name, Problem(code, params))

    def raise_if_any(self) -> None:
        if self.problems:
            raise FieldErrors(self.problems)
