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
            "/si change add @me 2026-12",
            "",  # type: keep "add" (an employee's form has no person picker)
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
    assert "Enrolment change · Approved" in out


def console(workdir: Path, lines: list[str], **env: str) -> subprocess.CompletedProcess:
    result = run(["console"], workdir, stdin="\n".join(lines) + "\n", SI_LANGUAGE="en", **env)
    assert result.returncode == 0, result.stderr
    return result


def test_the_console_reads_like_the_readme_and_keeps_to_its_own_database(workdir):
    result = console(
        workdir,
        [
            ":as admin",  # HR staff and administrators report hires for others
            "/si change add @zhang.san 2026-12",  # the README's own example
            "",  # type: keep "add"
            "",  # person: keep @zhang.san
            "Zhang San",
            "110105194912310021",  # a typo in the check digit
            "1",
            "",
            "9000",
            "",
            "11010519491231002X",
            "exit",
        ],
        DATABASE_URL=f"sqlite:///{workdir / 'production.db'}",
    )
    out = result.stdout
    assert "U0ZHANGSAN" in out and "SI-2026-0001" in out
    # The mistake is shown right under what was typed, then the field is asked again.
    lines = out.splitlines()
    typed = next(
        i for i, line in enumerate(lines) if line.endswith(": 110105194912310021") and "✗" not in line
    )
    assert "does not match the others" in lines[typed + 1]
    # No log line in the conversation; the console's data is its own file.
    assert not [line for line in out.splitlines() + result.stderr.splitlines() if " WARNING " in line]
    assert (workdir / "si-bot-console.db").exists() and not (workdir / "production.db").exists()


def test_a_second_console_session_goes_on_where_the_first_left_off(workdir):
    first = [
        "/si change add @me 2026-12",
        "",
        "Zhang San",
        "11010519491231002X",
        "1",
        "",
        "9000",
        "",
        ":quit",
    ]
    console(workdir, first)
    # The same again: its card is posted and recorded anew (timestamps never repeat).
    again = [*first[:-1], ":as admin", ":press 1", ":quit"]
    second = console(workdir, again)
    assert "SI-2026-0002" in second.stdout and "approved by @U0ADMIN" in second.stdout
    assert "Sorry" not in second.stdout and "Traceback" not in second.stderr


def test_quitting_inside_a_form_leaves_without_sending_it(workdir):
    result = console(workdir, ["/si payback", "2026-09", ":quit", "/si status"])
    assert "Form closed; nothing was sent." in result.stdout
    assert "Your requests" not in result.stdout  # it left: /si status was never read


def test_acting_as_an_administrator_no_longer_filed_says_so(workdir):
    result = console(
        workdir,
        [
            ":as admin",
            "/si admin add @li.si",
            ":as U0LISI",
            "/si admin remove @admin",
            ":press 1",
            ":as admin",
            "exit",
        ],
    )
    assert "U0ADMIN is no longer a filed administrator" in result.stdout


def test_the_console_answers_questions_as_in_a_dm_to_the_bot(workdir):
    """Anything but a command is a message in one's DM with the bot: the help channel's
    answers, their buttons pressed like any other, and the hand-over to the administrators."""
    result = console(
        workdir,
        [
            "我想补缴前几个月漏缴的社保，怎么办？",
            ":press 3",  # Not helpful
            ":as admin",
            "/foo",
            "/si roster template",  # files, shown by name
            ":quit",
        ],
    )
    out = result.stdout
    assert "file(s) to D0ADMIN: roster-template.xlsx" in out
    assert "message to D0EMPLOYEE" in out and "/si payback" in out and "[3] 没帮助" in out
    # The administrators are asked to answer by DM and to teach it, with no link to a DM.
    assert "message to U0ADMIN" in out and "in a direct message" in out and "[4] Teach" in out
    assert "archives/D0EMPLOYEE" not in out
    assert "Type a /si command, a question, or :as, :press, :quit." in out
