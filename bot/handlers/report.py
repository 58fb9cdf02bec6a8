"""``/si report [YYYY-MM]``: a month's report in the administrator's DM, on demand — the
message with its figures, then the charts and the workbook (``files_upload_v2``). The
scheduled report goes through the outbox instead (bot/services/report.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.domain.months import YearMonth
from bot.exports import plain_words, upload_to_dm
from bot.handlers.listen import Interaction
from bot.presenters.report import report_message, report_view, topic_titles
from bot.report.files import report_files
from bot.runtime import SiBot
from bot.services import report


def last_month(bot: SiBot) -> YearMonth:
    """The month a report is asked of by default: the last complete one."""
    return YearMonth.of(bot.workplace.today(bot.now())).plus(-1)


def send_report(turn: Interaction, session: Session, month: YearMonth) -> None:
    """The report of ``month`` (as of now, for the month in progress) to the person's DM.
    Refused to anyone but an administrator, and for a month that has not begun."""
    bot = turn.bot
    figures = report.report_for(
        session,
        bot.workplace,
        viewer=turn.user,
        month=month,
        now=bot.now(),
        titles=lambda: topic_titles(bot.knowledge),
    )
    message = report_message(bot.messages, figures)

    def send() -> None:
        bot.client.chat_postMessage(channel=turn.user, **message)
        words = plain_words(bot.messages)
        files = report_files(report_view(figures, bot.lang), words)
        if files:
            upload_to_dm(bot.client, turn.user, files, title=words("report.files_comment", month=str(month)))

    turn.then(send)
