"""The README's example report: the charts of November 2026's report (tests/report_month.py,
whose figures the tests hold the service to) drawn as si-bot sends them, in one picture.

    python -m docs.report_example [--lang zh|en] [--out docs/images/report-example.png]

Each chart is drawn at its own size (960 x 540), then the six are set two by two and scaled
to two thirds, in a palette of 256 colours: the file stays under 300 KB.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from PIL import Image

from bot.exports import plain_words
from bot.messages import Messages
from bot.presenters.report import report_view
from bot.report.files import report_files
from tests.report_month import NOVEMBER_REPORT

COLUMNS = 2
SCALE = 2 / 3
OUT = Path(__file__).parent / "images" / "report-example.png"


def render(lang: str) -> bytes:
    view = report_view(NOVEMBER_REPORT, lang)
    charts = [
        Image.open(io.BytesIO(content)).convert("RGB")
        for name, content in report_files(view, plain_words(Messages(lang), lang))
        if name.endswith(".png")
    ]
    width, height = (round(side * SCALE) for side in charts[0].size)
    rows = -(-len(charts) // COLUMNS)
    sheet = Image.new("RGB", (width * COLUMNS, height * rows), "white")
    for i, chart in enumerate(charts):
        place = (i % COLUMNS * width, i // COLUMNS * height)
        sheet.paste(chart.resize((width, height), Image.LANCZOS), place)
    buffer = io.BytesIO()
    sheet.quantize(colors=256).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m docs.report_example", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--lang", default="zh", choices=("zh", "en"))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    png = render(args.lang)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(png)
    print(f"{args.out}: {len(png) // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
