"""Where the files beside the code are: ``messages/`` and ``policy/``.

In a checkout (``pip install -e .``) they sit next to the ``bot`` package; a regular
install (``pip install .``) puts them under ``<prefix>/share/si-bot/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[1]
_INSTALLED = Path(sys.prefix) / "share" / "si-bot"


def resource_dir(name: str) -> Path:
    """The folder ``name`` (``messages`` or ``policy``) of this installation."""
    for base in (_CHECKOUT, _INSTALLED):
        if (base / name).is_dir():
            return base / name
    return _CHECKOUT / name  # for the error message of whoever opens it
