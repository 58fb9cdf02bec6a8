"""The monthly report's message, charts and workbook: drawn from November 2026
(tests/report_month.py), in both languages, with Chinese glyphs that are really drawn."""

from __future__ import annotations

import io
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from PIL import Image

from bot.domain.months import YearMonth
from bot.exports import plain_words
from bot.messages import MESSAGES_DIR, Messages
from bot.presenters.report import report_message, report_view
from bot.report import charts
from bot.report.files import report_files, workbook_name
from bot.report.fonts import FONT_FILE, chart_font, missing_glyphs
from bot.services import report
from tests.report_month import EXPECTED, NOVEMBER_REPORT, at, november
from tests.slack import message_text

EXPECTED_WAITING = EXPECTED["waiting"]
CJK = "社保月度报告转交"


@pytest.fixture
def figures():
    return NOVEMBER_REPORT


@pytest.fixture(scope="module")
def messages():
    return Messages("en")


def _image(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def _text_image(text: str, family: str) -> Image.Image:
    """``text`` drawn alone, large, in ``family``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(len(text) * 0.6 + 0.4, 0.8), dpi=100)
    figure.text(0.02, 0.2, text, fontsize=36, family=family)
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DejaVu Sans is expected to miss these glyphs
        figure.savefig(buffer, format="png")
    return _image(buffer.getvalue())


def _ink(image: Image.Image) -> int:
    """Pixels darker than the white background."""
    return int((np.asarray(image, dtype=int).sum(axis=2) < 600).sum())


def _coloured(image: Image.Image) -> int:
    """Pixels of a colour (a bar, a line), not white, grey or black (text, axes)."""
    pixels = np.asarray(image, dtype=int)
    return int((pixels.max(axis=2) - pixels.min(axis=2) > 40).sum())


def test_chinese_glyphs_are_drawn_not_boxes():
    family = chart_font()
    assert missing_glyphs(CJK) == set()
    shipped = [_text_image(ch, family) for ch in CJK]
    boxes = [_text_image(ch, "DejaVu Sans") for ch in CJK]  # no CJK glyphs: each is a box
    assert len({image.tobytes() for image in boxes}) == 1  # every box alike
    assert len({image.tobytes() for image in shipped}) == len(CJK)  # every glyph its own shape
    for glyph, box in zip(shipped, boxes, strict=True):
        assert _ink(glyph) > 200  # strokes, not a blank
        assert glyph.tobytes() != box.tobytes()
    assert _text_image(CJK, family).tobytes() != _text_image(CJK, "DejaVu Sans").tobytes()


def test_the_font_has_every_chinese_character_the_words_can_put_on_a_chart():
    text = "".join(path.read_text(encoding="utf-8") for path in sorted((MESSAGES_DIR / "zh").glob("*.toml")))
    for path in sorted((MESSAGES_DIR / "kb").glob("*.toml")):
        for entry in [tomllib.loads(path.read_text(encoding="utf-8"))]:
            tables = entry.values() if path.name.startswith("_") else [entry]
            text += "".join(str(t.get("title_zh", "")) for t in tables if isinstance(t, dict))
    chinese = {ch for ch in text if "\u3400" <= ch <= "\u9fff"}
    assert len(chinese) > 500
    assert missing_glyphs("".join(chinese)) == set()
    assert FONT_FILE.stat().st_size < 4_000_000


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_chart_is_a_real_picture_in_the_readers_language(messages, figures, lang):
    view = report_view(figures, lang)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a glyph missing from the font warns: here it fails
        files = report_files(view, plain_words(messages, lang))
    names = [name for name, _ in files]
    assert names == [f"si-bot-report-2026-11-{s}.png" for s in charts.CHARTS] + [workbook_name("2026-11")]
    for name, png in files[:-1]:
        image = _image(png)
        assert image.size == (960, 540), name
        width, height = image.size
        plot = image.crop((width // 4, height // 6, width * 9 // 10, height * 5 // 6))  # inside the axes
        colours = np.unique(np.asarray(plot).reshape(-1, 3), axis=0)
        assert len(colours) > 3, name
        assert _coloured(plot) > 1000, name  # bars and lines, not a blank


def test_the_workbook_has_the_figures_behind_the_charts(messages, figures):
    files = dict(report_files(report_view(figures, "en"), plain_words(messages, "en")))
    book = load_workbook(io.BytesIO(files[workbook_name("2026-11")]))
    assert book.sheetnames == [
        "Report", "Requests", "Turnaround", "Waiting", "Help channel", "Reminders", "Contributions",
    ]  # fmt: skip
    rows = [[c.value for c in row] for row in book["Requests"].iter_rows()]
    assert rows[0] == ["Kind", "Submitted", "Approved", "Done", "Rejected", "Cancelled", "Total"]
    assert rows[1] == ["Enrolment change", 2, 2, 2, 1, 0, 7]
    assert rows[-1] == ["Total", 3, 2, 2, 1, 1, 9]
    november_times = [c.value for c in list(book["Turnaround"].iter_rows())[-1]]
    assert november_times == ["2026-11", 4, 1.0, 1.7, 2, 5.5, 7.5]
    waiting = [row[0].value for row in book["Waiting"].iter_rows(min_row=2, max_row=4)]
    assert waiting == ["SI-2026-0004", "SI-2026-0005", "SI-2026-0006"]
    help_rows = {
        row[0].value: [c.value for c in row[1:]] for row in book["Help channel"].iter_rows(min_row=2)
    }
    assert help_rows["Paying back missed contributions"] == [3, 3, 0, 0, 3, 1, 1]
    assert help_rows["no topic matched"] == [1, 0, 1, 0, 0, 0, 1]
    reminder_rows = {
        row[0].value: [c.value for c in row[1:5]] for row in book["Reminders"].iter_rows(min_row=2)
    }
    assert reminder_rows["Declaration and payment"] == [5, 0, 1, 1]
    assert reminder_rows["Total"] == [16, 1, 1, 1]
    contributions = {
        row[0].value: [c.value for c in row[1:] if c.value is not None]
        for row in book["Contributions"].iter_rows()
    }
    assert contributions["Scheme"] == [
        "Employer", "Employee", "Total", "Employer, month before", "Employee, month before",
    ]  # fmt: skip
    # Numbers, not text: a spreadsheet sums them.
    assert contributions["Pension"] == [8480.08, 4240.04, 12720.12, 3927.44, 1963.72]
    assert contributions["Total"] == [13599.93, 5565.05, 19164.98, 6298.63, 2577.38]
    assert contributions["People insured"] == [6] and contributions["Joined"] == [4]
    assert contributions["Left"] == [1] and contributions["Days late"] == [2]
    assert contributions["Paid on"] == ["2026-11-27"] and contributions["Payment due"] == ["2026-11-25"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_message_gives_every_charts_figures_in_words(messages, figures, lang):
    message = report_message(messages, figures, lang)
    text = message_text(message)
    if lang == "en":
        assert "Monthly report · 2026-11" in text
        assert "9 received" in text and "Enrolment change: 7" in text
        assert "median 1.0 days, 90 % within 1.7 days" in text
        assert "median 5.5 days, 90 % within 7.5 days" in text
        assert "SI-2026-0004" in text and "18 working days" in text
        assert "8 question(s): 4 answered, 3 escalated" in text
        assert "Transferring social insurance (2)" in text
        assert "16 reminder(s) sent" in text and "1 duty(ies) marked done, 1 snoozed" in text
        assert "6 people insured (3 in 2026-10): 4 joined, 1 left." in text
        assert "Contributions *19,164.98 yuan* — employer 13,599.93, employee 5,565.05" in text
        assert "2026-10: 8,876.01 (+10,288.97)" in text
        assert "• Pension: employer 8,480.08, employee 4,240.04 (was 3,927.44, 1,963.72)" in text
        assert "Paid late: 19,164.98 yuan on 2026-11-27, 2 day(s) after the deadline (2026-11-25)" in text
    else:
        assert "月度报告 · 2026-11" in text and "共收到 9 件" in text and "社保关系转移（2）" in text
        assert "参保 6 人（2026-10：3 人）：新增 4 人，减少 1 人。" in text
        assert "• 养老保险：单位 8,480.08，个人 4,240.04（上月 3,927.44，1,963.72）" in text
        assert "逾期缴纳：2026-11-27 缴纳 19,164.98 元，晚于截止日（2026-11-25）2 天。" in text
    assert len(message["blocks"]) == 8  # header, as of, six sections


def test_an_empty_month_is_a_short_nothing_happened_report_without_charts(bot, clock):
    november(bot, clock)  # nothing of it is December 2019's: the roster's first joined in 2020-01
    with bot.db.session(read_only=True) as session:
        figures = report.monthly_figures(session, bot.workplace, YearMonth(2019, 12), at(12, 3))
    view = report_view(figures, "en")
    assert view["empty"]
    assert report_files(view, plain_words(bot.messages, "en")) == []
    message = report_message(bot.messages, figures, "en")
    assert len(message["blocks"]) == 2
    assert "Nothing happened in 2019-12" in message_text(message)
    assert "the roster insured nobody" in message_text(message)


def test_the_font_ships_with_its_licence():
    folder = Path(FONT_FILE).parent
    assert "SIL OPEN FONT LICENSE Version 1.1" in (folder / "OFL.txt").read_text(encoding="utf-8")


def test_a_channel_whose_waiting_requests_are_all_confidential_gets_no_waiting_chart(messages):
    from bot.services.outbox import Recipient

    only_complaint = dict(EXPECTED_WAITING, requests=EXPECTED_WAITING["requests"][2:], count=1)
    figures = {**NOVEMBER_REPORT, "sections": {"waiting": only_complaint}}
    shared = report.for_audience(figures, Recipient.channel("C0ADMIN"))
    view = report_view(shared, "en")
    assert view["sections"]["waiting"]["requests"] == [] and view["sections"]["waiting"]["confidential"] == 1
    names = [name for name, _ in report_files(view, plain_words(messages, "en"))]
    assert names == [workbook_name("2026-11")]
    assert "1 confidential request(s)" in message_text(report_message(messages, shared, "en"))
