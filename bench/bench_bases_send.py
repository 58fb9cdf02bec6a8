"""Base declaration benchmark, sending: a company's declaration locked (bench/bench_bases.py's
steps), then every one of its publicity DMs actually sent to the stand-in Slack by three
replicas on PostgreSQL (bench/soak.py's), through a misbehaving Slack. Run by hand, not in CI:

    python -m bench.bench_bases_send [--people 10000] [--outage-seconds 120]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

The stand-in Slack (bot/console/fake_slack.py) holds chat.postMessage to the pace's rate
across the workspace (``--slack-rate``, default bot/pacing.py's five a second: 429 with
Retry-After past it), answers a share of all calls 500 (``--error-ratio``), and every call
503 for ``--outage-seconds`` once a quarter of the DMs are sent (``--outage-at``). Once half
are sent (``--kill-at``), one replica is killed with SIGKILL (its whole process group, posts
in flight) and restarted. ``--timeout`` stops the wait and reports what was sent by then.

It prints the wall time from queueing to the last DM against the floor the rate allows
(DMs / rate, and that plus the outage), the DMs in Slack once, lost (marked sent but not in
Slack), doubled (by the outbox key each message carries in its metadata), retried (sent
after one or more failed tries) and still queued, the faults injected, and each replica's
peak resident memory when the fan-out began and at its end (the outbox is claimed twenty
rows at a time and each DM rendered as it goes: the peak should not grow with the company).
The database is created for the run on the server and dropped at the end.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bench.bench_bases import ADMIN, Steps, declare, queue_publicity, seed
from bench.bench_import import database
from bench.soak import ERROR_RATIO, Replica, adopted, replica_env
from bot.console.fake_slack import FakeSlack
from bot.pacing import WORKSPACE_INTERVAL
from bot.storage.models import OutboxMessage

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
VICTIM = 1  # the replica killed


def group_peak_mb(pgid: int) -> float:
    """The largest peak resident memory (VmHWM) of the processes in group ``pgid``: a
    replica's gunicorn worker, which does the sending."""
    peak = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
    return peak


class Memory:
    """Samples each replica's peak memory every second; a killed replica's peak is kept."""

    def __init__(self, replicas: list[Replica]):
        self.replicas = replicas
        self.peaks = {r.number: 0.0 for r in replicas}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> dict[int, float]:
        for replica in self.replicas:
            if replica.up and replica.proc is not None:
                self.peaks[replica.number] = max(self.peaks[replica.number], group_peak_mb(replica.proc.pid))
        return dict(self.peaks)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.sample()

    def start(self) -> Memory:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def publicity_rows(year: int):
    return OutboxMessage.key.like(f"bases:{year}:%")


def count_sent(db, year: int) -> tuple[int, int]:
    """(sent, neither sent nor dropped) of the year's publicity DMs."""
    with db.session(read_only=True) as session:
        sent = session.scalar(
            select(func.count()).where(publicity_rows(year), OutboxMessage.sent_at.is_not(None))
        )
        waiting = session.scalar(
            select(func.count()).where(
                publicity_rows(year), OutboxMessage.sent_at.is_(None), OutboxMessage.dropped_at.is_(None)
            )
        )
    return sent, waiting


def main(argv: list[str] | None = None) -> int:
    rate = 1 / WORKSPACE_INTERVAL.total_seconds()
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_bases_send", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--people", type=int, default=10_000, help="default: %(default)s")
    parser.add_argument("--year", type=int, default=2026, help="the base year's (default: %(default)s)")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE,
        help="a PostgreSQL server (a database of the run's own is created on it); default: %(default)s",
    )
    parser.add_argument("--outage-seconds", type=float, default=120.0, help="default: %(default)s")
    parser.add_argument(
        "--outage-at",
        type=float,
        default=0.25,
        help="share of the DMs sent when it begins (default: %(default)s)",
    )
    parser.add_argument(
        "--kill-at",
        type=float,
        default=0.5,
        help="share of the DMs sent when a replica is killed (default: %(default)s)",
    )
    parser.add_argument("--error-ratio", type=float, default=ERROR_RATIO, help="default: %(default)s")
    parser.add_argument(
        "--slack-rate",
        type=float,
        default=rate,
        help="chat.postMessage calls a second the stand-in Slack takes (default: the pace's, %(default)s)",
    )
    parser.add_argument(
        "--timeout", type=float, help="minutes to wait for the fan-out (default: three times its floor + 10)"
    )
    args = parser.parse_args(argv)
    # Stopped with SIGTERM (or Ctrl-C, which a background job ignores): the replicas are
    # killed and the run's database dropped all the same.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    floor = args.people / rate
    timeout = (args.timeout or (3 * (floor + args.outage_seconds) / 60 + 10)) * 60

    from bot.domain.policy import load_policy
    from bot.domain.workplace import Workplace
    from bot.storage.db import Database

    now = datetime.now(UTC)
    workplace = Workplace.of(load_policy(), ZoneInfo("Asia/Shanghai"))
    with database(args.database_url) as url:
        db = Database(url)
        db.upgrade()
        if not seed(db, workplace, employees=args.people, year=args.year, now=now):
            return 1
        step = Steps()
        declare(db, workplace, step, year=args.year, now=now)
        logs = Path(tempfile.mkdtemp(prefix="si-bot-bases-send-"))
        fake = FakeSlack().start()
        replicas = [Replica(i, replica_env(fake, url, (ADMIN,)), logs) for i in range(3)]
        memory = Memory(replicas)
        try:
            for replica in replicas:
                replica.start()
            print(f"replicas       3 up (si-bot serve); logs in {logs}", flush=True)
            fake.limit("chat.postMessage", max(1, round(args.slack_rate)), retry_after=1)
            fake.faults.channel_pace = 1
            fake.faults.error_ratio = args.error_ratio
            at_start = memory.sample()
            memory.start()
            began = time.monotonic()
            queued = queue_publicity(db, workplace, step, year=args.year, now=datetime.now(UTC)).queued
            step.close()
            outage_at = kill_at = None
            shown = began
            while time.monotonic() - began < timeout:
                sent, waiting = count_sent(db, args.year)
                elapsed = time.monotonic() - began
                if outage_at is None and sent >= queued * args.outage_at:
                    fake.outage(args.outage_seconds)
                    outage_at = elapsed
                    print(
                        f"fan-out {elapsed:7.0f} s  {sent:,} sent: Slack down for {args.outage_seconds:g} s"
                    )
                if kill_at is None and sent >= queued * args.kill_at:
                    victim = replicas[VICTIM]
                    memory.sample()
                    victim.kill()
                    kill_at = elapsed
                    print(
                        f"fan-out {elapsed:7.0f} s  {sent:,} sent: replica {VICTIM} killed (SIGKILL)",
                        flush=True,
                    )
                    victim.start()
                    print(f"fan-out {time.monotonic() - began:7.0f} s  replica {VICTIM} up again", flush=True)
                if not waiting:
                    break
                if time.monotonic() - shown >= 30:
                    shown = time.monotonic()
                    print(f"fan-out {elapsed:7.0f} s  {sent:,} sent, {waiting:,} to go", flush=True)
                time.sleep(1)
            wall = time.monotonic() - began
            memory.stop()
            at_end = memory.sample()
            injected = dict(fake.faults.counts)
            for replica in replicas:
                replica.kill()
            report(db, fake, logs, args, queued, wall, floor, rate, injected, at_start, at_end)
        finally:
            for replica in replicas:
                if replica.up:
                    replica.kill()
            fake.stop()
            db.engine.dispose()
    return 0


def report(db, fake, logs, args, queued, wall, floor, rate, injected, at_start, at_end) -> None:
    with db.session(read_only=True) as session:
        rows = session.execute(
            select(
                OutboxMessage.key, OutboxMessage.sent_at, OutboxMessage.dropped_at, OutboxMessage.attempts
            ).where(publicity_rows(args.year))
        ).all()
    in_slack = fake.posted_keys()
    once = sum(1 for key, *_ in rows if in_slack.get(key) == 1)
    doubled = sum(1 for key, *_ in rows if in_slack.get(key, 0) > 1)
    lost = sum(1 for key, sent, dropped, _ in rows if (sent or dropped) and key not in in_slack)
    dropped = sum(1 for _, _, d, _ in rows if d)
    retried = sum(1 for *_, attempts in rows if attempts > 0)
    queued_still = sum(1 for _, sent, d, _ in rows if not sent and not d)
    refused = sum(1 for c in fake.refused if c.method == "chat.postMessage")
    print(f"DMs queued                {queued:,} (outbox rows {len(rows):,})")
    print(
        f"wall time                 {wall:,.0f} s; floor at {rate:g} a second {floor:,.0f} s, "
        f"with the {args.outage_seconds:g} s outage {floor + args.outage_seconds:,.0f} s "
        f"({wall / (floor + args.outage_seconds):.2f}x)"
    )
    print(f"in Slack once             {once:,}")
    print(f"lost                      {lost:,} (marked sent or dropped, not in Slack; {dropped:,} dropped)")
    print(f"doubled                   {doubled:,}")
    print(f"retried                   {retried:,} (sent after one or more failed tries)")
    print(f"still queued              {queued_still:,}")
    print(f"faults injected           {injected}; chat.postMessage refused {refused:,} times in all")
    print(f"in doubt, found, adopted  {adopted(logs):,} (after the kill and the 5xx)")
    for number in sorted(at_end):
        print(
            f"replica {number} peak memory  {at_start[number]:.0f} MB when the fan-out began, "
            f"{at_end[number]:.0f} MB at its end"
        )


if __name__ == "__main__":
    raise SystemExit(main())
