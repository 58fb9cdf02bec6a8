"""Replies to a response URL over HTTPS: Bolt's ``respond`` (urllib: a new connection and TLS
handshake for every reply) against si-bot's kept-alive connections (bot/response_urls.py).

Run by hand:   python -m bench.bench_respond [--replies 300]
Needs the ``openssl`` command (for a throwaway self-signed certificate). The fake Slack runs in
a process of its own on loopback, behind TLS; printed: the client's CPU and the wall time a
reply, and the ratios. On loopback a round trip costs nothing: to Slack, each handshake saved
is also one or two network round trips saved.
"""

from __future__ import annotations

import argparse
import os
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = """
import ssl, sys, time
from bot.console.fake_slack import FakeSlack
fake = FakeSlack().start()
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
fake._server.socket = context.wrap_socket(fake._server.socket, server_side=True)
print(fake.base.replace("http://", "https://"), flush=True)
time.sleep(3600)
"""


def certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    files = ["-keyout", str(key), "-out", str(cert)]
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", *subject, *files],
        check=True,
        capture_output=True,
    )
    return cert, key


def per_reply(reply: Callable[[], None], count: int) -> tuple[float, float]:
    for _ in range(count // 10):
        reply()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        reply()
    return (time.process_time() - cpu) * 1000 / count, (time.perf_counter() - wall) * 1000 / count


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replies", type=int, default=300)
    args = parser.parse_args()

    from slack_bolt.context.respond import Respond

    from bot import response_urls

    with tempfile.TemporaryDirectory() as folder:
        cert, key = certificate(Path(folder))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(cert), str(key)], stdout=subprocess.PIPE, text=True, env=env
        )
        try:
            url = server.stdout.readline().strip() + "/respond/UBENCH"
            trusted = ssl.create_default_context(cafile=str(cert))
            bolt = Respond(response_url=url, ssl=trusted)
            ours = response_urls.ResponseURLs(ssl_context=trusted)  # trusting the throwaway certificate
            reply = ours.to(url)
            message = {"response_type": "ephemeral", "text": "SI-2026-0001 已由 @admin 批准"}
            figures = {
                "Bolt respond (urllib)": per_reply(lambda: bolt(**message), args.replies),
                "kept-alive connections": per_reply(lambda: reply(**message), args.replies),
            }
        finally:
            server.kill()
    print(f"\n{args.replies} replies over HTTPS on loopback\n")
    print(f"{'client':<24} {'CPU ms/reply':>13} {'wall ms/reply':>14}")
    for name, (cpu, wall) in figures.items():
        print(f"{name:<24} {cpu:>13.2f} {wall:>14.2f}")
    (bolt_cpu, bolt_wall), (our_cpu, our_wall) = figures.values()
    print(f"\nour CPU {our_cpu / bolt_cpu:.2f}x Bolt's, its wall time {our_wall / bolt_wall:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
