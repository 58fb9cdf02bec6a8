"""Files kept as they were received: the center's bills (the original of each import) and
payment receipts."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from bot.storage.models import StoredFile

MAX_FILE_NAME = 200


def store_file(
    session: Session, *, kind: str, file_name: str, content: bytes, actor: str, now: datetime
) -> StoredFile:
    """Keep a file as it was received (a bill, a receipt)."""
    stored = StoredFile(
        kind=kind,
        file_name=file_name[:MAX_FILE_NAME],
        digest=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content=content,
        uploaded_by=actor,
        uploaded_at=now,
    )
    session.add(stored)
    session.flush()
    return stored
