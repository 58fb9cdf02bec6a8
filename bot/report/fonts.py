"""The font every chart is drawn in: Noto Sans CJK SC, shipped in ``bot/report/fonts/``.

Chinese text needs a font with Chinese glyphs, and a fresh server (or CI) has none: matplotlib's
own DejaVu Sans draws a box for each one. So the charts never rely on the machine's fonts: they
use this file, installed with the package (``pip install -e .`` or ``pip install .``). It is the
Simplified Chinese face of Noto Sans CJK 2.004 (SIL Open Font License 1.1, ``OFL.txt``) cut down
to the 6,763 hanzi of GB 2312, ASCII, Latin-1, general and CJK punctuation and full-width forms
(3.4 MB instead of 16 MB; ``README.md`` says how it was made). A test holds every Chinese
character of ``messages/`` against it.
"""

from __future__ import annotations

import threading
from pathlib import Path

FONT_FILE = Path(__file__).with_name("fonts") / "NotoSansCJKsc-Regular-GB2312.otf"
_LOCK = threading.Lock()
_family: str | None = None


def chart_font() -> str:
    """The font's family name, registered with matplotlib once per process."""
    global _family
    with _LOCK:
        if _family is None:
            from matplotlib import font_manager

            font_manager.fontManager.addfont(str(FONT_FILE))
            _family = font_manager.FontProperties(fname=str(FONT_FILE)).get_name()
        return _family


def missing_glyphs(text: str) -> set[str]:
    """The characters of ``text`` the font has no glyph for (empty: it draws them all)."""
    from matplotlib.ft2font import FT2Font

    font = FT2Font(str(FONT_FILE))
    charmap = font.get_charmap()
    return {ch for ch in set(text) if not ch.isspace() and ord(ch) not in charmap}
