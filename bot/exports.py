"""Files si-bot hands to administrators — the monthly change form and a handover record —
as .xlsx and .csv, with their words from ``messages/``; and their upload to a DM
(``files_upload_v2``: ``files.upload`` is retired). Shared by the Slack handlers and the
command line."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from slack_sdk import WebClient

from bot.domain.months import YearMonth
from bot.messages import Messages
from bot.services import change_form
from bot.services.change_form import ChangeFormRow, Words
from bot.storage.models import AuditEntry, Handover

HANDOVER_COLUMNS = ("section", "item", "detail", "holder", "date")


def plain_words(messages: Messages, lang: str | None = None) -> Words:
    """``words(key, **params)``: a text as plain characters (files are not Slack mrkdwn)."""
    return lambda key, **params: messages.plain(key, lang, **params)


def change_form_files(rows: list[ChangeFormRow], month: YearMonth, words: Words) -> list[tuple[str, bytes]]:
    """``[(file name, content)]``: the change form as .xlsx and as .csv."""
    xlsx_name, csv_name = change_form.file_names(month)
    return [(xlsx_name, change_form.to_xlsx(rows, month, words)), (csv_name, change_form.to_csv(rows, words))]


def handover_rows(handover: Handover, log: Sequence[AuditEntry], words: Words) -> list[list[str]]:
    """The handover record as table rows: who, when, every item handed over, the log."""
    c = handover.checklist
    rows: list[list[str]] = [
        [
            words("handover.file.people"),
            handover.from_id,
            handover.to_id,
            "",
            handover.created_at.isoformat(),
        ],
        [
            words("handover.file.state"),
            words(f"handover.state.{handover.state}"),
            "",
            "",
            handover.confirmed_at.isoformat() if handover.confirmed_at else "",
        ],
    ]
    for d in c.get("documents", []):
        rows.append(
            [
                words(f"doc_category.{d['category']}"),
                d["name"],
                d["location"],
                d["holder"],
                d.get("due_on", ""),
            ]
        )
    for r in c.get("open_requests", []):
        rows.append(
            [
                words("handover.file.request"),
                r["public_id"],
                words(f"kind.{r['kind']}"),
                words(f"state.{r['state']}"),
                r["since"],
            ]
        )
    complaints = c.get("open_complaints", {})
    if any(complaints.values()):
        rows.append([words("handover.file.complaints"), str(sum(complaints.values())), "", "", ""])
    for d in c.get("deadlines", []):
        rows.append([words("handover.file.deadline"), _deadline(d, words), "", "", d["due"]])
    for a in c.get("administrators", []):
        rows.append([words("handover.file.admin"), a["user"], "", "", a.get("filed_on", "")])
    for e in log:
        rows.append([words("handover.file.log"), e.action, e.subject, e.actor_id, e.at.isoformat()])
    return rows


def _deadline(d: dict[str, Any], words: Words) -> str:
    if d["kind"].startswith("document_"):
        return words(f"deadline.{d['kind']}", name=d["period"])
    return words(f"deadline.{d['kind']}", period=d["period"])


def handover_files(handover: Handover, log: Sequence[AuditEntry], words: Words) -> list[tuple[str, bytes]]:
    """``[(file name, content)]``: the handover record as .xlsx and as .csv."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    header = [words(f"handover.file.column.{c}") for c in HANDOVER_COLUMNS]
    rows = handover_rows(handover, log, words)
    book = Workbook()
    sheet = book.active
    sheet.title = f"handover-{handover.id}"
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for letter, width in zip("ABCDE", (18, 40, 30, 16, 26), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    name = f"handover-{handover.id}"
    return [(f"{name}.xlsx", buffer.getvalue()), (f"{name}.csv", text.getvalue().encode("utf-8-sig"))]


def upload_to_dm(client: WebClient, user: str, files: list[tuple[str, bytes]], title: str) -> str:
    """Upload ``files`` into the DM between the bot and ``user``; returns the DM's id."""
    channel = client.conversations_open(users=user)["channel"]["id"]
    client.files_upload_v2(
        channel=channel,
        file_uploads=[
            {"file": content, "filename": name, "title": f"{title} ({name})"} for name, content in files
        ],
    )
    return channel
