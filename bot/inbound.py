"""What a request to ``/slack/events`` must be before Bolt sees it.

Its body no larger than Slack ever sends, read no further than that; signed with the app's
signing secret and a fresh timestamp; UTF-8; a JSON object where Slack sends one; and
shaped as Slack shapes what the listeners read. Anything else is a ``Refusal``: a 4xx and
one log line (its size, the path, why, its first bytes masked and escaped), and Bolt never
parses, answers or logs it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_normalized_headers, extract_content_type, parse_body
from slack_sdk.signature import SignatureVerifier

from bot.logs import safe_log_text

# How much of a refused body the log line shows.
PREVIEW_CHARS = 64
# Slack refuses a request whose timestamp is more than five minutes off (and so does
# SignatureVerifier); a timestamp is seconds since 1970, ten digits until the year 2286.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_FRESH_SECONDS = 5 * 60
# Read the body in pieces of this size: memory grows with what arrives, not with what a
# Content-Length under the cap promised.
_CHUNK = 64 * 1024
# What a JSON value that is not an object is, for the log.
_JSON_NAMES = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true or false",
    type(None): "null",
}
# The interactive payloads whose listeners read the person who acted.
_FROM_A_PERSON = ("block_actions", "view_submission", "view_closed", "shortcut", "message_action")


class Refusal(Exception):
    """Why a request is refused: the HTTP status, what the log says, and the body so far
    (kept out of the exception's own text, which a traceback would print unmasked)."""

    def __init__(self, status: str, reason: str, size: str, body: bytes = b""):
        super().__init__(f"{status} {reason}")
        self.status, self.reason, self.size, self.body = status, reason, size, body

    def log_line(self, path: str) -> str:
        return f"refused {path}: {self.status} {self.reason}; {self.size}; first bytes: {preview(self.body)}"


class _ExactVerifier(SignatureVerifier):
    """Slack signs the bytes it sends. ``SignatureVerifier`` decodes them as UTF-8 first,
    which raises on anything else: signing the bytes themselves tells a forged non-UTF-8
    body (401) from one Slack's secret signed (400, as malformed)."""

    def generate_signature(self, *, timestamp: str, body: str | bytes) -> str | None:
        raw = body if isinstance(body, bytes) else body.encode()
        base = b"v0:" + timestamp.encode() + b":" + raw
        return "v0=" + hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()


class Gate:
    """Admits a WSGI request to ``/slack/events`` as a ``BoltRequest``, or refuses it."""

    def __init__(self, signing_secret: str, max_body_bytes: int):
        if not signing_secret:
            raise ValueError("an HTTP server needs the signing secret to verify Slack's requests")
        self.verifier = _ExactVerifier(signing_secret)
        self.max_body_bytes = max_body_bytes

    def admit(self, environ: dict[str, Any]) -> BoltRequest:
        body = self.read_body(environ)
        self.verify(environ, body)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Refusal("400 Bad Request", f"body is not UTF-8 ({exc.reason})", _size(body), body) from None
        headers = _headers(environ)
        # The body is parsed once, by Bolt as it builds the request; what fails there is
        # parsed again only to say why.
        try:
            request = BoltRequest(body=text, query=environ.get("QUERY_STRING", ""), headers=headers)
        except (RecursionError, AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
            # Bolt reads its context (team, user, channel…) from the body as it builds the
            # request: a value of a shape Slack never sends fails there.
            content_type = extract_content_type(build_normalized_headers(headers))
            reason = shape_problem(text, content_type) or f"Bolt cannot read it ({type(exc).__name__}: {exc})"
            raise Refusal("400 Bad Request", reason, _size(body), body) from None
        problem = data_problem(request.body)
        if problem:
            raise Refusal("400 Bad Request", problem, _size(body), body)
        return request

    def read_body(self, environ: dict[str, Any]) -> bytes:
        """The body, never reading more than the cap allows."""
        stream = environ.get("wsgi.input")
        declared = (environ.get("CONTENT_LENGTH") or "").strip()
        cap = self.max_body_bytes
        if declared:
            if not (declared.isascii() and declared.isdigit()):
                raise Refusal(
                    "400 Bad Request", "Content-Length is not a number", f"Content-Length {declared}"
                )
            length = int(declared)
            if length > cap:
                # Not one byte read: the log shows none.
                raise Refusal("413 Content Too Large", f"body over {cap} bytes", f"Content-Length {length}")
            return _read(stream, length)
        if environ.get("wsgi.input_terminated"):
            # No length (chunked): the server ends the input; read one byte past the cap at most.
            body = _read(stream, cap + 1)
            if len(body) > cap:
                raise Refusal(
                    "413 Content Too Large", f"body over {cap} bytes", f"no Content-Length, over {cap}", body
                )
            return body
        # PEP 3333: without a Content-Length the input may not be read past its end.
        return b""

    def verify(self, environ: dict[str, Any], body: bytes) -> None:
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        if not timestamp or not signature:
            raise Refusal("401 Unauthorized", "not signed", _size(body), body)
        if not _TIMESTAMP.fullmatch(timestamp):
            raise Refusal("401 Unauthorized", "timestamp is not a number", _size(body), body)
        if abs(self.verifier.clock.now() - int(timestamp)) > _FRESH_SECONDS:
            raise Refusal("401 Unauthorized", "stale timestamp", _size(body), body)
        if not _SIGNATURE.fullmatch(signature) or not self.verifier.is_valid(body, timestamp, signature):
            raise Refusal("401 Unauthorized", "signature does not match", _size(body), body)


def shape_problem(text: str, content_type: str | None) -> str | None:
    """What is wrong with a signed body, read exactly as Bolt will read it; None when it is
    shaped as Slack shapes what Bolt's dispatch and our listeners read without looking first
    (slack_bolt.request.payload_utils, IgnoringSelfEvents, bot/handlers/listen.py)."""
    try:
        data = parse_body(text, content_type)
    except RecursionError:
        return "payload is not JSON (nested too deep)"
    except ValueError as exc:
        # The decoder's message says where, never what: "Expecting value: line 1 column 5".
        return f"payload is not JSON ({exc})"
    return data_problem(data)


def data_problem(data: Any) -> str | None:
    """What is wrong with a parsed body (``shape_problem``); None when nothing is."""
    if not isinstance(data, dict):
        return f"payload is {_JSON_NAMES.get(type(data), 'something else')}, not a JSON object"
    if data.get("ssl_check"):
        return None
    if "command" in data:
        return _missing(data, "command", "user_id")
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        return "no type"
    for key in ("event", "view", "container", "state", "workflow_step"):
        if key in data and not isinstance(data[key], dict):
            return f"{key} is not an object"
    return _event_problem(kind, data) or _interaction_problem(kind, data)


def _event_problem(kind: str, data: dict[str, Any]) -> str | None:
    if kind == "url_verification":
        return _missing(data, "challenge")
    event = data.get("event")
    if kind == "event_callback" and (event is None or not isinstance(event.get("type"), str)):
        return "event_callback without an event type"
    if kind == "event_callback" and _missing(data, "event_id"):
        return "event_callback without event_id"
    if event is not None:
        for key in ("message", "previous_message"):
            if event.get(key) is not None and not isinstance(event[key], dict):
                return f"event.{key} is not an object"
    return None


def _interaction_problem(kind: str, data: dict[str, Any]) -> str | None:
    if kind in _FROM_A_PERSON:
        user = data.get("user")
        if not isinstance(user, dict) or _missing(user, "id"):
            return f"{kind} without user.id"
    if kind in ("block_actions", "interactive_message"):
        actions = data.get("actions")
        if not isinstance(actions, list) or not actions:
            return f"{kind} without actions"
        if not all(isinstance(a, dict) and isinstance(a.get("selected_option") or {}, dict) for a in actions):
            return "an action that is not an object"
        if kind == "block_actions" and any(_missing(a, "action_id") for a in actions):
            return "an action without action_id"
    if kind in ("block_actions", "view_submission", "view_closed"):
        view = data.get("view")
        if kind != "block_actions" and (view is None or _missing(view, "id", "type", "callback_id")):
            return f"{kind} without view.id, view.type and view.callback_id"
        for where, holder in (("state", data), ("view.state", view or {})):
            if not _state_is_objects(holder.get("state")):
                return f"{where}.values are not objects"
    steps = kind == "workflow_step_edit" or (
        kind == "view_submission" and data["view"]["type"] == "workflow_step"
    )
    if steps and "workflow_step" not in data:
        return f"{kind} without workflow_step"
    return None


def _state_is_objects(state: Any) -> bool:
    """A view's or message's state: ``{"values": {block: {action: {...}}}}``, or none."""
    if state is None:
        return True
    values = state.get("values", {}) if isinstance(state, dict) else None
    return isinstance(values, dict) and all(
        isinstance(block, dict) and all(isinstance(element, dict) for element in block.values())
        for block in values.values()
    )


def _missing(data: dict[str, Any], *keys: str) -> str | None:
    absent = [key for key in keys if not isinstance(data.get(key), str) or not data[key]]
    return f"no {', '.join(absent)}" if absent else None


def preview(body: bytes) -> str:
    """The first bytes of a body for the log: undecodable bytes as ``\\xNN``, resident IDs
    masked, control characters escaped. A run of digits cut at the end is dropped: it may
    be the start of an ID the cut kept from being masked."""
    if not body:
        return "(none read)"
    # A little more than is shown, so that an ID across the cut is masked whole first.
    text = safe_log_text(body[: PREVIEW_CHARS + 32].decode("utf-8", "backslashreplace"))
    if len(text) <= PREVIEW_CHARS and len(body) <= PREVIEW_CHARS + 32:
        return f'"{text}"'
    return '"' + re.sub(r"[0-9]+$", "", text[:PREVIEW_CHARS]) + '…"'


def _size(body: bytes) -> str:
    return f"{len(body)} bytes"


def _read(stream: Any, limit: int) -> bytes:
    if stream is None or limit <= 0:
        return b""
    pieces: list[bytes] = []
    left = limit
    while left > 0:
        piece = stream.read(min(left, _CHUNK))
        if not piece:
            break
        pieces.append(piece)
        left -= len(piece)
    return b"".join(pieces)


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request's headers as Bolt's WSGI adapter gathers them."""
    headers = {}
    for key, value in environ.items():
        if key in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            headers[key.lower().replace("_", "-")] = value
        elif key.startswith("HTTP_"):
            headers[key[5:].lower().replace("_", "-")] = value
    return headers
