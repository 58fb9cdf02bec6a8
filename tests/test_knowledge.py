"""The help channel's knowledge base and retriever (bot.knowledge): pure Python, no Slack."""

from __future__ import annotations

import dataclasses
import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import jieba
import pytest
import time_machine

from bot.domain.policy import load_policy
from bot.knowledge import (
    DEFAULT_KB_DIR,
    REQUEST_KINDS,
    THRESHOLD,
    Answer,
    KnowledgeBase,
    KnowledgeBaseError,
    detect_lang,
    to_simplified,
)
from bot.knowledge import kb as kb_module
from bot.knowledge.evaluate import (
    DEFAULT_TSV,
    EVAL_DIR,
    FROZEN_TSV,
    HOLDOUT3_TSV,
    HOLDOUT5_TSV,
    HOLDOUT6_TSV,
    HOLDOUT7_TSV,
    HOLDOUT8_TSV,
    HOLDOUT9_TSV,
    HOLDOUT10_TSV,
    HOLDOUT11_TSV,
    HOLDOUT12_TSV,
    HOLDOUT_TSV,
    evaluate,
    read_cases,
)
from bot.knowledge.text import MIN_WORD_FREQ, _dictionary, split_pinyin

REQUIRED_TOPICS = {
    "contribution-rates",
    "contribution-base",
    "base-declaration",
    "payment-deadline",
    "enrollment-new-hire",
    "leaving-job",
    "transfer",
    "payback",
    "retirement",
    "unemployment-benefits",
    "medical-reimbursement",
    "maternity",
    "work-injury",
    "si-card",
    "statement-query",
    "account-settlement",
    "complaint",
    "administrator",
    "flexible-employment",
    "social-insurance-basics",
    "medical-elsewhere",
    "personal-pension",
}
# What `python -m bot.knowledge.evaluate` reached at the shipped threshold, rounded down a
# little so that a harmless change does not trip them.
# Tuning set (tests/eval/questions.tsv):
MIN_ACCURACY = 0.965  # reached: 787/810 = 97.2 %
# Round 3 added 32 office and HR questions that share words with topics (start date, annual report…).
MIN_ABSTENTION = 0.94  # reached: 176/185 = 95.1 %
# Frozen set (tests/eval/frozen.tsv, tuned on since round 2), per language:
FROZEN_MIN_ACCURACY = {"zh": 0.88, "en": 0.86}  # reached: zh 69/77 = 89.6 %, en 77/88 = 87.5 %
FROZEN_MIN_ABSTENTION = 0.95  # reached: 43/44 = 97.7 %
FROZEN_MAX_WRONG_TOPIC = 0.035  # reached: 5/209 = 2.4 % of all questions answered with a wrong topic
FROZEN_MIN_OFFERED = 0.95  # reached: 158/165 = 95.8 % with the right topic answered or offered
# Round 2's holdout set (tests/eval/holdout.tsv; tuned on since round 3), per language:
HOLDOUT_MIN_ACCURACY = {"zh": 0.9, "en": 0.81}  # reached: zh 55/60 = 91.7 %, en 66/80 = 82.5 %
HOLDOUT_MIN_ABSTENTION = 0.95  # reached: 32/33 = 97.0 %
HOLDOUT_MAX_WRONG_TOPIC = 0.06  # reached: 9/173 = 5.2 % of all questions answered with a wrong topic
HOLDOUT_MIN_OFFERED = 0.925  # reached: 131/140 = 93.6 % with the right topic answered or offered
# Round 3's holdout set (tests/eval/holdout3.tsv; its misses looked at and tuned on since round 4;
# before round 4: zh 86.7 %, en 83.7 %, 92.5 % declined, 4.8 % wrong):
HOLDOUT3_MIN_ACCURACY = {"zh": 0.95, "en": 0.94}  # reached: zh 116/120 = 96.7 %, en 88/92 = 95.7 %
HOLDOUT3_MIN_ABSTENTION = 0.97  # reached: 40/40 = 100 %
HOLDOUT3_MAX_WRONG_TOPIC = 0.02  # reached: 3/252 = 1.2 % of all questions answered with a wrong topic
HOLDOUT3_MIN_OFFERED = 0.97  # reached: 208/212 = 98.1 % with the right topic answered or offered
# Questions typed in pinyin are Chinese askers, labelled zh (answered in English before round 3).
HOLDOUT3_MAX_WRONG_LANG = 0


@pytest.fixture(scope="module")
def policy():
    return load_policy()


@pytest.fixture(scope="module")
def kb(policy):
    return KnowledgeBase.load(DEFAULT_KB_DIR, policy, taught=False)


# --- language and text -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("社保卡丢了怎么办", "zh"),
        ("How do I transfer my pension?", "en"),
        ("我的 pension 怎么转?", "zh"),
        ("社會保險", "zh"),
        ("12333", "en"),
        ("", "en"),
    ],
)
def test_the_language_is_chinese_when_there_is_any_chinese_character(text, lang):
    assert detect_lang(text) == lang


def test_traditional_characters_become_simplified():
    assert to_simplified("社會保險卡遺失了怎麼補辦") == "社会保险卡遗失了怎么补办"
    assert to_simplified("繳費基數 pension 123") == "缴费基数 pension 123"


def test_a_question_in_traditional_characters_finds_the_same_topic(kb):
    simplified = kb.answer("社保卡遗失怎么补办")
    traditional = kb.answer("社保卡遺失怎麼補辦")
    assert simplified.topic == traditional.topic == "si-card"
    assert traditional.lang == "zh"


def test_the_answer_is_in_the_language_of_the_question_unless_the_caller_says(kb):
    assert kb.answer("社保卡丢了怎么办").lang == "zh"
    assert kb.answer("I lost my social security card").lang == "en"
    forced = kb.answer("社保卡丢了怎么办", lang="en")
    assert forced.lang == "en" and forced.topic == "si-card"
    assert "card" in forced.text and "社保卡全国统一" not in forced.text


@pytest.mark.parametrize(
    ("question", "topic", "read_as"),
    [
        ("shebaoka diule", "si-card", "社保卡丢了"),
        ("Shiyejin zenme lingqu?", "unemployment-benefits", "失业金怎么领取?"),
        ("tuixiu nianling shi duoshao", "retirement", "退休年龄 shi 多少"),  # 是: no word of the KB
    ],
)
def test_a_question_typed_in_pinyin_is_read_as_chinese_and_answered_in_chinese(kb, question, topic, read_as):
    assert kb.analyse(question).text == read_as
    answer = kb.answer(question)
    assert (answer.topic, answer.lang) == (topic, "zh")


def test_pinyin_naming_another_domain_gets_its_pointer_in_chinese(kb):
    answer = kb.answer("gongjijin zenme tiqu")  # 公积金怎么提取
    assert (answer.topic, answer.out_of_scope, answer.lang) == (None, "housing-fund", "zh")
    assert "公积金" in answer.text


@pytest.mark.parametrize(
    "question",
    ["hello bot", "china pension", "he ban", "How to report company for not paying shebao", "a"],
)
def test_english_is_not_taken_for_pinyin(kb, question):
    assert kb.answer(question).lang == "en"


@pytest.mark.parametrize(
    ("question", "topic"),
    [("社保断了三个月还能补吗", "payback"), ("社保卡丢了怎么补办", "si-card")],
)
def test_a_lone_bu_is_a_back_payment_but_a_card_is_still_replaced(kb, question, topic):
    # _lexicon.toml's word_rewrites: jieba leaves 补 alone in 能补吗 and cuts 补办 whole.
    assert kb.answer(question).topic == topic


@pytest.fixture(scope="module")
def bm25_kb(policy):
    """BM25 alone, without the trained classifier (as before it)."""
    return KnowledgeBase.load(DEFAULT_KB_DIR, policy, taught=False, classifier=False)


def test_office_talk_that_meets_a_topic_only_weakly_gets_no_social_insurance_answer(kb, bm25_kb, monkeypatch):
    # 公司 and 上班 meet the work-injury topic; nothing names social insurance.
    question = "公司星期天上班吗"
    assert kb.answer(question).topic is None
    assert bm25_kb.answer(question).topic is None
    monkeypatch.setattr(kb_module, "UNNAMED_THRESHOLD", THRESHOLD)
    assert bm25_kb.answer(question).topic == "work-injury"  # what it answered before


def test_a_question_naming_social_insurance_is_answered_below_the_unnamed_bar(kb):
    answer = kb.answer("社会保障卡没了怎么办理")
    assert answer.topic == "si-card"


def test_pinyin_splits_into_the_fewest_syllables():
    assert split_pinyin("shebaoka") == ("she", "bao", "ka")
    assert split_pinyin("xi'an") == ("xi", "an")
    assert split_pinyin("zhuangshuang") == ("zhuang", "shuang")
    assert split_pinyin("pension") is None
    assert split_pinyin("") is None


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("退修年龄延迟了多少", "retirement"),  # homophone typo (退休)
        ("医保报消怎么弄", "medical-reimbursement"),  # 报销
        ("whats the pention rate for employees", "contribution-rates"),  # misspelt
        ("my contribuion base is wrong", "base-declaration"),
        ("<@U0BOT> 社保卡丢了怎么办 :sob:", "si-card"),  # Slack markup is ignored
        ("我的 pension 可以转移到上海吗", "transfer"),  # mixed languages
        ("ＳＩ card lost", "si-card"),  # full-width letters
    ],
)
def test_typos_markup_and_mixed_languages_still_find_the_topic(kb, question, topic):
    assert kb.answer(question).topic == topic


def test_a_mixed_language_pension_transfer_is_at_least_offered(kb, bm25_kb):
    # BM25 alone answers it with transfer; the classifier reads "pension" as retirement, so
    # the mix at least offers transfer beside it (round 5: 转到 is a transfer word, and the
    # mix answers transfer too).
    question = "我的 pension 可以转到上海吗"
    assert bm25_kb.answer(question).topic == "transfer"
    answer = kb.answer(question)
    assert "transfer" in (answer.topic, *answer.alternatives)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("五险一金都包括什么", "social-insurance-basics"),
        ("停交社保有什么影响", "leaving-job"),  # 停交 = 停缴
        ("生娃能报多少", "maternity"),  # 生娃 = 生孩子
        ("我想退保", "account-settlement"),
        ("刚入职多久能上社保", "enrollment-new-hire"),  # 上社保 = 交社保
        ("公司不给交社保怎么办", "complaint"),
        ("My company dont pay my shebao", "complaint"),  # pinyin, and a negation kept
        ("What if the employer fails to pay the social security for us?", "complaint"),
        ("how to check the endowment insurance paid by my unit", "statement-query"),  # machine translation
        ("at what age can women draw the old-age insurance?", "retirement"),
        ("社保卡掉咗點算", "si-card"),  # Cantonese, traditional characters
    ],
)
def test_colloquial_regional_and_translated_words_find_the_topic(kb, question, topic):
    assert kb.answer(question).topic == topic


# --- the topics ----------------------------------------------------------------------------


def test_every_required_topic_is_there_with_titles_in_both_languages(kb):
    assert set(kb.topics) >= REQUIRED_TOPICS
    for topic in kb.topics.values():
        assert topic.title("zh") and topic.title("en") and topic.title_zh != topic.title_en
        assert topic.request_kind is None or topic.request_kind in REQUEST_KINDS


@pytest.mark.parametrize("topic_id", sorted(REQUIRED_TOPICS))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_answer_renders_short_with_sources(kb, topic_id, lang):
    answer = kb.render(topic_id, lang)
    assert answer.topic == topic_id and answer.lang == lang
    assert answer.title == kb.topics[topic_id].title(lang)
    assert 40 < len(answer.text) < 1500
    assert answer.sources and all(s.strip() for s in answer.sources)
    assert "{{" not in answer.text and "{%" not in answer.text
    chinese = sum("\u4e00" <= ch <= "\u9fff" for ch in answer.text)
    if lang == "en":  # English, apart from the Chinese names of apps and offices
        assert chinese < len(answer.text) * 0.05
    else:
        assert chinese > len(answer.text) * 0.3


@pytest.mark.parametrize(
    ("topic_id", "kind"),
    [
        ("payback", "payback"),
        ("complaint", "complaint"),
        ("si-card", "card"),
        ("transfer", "transfer"),
        ("retirement", "retire"),
        ("unemployment-benefits", "unemployment"),
        ("medical-reimbursement", "medical"),
        ("account-settlement", "settle"),
        ("enrollment-new-hire", "change"),
        ("maternity", None),
        ("medical-elsewhere", "medical"),
        ("flexible-employment", None),
    ],
)
def test_answers_point_to_the_request_that_fits(kb, topic_id, kind):
    answer = kb.render(topic_id, "zh")
    assert answer.request_kind == kind
    if kind:
        assert f"`/si {kind}`" in answer.text


def test_figures_come_from_the_policy(kb, policy):
    today = time_machine.travel(datetime(2026, 11, 30, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
    today.start()
    rates_zh = kb.render("contribution-rates", "zh").text
    rates_en = kb.render("contribution-rates", "en").text
    for text in (rates_zh, rates_en):
        assert "16%" in text and "8%" in text  # pension, employer and employee
        assert f"{policy.employer_rate.normalize()}%" in text and "10.5%" in text
    assert policy.summary_zh in rates_zh and policy.summary in rates_en
    base = kb.render("contribution-base", "en").text
    # This month's period, 2026-07..2027-06 (Shanghai's 2026 notice, DOMAIN.md §2), marked
    # to be checked: the notice was found by its address, not read.
    assert "7,546" in base and "37,731" in base and "2026-07 to 2027-06" in base
    assert "to be checked against the local HRSS notice" in base
    assert "t0035_1443203" in " ".join(kb.render("contribution-base", "en").sources)
    rates = kb.render("contribution-rates", "en").text
    assert "Work injury: employer 0.16%, employee 0% (the unit's own rate, see below)\n" in rates
    deadlines = kb.render("payment-deadline", "zh").text
    assert f"{policy.change_cutoff_day} 日" in deadlines and f"{policy.payment_day} 日" in deadlines
    assert "0.05%" in deadlines
    assert "7月1日" in kb.render("base-declaration", "zh").text
    assert "36" in kb.render("payback", "en").text  # payback_max_months_back
    flexible = kb.render("flexible-employment", "en")
    assert "7,546–37,731 yuan" in flexible.text and "20% for pension and 10% for medical" in flexible.text
    assert policy.flexible_rates_source in flexible.sources
    assert "养老 20%、医疗 10%" in kb.render("flexible-employment", "zh").text
    assert "（上海为缴费基数的2%）" in kb.render("medical-reimbursement", "zh").text
    today.stop()


def test_answers_quoting_the_floor_say_when_no_period_covers_the_month(kb):
    # 2027-07 is after the last period of the shipped file (2026-07..2027-06).
    with time_machine.travel(datetime(2027, 7, 5, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        base = kb.render("contribution-base", "en").text
        declaration = kb.render("base-declaration", "zh").text
    assert "no figures yet for the base year of 2027-07" in base and "7,546" in base
    assert "还没有 2027-07 所属缴费年度的数据" in declaration


def test_the_payment_deadline_answer_moves_holiday_deadlines_later(kb):
    # 税收征收管理法实施细则 Art. 109 (DOMAIN.md §16): the first working day after the holiday;
    # the late fee from the day after it; the 20th and 25th are local practice.
    en = kb.render("payment-deadline", "en")
    assert "first working day after the holiday" in en.text and "*day after* the deadline" in en.text
    assert "local center's practice, not statute" in en.text
    assert "税收征收管理法实施细则 Art. 109" in en.sources
    assert "顺延到节假日后的第一个工作日" in kb.render("payment-deadline", "zh").text


@pytest.mark.parametrize(
    ("topic", "lang", "says", "never"),
    [
        # Item 3: two ways to end pension insurance before retirement age (人社部令第13号 Art. 3, 6).
        (
            "account-settlement",
            "en",
            "settles abroad and gives up Chinese nationality",
            "cannot end their basic pension insurance and take",
        ),
        (
            "account-settlement",
            "zh",
            "出国（境）定居并放弃中国国籍",
            "不能终止基本养老保险关系、办理“退保”。",
        ),
        # Item 4: the business licence replaced the registration certificate (人社厅发〔2016〕130号).
        ("administrator", "zh", "营业执照（载有统一社会信用代码", "社会保险登记证、新旧经办人"),
        (
            "administrator",
            "en",
            "business licence (with the unified social credit code",
            "registration certificate, the old and new",
        ),
        # Item 5: the Confirm / Dispute DM is built (issue 11, tests/test_bases_e2e.py): the
        # answer says what it really does, and no longer sends a wrong base to /si change.
        (
            "base-declaration",
            "en",
            "Dispute opens a form (what is wrong, the figure you expect)",
            "/si change",
        ),
        ("base-declaration", "zh", "提出异议会打开一张表，写明哪里不对、你认为应是多少", "/si change"),
        ("base-declaration", "en", "what you and the company pay more or get back", "ask the administrator"),
        # Item 7: local practice says so.
        ("maternity", "en", "*local practice*, not the text of the law", "(Art. 56); if"),
        ("maternity", "zh", "这是*地方做法*", "× 产假天数（第56条）"),
        # Item 8: WII Art. 17 ¶4 and the extension.
        ("work-injury", "en", "*the company's to pay* (Art. 17 ¶4)", "§"),
        ("work-injury", "zh", "经人社部门同意可以适当延长", "§"),
        # Item 2: deferral agreed a month before the statutory date.
        ("retirement", "en", "at least 1 month before the statutory date", "written notice 3 months ahead"),
        # Item 6: months carried over, and every contract expiry.
        (
            "unemployment-benefits",
            "en",
            "even with under a year of new contributions",
            "contract not renewed by the company",
        ),
    ],
)
def test_answers_say_what_the_statutes_say(kb, topic, lang, says, never):
    text = kb.render(topic, lang).text
    assert says in text and never not in text


def test_a_changed_policy_changes_the_answers(policy):
    rates = tuple(
        dataclasses.replace(r, employer=Decimal("14"))
        if r.name == "pension"
        else dataclasses.replace(r, employee=Decimal("2.5"))
        if r.name == "medical"
        else r
        for r in policy.rate_schedule
    )
    periods = tuple(dataclasses.replace(p, floor=Decimal("5000")) for p in policy.base_periods)
    other = dataclasses.replace(policy, base_periods=periods, rate_schedule=rates, summary="Testville 2030")
    kb = KnowledgeBase.load(DEFAULT_KB_DIR, other)
    assert "5,000" in kb.render("contribution-base", "en").text
    text = kb.render("contribution-rates", "en").text
    assert "employer 14%" in text and "Testville 2030" in text
    # What goes into the medical personal account is the employee's medical rate.
    account = kb.render("medical-reimbursement", "en").text
    assert "own contribution goes into it (2.5% of the base in Testville 2030;" in account
    assert "for *Testville 2030* now 5,000–" in kb.render("flexible-employment", "en").text
    # A policy without flexible workers' rates: the answer says how it works, without figures.
    unknown = dataclasses.replace(other, flexible_pension_percent=None, flexible_medical_percent=None)
    flexible = KnowledgeBase.load(DEFAULT_KB_DIR, unknown).render("flexible-employment", "en").text
    assert "pay the whole rate yourself." in flexible and "for pension" not in flexible


def test_the_administrator_topic_names_the_filed_administrators(kb, policy):
    answer = kb.answer("who is the social insurance administrator?", admins=["U01ADMIN", "U02ADMIN"])
    assert answer.topic == "administrator"
    assert "<@U01ADMIN>" in answer.text and "<@U02ADMIN>" in answer.text
    assert policy.contact["phone"] in answer.text
    nobody = kb.answer("社保专管员是谁", admins=[])
    assert "<@" not in nobody.text and "HR" in nobody.text
    hostile = kb.render("administrator", "en", admins=["<!channel>"])
    assert "<!channel>" not in hostile.text


def test_sources_come_without_duplicates_and_include_the_policys(kb, policy):
    sources = kb.render("contribution-rates", "zh").sources
    assert len(sources) == len(set(sources))
    assert "国办发〔2019〕13号" in sources
    figures = policy.period_on(datetime.now(ZoneInfo("Asia/Shanghai")).date())
    assert figures.period.source in kb.render("contribution-base", "zh").sources


# --- deciding what to say -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("我想补缴前几个月漏缴的社保，怎么办？", "payback"),
        ("How do I replace a lost social security card?", "si-card"),
        ("社保缴费比例是多少？", "contribution-rates"),
        ("生孩子的生育津贴怎么算？", "maternity"),
        ("工伤怎么认定？", "work-injury"),
    ],
)
def test_a_clear_question_gets_its_topic(kb, question, topic):
    answer = kb.answer(question)
    assert answer.topic == topic
    assert answer.score >= THRESHOLD and 0 < answer.score <= 1
    assert not (answer.escalate or answer.quiet or answer.out_of_scope)
    assert answer.text and answer.title and answer.closest == topic


@pytest.mark.parametrize(
    ("question", "domain", "word"),
    [
        ("住房公积金每个月交多少？", "housing-fund", "公积金"),
        ("公积金怎么转移到别的城市", "housing-fund", "公积金"),
        ("How is individual income tax calculated?", "tax", "tax"),
        ("专项附加扣除怎么填", "tax", "个人所得税"),
        ("年假有几天", "hr", "HR"),
        ("公司买的商业保险怎么理赔", "commercial-insurance", "商业保险"),
        # Round 6: holdout5's kinds of miss, in paraphrases written here (none of its questions).
        # Taiwan's schemes name 退休 but are not the mainland's retirement.
        ("勞保老年年金要怎麼申請", "outside-mainland", "台湾"),
        ("勞工退休金自提6%划算嗎", "outside-mainland", "台湾"),
        ("國民年金的保費繳不起怎麼辦", "outside-mainland", "台湾"),
        ("Will my overseas health insurance pay for a clinic visit?", "commercial-insurance", "commercial"),
        ("我的工资卡丢了怎么挂失", "banking", "银行"),
        ("How can a foreigner open a bank account here?", "banking", "bank"),
        ("公司裁员给n+1，这个n怎么算", "hr", "HR"),
        ("遣散费一般给几个月", "hr", "HR"),
        # Round 7: holdout6's kinds (health, legal, what insurers sell, foreign schemes).
        ("急性肠胃炎一般有哪些症状", "health", "医生"),
        ("What are the common side effects of antibiotics?", "health", "doctor"),
        ("离婚以后房子归谁", "legal", "律师"),
        ("My landlord kept my deposit when I moved out", "legal", "lawyer"),
        ("年金险到底值不值得买", "commercial-insurance", "商业保险"),
        ("商业医保能报销门诊吗", "commercial-insurance", "商业保险"),
        ("Should I buy term life or whole life insurance?", "commercial-insurance", "commercial"),
        ("When do I become eligible for Medicare?", "outside-mainland", "mainland"),
        # Round 10: holdout9's kinds, in questions written here. A social-insurance word inside
        # a marker (商业养老, "retirement plan") does not name social insurance; family planning.
        ("商业养老保险值得买吗", "commercial-insurance", "商业保险"),
        ("Is an employer-sponsored retirement plan worth joining?", "commercial-insurance", "commercial"),
        ("独生子女奖励退休时找谁领", "family-planning", "卫生健康"),
    ],
)
def test_a_recognised_other_domain_gets_a_pointer_elsewhere(kb, question, domain, word):
    answer = kb.answer(question)
    assert answer.topic is None and answer.out_of_scope == domain
    assert word in answer.text and not answer.quiet and not answer.escalate
    assert answer.request_kind is None
    assert domain in kb.out_of_scope_domains and domain not in kb.topics


def test_a_social_insurance_word_counts_only_outside_another_domains_marker(kb):
    # Round 10: 养老 inside 商业养老 names no social insurance; 社保 beside it does, so the
    # topics answer unless the domain outscores them (MARKED_OVER_TOPIC).
    analyzer = kb._analyzer
    markers = kb._any_marker
    assert not analyzer.names_social_insurance("商业养老值得买吗", markers)
    assert analyzer.names_social_insurance("商业养老值得买吗")
    assert analyzer.names_social_insurance("社保和商业养老哪个好", markers)
    assert kb.answer("社保和商业养老哪个好").topic is not None


# Round 6: holdout5's kinds of miss, in paraphrases written here (none of its questions).
@pytest.mark.parametrize(
    ("question", "topic", "lang", "words"),
    [
        ("招了几个在校实习生，要给他们交社保吗", "enrollment-new-hire", "zh", "第12条"),
        ("Do we have to pay social insurance for student interns?", "enrollment-new-hire", "en", "Art. 12"),
        ("农村老人的城乡居民养老金怎么领", "retirement", "zh", "城乡居民养老保险"),
        ("How does someone who never had an employer get the residents' pension?", "retirement", "en",
         "Residents' pension"),
        ("公司要注销了，员工的社保怎么处理", "leaving-job", "zh", "第57条"),
        ("Our company is closing down: what happens to the staff's social insurance?", "leaving-job", "en",
         "Art. 57"),
    ],
)  # fmt: skip
def test_round_6_sub_answers_are_found_and_cite_their_source(kb, question, topic, lang, words):
    answer = kb.answer(question)
    assert answer.topic == topic and answer.lang == lang
    assert words in answer.text


# Round 7: holdout6's kinds of miss (real askers: search queries, insurance and legal Zhidao
# titles, US insurance questions, long consultations), in paraphrases written here.
@pytest.mark.parametrize(
    ("question", "tail"),
    [
        ("我在饭店当了八年厨师，老板一直没给上社保，现在饭店关门了，我还能让他补吗？",
         "现在饭店关门了，我还能让他补吗"),
        # Chinese only: English commas end fewer clauses (cross-validation, round 7).
        ("I paid social insurance in Suzhou for six years. Now I am moving to Chengdu, what happens to it?",
         None),
        ("社保断了怎么办", None),  # short: the question itself
        ("我在老家交了十几年的新农合现在到城里上班以后这个还要不要接着交", None),  # one clause
    ],
)  # fmt: skip
def test_a_long_question_is_also_read_by_its_final_question(question, tail):
    assert kb_module.final_question(question) == tail


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        # Round 6: holdout5's kinds of miss.
        ("社保扣款失败了，还会再扣吗", "payment-deadline"),
        ("账户余额不足，这个月社保没扣上", "payment-deadline"),
        ("What is social insurance, and why does it matter?", "social-insurance-basics"),
        ("social contributions and the housing fund: what are they?", "social-insurance-basics"),
        ("my employer went bankrupt, what happens to my social insurance?", "leaving-job"),
        # Round 7: holdout6's kinds of miss.
        # Long consultations: the story first, the question last.
        ("我在饭店当了八年厨师，老板一直没给上社保，现在饭店关门了，我还能让他补吗？", "payback"),
        # Colloquial "buying" insurance is paying into it; whether one is insured is the record.
        ("养老保险个人怎么买", "flexible-employment"),
        ("想查一下自己参没参保", "statement-query"),
        # Round 8: holdout7's kinds of miss.
        # A medicine or treatment asked about without naming a scheme; residents' cover by its old name.
        ("这种降糖药在医保报销目录里吗", "medical-reimbursement"),
        ("新农合住院报销比例多少", "medical-reimbursement"),
        ("退休职工医保卡每个月进多少钱", "medical-reimbursement"),
        # Using the card in another province is registering first, not reimbursement in general.
        ("医保卡到外省还能刷吗", "medical-elsewhere"),
        # Death: of the insured (the personal account), at work (the work injury fund).
        ("老人去世了养老保险个人账户的钱谁领", "account-settlement"),
        ("工伤死亡家属能领什么补助", "work-injury"),
        ("职工社保和居民社保有什么不同", "social-insurance-basics"),
        ("就业创业证去哪办", "unemployment-benefits"),
    ],
)
def test_each_rounds_words_find_the_topic(kb, question, topic):
    """Paraphrases, written here, of the kinds of miss each round fixed (never a holdout question)."""
    answer = kb.answer(question)
    assert answer.topic == topic or topic in answer.alternatives


@pytest.mark.parametrize(
    ("topic", "zh", "en", "source"),
    [
        ("work-injury", "工伤保险条例第39条", "Regulations Art. 39", "33, 39, 62"),
        ("social-insurance-basics", "国发〔2016〕3号", "Guofa [2016] No. 3", "整合城乡居民基本医疗保险制度"),
        ("medical-reimbursement", "用药管理暂行办法", "Drug Use in Basic", "国家医疗保障局令第1号"),
        ("medical-reimbursement", "国办发〔2021〕14号", "Guobanfa [2021] No. 14", "国办发〔2021〕14号"),
    ],
)
def test_round_8_sub_answers_cite_their_source(kb, topic, zh, en, source):
    # Death at work, employees' and residents' schemes, the drug list and the personal account.
    assert zh in kb.render(topic, "zh").text
    assert en in kb.render(topic, "en").text
    assert any(source in cited for cited in kb.render(topic, "zh").sources)


def test_a_question_that_names_social_insurance_is_not_sent_elsewhere(kb):
    answer = kb.answer("社保和公积金一共扣多少比例")
    assert answer.out_of_scope is None
    # Answered, or (too close to call) offered with the other right topic: never the pointer.
    assert answer.topic in ("contribution-rates", "social-insurance-basics") or answer.alternatives[0] in (
        "contribution-rates",
        "social-insurance-basics",
    )


@pytest.mark.parametrize(
    "chatter",
    ["thanks all!", "谢谢大家", "good morning everyone", "lol", "今天中午吃什么", "收到", "wifi 密码是多少",
     "nice work team", "happy birthday Lisa!", "", "   ", ":tada:"],
)  # fmt: skip
def test_chatter_gets_nothing(kb, chatter):
    answer = kb.answer(chatter)
    assert answer.quiet and answer.topic is None and not answer.escalate
    assert answer.text == "" and answer.out_of_scope is None


@pytest.mark.parametrize(
    "question", ["社保？", "我有个社保问题想问一下", "公司团建去哪里比较好，顺便问下社保卡能不能买机票？"]
)
def test_a_vague_social_insurance_question_goes_to_a_human(kb, question):
    answer = kb.answer(question)
    assert answer.escalate and answer.topic is None and not answer.quiet
    assert answer.text == "" and answer.score < kb.threshold


def test_an_answer_is_immutable(kb):
    answer = kb.answer("社保卡丢了怎么办")
    assert isinstance(answer, Answer)
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.topic = "payback"  # type: ignore[misc]


# --- loading --------------------------------------------------------------------------------


def test_the_default_folder_is_messages_kb_in_the_repository():
    assert Path(__file__).resolve().parents[1] / "messages" / "kb" == DEFAULT_KB_DIR
    assert KnowledgeBase.load().topics.keys() >= REQUIRED_TOPICS


def _copy_kb(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    folder.mkdir()
    for path in DEFAULT_KB_DIR.glob("*.toml"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('id = "payback"', 'id = "paybacks"'), "differs from the file name"),
        (lambda t: t.replace('request_kind = "payback"', 'request_kind = "refund"'), "request_kind"),
        (
            lambda t: t.replace("{{ policy.late_fee_daily_percent }}", "{{ policy.no_such_thing }}"),
            "does not render",
        ),
        (lambda t: t.replace("answer_en = '''", "answer_english = '''"), "answer_en"),
        (
            lambda t: t.replace("{{ policy.late_fee_daily_percent }}", "{{ policy.late_fee_daily_percent"),
            "template",
        ),
        (lambda t: t + "\nnot toml at all", "not valid TOML"),
    ],
)
def test_a_broken_topic_file_stops_the_load_and_says_which(tmp_path, policy, change, message):
    folder = _copy_kb(tmp_path)
    path = folder / "payback.toml"
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=message) as excinfo:
        KnowledgeBase.load(folder, policy)
    assert "payback" in str(excinfo.value)


# --- the evaluation set ---------------------------------------------------------------------


def test_the_evaluation_sets_are_large_labelled_and_name_only_real_topics(kb):
    cases = read_cases(DEFAULT_TSV)
    assert len(cases) >= 200
    assert sum(not c.in_scope for c in cases) >= 40
    assert {c.lang for c in cases} == {"zh", "en"}
    for case in (*cases, *read_cases(FROZEN_TSV), *read_cases(HOLDOUT_TSV), *read_cases(HOLDOUT3_TSV)):
        assert set(case.expected) <= set(kb.topics), case
    # Held out: no evaluation question is one of the knowledge base's own sample questions.
    topics = (*kb.topics.values(), *kb.out_of_scope_domains.values())
    asks = {kb.analyse(a).text.strip(" ?？!！。") for t in topics for a in t.asks}
    copied = [c.question for c in cases if kb.analyse(c.question).text.strip(" ?？!！。") in asks]
    assert not copied


def test_the_retriever_meets_its_figures_on_the_evaluation_set(kb):
    report = evaluate(kb, read_cases(DEFAULT_TSV))
    misses = "\n".join(f"{m.expected} <- {m.got} {m.score}: {m.question}" for m in report.misses)
    assert report.accuracy >= MIN_ACCURACY, misses
    assert report.abstention >= MIN_ABSTENTION, misses
    assert report.wrong_lang == 0


@pytest.mark.parametrize(
    "path, accuracy, abstention, wrong_topic, offered, wrong_lang",
    [
        (
            FROZEN_TSV,
            FROZEN_MIN_ACCURACY,
            FROZEN_MIN_ABSTENTION,
            FROZEN_MAX_WRONG_TOPIC,
            FROZEN_MIN_OFFERED,
            0,
        ),
        (
            HOLDOUT_TSV,
            HOLDOUT_MIN_ACCURACY,
            HOLDOUT_MIN_ABSTENTION,
            HOLDOUT_MAX_WRONG_TOPIC,
            HOLDOUT_MIN_OFFERED,
            0,
        ),
        (
            HOLDOUT3_TSV,
            HOLDOUT3_MIN_ACCURACY,
            HOLDOUT3_MIN_ABSTENTION,
            HOLDOUT3_MAX_WRONG_TOPIC,
            HOLDOUT3_MIN_OFFERED,
            HOLDOUT3_MAX_WRONG_LANG,
        ),
    ],
    ids=["frozen", "holdout", "holdout3"],
)
def test_the_retriever_meets_its_figures_on_the_held_out_sets(
    kb, path, accuracy, abstention, wrong_topic, offered, wrong_lang
):
    # Figures only, no misses: a blind holdout set's are not looked at while working (tests/eval/README.md).
    # The report's figures are copied out first: a failing assert must not print its misses.
    report = evaluate(kb, read_cases(path))
    langs = {lang: row.accuracy for lang, row in report.langs.items()}
    figures = (report.abstention, report.wrong_rate, report.offered_rate, report.wrong_lang)
    del report
    for lang, floor in accuracy.items():
        assert langs[lang] >= floor, lang
    reached_abstention, reached_wrong, reached_offered, reached_wrong_lang = figures
    assert reached_abstention >= abstention
    assert reached_wrong <= wrong_topic
    assert reached_offered >= offered
    assert reached_wrong_lang <= wrong_lang


@pytest.mark.parametrize(
    "path, english_share, earlier",
    [(FROZEN_TSV, 0.4, (DEFAULT_TSV,)), (HOLDOUT_TSV, 0.5, (DEFAULT_TSV, FROZEN_TSV))],
    ids=["frozen", "holdout"],
)
def test_the_held_out_sets_are_real_questions_from_public_pages_in_both_languages(
    path, english_share, earlier
):
    cases = read_cases(path)
    assert len(cases) >= 150
    assert sum(c.lang == "en" for c in cases) >= english_share * len(cases)
    assert sum(not c.in_scope for c in cases) >= 30
    assert all(c.source.startswith(("http://", "https://")) for c in cases)
    # No question of an earlier set, and (the holdout) no page the frozen set used.
    others = [c for p in earlier for c in read_cases(p)]
    assert not [c.question for c in cases if c.question in {o.question for o in others}]
    assert not {c.source for c in cases} & {o.source for o in others if o.source}


def test_the_third_held_out_set_covers_every_topic_both_languages_and_copies_no_earlier_set(kb):
    cases = read_cases(HOLDOUT3_TSV)
    assert len(cases) >= 150
    assert sum(c.lang == "en" for c in cases) >= 0.4 * len(cases)
    assert sum(not c.in_scope for c in cases) >= 30
    assert {c.expected[0] for c in cases if c.in_scope} == set(kb.topics)
    # Written before round 3 tuned anything, and said so on every row.
    assert all(c.source.startswith("written by kb3 before tuning") for c in cases)
    others = {c.question for p in (DEFAULT_TSV, FROZEN_TSV, HOLDOUT_TSV) for c in read_cases(p)}
    assert not [c.question for c in cases if c.question in others]


@pytest.mark.parametrize(
    ("path", "size", "out_of_scope", "english"),
    [
        (HOLDOUT5_TSV, 150, 40, 0.4),
        (HOLDOUT6_TSV, 100, 25, 0.1),
        (HOLDOUT7_TSV, 100, 25, 0.1),
        (HOLDOUT8_TSV, 100, 25, 0.1),
        (HOLDOUT9_TSV, 100, 25, 0.1),
        (HOLDOUT10_TSV, 120, 35, 0.1),
        (HOLDOUT11_TSV, 85, 35, 0.15),
        (HOLDOUT12_TSV, 30, 15, 0.0),
    ],
    ids=lambda value: value.stem if isinstance(value, Path) else None,
)
def test_each_later_held_out_set_is_real_questions_no_other_set_used(path, size, out_of_scope, english):
    # Structure only (tests/eval/README.md): the bot's answers on it are not looked at here.
    cases = read_cases(path)
    assert len(cases) >= size
    assert sum(c.lang == "en" for c in cases) >= english * len(cases)
    assert sum(not c.in_scope for c in cases) >= out_of_scope
    assert all(c.source.startswith(("http://", "https://")) for c in cases)
    others = [c for p in sorted(EVAL_DIR.glob("*.tsv")) if p != path for c in read_cases(p)]
    assert not [c.question for c in cases if c.question in {o.question for o in others}]
    assert not {c.source for c in cases} & {o.source for o in others if o.source}


def test_only_the_rounds_blind_set_is_hidden_and_the_seen_ones_are_learnt_from():
    """holdout12 is round 12's blind set: its misses hidden, never learnt from; holdout5 to
    holdout11, whose misses were shown when their rounds were done, are tuning sets (holdout11,
    round 11's, since round 12); no blind set is ever learnt from."""
    from bot.knowledge import crossval
    from bot.knowledge import evaluate as evaluate_module

    assert set(evaluate_module.BLIND) == {"holdout12"}
    assert evaluate_module.SETS["holdout12"] == HOLDOUT12_TSV
    assert evaluate_module.SETS["holdout11"] == HOLDOUT11_TSV
    assert evaluate_module.SETS["holdout10"] == HOLDOUT10_TSV
    assert not evaluate_module.BLIND & set(crossval.TRAIN_SETS)
    assert {"holdout5", "holdout6", "holdout7", "holdout8", "holdout9", "holdout10", "holdout11"} <= set(
        crossval.TRAIN_SETS
    )
    out = io.StringIO()
    empty = evaluate_module.Report()  # no answers looked at here
    named = [
        ("holdout6", empty),
        ("holdout8", empty),
        ("holdout9", empty),
        ("holdout10", empty),
        ("holdout11", empty),
        ("holdout12", empty),
    ]
    evaluate_module.print_reports(named, out, blind=evaluate_module.BLIND)
    assert "holdout12: confusion pairs and misses hidden" in out.getvalue()
    assert "holdout11: confusion pairs and misses hidden" not in out.getvalue()
    assert "holdout10: confusion pairs and misses hidden" not in out.getvalue()
    assert "holdout9: confusion pairs and misses hidden" not in out.getvalue()
    assert "holdout8: confusion pairs and misses hidden" not in out.getvalue()
    assert "holdout6: confusion pairs and misses hidden" not in out.getvalue()


def test_the_compact_dictionary_answers_as_jiebas_own(tmp_path):
    """Words and prefixes with jieba's counts (a repeated word: its last count), rare words
    left out but counted in the total, and a word added later found with its prefixes."""
    lines = ["社保 900 n", "社保卡 50 n", "社 3 n", "罕见词 2 n", "社保 1000 n", "医疗保险 40 n", "保险 70 n"]
    path = tmp_path / "dict.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ours, total = _dictionary(path)
    kept = "\n".join(line for line in lines if int(line.split()[1]) >= MIN_WORD_FREQ)
    theirs, _ = jieba.Tokenizer.gen_pfdict(io.BytesIO(kept.encode()))

    assert total == sum(int(line.split()[1]) for line in lines)
    for word in {*theirs, "社", "罕见词", "罕", "险", "不在词典"}:
        assert (word in ours) == (word in theirs), word
        assert ours.get(word) == theirs.get(word), word
    assert ours["社保"] == 1000 and ours["医疗"] == 0
    with pytest.raises(KeyError):
        ours["罕见词"]

    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ, tokenizer.total, tokenizer.initialized = ours, total, True
    tokenizer.add_word("缴费基数", 30)
    assert ours["缴费基数"] == 30 and "缴费基" in ours and ours.get("缴费基") == 0
    assert tokenizer.lcut("缴费基数", HMM=False) == ["缴费基数"]
