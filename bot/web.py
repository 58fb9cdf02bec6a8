"""HTTP mode: ``POST /slack/events`` for Slack, ``GET /healthz`` for load balancers.

A plain WSGI app, served by gunicorn (pre-forked workers, each with threads) in
production, by any WSGI server in tests.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.inbound import Gate, Refusal
from bot.logs import SafeFormatter
from bot.services.undeliverable import undeliverable
from bot.storage.db import Database

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

StartResponse = Callable[..., Any]


def make_wsgi_app(
    app: App, db: Database, *, signing_secret: str, max_body_bytes: int
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """``app`` behind the gate (bot/inbound.py): Bolt only sees requests Slack signed, of a
    size and shape Slack sends; the others are answered here with a 4xx and one log line."""
    gate = Gate(signing_secret, max_body_bytes)

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == EVENTS_PATH and method == "POST":
            try:
                request = gate.admit(environ)
            except Refusal as refusal:
                log.warning("%s", refusal.log_line(path))
                return _plain(start_response, refusal.status, refusal.status.encode() + b"\n")
            try:
                response = app.dispatch(request)
            except Exception:
                # Bolt answers its listeners' and middleware's errors itself (bot.app's
                # error handler logs them); this is for an error in that answering.
                log.exception("error in Bolt for a request to %s", path)
                return _plain(start_response, "500 Internal Server Error", b"500 Internal Server Error\n")
            answer = WsgiHttpResponse(status=response.status, headers=response.headers, body=response.body)
            start_response(answer.status, answer.get_headers())
            return answer.get_body()
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            try:
                db.ping()
                with db.session(read_only=True) as session:
                    stuck = undeliverable(session)
            except SQLAlchemyError as exc:
                log.error("health check: database unreachable: %s", exc)
                return _plain(start_response, "503 Service Unavailable", b"database unreachable\n")
            if stuck:  # 200: every replica shares the outbox; taking them out of service would not help
                body = f"degraded: outbox messages undeliverable: {' '.join(map(str, stuck))}\n"
                return _plain(start_response, "200 OK", body.encode())
            return _plain(start_response, "200 OK", b"ok\n")
        return _plain(start_response, "404 Not Found", b"not found\n")

    return wsgi


def _plain(start_response: StartResponse, status: str, body: bytes) -> list[bytes]:
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return [body]


def safe_gunicorn_logger() -> type:
    from gunicorn.glogging import Logger

    class SafeGunicornLogger(Logger):
        """Gunicorn's own log (its errors, with their tracebacks) through ``SafeFormatter``
        too: its handlers are its own, not the root logger's."""

        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            for handler in self.error_log.handlers:
                handler.setFormatter(SafeFormatter(self.error_fmt, self.datefmt))

    return SafeGunicornLogger


def serve(wsgi_factory: Callable[[], Any], *, host: str, port: int, workers: int, threads: int) -> None:
    """Run gunicorn in this process with ``gthread`` workers. Each worker builds its own
    app (``wsgi_factory``) after the fork, so no database connection crosses a fork."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("timeout", 60)
            self.cfg.set("graceful_timeout", 30)
            self.cfg.set("accesslog", None)
            self.cfg.set("logger_class", safe_gunicorn_logger())

        def load(self) -> Any:
            return wsgi_factory()

    # What the master loaded before the fork (the knowledge base) is shared with the workers
    # page by page; frozen, the garbage collector never touches it, so it stays shared.
    gc.collect()
    gc.freeze()
    # What loading allocated and freed goes back to the system before the fork: else every
    # worker starts out holding it (1-3 MB, python -m bench.run).
    _glibc_malloc(lambda libc: libc.malloc_trim(0))
    limit_malloc_arenas()
    Server().run()


# glibc gives each thread that allocates an arena of its own (up to 8 per core), and memory
# freed in one is not reused by another: a worker's many threads hold freed memory apart.
# Two arenas is the usual setting for threaded Python servers (MALLOC_ARENA_MAX=2); set here,
# before the fork, it holds in every worker without an environment variable to remember.
M_ARENA_MAX = -8  # glibc's malloc.h
MALLOC_ARENAS = 2


def limit_malloc_arenas() -> bool:
    """Limit glibc's malloc arenas for this process and the workers it forks; False where
    the C library is not glibc (musl, macOS), which needs nothing."""
    return _glibc_malloc(lambda libc: libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS))


def _glibc_malloc(call: Callable[[Any], int]) -> bool:
    """``call(libc)`` where the C library is glibc; whether it did (and it said so)."""
    import ctypes
    import ctypes.util
    import platform

    if platform.libc_ver()[0] != "glibc":
        return False
    return bool(call(ctypes.CDLL(ctypes.util.find_library("c"))))
