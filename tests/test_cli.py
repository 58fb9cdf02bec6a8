"""The command line, run as a user runs it: a real process with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SI_BOT = str(Path(sys.executable).with_name("si-bot"))


def run(args: list[str], cwd: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SI_", "DATABASE_URL"))}
    clean.update(env)
    return subprocess.run(
        [SI_BOT, *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120, env=clean
    )


@pytest.fixture
def workdir(tmp_path, database_url) -> Path:
    return tmp_path


def test_plain_si_bot_without_tokens_says_what_is_missing_and_offers_the_console(workdir):
    result = run([], workdir)
    assert result.returncode == 1
    assert "SLACK_BOT_TOKEN" in result.stdout and "si-bot console" in result.stdout
    assert "缺少这些设置" in result.stdout  # SI_LANGUAGE defaults to zh
    english = run([], workdir, SI_LANGUAGE="en")
    assert "these settings are missing" in english.stdout


def test_serve_without_tokens_refuses_clearly(workdir):
    result = run(["serve"], workdir)
    assert result.returncode == 1 and "SLACK_SIGNING_SECRET" in result.stderr


def test_a_bad_setting_is_named(workdir):
    result = run([], workdir, SI_LANGUAGE="fr")
    assert result.returncode == 2 and "SI_LANGUAGE" in result.stderr


def test_db_upgrade_creates_the_sqlite_database_in_the_working_directory(workdir):
    result = run(["db", "upgrade"], workdir)
    assert result.returncode == 0, result.stderr
    assert (workdir / "si-bot.db").exists()
    assert run(["db", "upgrade"], workdir).returncode == 0  # idempotent


def test_console_files_a_change_and_the_admin_approves_it(workdir):
    script = "\n".join(
        [
            "/si change add <@U0EMPLOYEE> 2026-12",
            "",  # type: keep "add"
            "",  # person: keep
            "Zhang San",
            "110105194912310021",  # a typo: the check digit does not match
            "1",  # hukou: local urban
            "",  # effective month: keep
            "9000",
            "",  # notes
            "11010519491231002X",  # fixed after the error
            ":as admin",
            ":press 1",  # Approve on the admin's card
            ":as employee",
            "/si status",
            ":quit",
        ]
    )
    result = run(["console"], workdir, stdin=script + "\n", SI_LANGUAGE="en")
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "does not match the others" in out
    assert "SI-2026-0001" in out and "now *Approved*" in out
    assert "Insured change · Approved" in out
