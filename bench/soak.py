"""Soak test: three replicas on PostgreSQL, mixed traffic, a misbehaving Slack, one replica
killed (SIGKILL) and restarted every minute. Run by hand, not in CI:

    python -m bench.soak [--minutes 10] [--database postgresql+psycopg://postgres@127.0.0.1:5432/test]

Each replica is ``si-bot serve`` (one gunicorn worker, its own scheduler and sweep) in a
process group of its own, killed whole with SIGKILL, as a crashed machine would be. The
stand-in Slack (bot/console/fake_slack.py) runs here: chat.postMessage is held to Slack's
one post a second per channel (429 with Retry-After past it), 3 % of all calls answer 500,
and for 30 s of every 3 minutes every call answers 503. The traffic, sent as Slack sends it
(signed HTTP) to a live replica, is new-hire change forms (each from a new employee),
Approve presses on filed requests, and ``/si status``; a request a dying replica did not
answer is sent again to another, as Slack retries. After the traffic the faults stop and the
replicas get up to ``--drain`` minutes to send what is left.

It prints: the submissions answered, the requests filed (a submission answered but not filed
is lost), the messages that should have been posted (every outbox row that is a post),
those in Slack once, twice or more (by the outbox key in each message's metadata), lost (marked
sent, or dropped, but not in Slack), and still queued. The database is created for the run and
dropped at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bot.console import slack_payloads as payloads
from bot.console.fake_slack import FakeSlack
from bot.domain import resident_id
from bot.ids import ActionId
from bot.storage.db import Database
from bot.storage.models import OutboxMessage, Request

SECRET = "soak-signing-secret"
ADMINS = ("USOAKADMIN1", "USOAKADMIN2")
ADMIN_CHANNEL = "C0SOAKADMIN"
SI_BOT = str(Path(sys.executable).with_name("si-bot"))
OUTAGE_EVERY = 180.0  # seconds
OUTAGE_FOR = 30.0
ERROR_RATIO = 0.03
POSTS = ("user", "channel")
# The mix, and each traffic thread's pause between requests (seconds): with three threads
# about 0.6 forms a second, each a card in the one admin channel, which Slack takes at one
# post a second; a faster mix only queues them (they all go, at Slack's pace, later).
SUBMISSIONS, APPROVES = 0.3, 0.4
PAUSE = (1.0, 2.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def replica_env(fake: FakeSlack, url: str, admins: tuple[str, ...] = ADMINS) -> dict[str, str]:
    """A replica's environment: this one's, less any Slack or si-bot setting, pointed at
    the stand-in Slack and the run's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SI_", "DATABASE_URL"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-soak",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.api_url,
        DATABASE_URL=url,
        SI_ADMINS=",".join(admins),
        SI_ADMIN_CHANNEL=ADMIN_CHANNEL,
        SI_LANGUAGE="en",
        SI_LOG_LEVEL="WARNING",
    )
    return env


class Replica:
    def __init__(self, number: int, env: dict[str, str], logs: Path):
        self.number, self.env, self.logs = number, env, logs
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.up = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.logs / f"replica-{self.number}.log", "ab")  # noqa: SIM115 (the child owns it)
        self.proc = subprocess.Popen(
            [
                SI_BOT,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--threads",
                "4",
            ],
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,  # its own process group: killed whole, master and worker
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2):
                    self.up = True
                    return
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"replica {self.number} did not start: see {self.logs}")

    def kill(self) -> None:
        """SIGKILL to the whole group, with requests in flight (they get no answer and
        are sent again to another replica, as Slack would)."""
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.up = False


@dataclass
class Tally:
    submitted: list[str] = field(default_factory=list)  # the names of the hires whose form was answered
    approves: int = 0
    statuses: int = 0
    resent: int = 0  # requests sent again to another replica (the first got no answer)
    unanswered: int = 0  # given up after every replica failed to answer
    lock: threading.Lock = field(default_factory=threading.Lock)


def post(replicas: list[Replica], signed: payloads.SignedRequest, tally: Tally) -> int | None:
    """Send ``signed`` to a live replica; to another when it gets no answer (Slack retries)."""
    for attempt in range(6):
        live = [r for r in replicas if r.up] or replicas
        replica = random.choice(live)
        request = urllib.request.Request(
            f"{replica.url}/slack/events", data=signed.body.encode(), headers=signed.headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            with tally.lock:
                tally.resent += 1
            time.sleep(0.5 * (attempt + 1))
    with tally.lock:
        tally.unanswered += 1
    return None


def hire(number: int) -> dict[str, str]:
    first17 = f"3101011990{1 + number // 28 % 12:02d}{1 + number % 28:02d}{number % 1000:03d}"
    return {
        "change_type": "add",
        "full_name": f"Soak hire {number}",
        "resident_id": first17 + resident_id.check_char(first17),
        "hukou": "local_urban",
        "effective_month": "2026-12",
        "contribution_base": "9000",
        "notes": "",
    }


def traffic(
    worker: int,
    replicas: list[Replica],
    db: Database,
    form: dict,
    until: float,
    tally: Tally,
    next_number: Callable[[], int],
) -> None:
    rng = random.Random(worker)
    while time.monotonic() < until:
        roll = rng.random()
        if roll < SUBMISSIONS:  # a new hire's change form, from the employee themself
            number = next_number()
            user = f"USOAK{number:06d}"
            view = {**form, "id": f"VSOAK{number:08d}"}
            answers = {**hire(number), "person": user}
            signed = payloads.view_submission(SECRET, user=user, view=view, answers=answers)
            if post(replicas, signed, tally) == 200:
                with tally.lock:
                    tally.submitted.append(answers["full_name"])
        elif roll < SUBMISSIONS + APPROVES:  # an administrator approves a filed request
            with db.session(read_only=True) as session:
                waiting = session.scalars(
                    select(Request.public_id).where(Request.state == "submitted").limit(20)
                ).all()
            if waiting:
                signed = payloads.block_action(
                    SECRET, user=rng.choice(ADMINS), action_id=ActionId.APPROVE, value=rng.choice(waiting)
                )
                if post(replicas, signed, tally) == 200:
                    with tally.lock:
                        tally.approves += 1
        else:
            signed = payloads.slash_command(SECRET, text="status", user=f"USOAK{rng.randrange(1, 50):06d}")
            if post(replicas, signed, tally) == 200:
                with tally.lock:
                    tally.statuses += 1
        time.sleep(rng.uniform(*PAUSE))


def faults(fake: FakeSlack, start: float, until: float) -> None:
    """An outage of OUTAGE_FOR seconds in the middle of every OUTAGE_EVERY."""
    while time.monotonic() < until:
        phase = (time.monotonic() - start) % OUTAGE_EVERY
        if OUTAGE_EVERY / 2 <= phase < OUTAGE_EVERY / 2 + 1:
            fake.outage(OUTAGE_FOR)
            time.sleep(2)
        time.sleep(0.5)


def open_form(fake: FakeSlack, replica: Replica) -> dict:
    """The change form as si-bot opens it (its blocks), before the faults begin."""
    signed = payloads.slash_command(SECRET, text="change", user="USOAK000000", trigger_id="trigger-soak")
    urllib.request.urlopen(
        urllib.request.Request(
            f"{replica.url}/slack/events", data=signed.body.encode(), headers=signed.headers, method="POST"
        ),
        timeout=10,
    ).read()
    opened = fake.wait_for("views.open", 1, timeout=30)
    return opened[-1].result["view"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--drain", type=float, default=8.0, help="minutes to let the replicas finish")
    parser.add_argument(
        "--database",
        default=os.environ.get("SI_TEST_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="a PostgreSQL server (a database of the run's own is created on it)",
    )
    parser.add_argument("--workers", type=int, default=3, help="traffic threads")
    parser.add_argument("--keep", action="store_true", help="keep the run's database")
    args = parser.parse_args()

    name = f"si_bot_soak_{uuid.uuid4().hex[:8]}"
    server = create_engine(args.database, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.database).set(database=name).render_as_string(hide_password=False)
    logs = Path(tempfile.mkdtemp(prefix="si-bot-soak-"))
    fake = FakeSlack().start()
    replicas = [Replica(i, replica_env(fake, url), logs) for i in range(3)]
    db = Database(url)
    try:
        for replica in replicas:
            replica.start()
        print(f"soak: 3 replicas up on {name}; logs in {logs}", flush=True)
        form = open_form(fake, replicas[0])
        fake.faults.channel_pace = 1
        fake.faults.error_ratio = ERROR_RATIO
        start = time.monotonic()
        until = start + args.minutes * 60
        tally, numbers = Tally(), itertools.count(1)

        def next_number() -> int:
            with tally.lock:
                return next(numbers)

        threads = [
            threading.Thread(target=traffic, args=(w, replicas, db, form, until, tally, next_number))
            for w in range(args.workers)
        ]
        threads.append(threading.Thread(target=faults, args=(fake, start, until)))
        for thread in threads:
            thread.start()
        kills = 0
        while time.monotonic() < until - 30:  # one replica killed and restarted each minute
            time.sleep(min(60, max(0, until - 30 - time.monotonic())))
            if time.monotonic() >= until - 30:
                break
            victim = replicas[kills % 3]
            victim.kill()
            kills += 1
            print(
                f"soak: {time.monotonic() - start:5.0f} s  killed replica {victim.number} (SIGKILL)",
                flush=True,
            )
            victim.start()
        for thread in threads:
            thread.join()
        injected = dict(fake.faults.counts)
        fake.faults.channel_pace, fake.faults.error_ratio, fake.faults.outage_until = 0, 0.0, 0
        print(f"soak: traffic over after {time.monotonic() - start:.0f} s; draining", flush=True)
        drain_until = time.monotonic() + args.drain * 60
        while time.monotonic() < drain_until:
            with db.session(read_only=True) as session:
                left = session.scalar(
                    select(func.count()).where(
                        OutboxMessage.sent_at.is_(None), OutboxMessage.dropped_at.is_(None)
                    )
                )
            if not left:
                break
            time.sleep(5)
        drained = time.monotonic() - (until)
        for replica in replicas:
            replica.kill()
        report(logs, db, fake, tally, injected, kills, args.minutes, drained)
    finally:
        for replica in replicas:
            if replica.up:
                replica.kill()
        fake.stop()
        db.engine.dispose()
        if not args.keep:
            with server.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
    return 0


def adopted(logs: Path) -> int:
    """How many times a replica found a post in doubt already in Slack (bot/delivery.py logs it)."""
    return sum(path.read_text(errors="replace").count("adopted") for path in logs.glob("replica-*.log"))


def report(
    logs: Path,
    db: Database,
    fake: FakeSlack,
    tally: Tally,
    injected: dict,
    kills: int,
    minutes: float,
    drained: float,
):
    with db.session(read_only=True) as session:
        filed = set(session.scalars(select(Request.payload["full_name"].as_string())))
        requests = session.scalar(select(func.count()).select_from(Request))
        approved = session.scalar(select(func.count()).where(Request.state == "approved"))
        posts = session.execute(
            select(OutboxMessage.key, OutboxMessage.sent_at, OutboxMessage.dropped_at).where(
                OutboxMessage.target_kind.in_(POSTS)
            )
        ).all()
        redraws = session.scalar(select(func.count()).where(OutboxMessage.target_kind.not_in(POSTS)))
        queued = session.scalar(
            select(func.count()).where(OutboxMessage.sent_at.is_(None), OutboxMessage.dropped_at.is_(None))
        )
        in_doubt_adopted = session.scalar(
            select(func.count()).where(OutboxMessage.sent_at.is_not(None), OutboxMessage.attempts > 0)
        )
    in_slack = fake.posted_keys()
    # Answers posted straight after a command's ack (bot/handlers/listen.py), not through the
    # outbox: a refused one is not retried (the person asks again).
    direct = [c for c in fake.calls_to("chat.postMessage") if not c.params.get("metadata")]
    refused = [c for c in fake.refused if c.method == "chat.postMessage"]
    direct_refused = [c for c in refused if not c.params.get("metadata")]
    times = Counter(in_slack.get(key, 0) for key, _, _ in posts)
    lost_posts = [key for key, sent, dropped in posts if (sent or dropped) and key not in in_slack]
    lost_requests = [n for n in tally.submitted if n not in filed]
    figures = {
        "minutes": minutes,
        "replicas killed (SIGKILL) and restarted": kills,
        "faults injected by the stand-in Slack": injected,
        "submissions answered 200": len(tally.submitted),
        "requests filed": requests,
        "submissions answered but not filed (lost)": len(lost_requests),
        "approve presses answered": tally.approves,
        "requests approved": approved,
        "status commands answered": tally.statuses,
        "requests sent again to another replica": tally.resent,
        "requests no replica answered": tally.unanswered,
        "messages that should be posted (outbox posts)": len(posts),
        "of them in Slack once": times.get(1, 0),
        "sent twice or more": sum(n for k, n in times.items() if k > 1),
        "lost (marked sent or dropped, not in Slack)": len(lost_posts),
        "still queued": queued,
        "redraws and uploads (chat.update, files)": redraws,
        "direct answers posted / refused tries (not outbox)": f"{len(direct)} / {len(direct_refused)}",
        "posts delivered after one or more refused tries": in_doubt_adopted,
        "posts in doubt after a kill, found in Slack and adopted": adopted(logs),
        "seconds after the traffic until the outbox was empty": round(drained),
    }
    for name, value in figures.items():
        print(f"  {name}: {json.dumps(value) if isinstance(value, dict) else value}")


if __name__ == "__main__":
    raise SystemExit(main())
