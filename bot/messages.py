"""Every word a person reads comes from ``messages/<lang>/``: this module renders it.

- ``*.toml`` (``texts.toml`` and one file per feature): short strings by key (errors,
  labels, states), each a Jinja2 template.
- ``<name>.json.j2``: Jinja2 templates that render Block Kit JSON (a message
  ``{"text", "blocks"}`` or a view). Every ``{{ value }}`` is escaped for JSON and for
  Slack mrkdwn (``& < >``) on its way out, so user input can neither break the JSON nor
  forge a mention; ``|mention`` and ``t(...)`` output is already safe. ``|raw`` inserts a
  macro's JSON output as it is; ``|json`` serialises an object. Text a person typed that
  goes into mrkdwn takes ``|literal`` as well: its ``* _ ~`` and backticks format nothing.
"""

from __future__ import annotations

import html
import json
import re
import tomllib
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined, UndefinedError, pass_context
from markupsafe import Markup

from bot.domain import resident_id
from bot.domain.kinds import words_of
from bot.ids import FIELD_ACTION, ActionId
from bot.resources import resource_dir

MESSAGES_DIR = resource_dir("messages")
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
# Slack's limits on text (Block Kit reference): over them, the call fails (invalid_blocks)
# or the text is cut. Checked at render time, as the block counts are.
MAX_MESSAGE_TEXT = 40_000  # a message's ``text``; Slack truncates beyond it
MAX_BLOCK_TEXT = 3_000  # a section's text, a context element's text
MAX_FIELD_TEXT = 2_000  # one of a section's fields
MAX_FIELDS = 10
MAX_HEADER = 150
MAX_LABEL = 75  # a button's text, an option's text
MAX_TITLE = 24  # a modal's title and buttons
APP_NAME = "si-bot"  # Slack shows it above every modal already: never a modal's title


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _json_string_body(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


class RawJSON(str):
    """JSON text to insert as it is (a macro's output, a serialised object)."""


def _printable(value: Any) -> Any:
    """A template that reached for the wrong thing prints a Python method (a dict's
    ``.update``: ``<built-in method update…>``): that is a bug, never shown to anyone."""
    if callable(value) and not isinstance(value, Undefined):
        raise TypeError(f"a template printed a callable: {value!r}")
    return value


def _finalize(value: Any) -> str:
    value = _printable(value)
    if value is None:
        return ""
    if isinstance(value, RawJSON):
        return value
    if isinstance(value, Markup):
        return _json_string_body(str(value))
    return _json_string_body(slack_escape(_plain(value)))


def _plain(value: Any) -> str:
    if isinstance(value, Decimal):
        return money(value)
    return str(value)


def money(value: Decimal | int | float | str | None) -> str:
    """12345.6 -> ``12,345.60``."""
    if value is None or value == "":
        return ""
    return f"{Decimal(str(value)):,.2f}"


_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def mention(user_id: str | None) -> Markup:
    """``<@U123>``, which Slack shows as the person's name; anything that is not a user id
    is shown as escaped text (it can't become ``<!channel>``)."""
    user_id = str(user_id or "").strip()
    if _USER_ID.fullmatch(user_id):
        return Markup(f"<@{user_id}>")
    return literal(user_id)


def channel_link(channel_id: str | None) -> Markup:
    return Markup(f"<#{channel_id}>") if channel_id else Markup("")


_LIST_MARK = re.compile(r"^(?:•|\d+\.)\s*")


def one_line(text: str) -> Markup:
    """A bulleted list of ours (a materials checklist) as one line, its items joined by
    " · "; its source line (in _italics_) is left for the long form of the list."""
    items = [_LIST_MARK.sub("", line.strip()) for line in str(text).splitlines()]
    return Markup(" · ".join(i for i in items if i and not i.startswith("_")))


_EMOJI_CODE = re.compile(r":[a-z+][a-z0-9_+'-]*:")
_MRKDWN_MARK = re.compile(r"[*`~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")


def plain_notification(text: str) -> str:
    """A message's ``text``, which mobile notifications and screen readers read alone:
    without mrkdwn marks (``*`` ``_`` ``~`` backticks) or ``:emoji:`` codes, which they read
    out as they are."""
    return re.sub(r"\s{2,}", " ", _MRKDWN_MARK.sub("", _EMOJI_CODE.sub("", text))).strip()


# Slack has no escape for its formatting marks (only for & < >), so a mark a person typed
# is shown as a look-alike that formats nothing (the substitutes jsx-slack uses): a name
# typed "*Zhang*" in a mrkdwn field stays "*Zhang*", not bold Zhang.
_LOOK_ALIKE = {
    "*": "\u2217",
    "_": "\u02cd",
    "~": "\u223c",
    "`": "\u02cb",
    "＊": "\ufe61",
    "＿": "\u2e0f",
    "｀": "\u02cb",
}
# Kept: a run of four or more asterisks (how bot/domain/masking.py and the resident-ID mask
# hide digits, e.g. 1101**********002X), and an underscore inside a word (zhang_wei@x.com),
# which Slack never reads as a mark.
_TYPED_MARK = re.compile(r"(?P<kept>\*{4,}|(?<=[0-9A-Za-z])_(?=[0-9A-Za-z]))|[*_~`＊＿｀]")
# A line that begins with ">" (escaped: &gt;) is a quote in mrkdwn: a soft hyphen before it
# (invisible) keeps it a character.
_QUOTE_START = re.compile(r"^(?=&gt;|＞)", re.MULTILINE)


def literal(value: Any) -> Markup:
    """Text a person typed, for mrkdwn: escaped for Slack (``& < >``) and shown as typed,
    its ``* _ ~`` and backticks formatting nothing, a leading ``>`` quoting nothing."""
    text = slack_escape(_plain(value))
    text = _TYPED_MARK.sub(lambda m: m.group() if m.group("kept") else _LOOK_ALIKE[m.group()], text)
    return Markup(_QUOTE_START.sub("\u00ad", text))


def fit(value: Any, limit: int) -> str:
    """``value`` cut (with an ellipsis) so that, escaped for Slack (``&`` is ``&amp;``),
    it is at most ``limit`` characters: text of many ``&`` or ``<`` stays within a block."""
    text = _plain(value)
    if len(slack_escape(text)) <= limit:
        return text
    kept, size = [], 0
    for char in text:
        size += len(slack_escape(char))
        if size > limit - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"


SECTION_BUDGET = 2_900  # the text of one section we fill with rows, under MAX_BLOCK_TEXT


def sections(rows: list[Any], limit: int = SECTION_BUDGET) -> list[Markup]:
    """Rows (already rendered lines) grouped into as few texts as fit one section each:
    each group at most ``limit`` characters, a row never split (one longer than ``limit``
    is cut, with an ellipsis)."""
    groups: list[list[str]] = [[]]
    size = 0
    for row in rows:
        line = str(row)
        if len(line) > limit:
            line = line[: limit - 1] + "…"
        if groups[-1] and size + len(line) + 1 > limit:
            groups.append([])
            size = 0
        groups[-1].append(line)
        size += len(line) + 1
    return [Markup("\n".join(group)) for group in groups if group]


def mask_id(number: str | None) -> str:
    return resident_id.mask(number) if number else ""


class Messages:
    def __init__(self, default_lang: str = "zh", root: Path = MESSAGES_DIR, **globals_: Any):
        self.root = root
        self.default_lang = default_lang
        # Templates write action ids as {{ ids.APPROVE }}: one spelling (bot/ids.py).
        # A kind's own words for its states ("accepted", not "approved", for a complaint):
        # t(words_of(kind) ~ 'state.' ~ state), in every list as on its card.
        globals_ = {"ids": ActionId, "field_action": FIELD_ACTION, "words_of": words_of, **globals_}
        self._json_env = self._env(_finalize)
        self._json_env.globals.update(globals_)
        # texts.toml strings: interpolated values are mrkdwn-escaped, the result is safe Markup.
        self._text_env = Environment(autoescape=False, undefined=StrictUndefined, finalize=self._text_final)
        self._text_env.filters.update(self._json_env.filters)
        self._text_env.globals.update(globals_)

    @staticmethod
    def _text_final(value: Any) -> str:
        value = _printable(value)
        if value is None:
            return ""
        if isinstance(value, Markup):
            return str(value)
        return slack_escape(_plain(value))

    def _env(self, finalize: Any) -> Environment:
        env = Environment(
            loader=FileSystemLoader(str(self.root)),
            autoescape=False,
            undefined=StrictUndefined,
            finalize=finalize,
            extensions=["jinja2.ext.do"],
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            # The templates are files of the release: no stat() of each on every render.
            auto_reload=False,
        )
        env.filters.update(
            # A source a help answer cites, in the reader's language (``Messages.cite``).
            cite=pass_context(lambda ctx, source: self.cite(source, ctx["lang"])),
            mention=mention,
            channel=channel_link,
            money=money,
            mask_id=mask_id,
            one_line=one_line,
            sections=sections,
            fit=fit,
            literal=literal,
            raw=lambda v: RawJSON(v),
            # Text written by us in mrkdwn (the knowledge base's answers): links and
            # mentions in it are meant, so it is not escaped (JSON-escaped still).
            mrkdwn=lambda v: Markup(v),
            json=lambda v: RawJSON(json.dumps(v, ensure_ascii=False)),
            day=lambda d: d.strftime("%Y-%m-%d") if isinstance(d, date | datetime) else str(d),
            when=lambda d: d.strftime("%Y-%m-%d %H:%M") if isinstance(d, datetime) else str(d),
        )
        return env

    def lang(self, lang: str | None) -> str:
        return lang if lang in ("zh", "en") else self.default_lang

    @cache  # noqa: B019 - one Messages per process; the cache lives as long as it does
    def _texts(self, lang: str) -> dict[str, str]:
        """Every ``messages/<lang>/*.toml`` file merged (one file per feature); a key
        defined twice is a mistake and stops the start-up."""
        merged: dict[str, str] = {}
        for path in sorted((self.root / lang).glob("*.toml")):
            with path.open("rb") as fh:
                for key, value in _flatten(tomllib.load(fh)).items():
                    if key in merged:
                        raise ValueError(f"{path}: '{key}' is already defined in another file")
                    merged[key] = value
        return merged

    @cache  # noqa: B019
    def _compiled_text(self, lang: str, key: str) -> Any:
        """The template of the string ``key``, or the string itself when it has nothing to
        fill in (most labels): rendering that would only copy it, at a Jinja context's cost."""
        texts = self._texts(lang)
        if key not in texts:
            raise KeyError(f"messages/{lang}/*.toml has no '{key}'")
        source = texts[key]
        if "{" not in source:
            return Markup(source)
        if _ONLY_NAMES.fullmatch(source):
            # Most strings only name values ("{{ public_id }} · {{ state }}"): filled as
            # Jinja fills them (each value finalized, a missing one an error), without the
            # cost of a Jinja context per string, many times in one list.
            return _Filling(_NAME.split(source.removesuffix("\n")))
        return self._text_env.from_string(source)

    def text(self, key: str, lang: str | None = None, /, **ctx: Any) -> Markup:
        """The short string ``key`` in ``lang``, filled with ``ctx``."""
        lang = self.lang(lang)
        compiled = self._compiled_text(lang, key)
        if isinstance(compiled, Markup):
            return compiled
        if isinstance(compiled, _Filling):
            return compiled.fill(ctx, self._text_env.globals, self._text_final)
        # ``lang`` for the filters that write in the reader's language (``cite``).
        return Markup(compiled.render({"t": lambda k, **kw: self.text(k, lang, **kw), "lang": lang, **ctx}))

    def cite(self, source: str, lang: str | None = None) -> str:
        """A source as the knowledge base writes it ("社会保险法 Art. 60, 86") in ``lang``:
        "社会保险法第60、86条"; "Social Insurance Law Art. 60, 86" where ``help.law`` names
        the law in English (else its Chinese title, which is what one searches for)."""
        if not source:
            return ""
        lang = self.lang(lang)
        found = _ARTICLES.fullmatch(source)
        title, articles = (found["title"], found["articles"]) if found else (source, "")
        # A title's year or document number in brackets stays after its name.
        name, bracket = _BRACKETED.fullmatch(title).groups()
        titled = self._texts(lang).get(f"help.law.{name}", name) + bracket
        if not articles:
            return titled
        listed = self.plain("help.articles_sep", lang).join(a.strip() for a in articles.split(","))
        return self.plain("help.cite", lang, title=titled, articles=listed)

    def plain(self, key: str, lang: str | None = None, /, **ctx: Any) -> str:
        """The short string ``key`` as plain characters, for files and the terminal (no
        Slack escaping)."""
        return html.unescape(str(self.text(key, lang, **ctx)))

    @cache  # noqa: B019
    def _template(self, lang: str, name: str) -> Any:
        """The language's own template if it has one, else the shared one (looked up once:
        a missing language file is not searched for on every render)."""
        return self._json_env.select_template([f"{lang}/{name}.json.j2", f"blocks/{name}.json.j2"])

    def render(self, name: str, /, lang: str | None = None, **ctx: Any) -> dict[str, Any]:
        """Render the template ``name`` to a dict (a message or a view). The structure lives
        in ``messages/blocks/<name>.json.j2`` and takes its words from ``t(key)``; a
        ``messages/<lang>/<name>.json.j2`` replaces it for one language where needed."""
        lang = self.lang(lang)
        source = self._template(lang, name).render(
            lang=lang, t=lambda key, **kw: self.text(key, lang, **kw), **ctx
        )
        try:
            rendered = json.loads(source)
        except json.JSONDecodeError as exc:
            raise ValueError(f"template {name} ({lang}) rendered invalid JSON: {exc}") from exc
        if rendered.get("type") not in ("modal", "home") and isinstance(rendered.get("text"), str):
            rendered["text"] = plain_notification(rendered["text"])
        limit = MAX_VIEW_BLOCKS if rendered.get("type") in ("modal", "home") else MAX_MESSAGE_BLOCKS
        if len(rendered.get("blocks", [])) > limit:
            raise ValueError(f"{name}: {len(rendered['blocks'])} blocks, Slack allows {limit}")
        _check_lengths(name, rendered)
        return rendered


# A cited law's articles: "社会保险法 Art. 19, 32, 52", "劳动合同法 Art. 68-72".
_ARTICLES = re.compile(r"(?P<title>.+?) Art\. (?P<articles>\d[\d, \-]*)")
# A title and the year or document number bracketed after it: "… 暂行办法 (2011)".
_BRACKETED = re.compile(r"(.+?)((?: \([^()]*\))?)")

# A string whose only Jinja is ``{{ name }}``: no filter, expression, tag or comment.
_NAME = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_ONLY_NAMES = re.compile(rf"(?:[^{{]|\{{(?![{{%#])|{_NAME.pattern})*")


class _Filling:
    """A string of literal text and ``{{ name }}``s (``_NAME.split``: text, name, text…)."""

    __slots__ = ("pieces",)

    def __init__(self, pieces: list[str]):
        self.pieces = pieces

    def fill(self, ctx: dict[str, Any], globals_: dict[str, Any], final: Any) -> Markup:
        out = []
        for index, piece in enumerate(self.pieces):
            if index % 2 == 0:
                out.append(piece)
                continue
            if piece in ctx:
                value = ctx[piece]
            elif piece in globals_:
                value = globals_[piece]
            else:
                raise UndefinedError(f"'{piece}' is undefined")
            out.append(final(value))
        return Markup("".join(out))


def _check_lengths(name: str, rendered: dict[str, Any]) -> None:
    """Every text of a rendered message or view within Slack's limits (ValueError naming
    the template and the block otherwise)."""

    def over(what: str, text: Any, limit: int) -> None:
        if isinstance(text, str) and len(text) > limit:
            raise ValueError(f"{name}: {what} has {len(text)} characters, Slack allows {limit}")

    if rendered.get("type") in ("modal", "home"):
        for key in ("title", "submit", "close"):
            over(key, (rendered.get(key) or {}).get("text"), MAX_TITLE)
        if rendered.get("type") == "modal":
            title = str((rendered.get("title") or {}).get("text", "")).strip()
            if not title or title.lower() == APP_NAME:
                raise ValueError(f"{name}: a modal's title says what it is about, not {title!r}")
    else:
        over("text", rendered.get("text"), MAX_MESSAGE_TEXT)
    for index, block in enumerate(rendered.get("blocks", [])):
        where = f"block {index} ({block.get('type')})"
        limit = MAX_HEADER if block.get("type") == "header" else MAX_BLOCK_TEXT
        over(where, (block.get("text") or {}).get("text"), limit)
        fields = block.get("fields") or []
        if len(fields) > MAX_FIELDS:
            raise ValueError(f"{name}: {where} has {len(fields)} fields, Slack allows {MAX_FIELDS}")
        for field in fields:
            over(f"{where} field", field.get("text"), MAX_FIELD_TEXT)
        for element in [*block.get("elements", []), *([block["accessory"]] if "accessory" in block else [])]:
            over(
                f"{where} element",
                element.get("text") if isinstance(element.get("text"), str) else None,
                MAX_BLOCK_TEXT,
            )
            if element.get("type") == "button":
                over(f"{where} button", (element.get("text") or {}).get("text"), MAX_LABEL)
            for option in element.get("options", []):
                over(f"{where} option", (option.get("text") or {}).get("text"), MAX_LABEL)


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat
