"""People and requests as Slack writes them in a command's text."""

from __future__ import annotations

import re

from bot.domain.errors import Refused

_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_PUBLIC_ID = re.compile(r"^SI-\d{4}-\d{4,}$", re.IGNORECASE)


def parse_user(token: str) -> str | None:
    """``<@U123|zhang.san>`` → ``U123``; None when ``token`` is not a mention."""
    m = _USER.match(token)
    return m.group(1) if m else None


def parse_public_id(token: str) -> str:
    """``si-2026-0042`` → ``SI-2026-0042``; Refused when it is not a request id."""
    if not _PUBLIC_ID.match(token):
        raise Refused("bad_public_id", value=token)
    return token.upper()
