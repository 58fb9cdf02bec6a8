"""The trained classifier mixed into the help channel's ranking (bot/knowledge/classifier.py)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from bot.knowledge import kb as kb_module
from bot.knowledge.classifier import Classifier, Example, features
from bot.knowledge.crossval import Labelled, folds_of, training_fingerprint
from bot.knowledge.evaluate import Case
from bot.knowledge.kb import CLASSIFIER_FILE, DEFAULT_KB_DIR, KnowledgeBase


@pytest.fixture(scope="module")
def kb():
    return KnowledgeBase.load(taught=False)


def test_the_shipped_classifier_was_trained_on_the_current_knowledge_base():
    _, trained_for = Classifier.load(DEFAULT_KB_DIR / CLASSIFIER_FILE)
    assert trained_for == training_fingerprint(), (
        "messages/kb or the labelled sets changed since the classifier was trained:"
        " python -m bot.knowledge.crossval --write"
    )


def test_the_shipped_knowledge_base_mixes_the_classifier_in(kb):
    assert kb.bm25_share == kb_module.BM25_SHARE < 1
    assert kb.threshold == kb_module.MIX_THRESHOLD
    bm25_alone = KnowledgeBase.load(taught=False, classifier=False)
    assert bm25_alone.bm25_share == 1 and bm25_alone.threshold == kb_module.THRESHOLD
    question = "社保卡丢了怎么补办"
    mixed, alone = kb.scores(question), bm25_alone.scores(question)
    assert mixed != alone
    assert max(mixed, key=mixed.get) == max(alone, key=alone.get) == "si-card"


def test_an_answer_reworded_needs_no_retraining_a_new_ask_does(tmp_path):
    folder = tmp_path / "kb"
    shutil.copytree(DEFAULT_KB_DIR, folder, ignore=shutil.ignore_patterns(kb_module.TAUGHT_FILE))
    shipped = training_fingerprint(folder)
    card = folder / "si-card.toml"
    text = card.read_text(encoding="utf-8")
    card.write_text(text.replace("answer_zh = '''", "answer_zh = '''（措辞已更新）", 1), encoding="utf-8")
    assert KnowledgeBase.load(folder, taught=False).render("si-card", "zh").text.startswith("（措辞已更新）")
    assert training_fingerprint(folder) == shipped
    card.write_text(text.replace("ask_zh = [", 'ask_zh = ["社保卡芯片坏了读不出来",', 1), encoding="utf-8")
    assert training_fingerprint(folder) != shipped


def test_a_topic_the_classifier_does_not_know_falls_back_to_bm25(tmp_path, caplog):
    folder = tmp_path / "kb"
    shutil.copytree(DEFAULT_KB_DIR, folder)
    (folder / "si-card.toml").rename(folder / "si-card2.toml")
    text = (folder / "si-card2.toml").read_text(encoding="utf-8").replace('id = "si-card"', 'id = "si-card2"')
    (folder / "si-card2.toml").write_text(text, encoding="utf-8")
    kb = KnowledgeBase.load(folder, taught=False)
    assert kb.bm25_share == 1 and kb.threshold == kb_module.THRESHOLD
    assert "si-card2" in caplog.text
    assert kb.answer("社保卡丢了怎么补办").topic == "si-card2"


def test_training_learns_words_the_asks_never_used(kb):
    # Two made-up classes told apart by words only their examples hold.
    def example(text, label):
        return Example(features(kb.analyse(text)), (label,))

    examples = [
        example("养老金什么时候发", "a"),
        example("退休工资几号到账", "a"),
        example("社保卡丢了", "b"),
        example("医保卡掉了怎么办", "b"),
    ]
    model = Classifier.train(examples, ["a", "b"], steps=100)
    p = model.probabilities(kb.analyse("退休工资啥时候发"))
    assert p[0] > 0.5 > p[1]
    p = model.probabilities(kb.analyse("卡丢了"))
    assert p[1] > 0.5 > p[0]
    assert np.isclose(p.sum(), 1)


def test_a_saved_classifier_reads_back_the_same(kb, tmp_path):
    examples = [
        Example(features(kb.analyse("社保断缴")), ("a",)),
        Example(features(kb.analyse("工伤")), ("b",)),
    ]
    model = Classifier.train(examples, ["a", "b"], steps=20)
    model.save(tmp_path / "m.npz", "abc")
    again, trained_for = Classifier.load(tmp_path / "m.npz")
    assert trained_for == "abc" and again.classes == ("a", "b")
    question = kb.analyse("社保断缴了")
    assert np.allclose(again.probabilities(question), model.probabilities(question))


def test_cross_validation_keeps_a_page_in_one_fold():
    items = [Labelled(Case("zh", ("payback",), f"q{i}"), f"page{i % 7}") for i in range(40)]
    fold = folds_of(items, 5)
    by_page: dict[str, set[int]] = {}
    for item, f in zip(items, fold, strict=True):
        by_page.setdefault(item.group, set()).add(f)
    assert all(len(f) == 1 for f in by_page.values())
    assert len(set(fold)) == 5
