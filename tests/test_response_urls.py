"""Replies to response URLs (bot/response_urls.py): the message as JSON, kept-alive
connections (one a thread), a dropped one replaced, an answer other than 200 logged (nothing
to retry), a network failure raised."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from bot.lazy import LAZY_WORKERS
from bot.response_urls import ResponseURLs


def test_a_reply_is_the_message_as_json_and_connections_are_reused(fake_slack):
    responses = ResponseURLs()
    respond = responses.to(fake_slack.response_url("U1"))
    respond(replace_original=False, response_type="ephemeral", text="已批准 · approved")
    respond(text="second")
    posted = fake_slack.wait_for("response_url", 2)
    first = {"replace_original": False, "response_type": "ephemeral", "text": "已批准 · approved"}
    assert posted[0].params == first
    assert posted[1].params == {"text": "second"}
    assert len(set(fake_slack.response_ports)) == 1  # one connection for both


class Expired(BaseHTTPRequestHandler):
    """Slack's answer to a response URL past its 30 minutes or 5 uses."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"expired_url"
        self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        return


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[str]:
    """``server`` answering on a thread while in the block; the response URL it takes."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/respond/x"
    finally:
        server.shutdown()
        server.server_close()


def test_an_answer_other_than_200_is_logged_not_raised(caplog):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Expired)
    with serving(server) as url, caplog.at_level(logging.WARNING, logger="bot.response_urls"):
        ResponseURLs().post(url, {"text": "x"})
    assert [r.getMessage() for r in caplog.records] == ["a response URL answered 404: b'expired_url'"]


def test_a_network_failure_raises():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once it is closed
    with pytest.raises(ConnectionRefusedError):
        ResponseURLs().post(f"http://127.0.0.1:{port}/respond/x", {"text": "x"})


def test_as_many_replies_at_once_as_the_lazy_pool_runs_keep_their_connections(fake_slack, caplog):
    """Every lazy thread may be replying at once: a shared pool smaller than that closed the
    extra connections after each reply (and logged each time), so under a burst nearly every
    reply paid a new connection, and over HTTPS a TLS handshake."""
    responses = ResponseURLs()
    url = fake_slack.response_url("U1")
    rounds = 5
    start = threading.Barrier(LAZY_WORKERS, timeout=10)
    failed: list[BaseException] = []

    def reply_in_rounds() -> None:
        try:
            for n in range(rounds):
                start.wait()
                responses.post(url, {"text": str(n)})
        except BaseException as exc:  # a thread's failure is the test's
            failed.append(exc)
            start.abort()

    with caplog.at_level(logging.WARNING):
        threads = [threading.Thread(target=reply_in_rounds) for _ in range(LAZY_WORKERS)]
        for each in threads:
            each.start()
        for each in threads:
            each.join()
    assert not failed
    fake_slack.wait_for("response_url", LAZY_WORKERS * rounds)
    assert len(set(fake_slack.response_ports)) <= LAZY_WORKERS
    assert not [r.getMessage() for r in caplog.records]


class ClosesAfterEachAnswer(BaseHTTPRequestHandler):
    """A server that closes a kept-alive connection once it has answered, without saying so
    (as a load balancer drops an idle one), or, with ``dies``, takes the next request on it
    and closes before answering."""

    protocol_version = "HTTP/1.1"
    dies: ClassVar[bool] = False
    received: ClassVar[list[str]] = []

    def setup(self) -> None:
        super().setup()
        self.answered = False

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
        if self.answered:
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
        self.answered = True
        self.close_connection = not self.dies

    def log_message(self, *args) -> None:
        return


class Closing(ThreadingHTTPServer):
    closed: threading.Semaphore

    def shutdown_request(self, request) -> None:
        super().shutdown_request(request)
        self.closed.release()


@pytest.mark.parametrize("dies", [False, True], ids=["dropped while idle", "breaks as it is used"])
def test_a_kept_connection_that_is_gone_is_replaced_and_the_reply_arrives(dies, caplog):
    handler = type("Handler", (ClosesAfterEachAnswer,), {"dies": dies, "received": []})
    server = Closing(("127.0.0.1", 0), handler)
    server.closed = threading.Semaphore(0)
    responses = ResponseURLs()
    with serving(server) as url, caplog.at_level(logging.WARNING):
        responses.post(url, {"text": "first"})
        if not dies:
            assert server.closed.acquire(timeout=5)  # closed while idle, unannounced
        responses.post(url, {"text": "second"})
    texts = [json.loads(body)["text"] for body in handler.received]
    # Broken as it was used, the second reply reached the server before it broke: sent again
    # on a fresh connection, seen twice at worst, never lost.
    assert texts == (["first", "second", "second"] if dies else ["first", "second"])
    assert not caplog.records
