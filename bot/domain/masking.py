"""Personal data typed into free text (notes, a description, a rejection's reason) is
masked for an audience not entitled to it, the way the form's own fields are:

- a resident ID number (17 digits and a digit or X) as ``1101**********002X``, like the
  ID field (``resident_id.mask``);
- any other run of 8 or more digits, in one piece or printed in groups of four (a bank
  card ``6222 0212 3456 7890``, an account, a phone number ``138-1234-5678``): all but
  its last four digits starred, ``************7890``;
- an amount: a number written next to a currency sign or word (¥ ￥ 元 块 RMB CNY yuan), a
  number with a thousands separator or two decimals (``9,100``, ``8500.00``), or any other
  number of three or more digits, as ``****`` (the amount field's mask).

Kept, so that the text still reads: dates and months (``2026-12``, ``2026-12-01``,
``2026年12月``), a year standing alone (1900–2099, not next to a currency mark), a
request id (``SI-2026-0001``), and numbers of one or two digits (ages, counts of months).
"""

from __future__ import annotations

import re

from bot.domain import resident_id

MASKED_AMOUNT = "****"

_CURRENCY_BEFORE = r"(?:[¥￥]|RMB|CNY)\s*"
_CURRENCY_AFTER = r"\s*(?:元|块|万|RMB|CNY|yuan)"
_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"
# Order matters: the first alternative that matches at a place wins.
_PATTERN = re.compile(
    r"(?P<keep>SI-\d{4}-\d{4,}|(?<!\d)(?:19|20)\d{2}(?:-\d{1,2}(?:-\d{1,2})?|年\d{1,2}月(?:\d{1,2}[日号])?))"
    r"|(?P<id>(?<![\d])\d{17}[\dXx](?![\dA-Za-z]))"
    # A run: 8 digits or more in one piece, or printed in groups (6222 0212 3456 7890,
    # 138-1234-5678) — groups of four, so that two numbers side by side stay two.
    r"|(?P<run>(?<![\d])(?:\d{8,}|\d{3,4}(?:[ -]\d{4}){1,4}(?:[ -]\d{1,4})?)(?![\d]))"
    rf"|(?P<money>(?:{_CURRENCY_BEFORE}{_NUMBER})|(?:(?<![\d.,]){_NUMBER}{_CURRENCY_AFTER}))"
    rf"|(?P<number>(?<![\d.,]){_NUMBER})",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?:19|20)\d{2}")


def mask_free_text(text: str) -> str:
    """``text`` with the personal numbers in it masked (see the module's doc)."""
    return _PATTERN.sub(_masked, text)


def _masked(match: re.Match[str]) -> str:
    found = match.group(0)
    if match.group("keep"):
        return found
    if match.group("id"):
        return resident_id.mask(found)
    if match.group("run"):
        digits = re.sub(r"\D", "", found)
        return "*" * (len(digits) - 4) + digits[-4:]
    if match.group("money"):
        return MASKED_AMOUNT
    digits = re.sub(r"\D", "", found)
    if len(digits) < 3 or ("," not in found and "." not in found and _YEAR.fullmatch(found)):
        return found
    return MASKED_AMOUNT
