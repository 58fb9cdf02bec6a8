"""`si-bot ask`: the help channel's answer on the command line, one question or a stream."""

from __future__ import annotations

import json

from tests.test_cli import run


def test_ask_prints_topic_score_and_answer(tmp_path):
    result = run(["ask", "社保卡丢了怎么办"], tmp_path, SI_LANGUAGE="en")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("topic: si-card   score: ")
    assert "12333" in result.stdout


def test_ask_json_reads_one_question_a_line_from_stdin(tmp_path):
    questions = "how do I pay back missed months?\n\n住房公积金怎么提取\n社保那个事情怎么弄\n"
    result = run(["ask", "--json", "-"], tmp_path, stdin=questions)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["topic"] for r in records] == ["payback", None, None]
    assert all({"topic", "score", "answer"} <= set(r) for r in records)
    assert records[0]["lang"] == "en" and records[0]["answer"]
    assert records[1]["out_of_scope"] == "housing-fund" and not records[1]["escalate"]
    assert records[2]["escalate"] is True and records[2]["answer"] == ""
    # Nothing sure: the best few topics are offered besides.
    assert 1 <= len(records[2]["alternatives"]) <= 3 and records[2]["taught"] is False


def test_ask_answers_in_the_language_asked_for(tmp_path):
    result = run(["ask", "--json", "--lang", "en", "社保缴费比例是多少"], tmp_path)
    record = json.loads(result.stdout)
    assert record["topic"] == "contribution-rates" and record["lang"] == "en"
    assert "Pension" in record["answer"] or "pension" in record["answer"]
