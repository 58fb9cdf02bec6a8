"""The payment's missed alert under the shipped policy: it never claims a late fee for a day
that was still on time (issue 8, item 1; 税收征收管理法实施细则 Art. 109, DOMAIN.md §16)."""

from __future__ import annotations

from datetime import datetime

from bot.scheduler import reminder_tick
from tests.conftest import SHANGHAI
from tests.test_reminders import sends


def test_the_missed_alert_counts_the_late_fee_from_the_day_after_the_moved_deadline(bot, db, clock):
    # September 2026: the 25th falls in the Mid-Autumn holiday (09-25..09-27), so the payment
    # is on time until Mon 09-28. Nothing is "missed" on 09-28; the alert comes on 09-29 and
    # counts the late fee from 09-29 — never from Sat 09-26 or the unmoved 25th.
    for day in (22, 28, 29):
        clock.move_to(datetime(2026, 9, day, 9, 5, tzinfo=SHANGHAI))
        reminder_tick(bot)
    payment = {s.key: s for s in sends(db) if s.key.startswith("payment:2026-09:")}
    assert "payment:2026-09:due_day:2026-09-28" in payment
    missed = payment["payment:2026-09:missed:2026-09-29"]
    assert missed.params["due"] == "2026-09-28" and missed.params["late_from"] == "2026-09-29"
    assert not any(k.startswith("payment:2026-09:missed:2026-09-28") for k in payment)
