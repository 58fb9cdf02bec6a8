"""Resident ID numbers (居民身份证号码, GB 11643-1999): validation and masking."""

from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits (ISO 7064 MOD 11-2)."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalise(raw: str) -> str:
    return raw.strip().replace(" ", "").upper()


def problem(number: str, today: date) -> str | None:
    """Why ``number`` is not a valid resident ID (a code), or None when it is valid."""
    if not _SHAPE.match(number):
        return "resident_id_shape"
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "resident_id_birth_date"
    if born > today or born.year < 1900:
        return "resident_id_birth_date"
    if check_char(number[:17]) != number[17]:
        return "resident_id_check_digit"
    return None


def birth_date(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def mask(number: str) -> str:
    """``11010519491231002X`` -> ``1101**********002X``: the region and the last four stay."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


# An 18-character ID anywhere in free text (logs, messages): not glued to other digits.
ID_IN_TEXT = re.compile(r"(?<![0-9])(\d{4})\d{10}(\d{3}[\dXx])(?![0-9])")
# A first-generation ID (15 digits: region, birth date as YYMMDD, sequence), still found on
# old records and typed by people who kept the number: masked the same way.
OLD_ID_IN_TEXT = re.compile(
    r"(?<![0-9])(\d{4})\d{2}"  # region
    r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"  # birth date, YYMMDD
    r"(\d{3})(?![0-9])"  # sequence
)


def mask_in_text(text: str) -> str:
    text = ID_IN_TEXT.sub(lambda m: m.group(1) + "*" * 10 + m.group(2), text)
    return OLD_ID_IN_TEXT.sub(lambda m: m.group(1) + "*" * 8 + m.group(2), text)
