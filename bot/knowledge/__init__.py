"""The help channel's knowledge base: bilingual topics in ``messages/kb/`` and an in-process
retriever that picks the topic a question is about, or abstains.

    from bot.knowledge import KnowledgeBase, Answer
    kb = KnowledgeBase.load(kb_dir, policy)          # once: ~1 s (jieba's dictionary)
    ans = kb.answer("社保卡丢了怎么办", admins=["U012"])  # then ~1 ms a question
    ans.topic, ans.alternatives                        # answered topic, close runner-up

    # What the administrators taught (database rows), counting at once:
    kb = kb.with_lessons(Lessons(phrasings=(TaughtPhrasing("…", "payback"),)))

Pure Python: no Slack, no database, no network, no model download.
"""

from bot.knowledge.kb import (
    DEFAULT_KB_DIR,
    REQUEST_KINDS,
    THRESHOLD,
    Answer,
    KnowledgeBase,
    KnowledgeBaseError,
    Topic,
)
from bot.knowledge.lessons import (
    LessonError,
    Lessons,
    TaughtPhrasing,
    TaughtTopic,
    lessons_toml,
    read_lessons,
)
from bot.knowledge.lessons import merge as merge_lessons
from bot.knowledge.text import detect_lang, to_simplified

__all__ = [
    "DEFAULT_KB_DIR",
    "REQUEST_KINDS",
    "THRESHOLD",
    "Answer",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "LessonError",
    "Lessons",
    "TaughtPhrasing",
    "TaughtTopic",
    "Topic",
    "detect_lang",
    "lessons_toml",
    "merge_lessons",
    "read_lessons",
    "to_simplified",
]
