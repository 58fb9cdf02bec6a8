"""Hostile requests at /slack/events (issue 13, items 1, 2 and 6): each is refused with a
clean 4xx before Bolt reads it, and leaves one log line, masked, that cannot forge another.

The log is read as the server writes it: every record formatted by ``SafeFormatter``, the
formatter ``setup_logging`` gives every handler."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.config import DEFAULT_MAX_BODY_BYTES, ConfigError, load_settings
from bot.ids import ActionId, CallbackId
from bot.inbound import Gate, Refusal, preview
from bot.logs import LOG_FORMAT, SafeFormatter
from tests.conftest import ADMIN, EMPLOYEE, SECRET
from tests.slack import SlackDriver

# A resident ID someone might smuggle in; masked it reads 3101**********001X.
RESIDENT_ID = "31010119700315001X"
MASKED_ID = "3101**********001X"
# An 18-character ID standing alone, as the masker finds them.
WHOLE_ID = re.compile(r"(?<![0-9])\d{17}[\dXx](?![0-9])")
EVENTS = "/slack/events"


class Log:
    """What the root logger wrote, formatted as in production, line by line."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.mark = 0

    def new_lines(self) -> list[str]:
        """The lines written since the last call."""
        text = self.stream.getvalue()
        fresh, self.mark = text[self.mark :], len(text)
        return fresh.splitlines()


@pytest.fixture
def log() -> Iterator[Log]:
    captured = Log()
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(SafeFormatter(LOG_FORMAT))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def raw_post(slack: SlackDriver, head: dict[str, str], body: bytes) -> tuple[int, bytes]:
    """POST ``body`` with exactly the headers given (Content-Length included or not), over a
    socket of our own: the server may answer before the body is sent, and the body is sent
    from another thread so that the answer is read meanwhile."""
    address = urlsplit(slack.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
        lines = [f"POST {EVENTS} HTTP/1.1", f"Host: {address.netloc}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in head.items()]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

        def send_body() -> None:
            # The server may close before all of it is sent: that is its right once it answered.
            try:
                conn.sendall(body)
            except OSError:
                return

        sender = threading.Thread(target=send_body, daemon=True)
        sender.start()
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass  # after the answer: the server closed with our body unread
        sender.join(timeout=10)
    status = int(answer.split(b" ", 2)[1])
    return status, answer


def signed(body: str | bytes, content_type: str = "application/x-www-form-urlencoded", **kw):
    """``body`` signed with the app's secret, as Slack signs it (over the bytes)."""
    raw = body.encode() if isinstance(body, str) else body
    ts = str(kw.get("timestamp", int(time.time())))
    signature = (
        "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256).hexdigest()
    )
    headers = {
        "Content-Type": content_type,
        "Content-Length": str(len(raw)),
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }
    return headers, raw


def interactive(payload: object) -> str:
    return urlencode({"payload": json.dumps(payload)})


def assert_one_clean_line(lines: list[str], *expected: str) -> str:
    assert len(lines) == 1, lines
    [line] = lines
    for text in expected:
        assert text in line, line
    assert not WHOLE_ID.search(line) and "Traceback" not in line
    return line


# --- 1. the body cap -------------------------------------------------------------------------


def test_a_lying_content_length_is_refused_413_without_reading_the_body(slack, log):
    body = f"payload={RESIDENT_ID}\nCRITICAL bot: INJECTED".encode()
    status, answer = raw_post(
        slack, {"Content-Length": str(100 * 1024 * 1024), "Content-Type": "text/plain"}, body
    )
    assert status == 413 and b"Content Too Large" in answer
    line = assert_one_clean_line(log.new_lines(), EVENTS, "413", "Content-Length 104857600", "(none read)")
    assert "INJECTED" not in line  # not one byte of it was read


def test_a_real_body_over_the_cap_is_refused_413_and_the_log_stays_small(slack, log):
    body = ("payload=" + RESIDENT_ID + "\n" + "x" * (2 * 1024 * 1024)).encode()
    status, _ = raw_post(slack, {"Content-Length": str(len(body))}, body)
    assert status == 413
    line = assert_one_clean_line(
        log.new_lines(), f"Content-Length {len(body)}", f"over {DEFAULT_MAX_BODY_BYTES}"
    )
    assert len(line) < 500


def test_the_gate_reads_no_byte_past_the_cap_with_or_without_a_length():
    """The cases a test server cannot send: a chunked body (gunicorn ends the input and
    says so with ``wsgi.input_terminated``) and an input read piece by piece."""

    class Counting(io.BytesIO):
        read_total = 0

        def read(self, size=-1):
            piece = super().read(size)
            self.read_total += len(piece)
            return piece

    gate = Gate(SECRET, max_body_bytes=1000)
    endless = Counting(b"a" * 5000)
    with pytest.raises(Refusal) as refused:
        gate.read_body({"wsgi.input": endless, "wsgi.input_terminated": True})
    assert refused.value.status.startswith("413") and endless.read_total == 1001
    declared = Counting(b"a" * 5000)
    with pytest.raises(Refusal):
        gate.read_body({"wsgi.input": declared, "CONTENT_LENGTH": "5000"})
    assert declared.read_total == 0
    # Without a length and without the server's word that the input ends: nothing is read.
    unknown = Counting(b"a" * 5000)
    assert gate.read_body({"wsgi.input": unknown}) == b"" and unknown.read_total == 0
    with pytest.raises(Refusal) as refused:
        gate.read_body({"wsgi.input": Counting(b""), "CONTENT_LENGTH": "12abc"})
    assert refused.value.status.startswith("400")


def test_the_first_bytes_in_the_log_never_show_part_of_an_id_cut_by_the_preview():
    cut_at_64 = ("a" * 60 + RESIDENT_ID + "b" * 100).encode()
    assert preview(cut_at_64) == '"' + "a" * 60 + '…"'
    # An ID just inside the preview is masked whole; plain letters are kept.
    assert (
        preview(("a" * 10 + RESIDENT_ID + "x" * 100).encode()) == '"' + "a" * 10 + MASKED_ID + "x" * 36 + '…"'
    )
    assert preview(b"\xff\x00" + RESIDENT_ID.encode()) == '"\\xff\\x00' + MASKED_ID + '"'


def test_the_cap_is_a_setting():
    assert load_settings({}).max_body_bytes == DEFAULT_MAX_BODY_BYTES == 1024 * 1024
    assert load_settings({"SI_MAX_BODY_BYTES": "2048"}).max_body_bytes == 2048
    for wrong in ("-1", "0", "1MB"):
        with pytest.raises(ConfigError, match="SI_MAX_BODY_BYTES"):
            load_settings({"SI_MAX_BODY_BYTES": wrong})


# --- 2. the signature, before anything is parsed -------------------------------------------------


def test_an_unsigned_body_with_a_newline_cannot_forge_a_log_line(slack, log):
    body = f"{RESIDENT_ID} hello\nCRITICAL bot: INJECTED\r\n\x1b[2J".encode()
    status, _ = raw_post(slack, {"Content-Length": str(len(body))}, body)
    assert status == 401
    line = assert_one_clean_line(log.new_lines(), "401 Unauthorized not signed", MASKED_ID)
    assert "\\nCRITICAL bot: INJECTED\\r\\n\\x1b[2J" in line


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (
            {"X-Slack-Signature": "v0=" + "0" * 64, "X-Slack-Request-Timestamp": "{now}"},
            "signature does not match",
        ),
        ({"X-Slack-Signature": "v0=abc", "X-Slack-Request-Timestamp": "abc"}, "timestamp is not a number"),
        ({"X-Slack-Signature": "v0=\xe9", "X-Slack-Request-Timestamp": "{now}"}, "signature does not match"),
        ({"X-Slack-Request-Timestamp": "{now}"}, "not signed"),
    ],
)
def test_a_forged_or_unsigned_request_is_refused_401_in_one_line(slack, log, headers, reason):
    body = interactive({"type": "block_actions", "user": {"id": EMPLOYEE}, "actions": [{"action_id": "x"}]})
    now = str(int(time.time()))
    head = {name: value.replace("{now}", now) for name, value in headers.items()}
    status, _ = raw_post(slack, {**head, "Content-Length": str(len(body))}, body.encode())
    assert status == 401
    assert_one_clean_line(log.new_lines(), "401 Unauthorized " + reason)


def test_a_signed_timestamp_that_is_not_a_number_or_is_stale_is_refused_401(slack, log):
    body = "command=%2Fsi&text=help&user_id=" + EMPLOYEE
    for timestamp, reason in (
        ("abc", "timestamp is not a number"),
        (int(time.time()) - 301, "stale timestamp"),
    ):
        headers, raw = signed(body, timestamp=timestamp)
        status, _ = raw_post(slack, headers, raw)
        assert status == 401
        assert_one_clean_line(log.new_lines(), reason)


# --- 2. malformed signed input: 400 (or Bolt's 404 for what nobody listens to) --------------------

VIEW = {"id": "V1", "type": "modal", "callback_id": "nope", "state": {"values": {}}}
MALFORMED = {
    "non-UTF-8": (b"payload=\xff\xfe" + RESIDENT_ID.encode(), None, 400, "not UTF-8"),
    "not JSON": ("payload={not json", None, 400, "payload is not JSON"),
    "an array": ("payload=[]", None, 400, "payload is an array, not a JSON object"),
    "null": ("payload=null", None, 400, "payload is null, not a JSON object"),
    "a JSON body that is an array": ("[]", "application/json", 400, "payload is an array"),
    "a JSON body that is not JSON": ("{oops", "application/json", 400, "payload is not JSON"),
    "a command without user_id": ("command=%2Fsi&text=help&team_id=T1", None, 400, "no user_id"),
    "nothing": ("", None, 400, "no type"),
    "a press without actions": (
        interactive({"type": "block_actions", "user": {"id": EMPLOYEE}, "actions": []}),
        None,
        400,
        "block_actions without actions",
    ),
    "a press without a user": (
        interactive({"type": "block_actions", "actions": [{"action_id": "x"}]}),
        None,
        400,
        "block_actions without user.id",
    ),
    "a submission without view.type": (
        interactive(
            {"type": "view_submission", "user": {"id": EMPLOYEE}, "view": {"id": "V1", "callback_id": "x"}}
        ),
        None,
        400,
        "without view.id, view.type and view.callback_id",
    ),
    "state values that are not objects": (
        interactive(
            {
                "type": "view_submission",
                "user": {"id": EMPLOYEE},
                "view": {**VIEW, "state": {"values": {"a": 1}}},
            }
        ),
        None,
        400,
        "view.state.values are not objects",
    ),
    "an event without its type": (
        json.dumps({"type": "event_callback", "event_id": "Ev1", "event": {"user": EMPLOYEE}}),
        "application/json",
        400,
        "event_callback without an event type",
    ),
    # What the property test found: Bolt's IgnoringSelfEvents reads event.get() on any type.
    "an event that is null": (
        json.dumps({"type": "0", "event": None}),
        "application/json",
        400,
        "event is not an object",
    ),
    "an edited message that is not an object": (
        json.dumps({"type": "event_callback", "event_id": "Ev1", "event": {"type": "message", "message": 5}}),
        "application/json",
        400,
        "event.message is not an object",
    ),
    "an unknown callback_id": (
        interactive({"type": "view_submission", "user": {"id": EMPLOYEE}, "view": VIEW}),
        None,
        404,
        "no listener for view_submission, callback_id 'nope'",
    ),
    "an unknown action_id": (
        interactive({"type": "block_actions", "user": {"id": EMPLOYEE}, "actions": [{"action_id": "nope"}]}),
        None,
        404,
        "no listener for block_actions, action_id ['nope']",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_signed_input_gets_a_clean_4xx_and_one_line(slack, log, case):
    body, content_type, status, reason = MALFORMED[case]
    headers, raw = signed(body, content_type or "application/x-www-form-urlencoded")
    answer_status, answer = raw_post(slack, headers, raw)
    slack.idle()
    assert answer_status == status, answer
    assert b"Traceback" not in answer
    assert_one_clean_line(log.new_lines(), reason)


def test_a_request_that_is_right_still_works_behind_the_gate(slack, log):
    reply = slack.command("help", user=EMPLOYEE)
    assert reply.status == 200 and "/si change" in reply.raw
    assert slack.get("/healthz") == (200, "ok\n")
    assert log.new_lines() == []


# --- 6. personal data in tracebacks --------------------------------------------------------------


def test_a_resident_id_in_an_exception_is_masked_in_the_traceback_on_one_line(slack, log):
    """The issue's case: a signed button value that is a resident ID, logged inside a
    ValueError (``int('31010119700315001X')``) with its whole trace."""
    reply = slack.press("bill_explain_rounding", RESIDENT_ID, user=EMPLOYEE)
    assert reply.status == 200
    slack.idle()
    line = assert_one_clean_line_with_trace(log.new_lines())
    assert "ValueError: invalid literal for int() with base 10: '" + MASKED_ID + "'" in line


def assert_one_clean_line_with_trace(lines: list[str]) -> str:
    assert len(lines) == 1, lines
    [line] = lines
    assert "Traceback (most recent call last):\\n" in line and not WHOLE_ID.search(line)
    return line


def test_the_formatter_masks_and_escapes_message_exception_and_stack():
    formatter = SafeFormatter(LOG_FORMAT)
    try:
        raise ValueError(f"bad {RESIDENT_ID}\nCRITICAL bot: FORGED")
    except ValueError as exc:
        # Made directly, not through the record factory (which masks messages as they are made).
        record = logging.LogRecord(
            "t",
            logging.ERROR,
            __file__,
            1,
            "asked %s\u2028%s",
            ("x\r\n", "%22" + RESIDENT_ID),
            (type(exc), exc, exc.__traceback__),
        )
    record.stack_info = f"Stack (most recent call last):\n  id {RESIDENT_ID}"
    text = formatter.format(record)
    assert "\n" not in text and "\r" not in text and "\u2028" not in text
    assert not WHOLE_ID.search(text) and text.count(MASKED_ID) == 3
    assert "\\nCRITICAL bot: FORGED" in text and "asked x\\r\\n\\u2028" in text


def test_gunicorn_writes_its_own_log_through_the_safe_formatter():
    from gunicorn.config import Config

    from bot.web import safe_gunicorn_logger

    config = Config()
    config.set("errorlog", "-")
    logger = safe_gunicorn_logger()(config)
    assert logger.error_log.handlers
    assert all(isinstance(h.formatter, SafeFormatter) for h in logger.error_log.handlers)


# --- 10. the property: whatever arrives, no 500, at most one line, no whole ID ----------------------

# Values a field may hold: text (sometimes holding a resident ID), or any JSON value at all.
ids_18 = st.one_of(st.just(RESIDENT_ID), st.from_regex(r"\A[0-9]{17}[0-9X]\Z"))
texts = st.one_of(
    st.text(max_size=30),
    st.builds(lambda a, i, b: a + i + b, st.text(max_size=10), ids_18, st.text(max_size=10)),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
people = st.sampled_from([EMPLOYEE, ADMIN]) | json_values
action_ids = st.sampled_from([str(a) for a in ActionId]) | json_values
callback_ids = st.sampled_from([str(c) for c in CallbackId]) | json_values
subcommands = st.sampled_from(["help", "status", "change", "cancel SI-2026-0001", "admin list", "report", ""])

block_actions = st.fixed_dictionaries(
    {"type": st.just("block_actions")},
    optional={
        "user": st.fixed_dictionaries({"id": people}) | json_values,
        "actions": st.lists(
            st.fixed_dictionaries({"action_id": action_ids}, optional={"value": texts | json_values})
            | json_values,
            max_size=2,
        )
        | json_values,
        "trigger_id": texts,
        "response_url": json_values,
        "container": json_values,
        "state": json_values,
    },
)
view_submissions = st.fixed_dictionaries(
    {"type": st.sampled_from(["view_submission", "view_closed"])},
    optional={
        "user": st.fixed_dictionaries({"id": people}) | json_values,
        "view": st.fixed_dictionaries(
            {"id": texts, "type": st.just("modal") | json_values, "callback_id": callback_ids},
            optional={
                "state": st.fixed_dictionaries(
                    {
                        "values": st.dictionaries(
                            texts, st.dictionaries(texts, json_values, max_size=2), max_size=3
                        )
                    }
                )
                | json_values,
                "private_metadata": texts | json_values,
            },
        )
        | json_values,
    },
)
events = st.fixed_dictionaries(
    {"type": st.just("event_callback") | texts},
    optional={
        "event_id": texts | json_values,
        "event": st.fixed_dictionaries(
            {"type": st.sampled_from(["app_mention", "message", "app_home_opened"]) | json_values},
            optional={
                "user": people,
                "text": texts | json_values,
                "channel": texts,
                "ts": texts,
                "channel_type": st.just("im") | json_values,
                "message": json_values,
                "previous_message": json_values,
                "bot_id": json_values,
            },
        )
        | json_values,
        "challenge": json_values,
    },
)
# Any type Slack sends, with any of the keys Bolt or our listeners read, holding anything.
SLACK_TYPES = [
    "block_actions", "view_submission", "view_closed", "shortcut", "message_action", "interactive_message",
    "workflow_step_edit", "block_suggestion", "dialog_submission", "dialog_suggestion", "dialog_cancellation",
    "event_callback", "url_verification", "app_rate_limited",
]  # fmt: skip
KEYS_READ = [
    "user", "actions", "view", "event", "container", "state", "workflow_step", "callback_id", "action_id",
    "trigger_id", "response_url", "channel", "team", "enterprise", "message", "authorizations",
    "is_enterprise_install", "function_data", "bot_access_token", "challenge", "event_id", "api_app_id",
]  # fmt: skip
any_shape = st.builds(
    lambda kind, fields: {"type": kind, **fields},
    st.sampled_from(SLACK_TYPES),
    st.dictionaries(st.sampled_from(KEYS_READ), json_values, max_size=5),
)
payloads_ = st.one_of(block_actions, view_submissions, events, any_shape, json_values)
slash_commands = st.fixed_dictionaries(
    {"command": st.just("/si") | st.text(max_size=5)},
    optional={
        "text": subcommands | texts,
        "user_id": st.sampled_from([EMPLOYEE, ADMIN]) | texts,
        "channel_id": texts,
        "trigger_id": texts,
    },
)
FORM, JSON = "application/x-www-form-urlencoded", "application/json"
# A body with the content type Slack would send it with.
bodies = st.one_of(
    slash_commands.map(lambda c: (urlencode(c), FORM)),
    payloads_.map(lambda p: (urlencode({"payload": json.dumps(p)}), FORM)),
    payloads_.map(lambda p: (json.dumps(p), JSON)),
    st.tuples(st.text(max_size=200) | st.binary(max_size=200), st.sampled_from([FORM, JSON, ""])),
)
# Mostly the body's own, sometimes another.
content_types = st.one_of(st.none(), st.sampled_from([FORM, JSON, "text/plain", "", "application/JSON; x=1"]))
# What an HTTP header can carry: printable Latin-1, no line breaks.
header_texts = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=20
)
timestamps = st.one_of(st.just("stale"), st.integers(-(10**12), 10**13).map(str), header_texts, st.none())
# Most requests signed as Slack signs them (or they would all stop at the signature).
signing = st.sampled_from(["signed now", "signed now", "signed now", "signed", "unsigned"])


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is repeatable
    database=None,
    # One served app for all the examples is the point (what one request does must not
    # break the next); the properties hold whatever the database holds by then.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=bodies,
    content_type=content_types,
    signing=signing,
    timestamp=timestamps,
    signature=header_texts,
    retry=st.none() | header_texts,
)
def test_whatever_arrives_no_500_at_most_one_line_and_no_whole_id(
    slack, log, body, content_type, signing, timestamp, signature, retry
):
    text, natural_type = body
    raw = text.encode() if isinstance(text, str) else text
    headers = {"Content-Length": str(len(raw))}
    content_type = natural_type if content_type is None else content_type
    if content_type:
        headers["Content-Type"] = content_type
    now = int(time.time())
    if signing == "signed now":
        timestamp = str(now)
    if timestamp is not None:
        timestamp = str(now - 301) if timestamp == "stale" else timestamp.strip()
        headers["X-Slack-Request-Timestamp"] = timestamp
        if signing != "unsigned":
            base = b"v0:" + timestamp.encode("latin-1") + b":" + raw
            signature = "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
    headers["X-Slack-Signature"] = signature.strip()
    if retry is not None:
        headers["X-Slack-Retry-Num"] = retry.strip()
    status, answer = raw_post(slack, headers, raw)
    slack.idle()  # what the lazy listeners log is this request's too
    lines = log.new_lines()
    event(f"answered {status}")  # --hypothesis-show-statistics: how many got how far
    assert status != 500 and b"Traceback" not in answer, answer
    assert len(lines) <= 1, lines
    assert not any(WHOLE_ID.search(line) for line in lines), lines
