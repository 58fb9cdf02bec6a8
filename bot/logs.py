"""Logging with personal data masked on every line, whoever writes it."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

from bot.domain.resident_id import ID_IN_TEXT, mask_in_text

# Bolt logs the whole body of a request whose signature fails; such a body is
# form-encoded, where an ID sits behind "%22" (a quote) and would not stand alone.
_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")


def mask_log_message(message: str) -> str:
    masked = mask_in_text(message)
    if _ENCODED.search(masked):
        decoded = unquote_plus(masked)
        if ID_IN_TEXT.search(decoded):
            masked = mask_in_text(decoded)
    return masked


def install_masking() -> None:
    """Mask resident ID numbers in every log record as it is made, for every logger and
    handler (Bolt's, the server's, the tests' capture): a record factory sees them all."""
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
    conversation)."""
    install_masking()
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", filename=file, force=True
    )
    # Some libraries (bm25s) set their own logger's level to DEBUG when imported: the
    # handler's level keeps the configured one for everybody.
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)
    # Alembic announces each of its plugins at INFO on every start; the migrations it runs
    # are still logged.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
