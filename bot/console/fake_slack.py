"""A stand-in for Slack's Web API on loopback, recording every call.

The console talks to it instead of Slack, and the tests point ``SLACK_API_URL`` at it to
see exactly what the app asked Slack to do. It answers like Slack for the methods si-bot
uses, and can be told to fail the next calls (429 with Retry-After, 500) to test retries,
and to misbehave for a while (``faults``: Slack's per-channel pace of posts with 429s, a
share of 5xx answers, an outage window), for the soak test (bench/soak.py).

Posted messages are kept in their conversation with their metadata, and
``conversations.history`` / ``conversations.replies`` read them back as Slack does: newest
first, from ``oldest`` on, ``limit`` at a time with a cursor, metadata only with
``include_all_metadata``.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote

BOT_USER = "UBOTSIBOT"
Answer = tuple[int, dict[str, str], dict[str, Any]]  # status, headers, body
_NAME = re.compile(r"[^A-Z0-9]")


@dataclass
class Call:
    method: str  # "chat.postMessage", or "response_url" for a post to a response_url
    params: dict[str, Any]
    result: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)  # when it was answered


@dataclass
class Failure:
    method: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    # Done first, then answered with ``status``: Slack took it and failed to say so.
    after_doing: bool = False


@dataclass
class Faults:
    """Misbehaviour switched on for a while (all off by default).

    - ``channel_pace``: chat.postMessage to one channel more often than this many times a
      second is answered 429 with ``Retry-After: 1`` (Slack: "1 per second per channel").
    - ``error_ratio``: this share of Web API calls is answered 500 (before doing anything).
    - ``outage_until``: until this ``time.monotonic()``, every Web API call is answered 503.
    """

    channel_pace: int = 0
    error_ratio: float = 0.0
    outage_until: float = 0.0
    # chat.postMessage to these channels answers ok: false with this error (the bot was
    # removed from the channel, the person left: Slack refuses it the same way every time).
    refusing: dict[str, str] = field(default_factory=dict)
    seed: int = 13
    counts: dict[str, int] = field(default_factory=dict)  # what was injected, by kind

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def roll(self) -> bool:
        return self.error_ratio > 0 and self._random.random() < self.error_ratio

    def count(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1


def dm_of(user: str) -> str:
    """The id of the DM between the bot and ``user`` in the stand-in workspace."""
    return "D" + user[1:]


class _Listening(ThreadingHTTPServer):
    # Slack takes many connections at once: the standard 5 waiting would reset some of a
    # burst (every lazy thread of two workers replying at once in the benchmark).
    request_queue_size = 128


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self._lock = threading.Condition()
        # Message timestamps go on from the clock, as Slack's do: a second session against
        # the same database never reuses the first one's (its cards are recorded by ts).
        self._last_ts = 0
        self._repeat: tuple[str, int] = ("", 0)  # a ts the next posts answer with (repeat_ts)
        self.faults = Faults()
        self._channel_posts: dict[str, list[float]] = {}
        self.people: dict[str, str] = {}  # @name -> user id: the workspace's people
        # View ids too: a form's submission is recorded by its view id (a double submission
        # files once), so a second session must not reuse the first one's.
        self._views = itertools.count(int(time.time() * 1000))
        self._view_hashes: dict[str, str] = {}  # each view's current hash
        self._hashes = itertools.count(1)
        self._files = itertools.count(1)
        self.shared_files: dict[str, dict[str, Any]] = {}  # files people sent, by id (files.info)
        self._file_names: dict[str, str] = {}  # file id -> its name (files_upload_v2, step 1)
        # The messages of each conversation, oldest first: posts (with their metadata) and
        # shared files (conversations.history and conversations.replies read them).
        self.history: dict[str, list[dict[str, Any]]] = {}
        # Rate limits a test asks for (limit()): method -> (calls a second, Retry-After), the
        # times of the calls accepted within the last second, and the calls refused (429).
        self.limits: dict[str, tuple[int, int]] = {}
        self._accepted: dict[str, list[float]] = {}
        self.refused: list[Call] = []
        # The client port each response-URL post came from: posts over one kept-alive
        # connection share it.
        self.response_ports: list[int] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        self._server = _Listening(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, token: str = "r") -> str:
        return f"{self.base}/respond/{token}"

    # --- inspection -------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 20.0) -> list[Call]:
        """Wait until ``count`` calls to ``method`` were made (lazy listeners run in threads);
        AssertionError when they were not made within ``timeout`` seconds."""
        with self._lock:
            done = self._lock.wait_for(
                lambda: len([c for c in self.calls if c.method == method]) >= count, timeout
            )
            found = [c for c in self.calls if c.method == method]
        if not done:
            raise AssertionError(f"{len(found)} call(s) to {method} after {timeout:g} s, expected {count}")
        return found

    def wait_until(self, condition, timeout: float = 20.0) -> bool:
        """Wait until ``condition(calls)`` holds; False when it did not within ``timeout``."""
        with self._lock:
            return self._lock.wait_for(lambda: condition(list(self.calls)), timeout)

    def person(self, name: str) -> str:
        """The user id of ``@name`` in this stand-in workspace (someone new joins as they
        are named: ``zhang.san`` becomes ``U0ZHANGSAN``)."""
        name = name.lower()
        if name not in self.people:
            self.people[name] = ("U0" + _NAME.sub("", name.upper()))[:20] or "U0SOMEONE"
        return self.people[name]

    def fail_next(self, method: str, status: int, **headers: str) -> None:
        with self._lock:
            self.failures.append(Failure(method, status, headers))

    def fail_after_doing_next(self, method: str, status: int) -> None:
        """The next ``method`` call is carried out, then answered ``status``: a 500 after
        the message was posted, as a proxy or Slack's own edge may answer."""
        with self._lock:
            self.failures.append(Failure(method, status, after_doing=True))

    def limit(self, method: str, per_second: int, retry_after: int = 1) -> None:
        """Answer ``method`` with 429 and ``Retry-After`` when called more than
        ``per_second`` times within a second, as Slack does past its rate limits."""
        with self._lock:
            self.limits[method] = (per_second, retry_after)

    def repeat_ts(self, ts: str, count: int = 1) -> None:
        """The next ``count`` posts answer with ``ts``, as a stand-in restarted with its
        counter from the start would (Slack's own never repeat in a channel)."""
        with self._lock:
            self._repeat = (ts, count)

    def outage(self, seconds: float) -> None:
        """Every Web API call answers 503 for the next ``seconds``."""
        with self._lock:
            self.faults.outage_until = time.monotonic() + seconds

    def posted_keys(self) -> dict[str, int]:
        """How many messages carry each outbox key in their metadata (bot/delivery.py):
        more than one is a message sent twice."""
        counted: dict[str, int] = {}
        with self._lock:
            for messages in self.history.values():
                for message in messages:
                    key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key")
                    if key:
                        counted[key] = counted.get(key, 0) + 1
        return counted

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.failures.clear()

    def share_file(self, name: str, content: bytes, *, user: str, channel: str) -> str:
        """A file someone sent (in a DM with the bot): ``files.info`` describes it and its
        ``url_private_download`` serves its bytes. Returns its id, for the ``file_shared``
        event."""
        file_id = f"F{next(self._files):08d}"
        with self._lock:
            self.shared_files[file_id] = {
                "id": file_id,
                "name": name,
                "title": name,
                "filetype": name.rsplit(".", 1)[-1].lower(),
                "size": len(content),
                "user": user,
                "channels": [],
                "ims": [channel],
                "url_private_download": f"{self.base}/files-pri/{file_id}/download/{quote(name)}",
                "content": content,
            }
        return file_id

    # --- answering --------------------------------------------------------------------------

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            failure = next((f for f in self.failures if f.method == method), None)
            if failure:
                self.failures.remove(failure)
                if failure.after_doing:
                    self.calls.append(Call(method, params, self._result(method, params)))
                    self._lock.notify_all()
                body = {"ok": False, "error": "ratelimited" if failure.status == 429 else "internal_error"}
                return failure.status, failure.headers, body
            injected = self._injected(method, params)
            if injected is not None:
                return injected
            if method in self.limits:
                per_second, retry_after = self.limits[method]
                now = time.monotonic()
                recent = [t for t in self._accepted.get(method, []) if now - t < 1.0]
                if len(recent) >= per_second:
                    self.faults.count(f"429 {method}")  # past the method's limit, not a channel's
                    self.refused.append(Call(method, params))
                    return 429, {"Retry-After": str(retry_after)}, {"ok": False, "error": "ratelimited"}
                self._accepted[method] = [*recent, now]
            result = self._result(method, params)
            self.calls.append(Call(method, params, result))
            self._lock.notify_all()
            return 200, {}, result

    def _injected(
        self, method: str, params: dict[str, Any]
    ) -> tuple[int, dict[str, str], dict[str, Any]] | None:
        """A fault switched on in ``faults`` (called with the lock held), or None."""
        if method in ("response_url", "upload", "file_download"):
            return None
        faults = self.faults
        now = time.monotonic()
        if now < faults.outage_until:
            faults.count("outage")
            self.refused.append(Call(method, params))
            return 503, {}, {"ok": False, "error": "service_unavailable"}
        if method == "chat.postMessage" and str(params.get("channel", "")) in faults.refusing:
            faults.count("refused")
            self.refused.append(Call(method, params))
            return 200, {}, {"ok": False, "error": faults.refusing[str(params.get("channel", ""))]}
        if faults.roll():
            faults.count("5xx")
            self.refused.append(Call(method, params))
            return 500, {}, {"ok": False, "error": "internal_error"}
        if faults.channel_pace and method == "chat.postMessage":
            channel = str(params.get("channel", ""))
            recent = [t for t in self._channel_posts.get(channel, []) if now - t < 1.0]
            if len(recent) >= faults.channel_pace:
                faults.count("429")
                self.refused.append(Call(method, params))
                return 429, {"Retry-After": "1"}, {"ok": False, "error": "ratelimited"}
            self._channel_posts[channel] = [*recent, now]
        return None

    def _next_ts(self) -> str:
        """A message timestamp: the clock's microseconds, always after the last one (a
        second session against the same database never reuses the first one's)."""
        repeated, count = self._repeat
        if count:
            self._repeat = (repeated, count - 1)
            return repeated
        self._last_ts = max(self._last_ts + 1, int(time.time() * 1_000_000))
        return _ts(self._last_ts)

    def _conversation_of(self, channel: str) -> str:
        return "D" + channel[1:] if channel.startswith(("U", "W")) else channel

    def _read(self, params: dict[str, Any], *, thread: str | None) -> dict[str, Any]:
        """A page of a conversation's messages (or of one thread), as Slack gives it."""
        channel = self._conversation_of(str(params.get("channel", "")))
        oldest = float(params.get("oldest") or 0)
        messages = self.history.get(channel, [])
        if thread is None:  # the channel's own messages: replies stay in their threads
            found = [m for m in messages if m.get("thread_ts") in (None, m["ts"])]
        else:
            found = [m for m in messages if thread in (m["ts"], m.get("thread_ts"))]
        found = sorted(
            (m for m in found if float(m["ts"]) > oldest), key=lambda m: float(m["ts"]), reverse=True
        )
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 100)
        page = found[start : start + limit]
        if str(params.get("include_all_metadata", "")).lower() not in ("1", "true"):
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _result(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.test/",
                "user_id": BOT_USER,
                "bot_id": "BSIBOT",
                "team_id": "TFAKE",
                "user": "si-bot",
            }
        if method in ("chat.postMessage", "chat.update"):
            # A DM to a user lands in the bot's DM channel.
            channel = self._conversation_of(str(params.get("channel", "")))
            ts = params.get("ts") or self._next_ts()
            if method == "chat.postMessage":
                message = {"type": "message", "user": BOT_USER, "ts": ts, "text": params.get("text", "")}
                if params.get("thread_ts"):
                    message["thread_ts"] = str(params["thread_ts"])
                metadata = params.get("metadata")
                if metadata:
                    message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
                self.history.setdefault(channel, []).append(message)
            return {"ok": True, "channel": channel, "ts": ts, "message": {"text": params.get("text", "")}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            view = params.get("view")
            view = json.loads(view) if isinstance(view, str) else dict(view or {})
            if method == "views.update" and params.get("view_id"):
                view["id"] = str(params["view_id"])
                # As Slack: an update carrying an older hash than the view's is refused.
                if params.get("hash") and params["hash"] != self._view_hashes.get(view["id"]):
                    return {"ok": False, "error": "hash_conflict"}
            view.setdefault("id", f"V{next(self._views):08d}")
            view["hash"] = f"{time.time():.6f}.{next(self._hashes)}"
            self._view_hashes[view["id"]] = view["hash"]
            return {"ok": True, "view": view}
        if method == "chat.getPermalink":
            ts = str(params.get("message_ts", "")).replace(".", "")
            return {
                "ok": True,
                "permalink": f"https://fake.slack.test/archives/{params.get('channel')}/p{ts}",
            }
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": dm_of(str(params.get("users", "X")))}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._files):08d}"  # one per file; its bytes arrive at upload_url
            self._file_names[file_id] = str(params.get("filename", ""))
            return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}
        if method == "files.info":
            shared = self.shared_files.get(str(params.get("file", "")))
            if shared is None:
                return {"ok": False, "error": "file_not_found"}
            return {"ok": True, "file": {k: v for k, v in shared.items() if k != "content"}}
        if method == "files.completeUploadExternal":
            files = params.get("files")
            files = json.loads(files) if isinstance(files, str) else files or [{"id": "F00000001"}]
            shared = [
                {
                    "id": f["id"],
                    "name": self._file_names.get(f["id"], ""),
                    "title": f.get("title", ""),
                    "user": BOT_USER,
                }
                for f in files
            ]
            if params.get("channel_id"):  # shared: a message with the files, on the (moved) clock
                message = {"type": "message", "user": BOT_USER, "ts": self._next_ts(), "files": shared}
                message["text"] = str(params.get("initial_comment", ""))
                self.history.setdefault(str(params["channel_id"]), []).append(message)
            return {"ok": True, "files": shared}
        if method == "conversations.history":
            return self._read(params, thread=None)
        if method == "conversations.replies":
            return self._read(params, thread=str(params.get("ts", "")))
        return {"ok": True}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            # Connections kept alive between requests, as Slack's are (every answer says its
            # Content-Length); a client that sends "Connection: close" (urllib) still gets it.
            protocol_version = "HTTP/1.1"
            # Its header and body are two writes: without TCP_NODELAY the second waits for the
            # client's delayed ACK of the first (40 ms a request on a kept-alive connection).
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.path.startswith("/upload/"):  # a file's bytes (files_upload_v2, step 2)
                    params = {"file_id": self.path.rsplit("/", 1)[-1], "content": body}
                else:
                    params = _params(body.decode("utf-8"), self.headers.get("Content-Type", ""))
                if self.path.startswith("/api/"):
                    method = self.path[len("/api/") :].split("?")[0]
                elif self.path.startswith("/respond/"):
                    method = "response_url"
                    with fake._lock:
                        fake.response_ports.append(self.client_address[1])
                else:
                    method = "upload"
                self._answer(method, params)

            def _answer(self, method: str, params: dict[str, Any]) -> None:
                status, headers, body = fake.answer(method, params)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                if self.path.startswith("/api/"):  # a Web API method called with GET
                    method, _, query = self.path[len("/api/") :].partition("?")
                    self._answer(method, _params(query, ""))
                    return
                # A shared file's bytes (url_private_download): recorded with the
                # Authorization header the app sent, served only with a bot token.
                file_id = self.path.split("/")[2] if self.path.startswith("/files-pri/") else ""
                authorization = self.headers.get("Authorization", "")
                with fake._lock:
                    shared = fake.shared_files.get(file_id)
                    fetched = {"file_id": file_id, "authorization": authorization}
                    fake.calls.append(Call("file_download", fetched))
                    fake._lock.notify_all()
                if shared is None or not authorization.startswith("Bearer xoxb-"):
                    self.send_response(404 if shared is None else 403)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                content = shared["content"]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args: Any) -> None:
                return  # quiet: the calls are recorded instead

        return Handler


def _ts(micros: int) -> str:
    """A Slack message timestamp: seconds and microseconds since the epoch."""
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _params(raw: str, content_type: str) -> dict[str, Any]:
    if "json" in content_type:
        return json.loads(raw or "{}")
    params: dict[str, Any] = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
    for key in ("blocks", "view", "attachments"):
        if isinstance(params.get(key), str):
            params[key] = _json_or_text(params[key])
    return params


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value  # Slack accepts some of these as plain strings too
