"""The pure rules: resident IDs, months, the payback estimate, states, the /si command line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.domain import commands as cmd
from bot.domain import resident_id
from bot.domain.calendar import WorkingCalendar
from bot.domain.commands import parse_command
from bot.domain.errors import FieldErrors, Refused
from bot.domain.kinds import FormContext, parse_form
from bot.domain.months import YearMonth, month_range
from bot.domain.payback import estimate_payback
from bot.domain.policy import PolicyError, load_policy, parse_policy
from bot.domain.requests import Action, RequestKind, State, next_state

POLICY = load_policy()
CALENDAR = WorkingCalendar.from_policy(POLICY)
TODAY = date(2026, 11, 27)


def parse(kind: RequestKind, raw: dict, *, actor: str = "U1", for_others: bool = False):
    """A filled-in form of ``kind``, checked as the service does."""
    return parse_form(kind, raw, FormContext(actor, for_others, TODAY, POLICY)).form


# --- resident ID (GB 11643) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first17", "check"),
    [
        ("11010519491231002", "X"),  # the standard's own example
        ("44052419800101001", "3"),  # weighted sum 196; 196 % 11 = 9; "10X98765432"[9] = "3"
        ("11010119900307803", "X"),  # weighted sum 222; 222 % 11 = 2 -> "X"
    ],
)
def test_check_character_follows_iso_7064_mod_11_2(first17, check):
    assert resident_id.check_char(first17) == check
    assert resident_id.problem(first17 + check, TODAY) is None


def test_check_character_worked_by_hand():
    # 1x7 + 1x9 + 0x10 + 1x5 + 0x8 + 5x4 + 1x2 + 9x1 + 4x6 + 9x3 + 1x7 + 2x9 + 3x10 + 1x5 + 0x8 + 0x4 + 2x2
    # = 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 % 11 = 2 -> "X"
    assert resident_id.check_char("11010519491231002") == "X"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("11010519491231002", "resident_id_shape"),
        ("11010519491231002XX", "resident_id_shape"),
        ("11010519491231002A", "resident_id_shape"),
        ("110105194912310021", "resident_id_check_digit"),
        ("110105194902300021", "resident_id_birth_date"),  # 30 February
        ("110105203001010011", "resident_id_birth_date"),  # born in the future
    ],
)
def test_bad_resident_ids_say_what_is_wrong(number, code):
    assert resident_id.problem(number, TODAY) == code


def test_lowercase_x_and_spaces_are_accepted():
    assert resident_id.problem(resident_id.normalise(" 110105 19491231002x "), TODAY) is None


def test_masking_keeps_region_and_last_four():
    assert resident_id.mask("11010519491231002X") == "1101**********002X"
    assert resident_id.mask_in_text("id 11010519491231002X, phone 13800138000") == (
        "id 1101**********002X, phone 13800138000"
    )
    assert resident_id.mask_in_text("order 9911010519491231002X77") == "order 9911010519491231002X77"


def test_an_old_fifteen_digit_id_in_text_is_masked_too():
    # First-generation IDs: region, birth date as YYMMDD, sequence.
    assert resident_id.mask_in_text("旧身份证 110105491231002 已换") == "旧身份证 1101********002 已换"
    # Fifteen digits that hold no date are not an ID; nor is a longer run.
    assert resident_id.mask_in_text("no 123456789012345") == "no 123456789012345"
    assert resident_id.mask_in_text("ts 1101054912310020") == "ts 1101054912310020"


# --- months --------------------------------------------------------------------------------


def test_months_parse_and_count_across_years():
    assert YearMonth.parse("2026-1") == YearMonth(2026, 1)
    assert YearMonth.parse("2026/12") == YearMonth(2026, 12)
    assert str(YearMonth(2026, 11).plus(3)) == "2027-02"
    assert str(YearMonth(2026, 1).plus(-1)) == "2025-12"
    assert YearMonth(2027, 2).months_since(YearMonth(2026, 11)) == 3
    assert [str(m) for m in month_range(YearMonth(2025, 11), YearMonth(2026, 2))] == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "Dec 2026", "26-12", ""])
def test_months_refuse_what_is_not_a_month(text):
    with pytest.raises(ValueError):
        YearMonth.parse(text)


# --- payback estimate ------------------------------------------------------------------------


def test_payback_estimate_worked_example():
    # Base 10,000 for January-March 2026, estimated on 25 April 2026 (period 2025-07..2026-06).
    # Employer 25.66 % (16 + 9 + 0.5 + 0.16) -> 2,566.00 a month; employee 10.5 % -> 1,050.00.
    # Due the 25th, moved off holidays to the next working day (税收征收管理法实施细则 Art. 109):
    # Sun 01-25 -> Mon 01-26, late 89 days; Wed 02-25, 59; Wed 03-25, 31: 179 days.
    # Late fee 3,616.00 x 0.0005 x 179 = 323.632 -> 323.63, the employer's (社会保险法 Art. 86).
    estimate = estimate_payback(
        YearMonth(2026, 1), YearMonth(2026, 3), Decimal(10000), POLICY, date(2026, 4, 25), CALENDAR
    )
    assert estimate.months == 3 and estimate.late_days == 179
    assert [m.due for m in estimate.detail] == [date(2026, 1, 26), date(2026, 2, 25), date(2026, 3, 25)]
    assert estimate.employer_contributions == Decimal("7698.00")
    assert estimate.employee_contributions == Decimal("3150.00")
    assert estimate.late_fee == Decimal("323.63")
    assert estimate.employer_total == Decimal("8021.63")
    assert estimate.total == Decimal("11171.63")


def test_no_late_fee_before_the_due_date():
    estimate = estimate_payback(
        YearMonth(2026, 4), YearMonth(2026, 4), Decimal(8000), POLICY, date(2026, 4, 25), CALENDAR
    )
    assert estimate.late_fee == 0 and estimate.total == Decimal("2892.80")  # 8,000 x 36.16 %


# --- states --------------------------------------------------------------------------------


def test_the_state_machine():
    assert next_state(State.SUBMITTED, Action.APPROVE) is State.APPROVED
    assert next_state(State.APPROVED, Action.DONE) is State.DONE
    assert next_state(State.SUBMITTED, Action.REJECT) is State.REJECTED
    assert next_state(State.APPROVED, Action.REJECT) is State.REJECTED
    assert next_state(State.SUBMITTED, Action.CANCEL) is State.CANCELLED
    for state, action in [
        (State.SUBMITTED, Action.DONE),
        (State.APPROVED, Action.APPROVE),
        (State.APPROVED, Action.CANCEL),
        (State.DONE, Action.REJECT),
        (State.REJECTED, Action.APPROVE),
        (State.CANCELLED, Action.APPROVE),
    ]:
        with pytest.raises(Refused) as refused:
            next_state(state, action)
        assert refused.value.code == "transition_not_allowed"


# --- forms ---------------------------------------------------------------------------------

CHANGE = {
    "change_type": "add",
    "person": "U1",
    "full_name": "Zhang San",
    "resident_id": "11010519491231002X",
    "hukou": "local_urban",
    "effective_month": "2026-12",
    "contribution_base": "9,000",
}


def test_a_valid_change_parses():
    change = parse(RequestKind.CHANGE, CHANGE)
    assert change.contribution_base == Decimal(9000) and str(change.effective_month) == "2026-12"


def test_every_mistake_of_a_change_is_reported_at_once():
    raw = {
        **CHANGE,
        "person": "U2",
        "hukou": "",
        "effective_month": "2027-06",
        "contribution_base": "7000.123",
    }
    with pytest.raises(FieldErrors) as errors:
        parse(RequestKind.CHANGE, raw)
    problems = errors.value.problems
    assert {k: p.code for k, p in problems.items()} == {
        "person": "only_for_yourself",
        "hukou": "choose_one",
        "effective_month": "month_window",
        "contribution_base": "amount_format",
    }
    assert problems["effective_month"].params == {"earliest": "2026-08", "latest": "2027-02"}


def test_base_is_required_for_additions_only_and_checked_against_the_policy():
    with pytest.raises(FieldErrors) as errors:
        parse(RequestKind.CHANGE, {**CHANGE, "contribution_base": ""})
    assert errors.value.problems["contribution_base"].code == "required"
    removal = parse(RequestKind.CHANGE, {**CHANGE, "change_type": "remove", "contribution_base": ""})
    assert removal.contribution_base is None
    with pytest.raises(FieldErrors) as errors:
        parse(RequestKind.CHANGE, {**CHANGE, "contribution_base": "40000"})
    # The bounds of the effective month's base period, 2026-07..2027-06 (Shanghai's 2026
    # notice, DOMAIN.md §2: 60 % and 300 % of the 2025 average wage 12,577).
    assert errors.value.problems["contribution_base"].params == {
        "floor": Decimal(7546),
        "ceiling": Decimal(37731),
        "start": "2026-07",
        "end": "2027-06",
        "assumed": False,
        "month": "2026-12",
        "verified": False,
    }


def test_payback_months_are_past_within_the_policy_limit_and_in_order():
    raw = {"month_from": "2023-10", "month_to": "2026-12", "monthly_base": "9000", "reason": "other"}
    with pytest.raises(FieldErrors) as errors:
        parse(RequestKind.PAYBACK, raw)
    codes = {k: p.code for k, p in errors.value.problems.items()}
    assert codes == {"month_from": "month_too_old", "month_to": "month_in_future"}
    ok = parse(RequestKind.PAYBACK, {**raw, "month_from": "2023-11", "month_to": "2026-11"})
    assert ok.month_from == YearMonth(2023, 11)


# --- the /si command line ----------------------------------------------------------------------


def test_command_line_parsing():
    assert parse_command("") == cmd.Help()
    assert parse_command("payback") == cmd.FileRequest(RequestKind.PAYBACK)
    change = parse_command("change add <@U123ABC|zhang> 2026-12")
    assert change == cmd.FileRequest(
        RequestKind.CHANGE, {"change_type": "add", "person": "U123ABC", "effective_month": "2026-12"}
    )
    assert parse_command("status si-2026-0042") == cmd.Status("SI-2026-0042")
    assert parse_command("admin list complaint submitted") == cmd.AdminList(
        RequestKind.COMPLAINT, State.SUBMITTED
    )
    assert parse_command("admin list retire") == cmd.AdminList(RequestKind.RETIREMENT)
    assert parse_command("admin staff remove <@U9>") == cmd.StaffRemove("U9")
    assert parse_command("export change-form 2026-12") == cmd.ExportChangeForm(YearMonth(2026, 12))
    assert parse_command("admin add <@U9> 2026-01-05") == cmd.AdminAdd("U9", date(2026, 1, 5))


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("change hire", "bad_change_type"),
        ("change add tomorrow", "bad_change_argument"),
        ("cancel", "usage_cancel"),
        ("status 42", "bad_public_id"),
        ("admin", "usage_admin"),
        ("admin staff add bob", "usage_staff"),
        ("admin list soon", "bad_list_filter"),
        ("dance", "unknown_subcommand"),
    ],
)
def test_command_line_mistakes_name_what_to_fix(text, code):
    with pytest.raises(Refused) as refused:
        parse_command(text)
    assert refused.value.code == code


# --- the policy file ---------------------------------------------------------------------------


def test_the_shipped_policy_adds_up():
    assert POLICY.employer_rate == Decimal("25.66") and POLICY.employee_rate == Decimal("10.5")
    assert POLICY.base_floor < POLICY.base_ceiling


def test_a_broken_policy_is_refused_with_the_place_to_fix():
    import tomllib

    with open(POLICY.path, "rb") as fh:
        data = tomllib.load(fh)
    data["deadlines"]["payment_day"] = 31
    with pytest.raises(PolicyError, match=r"deadlines\.payment_day"):
        parse_policy(data)
    data["deadlines"]["payment_day"] = 25
    data["base_periods"][1]["floor"] = 50000
    with pytest.raises(PolicyError, match="floor"):
        parse_policy(data)


def test_flexible_workers_rates_are_optional_and_checked():
    import tomllib

    assert POLICY.flexible_pension_percent == Decimal("20")
    assert POLICY.flexible_medical_percent == Decimal("10")
    assert "english.shanghai.gov.cn" in POLICY.flexible_rates_source
    with open(POLICY.path, "rb") as fh:
        data = tomllib.load(fh)
    data["flexible_rates"]["medical"] = "ten"
    with pytest.raises(PolicyError, match=r"flexible_rates\.medical"):
        parse_policy(data)
    del data["flexible_rates"]["medical"]
    with pytest.raises(PolicyError, match=r"flexible_rates: missing 'medical'"):
        parse_policy(data)
    del data["flexible_rates"]
    other = parse_policy(data)  # a city without an official figure leaves the table out
    assert other.flexible_pension_percent is None and other.flexible_rates_source == ""
