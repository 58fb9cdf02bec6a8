"""Ack-path benchmark: si-bot against a bare Bolt app, both on gunicorn, loaded by wrk.

Run by hand (not in CI):   python -m bench.run [--seconds 10] [--connections 50]
Needs wrk (Debian: apt-get install wrk). Prints requests per second, p50 and p99 latency
for signed `/si status` and `/si change` requests, and si-bot's ratios to the bare app.
Aim: throughput >= 0.7x the bare app's and p99 <= 1.5x, for both commands.
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
    code = (
        "import sys; from bench import apps; from bot.web import serve; "
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


def _ms(out: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
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
    commands = {"/si status": "status", "/si change": "change add <@UBENCH> 2026-12"}
    results: dict[tuple[str, str], dict[str, float]] = {}
    try:
        for name in ("bare", "si_bot"):
            port = free_port()
            server = start_server(name, port, env, args.workers, args.threads)
            try:
                for label, text in commands.items():
                    signed = payloads.slash_command(SECRET, text=text, user="UBENCH", trigger_id="t")
                    url = f"http://127.0.0.1:{port}/slack/events"
                    wrk(url, signed, 2, args.connections, script)  # warm-up
                    results[(name, label)] = wrk(url, signed, args.seconds, args.connections, script)
            finally:
                server.terminate()
                server.wait(timeout=30)
    finally:
        fake.stop()

    print(
        f"\n{args.connections} connections, {args.seconds} s each, gunicorn {args.workers} workers x "
        f"{args.threads} threads, database {database_url.split(':')[0]}\n"
    )
    print(f"{'command':<12} {'app':<8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for label in commands:
        for name in ("bare", "si_bot"):
            r = results[(name, label)]
            print(f"{label:<12} {name:<8} {r['rps']:>9.0f} {r['p50']:>8.2f} {r['p99']:>8.2f}")
    print(f"\n{'command':<12} {'throughput ratio':>17} {'p99 ratio':>10}   (aim: >= 0.70, <= 1.50)")
    ok = True
    for label in commands:
        bare, ours = results[("bare", label)], results[("si_bot", label)]
        throughput, p99 = ours["rps"] / bare["rps"], ours["p99"] / bare["p99"]
        ok &= throughput >= 0.7 and p99 <= 1.5
        print(f"{label:<12} {throughput:>17.2f} {p99:>10.2f}")
    print("\nviews.open calls made after the acks (lazy):", len(fake.calls_to("views.open")))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
