"""Every word in messages/: both languages have every string, every template renders
valid Block Kit within Slack's limits, and user input cannot break out of its place."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from markupsafe import Markup
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.domain.months import YearMonth
from bot.domain.policy import load_policy
from bot.domain.requests import RequestKind, State
from bot.domain.workplace import Workplace
from bot.handlers.forms import form_context
from bot.handlers.subcommands import USAGE_ADMINS, USAGE_EVERYONE
from bot.messages import MESSAGES_DIR, Messages
from bot.presenters.requests import present
from bot.storage.models import Request, RequestEvent
from tests.slack import message_text

POLICY = load_policy()
WORKPLACE = Workplace.of(POLICY, ZoneInfo("Asia/Shanghai"), "C0ADMIN")
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
PAYLOADS = {
    RequestKind.CHANGE: {
        "change_type": "update",
        "person": "U1",
        "full_name": "Zhang <San> & co",
        "resident_id": "11010519491231002X",
        "hukou": "nonlocal_rural",
        "effective_month": "2026-12",
        "contribution_base": "9000.00",
        "notes": 'quotes " and \\ backslash and <!channel>',
    },
    RequestKind.PAYBACK: {
        "month_from": "2026-01",
        "month_to": "2026-03",
        "monthly_base": "10000",
        "reason": "base_correction",
        "notes": "",
    },
    RequestKind.COMPLAINT: {
        "category": "benefit_refused",
        "description": "x" * 2000,
        "month_from": None,
        "month_to": None,
    },
    # Another person's ID number.
    RequestKind.CARD: {
        "card_action": "lost",
        "full_name": "Li <Si>",
        "resident_id": "440524198001010013",
        "lost_on": "2026-11-20",
        "bank": "icbc",
        "notes": "",
    },
    RequestKind.TRANSFER: {
        "direction": "in",
        "other_city": "Chengdu",
        "month_from": "2020-01",
        "month_to": "2026-10",
        "notes": "pension and medical",
    },
    RequestKind.RETIREMENT: {
        "full_name": "Li Si",
        "resident_id": "310104197508150049",
        "retirement_category": "female_55",
        "contribution_years": "14.5",
        "wanted_month": "2033-01",
        "notes": "",
    },
    RequestKind.UNEMPLOYMENT: {
        "separation_date": "2026-12-31",
        "separation_reason": "other",
        "contribution_years": "6",
        "registered_unemployed": "not_yet",
        "carried_over_months": "3",
        "notes": "",
    },
    RequestKind.MEDICAL: {
        "treatment_kind": "out_of_area",
        "hospital": "West China Hospital, Chengdu",
        "date_from": "2026-12-01",
        "date_to": None,
        "notes": "",
    },
    RequestKind.SETTLEMENT: {
        "settle_reason": "leaving_china",
        "person": "U1",
        "full_name": "John Smith",
        "id_number": "E12345678",
        "event_date": "2027-01-15",
        "notes": "",
    },
    RequestKind.CORRECTION: {
        "full_name": "Li <Si>",
        "resident_id": "440524198001010013",
        "month_from": "2026-01",
        "month_to": "2026-03",
        "issue": "base_wrong",
        "expected": "9100.00",
        "description": "My base was 9,100 in the bill, 9,000 in my statement",
    },
}


def texts(lang: str) -> dict[str, str]:
    return Messages(lang)._texts(lang)


def test_both_languages_have_the_same_strings():
    assert set(texts("zh")) == set(texts("en"))


def sample_request(kind: RequestKind, state: State) -> Request:
    request = Request(
        id=1,
        public_id="SI-2026-0042",
        kind=kind.value,
        state=state.value,
        requester_id="U1",
        subject_id="U1",
        payload=PAYLOADS[kind],
        created_at=NOW,
        updated_at=NOW,
    )
    request.events = [
        RequestEvent(
            id=1, at=NOW, actor_id="U1", action="submit", from_state=None, to_state="submitted", reason=""
        )
    ]
    if state is not State.SUBMITTED:
        request.events.append(
            RequestEvent(
                id=2,
                at=NOW,
                actor_id="UADMIN",
                action="reject",
                from_state="submitted",
                to_state=state.value,
                reason="because <b>",
            )
        )
    return request


def check_message(message: dict) -> None:
    assert message["text"]
    assert 0 < len(message["blocks"]) <= 50
    for block in message["blocks"]:
        Block.parse(block).validate_json()
        text = (block.get("text") or {}).get("text", "")
        assert len(text) <= 3000


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind", list(RequestKind))
@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("whole", [True, False])
def test_request_messages_render_in_both_languages(lang, kind, state, whole):
    messages = Messages(lang)
    view = present(sample_request(kind, state), WORKPLACE, whole=whole)
    for name in ("request_card", "request_detail", "request_received"):
        check_message(messages.render(name, view=view, policy=POLICY))
    card = messages.render("request_card", view=view, policy=POLICY)
    text = message_text(card)
    assert ("11010519491231002X" in text) is (whole and kind is RequestKind.CHANGE)
    if kind is RequestKind.CHANGE:
        # User input is shown as text: it can neither break the JSON nor ping a channel.
        assert "Zhang &lt;San&gt; &amp; co" in text and "&lt;!channel&gt;" in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_forms_and_lists_render_in_both_languages(lang):
    messages = Messages(lang)
    filled = {"change_type": "update", "settle_reason": "death", "month_from": "2019-01", "person": "U1"}
    for kind in RequestKind:
        for prefill, for_others in (({}, True), ({}, False), (filled, True)):
            context = form_context(POLICY, kind, prefill, today=date(2026, 11, 30), for_others=for_others)
            view = messages.render(f"form_{kind.value}", callback_id="x", metadata="{}", **context)
            View(**view).validate_json()
            assert len(view["blocks"]) <= 100
            # Slack marks optional fields itself; labels and hints don't say it again.
            for block in view["blocks"]:
                words = [block.get(k, {}).get("text", "") for k in ("label", "hint")]
                assert not [w for w in words if any(m in w for m in ("ptional", "选填", "可选"))]
    wage = messages.render(
        "form_wage_correction",
        callback_id="w",
        metadata="{}",
        name="Zhang <San>",
        months=[YearMonth(2026, 11), YearMonth(2026, 10)],
        max_amount="100000000",
    )
    View(**wage).validate_json()
    rejected = present(sample_request(RequestKind.CHANGE, State.SUBMITTED), WORKPLACE, whole=False)
    reject = messages.render("form_reject", callback_id="r", metadata="{}", view=rejected, month="2026-12")
    View(**reject).validate_json()
    moved = present(sample_request(RequestKind.CHANGE, State.REJECTED), WORKPLACE, whole=False)
    View(**messages.render("form_moved_on", view=moved, month="2026-12")).validate_json()
    views = [present(sample_request(RequestKind.PAYBACK, s), WORKPLACE, whole=True) for s in State]
    check_message(messages.render("request_list", views=views, total=40, mine=False))
    many = messages.render("request_list", views=views, total=1001, counted_up_to=1000, mine=False)
    check_message(many)
    assert "1000" in str(many) and "1001" not in str(many)
    check_message(messages.render("request_list", views=[], total=0, mine=True))
    check_message(messages.render("help", everyone=USAGE_EVERYONE, admins=USAGE_ADMINS))
    check_message(messages.render("staff_list", staff=[]))
    check_message(messages.render("mention_help", user="U1"))


def test_every_error_code_the_rules_use_has_words():
    import re

    codes: set[str] = set()
    for path in (MESSAGES_DIR.parent / "bot").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        codes |= set(
            re.findall(r'(?:errors\.add\([^,]+, |problem\([^,]+, |Refused\(|\bProblem\()"([a-z_]+)"', source)
        )
        codes |= set(re.findall(r'return "(resident_id_[a-z_]+)"', source))
    assert len(codes) > 20
    for lang in ("zh", "en"):
        missing = sorted(c for c in codes if f"error.{c}" not in texts(lang))
        assert not missing, f"{lang}: {missing}"


def test_sources_shown_to_users_name_real_sources_not_our_notes():
    for lang in ("zh", "en"):
        leaked = [key for key, value in texts(lang).items() if "DOMAIN" in value]
        assert not leaked, f"{lang}: {leaked}"


def test_the_readme_lists_every_subcommand_as_help_does():
    """The README's command table and /si help are the same list (bot/handlers/subcommands.py)."""
    import re

    readme = (MESSAGES_DIR.parent / "README.md").read_text(encoding="utf-8")
    table = {
        cell.replace("\\|", "|") for cell in re.findall(r"^\| `(/si [^`]*)` \|", readme, flags=re.MULTILINE)
    }
    usage = {re.match(r"`(/si[^`]*)`", texts("en")[key]).group(1) for key in USAGE_EVERYONE + USAGE_ADMINS}
    assert table == usage


def test_a_template_that_prints_a_python_method_is_refused(tmp_path):
    """What the change form's message once showed administrators ('<built-in method
    update of dict object…>', from ``counts.update``) can no longer reach anyone: rendering
    fails loudly; the same words typed by a person are shown as they are."""
    (tmp_path / "blocks").mkdir()
    (tmp_path / "en").mkdir()
    (tmp_path / "zh").mkdir()
    (tmp_path / "blocks" / "method.json.j2").write_text('{"text": "{{ counts.update }}", "blocks": []}')
    (tmp_path / "blocks" / "typed.json.j2").write_text('{"text": "{{ notes }}", "blocks": []}')
    messages = Messages("en", root=tmp_path)
    with pytest.raises(TypeError, match="callable"):
        messages.render("method", counts={"add": 1})
    typed = "None <built-in method> {{ x }}"
    assert messages.render("typed", notes=typed)["text"] == "None &lt;built-in method&gt; {{ x }}"


def test_the_chinese_words_say_you_one_way():
    """你, never 您: the bot speaks to colleagues, and one voice throughout."""
    zh = "\n".join(texts("zh").values())
    kb = "\n".join(p.read_text(encoding="utf-8") for p in (MESSAGES_DIR / "kb").glob("*.toml"))
    assert "您" not in zh and "您" not in kb


def test_strings_that_only_name_values_fill_as_jinja_fills_them():
    """The fast filling of ``{{ name }}``-only strings (no Jinja context each) gives what
    Jinja gives, for every such string of both languages: values escaped for Slack, Markup
    kept, None empty; a value left out is an error in both."""
    import re

    from jinja2 import UndefinedError

    from bot.messages import _Filling

    messages = Messages()
    names = re.compile(r"\{\{\s*(\w+)\s*\}\}")
    values = ["a <b> & c", Markup("<@U1>"), None, 42, "*bold* _it_"]
    filled = 0
    for lang in ("zh", "en"):
        for key, source in messages._texts(lang).items():
            if not isinstance(messages._compiled_text(lang, key), _Filling):
                continue
            filled += 1
            wanted = sorted(set(names.findall(source)))
            ctx = {name: values[i % len(values)] for i, name in enumerate(wanted)}
            jinja = Markup(messages._text_env.from_string(source).render(**ctx))
            assert messages.text(key, lang, **ctx) == jinja, key
            assert type(messages.text(key, lang, **ctx)) is Markup
            for left_out in wanted:  # a name the template reads from the globals, or an error
                partial = {name: value for name, value in ctx.items() if name != left_out}
                fast = outcome(messages.text, key, lang, **partial)
                assert fast == outcome(messages._text_env.from_string(source).render, **partial), key
    assert filled > 500  # most strings take the fast way
    with pytest.raises(UndefinedError):
        messages.text("list.row", "en", icon="", public_id="R-1", kind="", state="")
    # a string with a filter, an expression or a tag is Jinja's
    assert not isinstance(messages._compiled_text("en", "help.kb_cli.row"), _Filling)


def outcome(render, *args, **kwargs):
    try:
        return Markup(render(*args, **kwargs))
    except Exception as exc:
        return type(exc)


@pytest.mark.parametrize(
    ("source", "zh", "en"),
    [
        ("社会保险法 Art. 60, 86", "社会保险法第60、86条", "Social Insurance Law Art. 60, 86"),
        ("劳动合同法 Art. 68-72", "劳动合同法第68-72条", "Labour Contract Law Art. 68-72"),
        (  # the year after the title stays, after its English name
            "在中国境内就业的外国人参加社会保险暂行办法 (2011) Art. 5",
            "在中国境内就业的外国人参加社会保险暂行办法 (2011)第5条",
            "Interim Measures for Foreigners Employed in China to Participate in Social Insurance"
            " (2011) Art. 5",
        ),
        (
            "失业保险金申领发放办法 Art. 15",
            "失业保险金申领发放办法第15条",
            "Measures on Applying for and Paying Unemployment Insurance Benefits Art. 15",
        ),
        # No article, no English name known, or an address: as written.
        ("国办发〔2019〕13号", "国办发〔2019〕13号", "国办发〔2019〕13号"),
        (
            "劳动部《关于贯彻执行〈中华人民共和国劳动法〉若干问题的意见》 Art. 12",
            "劳动部《关于贯彻执行〈中华人民共和国劳动法〉若干问题的意见》第12条",
            "劳动部《关于贯彻执行〈中华人民共和国劳动法〉若干问题的意见》 Art. 12",
        ),
        ("https://si.12333.gov.cn/a?b=1", "https://si.12333.gov.cn/a?b=1", "https://si.12333.gov.cn/a?b=1"),
    ],
)
def test_a_cited_law_reads_as_each_language_cites_it(source, zh, en):
    messages = Messages("zh")
    assert (messages.cite(source, "zh"), messages.cite(source, "en")) == (zh, en)


def test_every_law_the_knowledge_base_cites_by_article_is_named_in_english():
    import tomllib

    from bot.messages import _ARTICLES, _BRACKETED

    english = Messages("en")._texts("en")
    cited = set()
    for path in (MESSAGES_DIR / "kb").glob("*.toml"):
        for source in tomllib.loads(path.read_text(encoding="utf-8")).get("sources", []):
            found = _ARTICLES.fullmatch(source)
            title = _BRACKETED.fullmatch(found["title"]).group(1) if found else ""
            if found and "《" not in title and not title.startswith("人社部令"):
                cited.add(title)
    assert cited and sorted(t for t in cited if f"help.law.{t}" not in english) == []
