"""Files sent to si-bot in a DM (``file_shared``): an administrator's roster or wage file
is fetched with the bot token, imported, and answered in that DM with a summary and, when
rows were rejected, the report as files. Anyone else's file is not opened: they are told
so, politely. Files shared in channels are none of the bot's business.

The same file delivered twice (Slack's retries) imports once: the import's transaction
claims the file, and the summary goes through the outbox under the same key.
"""

from __future__ import annotations

import urllib.request
from pathlib import PurePath
from typing import Any

from sqlalchemy.orm import Session

from bot.domain.errors import Refused
from bot.domain.tables import CSV_SUFFIXES, WORKBOOK_SUFFIXES
from bot.exports import plain_words, upload_to_dm
from bot.handlers.listen import Listen
from bot.handlers.replies import apology
from bot.ledger_files import reconciliation_files
from bot.presenters.ledger import reconciliation_params
from bot.roster_files import report_files, summary_params
from bot.runtime import SiBot
from bot.services.bills import BillImport
from bot.services.change_form import Words
from bot.services.imports import claim_delivery, import_file
from bot.services.outbox import Recipient, enqueue
from bot.services.payments import attach_receipt
from bot.services.roles import require_admin
from bot.storage.models import ProcessedDelivery

# Larger than any roster or year of wages of a company of tens of thousands (the import
# benchmark's 120,000 wage rows are about 6 MB as .csv), small enough to hold in memory.
MAX_FILE_MB = 50
DOWNLOAD_TIMEOUT = 60


def register(listen: Listen) -> None:
    bot = listen.bot

    @listen.event("file_shared")
    def file_shared(event: dict[str, Any]) -> None:
        channel = event.get("channel_id", "")
        user = event.get("user_id", "")
        file_id = event.get("file_id") or (event.get("file") or {}).get("id", "")
        if not (channel.startswith("D") and user and file_id):
            return  # only files sent to the bot itself, in its DM
        try:
            receive(bot, key=f"file_shared:{file_id}", file_id=file_id, user=user)
        except Exception as exc:  # the administrator is waiting for an answer: give one
            message = {k: v for k, v in apology(bot, exc, "file_shared").items() if k != "response_type"}
            bot.client.chat_postMessage(channel=channel, **message)


def receive(bot: SiBot, *, key: str, file_id: str, user: str) -> None:
    """Import the file ``file_id`` that ``user`` sent the bot, once, and answer them."""
    with bot.db.session(read_only=True) as session:
        if session.get(ProcessedDelivery, key) is not None:
            return  # a retry of a file already answered: not fetched again
        try:
            require_admin(session, user)
        except Refused:
            allowed = False
        else:
            allowed = True
    if not allowed:
        reply(bot, key, user, "not_admin", {})
        return
    info = bot.client.files_info(file=file_id)["file"]
    name = info.get("name") or file_id
    content = download(info, bot.client.token or "")
    if content is None:
        size = round(int(info.get("size") or 0) / 1_000_000, 1)
        reply(bot, key, user, "too_large", {"file": name, "size": size, "limit": MAX_FILE_MB})
        return
    words = plain_words(bot.messages)
    uploads: list[tuple[list[tuple[str, bytes]], str]] = []  # after the commit: (files, title)
    with bot.work() as session:
        if not claim_delivery(session, key, bot.now()):
            return
        if not is_table(name) and keep_receipt(session, bot, key=key, user=user, name=name, content=content):
            return
        outcome = import_file(
            session, bot.workplace, actor=user, file_name=name, content=content, now=bot.now()
        )
        if isinstance(outcome, BillImport) and outcome.imported:
            # The center's bill: its reconciliation, and every difference as files.
            uploads = reconciled(session, bot, key=key, user=user, outcome=outcome, words=words)
        else:
            summary = outcome.as_outcome() if isinstance(outcome, BillImport) else outcome
            enqueue(
                session,
                key=f"{key}:summary",
                notice="import_summary",
                to=Recipient.person(user),  # in the DM the file came from, whole: for the administrator
                params=summary_params(summary, bot.workplace.tz),
                now=bot.now(),
            )
            if summary.rejections:
                uploads = [(report_files(summary, words), words("roster.report.sheet"))]
    for files, title in uploads:
        upload_to_dm(bot.client, user, files, title)


def reconciled(
    session: Session, bot: SiBot, *, key: str, user: str, outcome: BillImport, words: Words
) -> list[tuple[list[tuple[str, bytes]], str]]:
    """A bill imported from the DM: the reconciliation message; returns the files of its
    differences, to upload after the commit."""
    assert outcome.reconciliation is not None and outcome.month is not None
    params = reconciliation_params(outcome.reconciliation, bot.workplace.tz, seen_before=outcome.seen_before)
    to = Recipient.person(user)
    enqueue(
        session, key=f"{key}:reconciliation", notice="reconciliation", to=to, params=params, now=bot.now()
    )
    if not outcome.differences:
        return []
    files = reconciliation_files(outcome.month, outcome.differences, words)
    return [(files, words("bill.sheet", month=str(outcome.month)))]


def keep_receipt(session: Session, bot: SiBot, *, key: str, user: str, name: str, content: bytes) -> bool:
    """A file that is not a table (a PDF, a picture), sent after the administrator recorded
    a payment, is that payment's receipt: kept, and they are told. False when no payment
    is waiting for one."""
    payment = attach_receipt(session, actor=user, file_name=name, content=content, now=bot.now())
    if payment is None:
        return False
    params = {
        "file": name,
        "month": payment.month,
        "amount": str(payment.amount),
        "paid_on": str(payment.paid_on),
    }
    enqueue(
        session,
        key=f"{key}:receipt",
        notice="file_reply",
        to=Recipient.person(user),
        params={"why": "receipt_attached", "params": params},
        now=bot.now(),
    )
    return True


def reply(bot: SiBot, key: str, user: str, why: str, params: dict[str, Any]) -> None:
    """Answer a file that is not imported, in the DM it came from, once however often it
    is delivered."""
    with bot.work() as session:
        if claim_delivery(session, key, bot.now()):
            enqueue(
                session,
                key=f"{key}:{why}",
                notice="file_reply",
                to=Recipient.person(user),
                params={"why": why, "params": params},
                now=bot.now(),
            )


def is_table(name: str) -> bool:
    """Whether a file's name says it is a table (a roster, wages, a bill)."""
    return PurePath(name).suffix.lower() in CSV_SUFFIXES | WORKBOOK_SUFFIXES


def download(info: dict[str, Any], token: str) -> bytes | None:
    """A file's bytes from ``url_private_download``, with the bot token (Slack serves
    private files only so); None when it is larger than MAX_FILE_MB."""
    limit = MAX_FILE_MB * 1_000_000
    if int(info.get("size") or 0) > limit:
        return None
    url = info["url_private_download"]
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT) as response:
        content = response.read(limit + 1)
    return None if len(content) > limit else content
