"""Replies to a response URL (the link Slack gives with a slash command or a button press,
for answers only the person sees), over connections kept open between replies.

Bolt's ``respond`` posts through urllib, which opens a new connection for every reply, and
over HTTPS a new TLS handshake: 1.7-2 ms of CPU and two more round trips to Slack before the
person sees anything. One urllib3 pool per process keeps them open instead: 0.4 ms a reply
(``python -m bench.bench_respond``, HTTPS on loopback).
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Callable
from typing import Any

import urllib3

from bot.lazy import LAZY_WORKERS

log = logging.getLogger(__name__)

# A kept-alive connection Slack closed while idle is found dropped before it is used again and
# replaced; one that breaks as it is used is retried once on a fresh one (at worst the person
# sees an ephemeral answer twice, never none). A refused or timed-out connect: twice.
RETRIES = urllib3.Retry(total=2, connect=2, read=1, status=0, redirect=0, allowed_methods=None)
TIMEOUT = urllib3.Timeout(connect=5.0, read=10.0)


class ResponseURLs:
    """Posts to response URLs; thread-safe, one per process (its pool is not to cross a fork)."""

    # As many kept-alive connections as lazy threads may reply at once: a pool smaller than
    # that closes each extra connection after its reply (and logs it), so under a burst of
    # presses nearly every reply paid a new connection (over HTTPS a handshake, 1.7 ms).
    def __init__(
        self, *, connections_per_host: int = LAZY_WORKERS, ssl_context: ssl.SSLContext | None = None
    ):
        self._pool = urllib3.PoolManager(
            num_pools=4,
            maxsize=connections_per_host,
            retries=RETRIES,
            timeout=TIMEOUT,
            ssl_context=ssl_context,
        )

    def to(self, url: str) -> Callable[..., None]:
        """``respond(**message)`` for ``url``: as Bolt's ``respond`` is called."""

        def respond(**message: Any) -> None:
            self.post(url, message)

        return respond

    def post(self, url: str, message: dict[str, Any]) -> None:
        """Post ``message``. A network failure raises (the caller's error handling answers
        or logs it); an answer other than 200 — an expired URL, a message Slack refused — is
        logged, as nothing can be done for it now."""
        body = json.dumps(message, ensure_ascii=False).encode()
        response = self._pool.request(
            "POST", url, body=body, headers={"Content-Type": "application/json; charset=utf-8"}
        )
        if response.status != 200:
            log.warning("a response URL answered %s: %s", response.status, response.data[:200])
