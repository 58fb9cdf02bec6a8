"""The pieces every front end shares, built once per process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.delivery import Deliverer
from bot.domain.months import YearMonth
from bot.domain.policy import Policy, load_policy, policy_note
from bot.domain.workplace import Workplace, utc_now
from bot.home_tab import HomePublisher
from bot.messages import Messages
from bot.pacing import Pace, PacedRateLimitHandler
from bot.response_urls import ResponseURLs
from bot.services import filing
from bot.services.help import Answerer
from bot.storage.db import Database

log = logging.getLogger(__name__)


def make_client(settings: Settings, pace: Pace | None = None) -> WebClient:
    """The Web API client, pointed at ``SLACK_API_URL``; retries 429s (after Retry-After,
    which ``pace`` passes on to every process), 5xx answers and dropped connections a few
    times before giving up."""
    client = WebClient(token=settings.bot_token or None, base_url=settings.api_url, timeout=10)
    client.retry_handlers.extend(
        [
            RateLimitErrorRetryHandler(max_retry_count=2) if pace is None else PacedRateLimitHandler(pace),
            PostsNotRetried(ServerErrorRetryHandler(max_retry_count=2)),
            PostsNotRetried(ConnectionErrorRetryHandler(max_retry_count=2)),
        ]
    )
    return client


class PostsNotRetried(RetryHandler):
    """A retry handler that leaves posts alone: a 5xx or a dropped connection may come
    after Slack took the message, and posting again would send it twice. The outbox
    retries a post itself, after looking for it in the conversation (bot/delivery.py)."""

    NOT_RETRIED = ("chat.postMessage",)

    def __init__(self, inner: RetryHandler) -> None:
        super().__init__(max_retry_count=inner.max_retry_count, interval_calculator=inner.interval_calculator)
        self.inner = inner

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if request.url.rsplit("/", 1)[-1] in self.NOT_RETRIED:
            return False
        return self.inner._can_retry(state=state, request=request, response=response, error=error)


@dataclass
class SiBot:
    settings: Settings
    db: Database
    policy: Policy
    workplace: Workplace
    messages: Messages
    client: WebClient
    deliverer: Deliverer
    home: HomePublisher
    clock: Callable[[], datetime] = utc_now
    # Replies to response URLs, over kept-alive connections (bot/response_urls.py).
    responses: ResponseURLs = field(default_factory=ResponseURLs)

    @property
    def lang(self) -> str:
        return self.settings.language

    @contextmanager
    def work(self, *, read_only: bool = False) -> Iterator[Session]:
        """A unit of work: a session committed at the end (rolled back on an error), then
        the messages it recorded in the outbox are sent."""
        with self.db.session(read_only=read_only) as session:
            yield session
            recorded = session.info.pop("outbox", False)
        if recorded:
            self.deliverer.deliver_pending()

    @property
    def knowledge(self) -> Answerer:
        """The help channel's knowledge base, loaded once per process and policy (about a
        second: the Chinese word dictionary); ``serve`` and ``run`` load it at start."""
        return _knowledge_base(self.policy, self.settings.tz)

    def now(self) -> datetime:
        return self.clock()

    def message_link(self, channel: str, ts: str) -> str:
        """A message's permalink, built as Slack builds them from the workspace's address
        (auth.test, asked once per process): a list links each row to its card without a
        chat.getPermalink call per row."""
        url = _WORKSPACE_URLS.get(self.settings.bot_token)
        if url is None:
            url = str(self.client.auth_test().get("url", ""))
            _WORKSPACE_URLS[self.settings.bot_token] = url
        return f"{url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


_KNOWLEDGE: dict[str, tuple[Policy, Answerer]] = {}
_WORKSPACE_URLS: dict[str, str] = {}  # bot token -> https://<workspace>.slack.com/
_KNOWLEDGE_LOCK = threading.Lock()


def _knowledge_base(policy: Policy, tz: ZoneInfo) -> Answerer:
    with _KNOWLEDGE_LOCK:
        cached = _KNOWLEDGE.get(policy.path)
        if cached is None or cached[0] != policy:
            from bot.knowledge import KnowledgeBase

            cached = (policy, KnowledgeBase.load(policy=policy, tz=tz))
            _KNOWLEDGE[policy.path] = cached
        return cached[1]


def preload(settings: Settings) -> None:
    """Load what every process reads and never changes — the knowledge base, with jieba's
    dictionary — once, before ``serve`` forks its workers: they share it instead of each
    loading a copy."""
    _knowledge_base(load_policy(settings.policy_file or None), settings.tz)


def build_runtime(
    settings: Settings,
    *,
    client: WebClient | None = None,
    db: Database | None = None,
    migrate: bool = True,
    clock: Callable[[], datetime] = utc_now,
) -> SiBot:
    db = db or Database(settings.database_url)
    if migrate:
        db.upgrade()
    policy = load_policy(settings.policy_file or None)
    note = policy_note(policy, YearMonth.of(clock().astimezone(settings.tz).date()))
    if note is not None:
        log.warning(
            "no contribution-base period in %s covers %s: the last known figures (%s to %s) are used "
            "and every form and answer says so; add the new notice (si-bot policy check)",
            policy.path,
            note.params["month"],
            note.params["start"],
            note.params["end"],
        )
    # The filed administrators live in the database, seeded from SI_ADMINS (bot/services/filing.py).
    with db.session() as session:
        filing.seed_from_settings(session, settings.admins, clock())
    workplace = Workplace.of(policy, settings.tz, settings.admin_channel)
    messages = Messages(default_lang=settings.language)
    pace = Pace(db, clock)
    client = client or make_client(settings, pace)
    home = HomePublisher(db, workplace, messages, client, settings, clock)
    deliverer = Deliverer(db, client, messages, workplace, clock, home=home, pace=pace)
    return SiBot(settings, db, policy, workplace, messages, client, deliverer, home, clock)
