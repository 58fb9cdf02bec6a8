"""The monthly report's files: a PNG chart per section with something to show, and one .xlsx
workbook of the figures behind them (a sheet per section, and a first sheet saying what the
figures are). Words from ``messages/``; drawn from the view of bot/presenters/report.py."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bot.report.charts import draw
from bot.services.change_form import Words

PREFIX = "si-bot-report"


def workbook_name(month: str) -> str:
    """The workbook's file name: one per month, which is how a sent report is recognised in
    a conversation (bot/report/slack.py)."""
    return f"{PREFIX}-{month}.xlsx"


def chart_names(view: dict[str, Any]) -> list[str]:
    """The sections of ``view`` that get a chart (a waiting list whose every request is
    confidential, as in a channel's report, has nothing to draw)."""
    sections = view["sections"]
    return [name for name in sections if name != "waiting" or sections["waiting"]["requests"]]


def report_files(view: dict[str, Any], words: Words) -> list[tuple[str, bytes]]:
    """``[(file name, content)]``: the charts, then the workbook; none when nothing happened."""
    if view["empty"]:
        return []
    month = view["month"]
    files = [(f"{PREFIX}-{month}-{name}.png", draw(name, view, words)) for name in chart_names(view)]
    files.append((workbook_name(month), workbook(view, words)))
    return files


# -- the workbook ----------------------------------------------------------------------------


def _requests(section: dict[str, Any], words: Words) -> list[list[Any]]:
    states = list(section["states"])
    rows: list[list[Any]] = [
        [words("report.sheet.kind"), *(words(f"state.{s}") for s in states), words("report.sheet.total")]
    ]
    for k in section["by_kind"]:
        rows.append([words(f"kind.{k['kind']}"), *(k["states"][s] for s in states), k["total"]])
    rows.append([words("report.sheet.total"), *(section["states"][s] for s in states), section["total"]])
    return rows


def _turnaround(section: dict[str, Any], words: Words) -> list[list[Any]]:
    columns = ("month", "approved", "approved_median", "approved_p90", "done", "done_median", "done_p90")
    rows: list[list[Any]] = [[words(f"report.sheet.{c}") for c in columns]]
    for m in section["months"]:
        a, d = m["approved"], m["done"]
        rows.append(
            [
                m["month"],
                a["count"],
                a["median_days"],
                a["p90_days"],
                d["count"],
                d["median_days"],
                d["p90_days"],
            ]
        )
    return rows


def _waiting(section: dict[str, Any], words: Words) -> list[list[Any]]:
    columns = ("request", "kind", "state", "since", "waited")
    rows: list[list[Any]] = [[words(f"report.sheet.{c}") for c in columns]]
    for r in section["requests"]:
        rows.append(
            [
                r["public_id"],
                words(f"kind.{r['kind']}"),
                words(f"state.{r['state']}"),
                r["since"],
                r["waited"],
            ]
        )
    unlisted = section["confidential"] + section["more"]
    if unlisted:
        rows.append([words("report.chart.more", n=unlisted)])
    rows.append([words("report.sheet.limit"), section["limit"]])
    return rows


def _help(section: dict[str, Any], words: Words) -> list[list[Any]]:
    counts = ("answered", "escalated", "out_of_scope", "helpful", "not_helpful")
    header = [words("report.sheet.topic"), words("report.sheet.questions")]
    header += [words(f"report.outcome.{c}") for c in counts] + [words("report.sheet.escalations")]
    rows: list[list[Any]] = [header]
    for r in section["topics"]:
        title = r["title"] or words("report.no_topic")
        rows.append([title, r["questions"], *(r[c] for c in counts), r["escalations"]])
    rows.append([words("report.sheet.total"), section["questions"], *(section[c] for c in counts)])
    return rows


def _reminders(section: dict[str, Any], words: Words) -> list[list[Any]]:
    columns = ("reminder", "sent", "done", "snoozed", "missed")
    rows: list[list[Any]] = [[words(f"report.sheet.{c}") for c in columns]]
    for k in section["by_kind"]:
        rows.append(
            [words(f"report.reminder_kind.{k['kind']}"), k["sent"], k["done"], k["snoozed"], k["missed"]]
        )
    rows.append(
        [words("report.sheet.total"), section["sent"], section["done"], section["snoozed"], section["missed"]]
    )
    rows.append([])
    for stage, n in section["stages"].items():
        rows.append([words(f"report.stage.{stage}"), n])
    return rows


def _ledger(section: dict[str, Any], words: Words) -> list[list[Any]]:
    columns = ("scheme", "employer", "employee", "total", "previous_employer", "previous_employee")
    rows: list[list[Any]] = [[words(f"report.sheet.{c}") for c in columns]]

    for r in section["schemes"]:
        employer, employee = Decimal(r["employer"]), Decimal(r["employee"])
        rows.append(
            [
                words(f"scheme.{r['scheme']}"),
                employer,
                employee,
                employer + employee,
                Decimal(r["previous_employer"]),
                Decimal(r["previous_employee"]),
            ]
        )
    rows.append(
        [
            words("report.sheet.total"),
            Decimal(section["employer"]),
            Decimal(section["employee"]),
            Decimal(section["total"]),
            Decimal(section["previous_employer"]),
            Decimal(section["previous_employee"]),
        ]
    )
    payment = section["payment"]
    rows += [
        [],
        [words("report.sheet.headcount"), section["headcount"]],
        [words("report.sheet.previous_headcount"), section["previous_headcount"]],
        [words("report.sheet.joiners"), section["joiners"]],
        [words("report.sheet.leavers"), section["leavers"]],
        [],
        [words("report.sheet.payment"), words(f"report.payment.{payment['timing']}", **payment)],
        [words("report.sheet.payment_due"), payment["due"]],
        [words("report.sheet.paid_on"), payment["paid_on"] or ""],
        [words("report.sheet.paid"), Decimal(payment["paid"])],
        [words("report.sheet.days_late"), payment["days_late"]],
    ]
    return rows


SHEETS: dict[str, Callable[[dict[str, Any], Words], list[list[Any]]]] = {
    "requests": _requests,
    "turnaround": _turnaround,
    "waiting": _waiting,
    "help": _help,
    "reminders": _reminders,
    "ledger": _ledger,
}


def workbook(view: dict[str, Any], words: Words) -> bytes:
    """The figures of every section, a sheet each, as .xlsx."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    about = book.active
    about.title = words("report.sheet.about")
    about.append([words("report.sheet.month"), view["month"]])
    about.append([words("report.sheet.as_of"), view["as_of"]])
    about.append([words("report.sheet.notes"), ""])
    about["A3"].alignment = Alignment(wrap_text=True, vertical="top")
    about.merge_cells("A3:B3")
    about.row_dimensions[3].height = 150
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 60
    for name, section in view["sections"].items():
        sheet = book.create_sheet(words(f"report.sheet.{name}"))
        for row in SHEETS[name](section, words):
            sheet.append(row)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 28
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
