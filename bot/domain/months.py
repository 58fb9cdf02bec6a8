"""Calendar months (YYYY-MM), the unit in which contributions are counted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass(frozen=True, order=True)
class YearMonth:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> YearMonth:
        """Parse ``2026-12`` (``2026-1`` and ``2026/12`` too); ValueError when it is not a month."""
        m = _MONTH.match(text.strip().replace("/", "-").replace(".", "-"))
        if not m:
            raise ValueError(f"not a month: {text!r}")
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12 or year < 1900:
            raise ValueError(f"not a month: {text!r}")
        return cls(year, month)

    @classmethod
    def of(cls, day: date) -> YearMonth:
        return cls(day.year, day.month)

    def plus(self, months: int) -> YearMonth:
        index = self.year * 12 + (self.month - 1) + months
        return YearMonth(index // 12, index % 12 + 1)

    def months_since(self, earlier: YearMonth) -> int:
        """How many months from ``earlier`` to this one (0 for the same month)."""
        return (self.year - earlier.year) * 12 + (self.month - earlier.month)

    def day(self, day_of_month: int) -> date:
        return date(self.year, self.month, day_of_month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def month_range(first: YearMonth, last: YearMonth) -> list[YearMonth]:
    """Every month from ``first`` to ``last``, both included."""
    return [first.plus(i) for i in range(last.months_since(first) + 1)]
