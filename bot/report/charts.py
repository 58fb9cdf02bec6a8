"""The monthly report's charts: one PNG per section, drawn with matplotlib's Agg renderer (no
display, no pyplot and its global figures: each chart is a Figure of its own, safe in any
thread), in the shipped CJK font, with every bar's figure written on it.

``CHARTS`` maps each section of ``bot.services.report.SECTIONS`` to the function that draws
it from the report's view (bot/presenters/report.py) and the words of its language.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from bot.report.fonts import chart_font
from bot.services.change_form import Words

SIZE = (9.6, 5.4)  # inches: 960 x 540 pixels at DPI
DPI = 100
# Topics drawn in the help chart; the rest are summed on one bar (the workbook lists all).
TOPICS_DRAWN = 10
STATE_COLOURS = {
    "submitted": "#f2b134",
    "approved": "#4e79a7",
    "done": "#59a14f",
    "rejected": "#e15759",
    "cancelled": "#bab0ac",
}
OUTCOME_COLOURS = {
    "answered": "#59a14f",
    "escalated": "#e15759",
    "out_of_scope": "#bab0ac",
    "helpful": "#59a14f",
    "not_helpful": "#e15759",
}
STAGE_COLOURS = {"warning": "#f2b134", "due_day": "#f28e2b", "missed": "#e15759", "digest": "#76b7b2"}
APPROVED, DONE = "#4e79a7", "#59a14f"
WAITING, LIMIT = "#e15759", "#555555"
SNOOZED = "#af7aa1"
# The contributions: this month's employer and employee shares, the month before's paler.
EMPLOYER, EMPLOYEE = "#4e79a7", "#f28e2b"
PREVIOUS_ALPHA = 0.4
BAR = 0.6  # a bar's thickness, of the space between two

Chart = Callable[[dict[str, Any], Words], bytes]


def _figure(columns: int = 1):
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    axes = figure.subplots(1, columns, sharey=columns > 1, squeeze=False)[0]
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _png(figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _stacked_bars(
    ax, labels: list[str], series: list[tuple[str, list[int], str]], *, first_on_top: bool = True
) -> None:
    """Horizontal bars, one per label, stacked by series (name, values, colour); each
    segment and each bar's total written on it. ``first_on_top``: turn the y axis (once for
    axes that share it)."""
    lefts = [0] * len(labels)
    for name, values, colour in series:
        if not any(values):
            continue
        bars = ax.barh(labels, values, left=lefts, height=BAR, color=colour, label=name)
        ax.bar_label(bars, labels=[str(v) if v else "" for v in values], label_type="center", fontsize=9)
        lefts = [a + b for a, b in zip(lefts, values, strict=True)]
    for y, total in enumerate(lefts):
        ax.annotate(str(total), (total, y), xytext=(4, 0), textcoords="offset points", va="center")
    if first_on_top:
        ax.invert_yaxis()
    ax.set_xlim(0, max(lefts, default=0) * 1.12 + 0.5)
    ax.xaxis.get_major_locator().set_params(integer=True)


def requests_chart(view: dict[str, Any], words: Words) -> bytes:
    section = view["sections"]["requests"]
    figure, (ax,) = _figure()
    labels = [words(f"kind.{k['kind']}") for k in section["by_kind"]]
    series = [
        (words(f"state.{state}"), [k["states"][state] for k in section["by_kind"]], colour)
        for state, colour in STATE_COLOURS.items()
    ]
    _stacked_bars(ax, labels, series)
    ax.set_title(words("report.chart.requests", month=view["month"], total=section["total"]))
    ax.set_xlabel(words("report.chart.requests_axis", complete=view["complete"]))
    ax.legend(loc="lower right", frameon=False)
    return _png(figure)


def turnaround_chart(view: dict[str, Any], words: Words) -> bytes:
    months = view["sections"]["turnaround"]["months"]
    figure, (ax,) = _figure()
    x = list(range(len(months)))
    lines = (
        ("approved", "median_days", "-", APPROVED, "report.chart.approved_median"),
        ("approved", "p90_days", "--", APPROVED, "report.chart.approved_p90"),
        ("done", "median_days", "-", DONE, "report.chart.done_median"),
        ("done", "p90_days", "--", DONE, "report.chart.done_p90"),
    )
    for which, figure_key, style, colour, label in lines:
        points = [(i, m[which][figure_key]) for i, m in zip(x, months, strict=True) if m[which]["count"]]
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, style, marker="o", color=colour, label=words(label))
        above = 6 if style == "--" else -14  # percentiles above their points, medians below
        for i, value in points:
            ax.annotate(f"{value:g}", (i, value), xytext=(0, above), textcoords="offset points", ha="center")
    ax.set_xticks(x, [m["month"] for m in months])
    ax.margins(y=0.15)
    ax.set_ylim(bottom=-0.05 * max(ax.get_ylim()[1], 1))
    ax.set_ylabel(words("report.chart.days"))
    ax.set_title(words("report.chart.turnaround", first=months[0]["month"], last=months[-1]["month"]))
    ax.legend(frameon=False)
    return _png(figure)


def waiting_chart(view: dict[str, Any], words: Words) -> bytes:
    section = view["sections"]["waiting"]
    rows = section["requests"]
    figure, (ax,) = _figure()
    labels = [f"{r['public_id']} · {words('kind.' + r['kind'])}" for r in rows]
    values = [r["waited"] for r in rows]
    bars = ax.barh(labels, values, height=BAR, color=WAITING)
    ax.bar_label(bars, padding=3)
    ax.xaxis.get_major_locator().set_params(integer=True)
    unlisted = section["confidential"] + section["more"]
    if unlisted:  # confidential requests (a channel's report) and those past the list
        figure.text(0.99, 0.01, words("report.chart.more", n=unlisted), ha="right", va="bottom")
    ax.axvline(
        section["limit"],
        color=LIMIT,
        linestyle="--",
        label=words("report.chart.limit", limit=section["limit"]),
    )
    ax.invert_yaxis()
    ax.set_xlabel(words("report.chart.waiting_axis"))
    ax.set_title(words("report.chart.waiting", limit=section["limit"], count=section["count"]))
    ax.tick_params(axis="y", labelsize=8 if len(labels) > 12 else 10)
    ax.legend(loc="lower right", frameon=False)
    return _png(figure)


def help_chart(view: dict[str, Any], words: Words) -> bytes:
    section = view["sections"]["help"]
    rows = section["topics"][:TOPICS_DRAWN]
    rest = section["topics"][TOPICS_DRAWN:]
    labels = [r["title"] or words("report.no_topic") for r in rows]
    if rest:
        labels.append(words("report.chart.other_topics", n=len(rest)))

    def counts(key: str) -> list[int]:
        return [r[key] for r in rows] + ([sum(r[key] for r in rest)] if rest else [])

    figure, (questions, feedback) = _figure(columns=2)
    _stacked_bars(
        questions,
        labels,
        [
            (words(f"report.outcome.{k}"), counts(k), OUTCOME_COLOURS[k])
            for k in ("answered", "escalated", "out_of_scope")
        ],
    )
    questions.set_title(words("report.chart.help_questions", month=view["month"]))
    questions.legend(loc="lower right", frameon=False)
    _stacked_bars(
        feedback,
        labels,
        [(words(f"report.outcome.{k}"), counts(k), OUTCOME_COLOURS[k]) for k in ("helpful", "not_helpful")],
        first_on_top=False,  # the axis is shared with the first panel, which turned it
    )
    feedback.set_title(words("report.chart.help_feedback"))
    if section["helpful"] or section["not_helpful"]:
        feedback.legend(loc="lower right", frameon=False)
    return _png(figure)


def reminders_chart(view: dict[str, Any], words: Words) -> bytes:
    section = view["sections"]["reminders"]
    figure, (ax,) = _figure()
    labels = [words(f"report.chart.{k}") for k in ("sent", "done", "snoozed", "missed")]
    bottom = 0
    for stage, colour in STAGE_COLOURS.items():
        n = section["stages"].get(stage, 0)
        if n:
            bars = ax.bar(labels[0], n, bottom=bottom, color=colour, label=words(f"report.stage.{stage}"))
            ax.bar_label(bars, labels=[str(n)], label_type="center")
            bottom += n
    for label, value, colour in zip(
        labels[1:],
        (section["done"], section["snoozed"], section["missed"]),
        (DONE, SNOOZED, WAITING),
        strict=True,
    ):
        ax.bar(label, value, color=colour)
    for i, value in enumerate((section["sent"], section["done"], section["snoozed"], section["missed"])):
        ax.annotate(str(value), (i, value), xytext=(0, 4), textcoords="offset points", ha="center")
    ax.margins(y=0.12)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(words("report.chart.reminders", month=view["month"]))
    ax.legend(frameon=False)
    return _png(figure)


def ledger_chart(view: dict[str, Any], words: Words) -> bytes:
    """Each scheme's total, the month before's bar beside this month's, each stacked employer
    under employee; the people and the payment written under the axes."""
    section = view["sections"]["ledger"]
    rows = section["schemes"]
    figure, (ax,) = _figure()
    x = list(range(len(rows)))
    width = 0.38
    months = (
        (section["previous_month"], "previous_", -width / 2 - 0.01, PREVIOUS_ALPHA),
        (view["month"], "", width / 2 + 0.01, 1.0),
    )
    for month, prefix, offset, alpha in months:
        employer = [float(r[prefix + "employer"]) for r in rows]
        employee = [float(r[prefix + "employee"]) for r in rows]
        xs = [i + offset for i in x]
        ax.bar(xs, employer, width, color=EMPLOYER, alpha=alpha,
               label=f"{month} {words('report.chart.employer')}")  # fmt: skip
        totals = ax.bar(xs, employee, width, bottom=employer, color=EMPLOYEE, alpha=alpha,
                        label=f"{month} {words('report.chart.employee')}")  # fmt: skip
        ax.bar_label(
            totals,
            labels=[f"{a + b:,.2f}" for a, b in zip(employer, employee, strict=True)],
            padding=2,
            fontsize=8,
        )
    ax.set_xticks(x, [words(f"scheme.{r['scheme']}") for r in rows])
    ax.margins(y=0.12)
    ax.set_ylabel(words("report.chart.ledger_axis"))
    ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.set_title(words("report.chart.ledger", previous_month=section["previous_month"], month=view["month"]))
    ax.legend(frameon=False, ncols=2)
    people = words("report.chart.ledger_people", **section)
    payment = words(f"report.payment.{section['payment']['timing']}", **section["payment"])
    figure.text(0.01, 0.005, f"{people}\n{payment}", ha="left", va="bottom", fontsize=9)
    figure.get_layout_engine().set(rect=(0, 0.07, 1, 0.93))  # room for the two lines under it
    return _png(figure)


CHARTS: dict[str, Chart] = {
    "requests": requests_chart,
    "turnaround": turnaround_chart,
    "waiting": waiting_chart,
    "help": help_chart,
    "reminders": reminders_chart,
    "ledger": ledger_chart,
}


def draw(name: str, view: dict[str, Any], words: Words) -> bytes:
    """The PNG of section ``name`` of the report ``view``, in the shipped CJK font."""
    from matplotlib import rc_context

    family = chart_font()
    with rc_context(
        {"font.family": [family], "font.size": 10, "axes.titlesize": 13, "axes.unicode_minus": False}
    ):
        return CHARTS[name](view, words)
