"""``si-bot kb taught|export|retire``: a real process on the test database."""

from __future__ import annotations

from sqlalchemy import select

from bot.knowledge import Lessons, TaughtPhrasing, lessons_toml, read_lessons
from bot.storage.models import HelpLesson
from tests.conftest import ADMIN, STORY_NOW
from tests.test_cli import run
from tests.test_help_teaching import ESCALATED, new_topic, recorded, teach


def out_of_scope_lesson(bot, db) -> None:
    """A lesson the knowledge base does not accept (written past the service's check, as an
    old lesson would stand after the shipped topics changed)."""
    question = "公积金怎么提取"
    with db.session() as session:
        session.add(
            HelpLesson(
                kind="phrasing",
                topic="payback",
                question=question,
                answer_id=recorded(bot, question),
                taught_by=ADMIN,
                taught_at=STORY_NOW,
            )
        )


def test_taught_lists_each_lesson_with_its_topic_who_and_when(bot, db, tmp_path):
    empty = run(["kb", "taught"], tmp_path, DATABASE_URL=db.url, SI_LANGUAGE="en")
    assert "Nothing taught yet" in empty.stdout
    phrasing = teach(bot, recorded(bot, ESCALATED), "statement-query")
    topic = new_topic(bot, recorded(bot, "公司有没有企业年金"))
    out_of_scope_lesson(bot, db)

    result = run(["kb", "taught"], tmp_path, DATABASE_URL=db.url, SI_LANGUAGE="en")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert f"#{phrasing.lesson_id}" in lines[0] and ESCALATED in lines[0] and "→ statement-query" in lines[0]
    assert ADMIN in lines[0] and "2026-11-27 10:" in lines[0]  # in SI_TIMEZONE
    assert "new topic" in lines[1] and "Enterprise annuity" in lines[1] and "→ enterprise-annuity" in lines[1]
    assert "does not count" not in lines[0] + lines[1]
    assert "does not count" in lines[2] and "another domain" in lines[2]  # and why, in words

    retired = run(["kb", "retire", str(phrasing.lesson_id)], tmp_path, DATABASE_URL=db.url, SI_LANGUAGE="en")
    assert retired.returncode == 0 and "no longer counts" in retired.stdout
    again = run(["kb", "retire", str(phrasing.lesson_id)], tmp_path, DATABASE_URL=db.url, SI_LANGUAGE="en")
    assert again.returncode == 1 and "retired already" in again.stderr
    every = run(
        ["kb", "taught", "--all"], tmp_path, DATABASE_URL=db.url, SI_LANGUAGE="en"
    ).stdout.splitlines()
    assert "retired" in every[0] and "retired" not in every[1] and topic.topic in every[1]
    with db.session() as session:
        assert len(session.scalars(select(HelpLesson)).all()) == 3  # never deleted


def test_export_merges_the_lessons_into_the_taught_file(bot, db, tmp_path):
    teach(bot, recorded(bot, ESCALATED), "statement-query")
    out_of_scope_lesson(bot, db)  # not exported: it would not count from the file either
    new_topic(bot, recorded(bot, "公司有没有企业年金"))
    path = tmp_path / "kb" / "_taught.toml"
    path.parent.mkdir()
    earlier = TaughtPhrasing("单位的社保账户开户怎么办理", "administrator")
    path.write_text(lessons_toml(Lessons(phrasings=(earlier,))), encoding="utf-8")

    result = run(["kb", "export", "--out", str(path)], tmp_path, DATABASE_URL=db.url, SI_LANGUAGE="en")
    assert result.returncode == 0, result.stderr
    assert "2 questions and 1 new topics" in result.stdout
    exported = read_lessons(path)
    assert exported.phrasings == (earlier, TaughtPhrasing(ESCALATED, "statement-query"))
    (topic,) = exported.topics
    assert (topic.id, topic.title_en, topic.questions) == (
        "enterprise-annuity",
        "Enterprise annuity",
        ("公司有没有企业年金",),
    )
    # Exporting again writes the same file.
    before = path.read_text(encoding="utf-8")
    run(["kb", "export", "--out", str(path)], tmp_path, DATABASE_URL=db.url)
    assert path.read_text(encoding="utf-8") == before
