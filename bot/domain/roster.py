"""The insured roster (参保人员名册) and the wage records (income accounts, duty 3): what a
row of an import file must hold, and every reason it can be rejected.

A roster row is one employee: name, resident ID, Slack user (optional), hukou type, the
first month the unit insures them (enrolment month), the last (leaving month: the month
of leaving is normally still paid by the employer, DOMAIN.md §3), their current base and
their status. A wage row is one person's gross wage for one month, the person named by
resident ID. The rules here see only the file; what depends on the database (is this
person on the roster, is that Slack user someone else's) is checked by the services.
Problems are codes (``error.<code>`` in ``messages/``), never sentences.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Generic, NamedTuple, TypeVar

from bot.domain import resident_id
from bot.domain.kinds.change import Hukou
from bot.domain.kinds.retirement import RetirementRequest
from bot.domain.months import YearMonth
from bot.domain.tables import Column, Header, Row, TableError, find_header, fold, matches

MAX_NAME = 100
# A monthly gross wage of ten million yuan or more is a column mix-up, not a wage: it has
# the eight or more digits of a phone number, a bank account or an ID pasted into the wrong
# column, or a figure in fen. The largest real monthly payslips (an executive's month with
# the year-end bonus) stay below it, and it fits the database's NUMERIC(12, 2) tenfold.
MAX_MONTHLY_WAGE = Decimal("9999999.99")
# The resident ID of the example row in the import templates: a row that still carries it
# is the example, left in by mistake, and is rejected rather than imported.
EXAMPLE_RESIDENT_ID = "310104199001011233"
_SLACK_USER = re.compile(r"^<?@?([UW][A-Z0-9]{2,})(?:\|[^>]*)?>?$")
_MONTH_DIGITS = re.compile(r"^(\d{4})(\d{2})$")
_MONTH_ZH = re.compile(r"^(\d{4})年(\d{1,2})月?$")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_DATE_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_CENT = Decimal("0.01")
_PLAIN_AMOUNT = re.compile(r"-?\d{1,12}(?:\.\d{1,2})?")
_AMOUNT_NOISE = re.compile(r"[\s,，¥￥元]|RMB|CNY|yuan", re.IGNORECASE)


class EmployeeStatus(StrEnum):
    ENROLLED = "enrolled"  # insured by the unit now (在保)
    LEFT = "left"  # enrolment ended: left the unit (停保 / 减员)
    RETIRED = "retired"  # retired: no longer contributing, still looked after (duty 11)


class FileKind(StrEnum):
    ROSTER = "roster"
    WAGES = "wages"


# Headers as payroll and HR systems write them, in Chinese and English; compared after
# tables.fold (case, width, spaces, punctuation and a unit in brackets do not matter). The
# templates' own headers (messages/*/roster.toml, roster.column.*) are among them.
NAME_HEADERS = ("姓名", "员工姓名", "职工姓名", "名字", "name", "full name", "employee name", "staff name")
RESIDENT_ID_HEADERS = (
    "身份证号",
    "身份证号码",
    "身份证",
    "公民身份号码",
    "居民身份证号码",
    "证件号码",
    "证件号",
    "resident id",
    "resident id number",
    "resident id no",
    "id number",
    "id no",
    "id card number",
    "id card no",
    "citizen id",
)
ROSTER_COLUMNS: tuple[Column, ...] = (
    Column("full_name", NAME_HEADERS),
    Column("resident_id", RESIDENT_ID_HEADERS),
    Column(
        "slack_user",
        ("slack", "slack用户", "slack账号", "slack id", "slack user", "slack user id", "slack member id"),
        required=False,
    ),
    Column(
        "hukou",
        (
            "户籍类型",
            "户籍性质",
            "户口性质",
            "户口类型",
            "户籍",
            "hukou",
            "hukou type",
            "household registration",
        ),
    ),
    Column(
        "enrolled_from",
        (
            "参保月份",
            "参保年月",
            "参保时间",
            "参保日期",
            "参保起始月份",
            "增员月份",
            "enrolment month",
            "enrollment month",
            "enrolled from",
            "insured from",
        ),
    ),
    Column(
        "leaving_month",
        (
            "停保月份",
            "停保年月",
            "减员月份",
            "离职月份",
            "leaving month",
            "left in",
            "insured until",
        ),
        required=False,
    ),
    Column(
        "contribution_base",
        ("缴费基数", "月缴费基数", "申报基数", "社保基数", "contribution base", "monthly base", "base"),
        required=False,
    ),
    Column("status", ("状态", "参保状态", "人员状态", "status"), required=False),
    Column("retired_on", ("退休日期", "退休时间", "retirement date", "retired on"), required=False),
)
WAGE_COLUMNS: tuple[Column, ...] = (
    Column("resident_id", RESIDENT_ID_HEADERS),
    Column("full_name", NAME_HEADERS, required=False),
    Column(
        "month",
        (
            "月份",
            "工资月份",
            "所属月份",
            "发放月份",
            "工资所属期",
            "年月",
            "month",
            "pay month",
            "wage month",
        ),
    ),
    Column(
        "gross_wage",
        (
            "应发工资",
            "应发合计",
            "应发金额",
            "工资总额",
            "税前工资",
            "月工资",
            "工资",
            "gross wage",
            "gross pay",
            "gross salary",
            "monthly wage",
            "wage",
            "salary",
        ),
    ),
)
COLUMNS: dict[FileKind, tuple[Column, ...]] = {FileKind.ROSTER: ROSTER_COLUMNS, FileKind.WAGES: WAGE_COLUMNS}

# Values as HR systems write them, in both languages; the templates' words are among them.
_HUKOU_WORDS: dict[Hukou, tuple[str, ...]] = {
    Hukou.LOCAL_URBAN: ("本市城镇", "本地城镇", "本市城镇户籍", "本市非农", "local urban"),
    Hukou.LOCAL_RURAL: ("本市农村", "本地农村", "本市农业", "local rural"),
    Hukou.NONLOCAL_URBAN: (
        "外埠城镇",
        "外地城镇",
        "外省市城镇",
        "非本市城镇",
        "non-local urban",
        "nonlocal urban",
    ),
    Hukou.NONLOCAL_RURAL: (
        "外埠农村",
        "外地农村",
        "外省市农村",
        "非本市农村",
        "non-local rural",
        "nonlocal rural",
    ),
    Hukou.FOREIGN: ("外籍人员", "外籍", "外国人", "foreign national", "foreign", "foreigner"),
}
_STATUS_WORDS: dict[EmployeeStatus, tuple[str, ...]] = {
    EmployeeStatus.ENROLLED: ("在保", "参保", "参保中", "在职", "正常", "enrolled", "active", "insured"),
    EmployeeStatus.LEFT: ("停保", "离职", "已离职", "减员", "left", "leaver", "terminated"),
    EmployeeStatus.RETIRED: ("退休", "已退休", "retired", "retiree"),
}


def _lookup(words: dict[Any, tuple[str, ...]]) -> dict[str, Any]:
    table = {fold(word): value for value, spellings in words.items() for word in spellings}
    table.update({fold(value.value): value for value in words})
    return table


_HUKOU = _lookup(_HUKOU_WORDS)
_STATUS = _lookup(_STATUS_WORDS)


def detect_kind(rows: Sequence[Row]) -> FileKind | None:
    """Which import a file is for, from its columns: a wage file names a gross wage, a
    roster file an enrolment month. None when neither header is found."""
    for kind in (FileKind.WAGES, FileKind.ROSTER):
        if matches(rows, COLUMNS[kind]):
            return kind
    return None


# --- reading one value ------------------------------------------------------------------


class ValueProblem(ValueError):
    """A cell's value is wrong: ``code`` and ``params`` for ``error.<code>``."""

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code = code
        self.params = params


def parse_month(text: str) -> YearMonth:
    """``2026-01``, ``2026/1``, ``202601``, ``2026年1月``, or a date in the month (Excel
    turns a typed ``2026-01`` into 2026-01-01)."""
    value = text.strip()
    for pattern in (_MONTH_DIGITS, _MONTH_ZH):
        m = pattern.match(value)
        if m:
            value = f"{m.group(1)}-{m.group(2)}"
            break
    else:
        if _DATE.match(value) or _DATE_DIGITS.match(value):
            return YearMonth.of(parse_date(value))
    try:
        return YearMonth.parse(value)
    except ValueError:
        raise ValueProblem("month_format", value=text) from None


def parse_date(text: str) -> date:
    """``2026-01-05``, ``2026/1/5``, ``2026.01.05``, ``20260105`` or ``2026年1月5日``."""
    value = text.strip().split("T")[0].split(" ")[0]
    m = _DATE.match(value) or _DATE_DIGITS.match(value)
    try:
        if not m:
            raise ValueError(value)
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValueProblem("date_format", value=text) from None


def parse_amount(text: str) -> Decimal:
    """Yuan with at most two decimals: ``8500``, ``8,500.50``, ``¥8500``, ``8500元``."""
    if _PLAIN_AMOUNT.fullmatch(text):
        return Decimal(text).quantize(_CENT)  # what nearly every cell of a payroll export holds
    cleaned = _AMOUNT_NOISE.sub("", text)
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueProblem("amount_format", value=text) from None
    if not amount.is_finite() or amount != amount.quantize(_CENT):
        raise ValueProblem("amount_format", value=text)
    return amount.quantize(_CENT)


def parse_hukou(text: str) -> Hukou:
    hukou = _HUKOU.get(fold(text))
    if hukou is None:
        raise ValueProblem("hukou_unknown", value=text)
    return hukou


def parse_status(text: str) -> EmployeeStatus:
    status = _STATUS.get(fold(text))
    if status is None:
        raise ValueProblem("status_unknown", value=text)
    return status


def parse_slack_user(text: str) -> str:
    """A Slack member id (``U012AB3CD``), as written or as a mention (``<@U012AB3CD>``)."""
    m = _SLACK_USER.match(text.strip())
    if not m:
        raise ValueProblem("slack_user_format", value=text)
    return m.group(1)


# --- checking a whole file --------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    """One reason a row cannot be imported. ``field`` is the column (None for the row as
    a whole), ``title`` its header as written in the file, ``value`` what the cell held."""

    row: int
    field: str | None
    title: str
    value: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RosterEntry:
    row: int
    full_name: str
    resident_id: str
    slack_user: str | None  # None: the file does not say (an existing one is kept)
    hukou: Hukou
    enrolled_from: YearMonth
    leaving_month: YearMonth | None
    contribution_base: Decimal | None  # None: the file does not say
    status: EmployeeStatus
    retired_on: date | None


class WageEntry(NamedTuple):  # a tuple: a year of wages is a hundred thousand of them
    row: int
    resident_id: str
    full_name: str  # "" when the file has no name column or leaves it empty
    month: YearMonth
    gross_wage: Decimal


E = TypeVar("E")


@dataclass(frozen=True)
class Checked(Generic[E]):
    """A file read against its rules: the rows that may be imported, and every rejection.
    A file with any rejection is imported not at all."""

    header: Header
    entries: list[E]
    rejections: list[Rejection]
    rows: int  # data rows read (the header excluded)

    @property
    def rejected_rows(self) -> int:
        return len({r.row for r in self.rejections})


class RowReader:
    """Reads one row's cells by field and gathers its rejections."""

    def __init__(self, header: Header, row: Row, rejections: list[Rejection]):
        self.header = header
        self.columns = header.columns
        self.row = row
        self.cells = row.cells
        self.rejections = rejections
        self.failed = False

    def text(self, name: str) -> str:
        index = self.columns.get(name)
        return self.cells[index] if index is not None and index < len(self.cells) else ""

    def reject(self, name: str | None, code: str, **params: Any) -> None:
        self.failed = True
        title = self.header.titles.get(name, "") if name else ""
        value = self.text(name) if name else ""
        self.rejections.append(Rejection(self.row.number, name, title, value, code, params))

    def value(self, name: str, parse: Callable[[str], Any], *, required: bool) -> Any:
        text = self.text(name)
        if not text:
            if required:
                self.reject(name, "required")
            return None
        try:
            return parse(text)
        except ValueProblem as problem:
            self.reject(name, problem.code, **problem.params)
            return None

    def once_in_file(self, name: str, value: str | None, first_rows: dict[tuple[str, str], int]) -> None:
        """A resident ID or Slack user may stand in one row of a file only."""
        if value is None:
            return
        first = first_rows.setdefault((name, value), self.row.number)
        if first != self.row.number:
            self.reject(name, "duplicate_in_file", first_row=first)

    def resident_id(self, today: date, known: dict[str, tuple[str, str | None]]) -> str | None:
        """The row's resident ID, checked (``known``: what each text already checked to,
        as the same people recur month after month in a wage file)."""
        text = self.text("resident_id")
        if not text:
            self.reject("resident_id", "required")
            return None
        if self.row.numeric and self.header.columns["resident_id"] in self.row.numeric:
            # Excel keeps 15 significant digits: an 18-digit ID typed as a number is damaged.
            self.reject("resident_id", "resident_id_number_cell")
            return None
        if text not in known:
            number = resident_id.normalise(text)
            known[text] = (number, resident_id.problem(number, today))
        number, code = known[text]
        if code:
            self.reject("resident_id", code)
            return None
        if number == EXAMPLE_RESIDENT_ID:
            self.reject("resident_id", "example_row")
            return None
        return number


def _header(rows: Sequence[Row], kind: FileKind) -> Header:
    try:
        return find_header(rows, COLUMNS[kind])
    except TableError as exc:
        other = FileKind.ROSTER if kind is FileKind.WAGES else FileKind.WAGES
        if exc.code == "columns_missing" and matches(rows, COLUMNS[other]):
            raise TableError(f"file_is_{other.value}") from exc
        raise


def _data(rows: Sequence[Row], header: Header) -> list[Row]:
    data = [r for r in rows if r.number > header.row]
    if not data:
        raise TableError("file_no_rows")
    return data


def check_roster(rows: Sequence[Row], *, today: date, latest_month: YearMonth) -> Checked[RosterEntry]:
    """Every data row of a roster file checked: name, resident ID (its check digit, and
    once in the file), Slack user (once in the file), hukou type, enrolment and leaving
    months (the leaving month not before the enrolment month, neither after
    ``latest_month``), base, status and retirement date (not before birth). TableError
    when the file has no roster header (or is a wage file)."""
    header = _header(rows, FileKind.ROSTER)
    entries: list[RosterEntry] = []
    rejections: list[Rejection] = []
    first_rows: dict[tuple[str, str], int] = {}
    known_ids: dict[str, tuple[str, str | None]] = {}
    data = _data(rows, header)
    for row in data:
        read = RowReader(header, row, rejections)
        name = read.text("full_name")
        if not name:
            read.reject("full_name", "required")
        elif len(name) > MAX_NAME:
            read.reject("full_name", "too_long", limit=MAX_NAME)
        number = read.resident_id(today, known_ids)
        read.once_in_file("resident_id", number, first_rows)
        user = read.value("slack_user", parse_slack_user, required=False)
        read.once_in_file("slack_user", user, first_rows)
        hukou = read.value("hukou", parse_hukou, required=True)
        enrolled = read.value("enrolled_from", parse_month, required=True)
        leaving = read.value("leaving_month", parse_month, required=False)
        base = read.value("contribution_base", parse_amount, required=False)
        status = read.value("status", parse_status, required=False)
        retired_on = read.value("retired_on", parse_date, required=False)
        born = YearMonth.of(resident_id.birth_date(number)) if number else None
        for name_, month in (("enrolled_from", enrolled), ("leaving_month", leaving)):
            if month is None:
                continue
            if born and month < born:
                read.reject(name_, "month_before_birth", born=str(born))
            elif month > latest_month:
                read.reject(name_, "month_too_late", latest=str(latest_month))
        if enrolled and leaving and leaving < enrolled:
            read.reject(
                "leaving_month", "leaving_before_enrolment", enrolled=str(enrolled), leaving=str(leaving)
            )
        if base is not None and not Decimal(0) < base <= MAX_MONTHLY_WAGE:
            read.reject("contribution_base", "amount_out_of_range", limit=MAX_MONTHLY_WAGE)
        if retired_on and number and retired_on < resident_id.birth_date(number):
            read.reject("retired_on", "date_before_birth")
        if status is None and not read.text("status"):
            status = _derived_status(retired_on, leaving)
        if status is EmployeeStatus.LEFT and leaving is None and not read.text("leaving_month"):
            read.reject("leaving_month", "leaving_month_required")
        if status is EmployeeStatus.RETIRED and retired_on is None and not read.text("retired_on"):
            read.reject("retired_on", "retired_on_required")
        if status is EmployeeStatus.ENROLLED and leaving and leaving < YearMonth.of(today):
            read.reject("status", "status_conflict", leaving=str(leaving))
        if not read.failed:
            entries.append(
                RosterEntry(
                    row.number, name, number, user, hukou, enrolled, leaving, base, status, retired_on
                )
            )
    return Checked(header, entries, rejections, len(data))


def _derived_status(retired_on: date | None, leaving: YearMonth | None) -> EmployeeStatus:
    """The status a row without one has: retired with a retirement date, left with a
    leaving month, enrolled otherwise."""
    if retired_on:
        return EmployeeStatus.RETIRED
    if leaving:
        return EmployeeStatus.LEFT
    return EmployeeStatus.ENROLLED


def check_wages(rows: Sequence[Row], *, today: date) -> Checked[WageEntry]:
    """Every data row of a wage file checked: resident ID (its check digit), month (not
    after this one), gross wage (yuan, two decimals at most, not negative, below
    MAX_MONTHLY_WAGE), and one row per person and month. TableError when the file has no
    wage header (or is a roster file)."""
    header = _header(rows, FileKind.WAGES)
    entries: list[WageEntry] = []
    rejections: list[Rejection] = []
    first_row_of: dict[tuple[str, YearMonth], int] = {}
    known_ids: dict[str, tuple[str, str | None]] = {}
    months: dict[str, YearMonth | ValueProblem] = {}

    def month_of(text: str) -> YearMonth:
        return _cached_month(text, months)

    current = YearMonth.of(today)
    data = _data(rows, header)
    for row in data:
        read = RowReader(header, row, rejections)
        number = read.resident_id(today, known_ids)
        month = read.value("month", month_of, required=True)
        if month is not None and month > current:
            read.reject("month", "wage_month_in_future", current=str(current))
            month = None
        wage = read.value("gross_wage", parse_amount, required=True)
        if wage is not None and wage < 0:
            read.reject("gross_wage", "wage_negative")
        elif wage is not None and wage > MAX_MONTHLY_WAGE:
            read.reject("gross_wage", "wage_too_large", limit=MAX_MONTHLY_WAGE)
        if number and month:
            key = (number, month)
            if key in first_row_of:
                read.reject(None, "duplicate_wage_in_file", first_row=first_row_of[key], month=str(month))
            else:
                first_row_of[key] = row.number
        if not read.failed:
            entries.append(WageEntry(row.number, number, read.text("full_name"), month, wage))
    return Checked(header, entries, rejections, len(data))


def _cached_month(text: str, cache: dict[str, YearMonth | ValueProblem]) -> YearMonth:
    # A wage file repeats a handful of months over thousands of rows.
    if text not in cache:
        try:
            cache[text] = parse_month(text)
        except ValueProblem as problem:
            cache[text] = problem
    found = cache[text]
    if isinstance(found, ValueProblem):
        raise found
    return found


def same_name(a: str, b: str) -> bool:
    """Whether two spellings name the same person: case, width and spaces aside
    ("Zhang San" and "ZHANG  SAN", "张三" and "张 三")."""
    return fold(a) == fold(b)


def retirement_day(form: RetirementRequest) -> date:
    """The day a retirement request, once done, retires the person from: the first day of
    the month they asked for (a flexible retirement), else the day they reach the
    statutory age."""
    if form.wanted_month is not None:
        return form.wanted_month.day(1)
    return form.statutory.reached_on


# --- what an import did ---------------------------------------------------------------------


@dataclass(frozen=True)
class PreviousImport:
    """The same file (same SHA-256), imported before."""

    at: datetime
    actor: str
    file_name: str


@dataclass(frozen=True)
class ImportOutcome:
    """What importing a file did. ``problem`` (a code and its params) when the file as a
    whole could not be read; ``rejections`` when rows were wrong. In both cases nothing
    was imported. Otherwise ``added`` + ``changed`` + ``unchanged`` rows; when nothing
    changed and the same file was imported before, ``seen_before`` says when and by whom."""

    kind: FileKind | None
    file_name: str
    rows: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    rejections: tuple[Rejection, ...] = ()
    problem: tuple[str, dict[str, Any]] | None = None
    batch_id: int | None = None
    seen_before: PreviousImport | None = None

    @property
    def imported(self) -> bool:
        return self.problem is None and not self.rejections

    @property
    def rejected_rows(self) -> int:
        return len({r.row for r in self.rejections})
