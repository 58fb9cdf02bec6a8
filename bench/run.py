"""Ack-path benchmark: si-bot against a bare Bolt app, both on gunicorn, loaded by wrk.

Run by hand (not in CI):   python -m bench.run [--seconds 10] [--runs 3] [--connections 50]
Needs wrk (Debian: apt-get install wrk). Prints, for signed `/si status`, `/si change` and an
Approve press: requests per second, p50 and p99 latency, si-bot's ratios to the bare app,
the database transactions each one costs (in-process, the ack and the work after it; /si
status reads in one statement outside any transaction: 0), the
CPU of the ack alone (in-process, without the work after it), and
the memory of the server's processes (RSS, and PSS: what each really owns once shared pages
are divided among those that share them).
Aim (issue 17): throughput >= 0.5x the bare app's and p99 <= 3x; at most 150 MB per worker.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import Executor, Future
from pathlib import Path

from bot.console import slack_payloads as payloads
from bot.console.fake_slack import FakeSlack
from bot.storage.db import Database

SECRET = "bench-signing-secret"
ROOT = Path(__file__).resolve().parents[1]
LUA = """
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["X-Slack-Request-Timestamp"] = os.getenv("BENCH_TS")
wrk.headers["X-Slack-Signature"] = os.getenv("BENCH_SIG")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    factory: str, port: int, env: dict[str, str], workers: int, threads: int
) -> subprocess.Popen:
    preload = "apps.preload(); " if factory == "si_bot" else ""
    code = (
        f"import sys; from bench import apps; from bot.web import serve; {preload}"
        f"serve(apps.{factory}, host='127.0.0.1', port={port}, workers={workers}, threads={threads})"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{factory} did not start on port {port}")


def stop(server: subprocess.Popen) -> None:
    """Stop a server; the work queued after thousands of acks is not worth waiting for."""
    server.terminate()
    try:
        server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        subprocess.run(["pkill", "-KILL", "-P", str(server.pid)], check=False)
        server.kill()
        server.wait()


def wrk(
    url: str, signed: payloads.SignedRequest, seconds: int, connections: int, script: Path
) -> dict[str, float]:
    env = {
        **os.environ,
        "BENCH_BODY": signed.body,
        "BENCH_TS": signed.headers["X-Slack-Request-Timestamp"],
        "BENCH_SIG": signed.headers["X-Slack-Signature"],
    }
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} failed responses\n{out}")
    return {"rps": rps, "p50": _ms(out, "50%"), "p99": _ms(out, "99%")}


def _server_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *(int(p) for p in children.read_text().split())] if children.exists() else [pid]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the server's processes (master and workers) have used. Per
    request, it is steadier than requests a second on a shared host, whose other tenants
    take a varying share of the cores."""
    total = 0
    for each in _server_pids(pid):
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def memory(pid: int) -> list[tuple[str, float, float]]:
    """(role, RSS MB, PSS MB) of the server's master and each of its workers."""
    found = []
    for i, each in enumerate(_server_pids(pid)):
        rss = pss = 0.0
        rollup = Path(f"/proc/{each}/smaps_rollup")
        if rollup.exists():
            for line in rollup.read_text().splitlines():
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) / 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) / 1024
        found.append(("master" if i == 0 else f"worker {i}", rss, pss))
    return found


def transactions(database_url: str, fake: FakeSlack) -> dict[str, int]:
    """The database transactions one request of each kind costs, in-process: the ack and
    the work after it (lazy listeners run inline)."""
    from slack_bolt import BoltRequest
    from sqlalchemy import event

    from bot.app import build_app
    from bot.config import load_settings
    from bot.runtime import build_runtime

    class Inline(Executor):
        def submit(self, fn, /, *args, **kwargs):
            future: Future = Future()
            future.set_result(fn(*args, **kwargs))
            return future

    bot = build_runtime(load_settings(), migrate=False)
    app = build_app(bot, executor=Inline())
    fresh = file_a_request(database_url, "bench-transactions")  # an Approve that approves
    counted: dict[str, int] = {}
    begun: list[object] = []
    event.listen(bot.db.engine, "begin", lambda conn: begun.append(conn))
    for label, signed in requests_to_time(fake, fresh).items():
        begun.clear()
        app.dispatch(BoltRequest(body=signed.body, headers=signed.headers))
        counted[label] = len(begun)
    return counted


class _Dropped(Executor):
    """Work after the ack, not done: to time the ack path alone."""

    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        future.set_result(None)
        return future


def ack_cpu(
    signed_requests: dict[str, payloads.SignedRequest], count: int = 2000
) -> dict[tuple[str, str], float]:
    """CPU ms each request's ack costs in-process, through the WSGI app (the gate, Bolt, the
    listener), without the work after it: what the ack path itself pays, apart from the
    press's read and reply that an Approve does after its ack and the bare app never does."""
    import io

    from bench import apps

    costs = {}
    for name, app in (("bare", apps.bare()), ("si_bot", apps.si_bot(executor=_Dropped()))):
        for label, signed in signed_requests.items():
            body = signed.body.encode()
            environ = {
                "PATH_INFO": "/slack/events",
                "REQUEST_METHOD": "POST",
                "CONTENT_LENGTH": str(len(body)),
                "CONTENT_TYPE": "application/x-www-form-urlencoded",
                **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in signed.headers.items()},
            }

            def once(app=app, environ=environ, body=body) -> None:
                b"".join(app({**environ, "wsgi.input": io.BytesIO(body)}, lambda status, headers: None))

            for _ in range(count // 10):  # warm: caches, the pool's connections
                once()
            began = time.process_time()
            for _ in range(count):
                once()
            costs[(name, label)] = (time.process_time() - began) * 1000 / count
    return costs


def requests_to_time(fake: FakeSlack, public_id: str) -> dict[str, payloads.SignedRequest]:
    """The signed requests the benchmark times, in the order it times them (the Approve press
    is on a request the benchmark filed: under load, the first press approves it and the
    others are refused). /si change goes last: each of its modals is a new connection to
    Slack (the SDK's WebClient keeps none), and the 10,000 sockets its runs leave in
    TIME_WAIT slowed an Approve run after them by a third or more (844 presses a second
    against 1,300-1,470 on a server that had not run it)."""
    response_url = fake.response_url("UADMIN")
    return {
        "/si status": payloads.slash_command(SECRET, text="status", user="UBENCH", trigger_id="t"),
        "Approve": payloads.block_action(
            SECRET,
            user="UADMIN",
            action_id="request_approve",
            value=public_id,
            response_url=response_url,
        ),
        "/si change": payloads.slash_command(SECRET, text="change add <@UBENCH> 2026-12", user="UBENCH"),
    }


def file_a_request(database_url: str, key: str = "bench") -> str:
    """One request for the Approve presses to act on; its id."""
    from datetime import UTC, datetime

    from bot.config import load_settings
    from bot.domain.requests import RequestKind
    from bot.runtime import build_runtime
    from bot.services.requests import file_request

    bot = build_runtime(load_settings(), migrate=False)
    raw = {"category": "other", "description": "benchmark"}
    with bot.work() as session:
        filed = file_request(
            session,
            bot.workplace,
            kind=RequestKind.COMPLAINT,
            actor="UBENCH",
            raw=raw,
            submission_key=key,
            now=datetime.now(UTC),
        )
        return filed.request.public_id


def _ms(out: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3, help="runs of each request; the median one is shown")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="si-bot-bench-"))
    script = tmp / "signed.lua"
    script.write_text(LUA)
    database_url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    Database(database_url).upgrade()
    fake = FakeSlack().start()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": database_url,
        "SI_ADMINS": "UADMIN",
        "SI_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})  # for the in-process part
    signed_requests = requests_to_time(fake, file_a_request(database_url))
    results: dict[tuple[str, str], dict[str, float]] = {}
    rss: list[tuple[str, float, float]] = []
    try:
        for name in ("bare", "si_bot"):
            port = free_port()
            server = start_server(name, port, env, args.workers, args.threads)
            try:
                for label, signed in signed_requests.items():
                    url = f"http://127.0.0.1:{port}/slack/events"
                    wrk(url, signed, 2, args.connections, script)  # warm-up
                    runs = []
                    for _ in range(args.runs):
                        before = cpu_seconds(server.pid)
                        run = wrk(url, signed, args.seconds, args.connections, script)
                        used = cpu_seconds(server.pid) - before
                        run["cpu_ms"] = used * 1000 / max(1.0, run["rps"] * args.seconds)
                        runs.append(run)
                    # The run of median throughput, whole: one bad moment of the host (or a
                    # lucky one) does not make the ratio.
                    results[(name, label)] = sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]
                if name == "si_bot":
                    rss = memory(server.pid)
            finally:
                stop(server)
        spent = transactions(database_url, fake)
        acks = ack_cpu(signed_requests)
    finally:
        fake.stop()

    print(
        f"\n{args.connections} connections, median of {args.runs} runs of {args.seconds} s each, "
        f"gunicorn {args.workers} workers x {args.threads} threads, database {database_url.split(':')[0]}\n"
    )
    print(f"{'request':<12} {'app':<8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/request':>15}")
    for label in signed_requests:
        for name in ("bare", "si_bot"):
            r = results[(name, label)]
            cpu = f"{r['cpu_ms']:>15.3f}"
            print(f"{label:<12} {name:<8} {r['rps']:>9.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} {cpu}")
    header = f"{'request':<12} {'throughput ratio':>17} {'p99 ratio':>10} {'CPU ratio':>10}"
    header += f" {'transactions':>13} {'ack CPU ms bare/si-bot':>23} {'ratio':>6}"
    print(f"\n{header}   (aim: >= 0.50, <= 3.00; CPU: bare's CPU per request / si-bot's)")
    ok = True
    for label in signed_requests:
        bare, ours = results[("bare", label)], results[("si_bot", label)]
        throughput, p99 = ours["rps"] / bare["rps"], ours["p99"] / bare["p99"]
        if label != "/si change":  # the aim is for /si status and an Approve press
            ok &= throughput >= 0.5 and p99 <= 3.0
        cpu = bare["cpu_ms"] / ours["cpu_ms"]
        bare_ack, our_ack = acks[("bare", label)], acks[("si_bot", label)]
        ack = f"{bare_ack:>11.3f} / {our_ack:<9.3f} {bare_ack / our_ack:>6.2f}"
        print(f"{label:<12} {throughput:>17.2f} {p99:>10.2f} {cpu:>10.2f} {spent[label]:>13} {ack}")
    print(f"\n{'si-bot process':<14} {'RSS MB':>8} {'PSS MB':>8}   (aim: <= 150 MB a worker)")
    for role, resident, proportional in rss:
        print(f"{role:<14} {resident:>8.1f} {proportional:>8.1f}")
        ok &= role == "master" or resident <= 150
    print("\nviews.open calls made after the acks (lazy):", len(fake.calls_to("views.open")))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
