"""The monthly report's files in Slack: uploaded with ``files_upload_v2`` by the outbox, from
a row whose target is ``report_files`` (a person's DM or a channel), once.

The outbox claims the row, so one process uploads it at a time, and retries it with
back-off after any failure (a Slack outage, a crash): nothing is lost. What could double it
is an upload that reached Slack without the row being marked sent (the process died, the
database failed, or Slack's answer was lost after it shared the files). So each attempt
first looks in the conversation, from when the row was recorded on, for the report's
workbook posted by si-bot; when it is there the row is done and nothing is uploaded again.
Uploads do not go through the client's retries of server errors and dropped connections,
which would upload again blindly; only a rate limit (429: nothing was taken) is retried
at once.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.exports import plain_words
from bot.messages import Messages
from bot.presenters.report import report_view
from bot.report.files import report_files, workbook_name

log = logging.getLogger(__name__)

# How far before the row's recording the search starts (clocks differ a little).
HISTORY_MARGIN = timedelta(minutes=5)
HISTORY_PAGES = 20
# An attempt that has spent this long before uploading gives up and lets the next one try:
# the outbox's claim on the row must outlast the upload itself.
UPLOAD_BUDGET_SECONDS = 45


class ReportUploader:
    """Uploads a report's charts and workbook where its outbox row says."""

    def __init__(self, client: WebClient, messages: Messages):
        self.client = client
        self.messages = messages
        self._uploader = WebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
        )
        self._bot_user: str | None = None

    def upload(self, target: str, params: dict[str, Any], *, since: datetime) -> None:
        """Upload the files of the report in ``params`` to ``target`` (a user's DM or a
        channel), unless the conversation already has them from ``since`` on."""
        started = time.monotonic()
        lang = self.messages.lang(None)
        view = report_view(params["report"], lang)
        channel = self._conversation(target)
        name = workbook_name(view["month"])
        if self._already_posted(channel, name, since):
            log.info("report %s: its files are already in %s; not uploaded again", view["month"], channel)
            return
        words = plain_words(self.messages, lang)
        files = report_files(view, words)
        if time.monotonic() - started > UPLOAD_BUDGET_SECONDS:
            raise TimeoutError("the report's files took too long to prepare: uploading on the next attempt")
        self._uploader.files_upload_v2(
            channel=channel,
            initial_comment=words("report.files_comment", month=view["month"]),
            file_uploads=[{"file": content, "filename": n, "title": n} for n, content in files],
        )

    def _conversation(self, target: str) -> str:
        """The conversation id: a channel as it is, a person's DM with the bot opened."""
        if target.startswith(("U", "W")):
            return self.client.conversations_open(users=target)["channel"]["id"]
        return target

    def _bot(self) -> str:
        if self._bot_user is None:
            self._bot_user = self.client.auth_test()["user_id"]
        return self._bot_user

    def _already_posted(self, channel: str, name: str, since: datetime) -> bool:
        """Whether si-bot posted a file named ``name`` in ``channel`` since ``since``."""
        oldest = f"{(since - HISTORY_MARGIN).timestamp():.6f}"
        cursor = None
        for _ in range(HISTORY_PAGES):
            page = self.client.conversations_history(channel=channel, oldest=oldest, limit=200, cursor=cursor)
            for message in page.get("messages", []):
                for shared in message.get("files") or []:
                    by = shared.get("user") or message.get("user")
                    if shared.get("name") == name and by == self._bot():
                        return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False
        return False
