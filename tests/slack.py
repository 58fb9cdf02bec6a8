"""Driving the app the way Slack does: signed HTTP requests to /slack/events.

The payload shapes and signatures come from ``bot.console.slack_payloads`` (one place for
both the console and the tests); this module sends them over HTTP and reads the answers.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from bot.console import slack_payloads as payloads
from bot.console.fake_slack import FakeSlack
from bot.lazy import LazyPool
from bot.runtime import SiBot


class ListenerPool(LazyPool):
    """The app's lazy listeners' pool (bounded, as in production), which a test can wait for
    to be idle: then every listener started so far has finished, and whatever it was going
    to send is sent."""

    def __init__(self) -> None:
        super().__init__()
        self._running = 0
        self._idle = threading.Condition()

    def submit(self, fn, /, *args, **kwargs):
        with self._idle:
            self._running += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _future) -> None:
        with self._idle:
            self._running -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 20.0) -> None:
        with self._idle:
            if not self._idle.wait_for(lambda: self._running == 0, timeout):
                raise AssertionError(f"{self._running} listener(s) still running after {timeout:g} s")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        return


@contextmanager
def serve_wsgi(wsgi_app) -> Iterator[str]:
    server = make_server(
        "127.0.0.1", 0, wsgi_app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    raw: str


@dataclass
class SlackDriver:
    url: str
    secret: str
    fake: FakeSlack
    bot: SiBot
    pool: ListenerPool

    def idle(self) -> None:
        """Wait until every lazy listener started so far has finished (and sent what it
        sends): what has not been posted then never will be."""
        self.pool.wait_idle()

    def send(self, signed: payloads.SignedRequest, extra_headers: dict[str, str] | None = None) -> Reply:
        request = urllib.request.Request(
            f"{self.url}/slack/events",
            data=signed.body.encode(),
            headers={**signed.headers, **(extra_headers or {})},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, raw = response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read().decode()
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = {}
        return Reply(status, body if isinstance(body, dict) else {}, raw)

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    # --- what users do ----------------------------------------------------------------------

    def command(self, text: str, *, user: str, **kw: Any) -> Reply:
        kw.setdefault("response_url", self.fake.response_url(user))
        return self.send(payloads.slash_command(self.secret, text=text, user=user, **kw))

    def open_form(self, text: str, *, user: str) -> dict[str, Any]:
        """Type the command and return the modal the app opened."""
        before = len(self.fake.calls_to("views.open"))
        reply = self.command(text, user=user)
        assert reply.status == 200, reply.raw
        opened = self.fake.wait_for("views.open", before + 1)
        assert len(opened) == before + 1, "no modal opened"
        return opened[-1].result["view"]

    def submit(self, view: dict[str, Any], answers: dict[str, str], *, user: str, **kw: Any) -> Reply:
        return self.send(payloads.view_submission(self.secret, user=user, view=view, answers=answers, **kw))

    def choose(
        self, view: dict[str, Any], answers: dict[str, str], field: str, *, user: str
    ) -> dict[str, Any]:
        """Make the choice ``answers[field]`` in the open modal ``view`` (its other fields
        as ``answers`` say) and return the modal the app redrew it to (views.update)."""
        before = len(self.fake.calls_to("views.update"))
        signed = payloads.view_block_action(
            self.secret, user=user, view=view, answers=answers, block_id=field
        )
        reply = self.send(signed)
        assert reply.status == 200, reply.raw
        updated = self.fake.wait_for("views.update", before + 1)
        assert len(updated) == before + 1, "the form was not redrawn"
        call = updated[-1]
        assert call.params["view_id"] == view["id"] and call.params.get("hash"), call.params
        return call.result["view"]

    def press(self, action_id: str, value: str, *, user: str, **kw: Any) -> Reply:
        kw.setdefault("response_url", self.fake.response_url(user))
        return self.send(
            payloads.block_action(self.secret, user=user, action_id=action_id, value=value, **kw)
        )

    def event(self, event: dict[str, Any], *, event_id: str, retry: int = 0) -> Reply:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        return self.send(payloads.event_callback(self.secret, event, event_id=event_id), headers)

    # --- reading what the app told Slack ------------------------------------------------------

    def posts_to(self, channel: str) -> list[dict[str, Any]]:
        return [
            c.params for c in self.fake.calls_to("chat.postMessage") if c.params.get("channel") == channel
        ]

    def wait_posts(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        return [c.params for c in self.fake.wait_for("chat.postMessage", count, timeout)]

    def wait_card(self, public_id: str, state: str, channel: str = "C0ADMIN") -> None:
        """Wait until the card of ``public_id`` in ``channel`` shows ``state`` (redrawn in
        place, or posted late and already showing it)."""

        def shows(calls) -> bool:
            cards = [
                c.params
                for c in calls
                if c.method in ("chat.postMessage", "chat.update")
                and c.params.get("channel") == channel
                and public_id in str(c.params.get("text", ""))
            ]
            return bool(cards) and state in str(cards[-1]["text"])

        assert self.fake.wait_until(shows), f"the card of {public_id} never showed {state}"

    def responses(self) -> list[dict[str, Any]]:
        return [c.params for c in self.fake.calls_to("response_url")]


def message_text(message: dict[str, Any]) -> str:
    """Every piece of text in a message or view, for assertions."""
    parts: list[str] = [str(message.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks", []))
    return "\n".join(parts)
