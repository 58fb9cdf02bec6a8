"""Replies to a response URL (the link Slack gives with a slash command or a button press,
for answers only the person sees), over connections kept open between replies.

Bolt's ``respond`` posts through urllib, which opens a new connection for every reply, and
over HTTPS a new TLS handshake: 1.7-2 ms of CPU and two more round trips to Slack before the
person sees anything. Here each thread keeps its own connection to each host open, and posts
with the standard library's ``http.client``: half the CPU of urllib3's pool for the same
reply (0.45 against 0.9 ms on loopback), and no pool to share, size or lock. The threads
that reply are the lazy pool's (bot/lazy.py), so the connections are as many as they are.
"""

from __future__ import annotations

import http.client
import json
import logging
import select
import ssl
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

CONNECT_SECONDS = 5.0
ANSWER_SECONDS = 10.0
# A refused or timed-out connect is tried again twice. A connection closed or reset before
# the answer began (a kept-alive one gone stale, a server shedding connections) is tried once
# more on a fresh one: at worst the person sees an ephemeral answer twice, never none. An
# answer that does not come in time is not tried again: the post may be being shown.
CONNECT_TRIES = 3
HEADERS = {"Content-Type": "application/json; charset=utf-8"}

Origin = tuple[str, str, int]  # scheme, host, port


class ResponseURLs:
    """Posts to response URLs; thread-safe: each thread has its own connections (created
    where it first replies, so none crosses a fork)."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None):
        self._ssl_context = ssl_context  # made at the first HTTPS reply: loading CAs takes ms
        self._local = threading.local()

    def to(self, url: str) -> Callable[..., None]:
        """``respond(**message)`` for ``url``: as Bolt's ``respond`` is called."""

        def respond(**message: Any) -> None:
            self.post(url, message)

        return respond

    def post(self, url: str, message: dict[str, Any]) -> None:
        """Post ``message``. A network failure raises (the caller's error handling answers
        or logs it); an answer other than 200 — an expired URL, a message Slack refused — is
        logged, as nothing can be done for it now."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not a response URL: {url[:80]!r}")
        origin = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        body = json.dumps(message, ensure_ascii=False).encode()
        status, answer = self._exchange(origin, target, body)
        if status != 200:
            log.warning("a response URL answered %s: %s", status, answer[:200])

    def _exchange(self, origin: Origin, target: str, body: bytes, *, again: bool = True) -> tuple[int, bytes]:
        kept: dict[Origin, http.client.HTTPConnection] = self._local.__dict__.setdefault("kept", {})
        connection = kept.pop(origin, None)
        if connection is not None and _dropped(connection):
            connection.close()
            connection = None
        if connection is None:
            connection = self._connect(origin)
        try:
            connection.request("POST", target, body=body, headers=HEADERS)
            response = connection.getresponse()
            answer = response.read()
        except ConnectionError:  # http.client.RemoteDisconnected is one
            connection.close()
            if not again:
                raise
            return self._exchange(origin, target, body, again=False)  # on a fresh connection
        except (OSError, http.client.HTTPException):
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            kept[origin] = connection
        return response.status, answer

    def _connect(self, origin: Origin) -> http.client.HTTPConnection:
        scheme, host, port = origin
        if scheme == "https" and self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        for tried in range(1, CONNECT_TRIES + 1):
            if scheme == "https":
                connection = http.client.HTTPSConnection(
                    host, port, timeout=CONNECT_SECONDS, context=self._ssl_context
                )
            else:
                connection = http.client.HTTPConnection(host, port, timeout=CONNECT_SECONDS)
            try:
                connection.connect()
            except OSError:
                connection.close()
                if tried == CONNECT_TRIES:
                    raise
            else:
                connection.sock.settimeout(ANSWER_SECONDS)
                return connection


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """Whether a kept connection was closed (or sent something unasked) while idle: it is
    readable before anything was asked of it."""
    if connection.sock is None:
        return True
    poller = select.poll()
    poller.register(connection.sock, select.POLLIN)
    return bool(poller.poll(0))
