"""Logging with personal data masked and one line per record, whoever writes it."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

from bot.domain.resident_id import ID_IN_TEXT, mask_in_text

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# A form-encoded body (a refused request's first bytes) hides an ID behind "%22" (a quote),
# where it would not stand alone.
_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")
# What could end a line or rewrite one in a terminal: C0 and C1 controls, DEL, and
# Unicode's own line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def mask_log_message(message: str) -> str:
    masked = mask_in_text(message)
    if _ENCODED.search(masked):
        decoded = unquote_plus(masked)
        if ID_IN_TEXT.search(decoded):
            masked = mask_in_text(decoded)
    return masked


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def one_line(text: str) -> str:
    """``text`` with every control character written as an escape (a newline as ``\\n``):
    whatever it holds, it cannot start a line of its own in the log."""
    return _CONTROL.sub(_escaped, text)


def safe_log_text(text: str) -> str:
    """``text`` masked and on one line. Masked again after escaping: an escape such as
    ``\\x01`` ends in digits, which could complete a run of 18 next to it."""
    return mask_in_text(one_line(mask_log_message(text)))


class SafeFormatter(logging.Formatter):
    """The whole formatted record — message, exception with its traceback, stack — masked
    and on one line, so neither a value nor an exception's text can forge a line or leak
    a resident ID."""

    def format(self, record: logging.LogRecord) -> str:
        return safe_log_text(super().format(record))


def install_masking() -> None:
    """Mask resident ID numbers in every log record's message as it is made, for every
    logger and handler, also those with a formatter of their own (the tests' capture)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "si_bot_masking", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        message = record.getMessage()
        masked = mask_log_message(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return record

    factory.si_bot_masking = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def setup_logging(level: str = "INFO", file: str | None = None) -> None:
    """Log at ``level`` to standard error, or to ``file`` (the console: its screen is the
    conversation), every record through ``SafeFormatter``."""
    install_masking()
    logging.basicConfig(level=level, filename=file, force=True)
    # Some libraries (bm25s) set their own logger's level to DEBUG when imported: the
    # handler's level keeps the configured one for everybody.
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)
        handler.setFormatter(SafeFormatter(LOG_FORMAT))
    # Alembic announces each of its plugins at INFO on every start; the migrations it runs
    # are still logged.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
