"""Each request kind's form: its validation, its storage, and the /si words that open it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.domain import commands as cmd
from bot.domain.commands import parse_command
from bot.domain.errors import FieldErrors, Refused
from bot.domain.fields import to_payload
from bot.domain.kinds import KINDS, FormContext, parse_form, read_form
from bot.domain.kinds.card import CardAction
from bot.domain.kinds.unemployment import RegisteredUnemployed
from bot.domain.months import YearMonth
from bot.domain.policy import load_policy
from bot.domain.requests import RequestKind, State
from bot.presenters.requests import mask_document

TODAY = date(2026, 11, 27)
MAN_1970 = "110105197006100016"
WOMAN_1980 = "110105198001150027"


POLICY = load_policy()


def parse(kind: RequestKind, raw: dict, *, actor: str = "U1", for_others: bool = False):
    """A filled-in form of ``kind``, checked as the service does."""
    return parse_form(kind, raw, FormContext(actor, for_others, TODAY, POLICY)).form


def problems(call) -> dict[str, str]:
    with pytest.raises(FieldErrors) as caught:
        call()
    return {name: p.code for name, p in caught.value.problems.items()}


def test_a_card_request_needs_the_loss_day_only_when_lost():
    raw = {"card_action": "lost", "full_name": "Zhang San", "resident_id": MAN_1970}
    assert problems(lambda: parse(RequestKind.CARD, raw)) == {"lost_on": "required"}
    card = parse(RequestKind.CARD, {**raw, "lost_on": "2026-11-20"})
    assert card.card_action is CardAction.LOST and card.lost_on == date(2026, 11, 20)
    applied = parse(RequestKind.CARD, {**raw, "card_action": "apply", "lost_on": "2026-11-20"})
    assert applied.lost_on is None  # ignored unless lost
    assert problems(lambda: parse(RequestKind.CARD, {**raw, "lost_on": "20/11/2026"})) == {
        "lost_on": "date_format"
    }
    assert problems(lambda: parse(RequestKind.CARD, {"card_action": "x"})) == {
        "card_action": "choose_one",
        "full_name": "required",
        "resident_id": "required",
    }


def test_a_transfer_moves_past_months_in_order():
    raw = {"direction": "out", "other_city": "Hangzhou", "month_from": "2026-12", "month_to": "2026-01"}
    assert problems(lambda: parse(RequestKind.TRANSFER, raw)) == {
        "month_from": "transfer_month_in_future",
        "month_to": "month_order",
    }
    ok = parse(RequestKind.TRANSFER, {**raw, "month_from": "2025-01"})
    assert (ok.month_from, ok.month_to) == (YearMonth(2025, 1), YearMonth(2026, 1))


def test_retirement_reads_birth_and_sex_from_the_resident_id():
    raw = {
        "full_name": "Z",
        "resident_id": MAN_1970,
        "retirement_category": "male",
        "contribution_years": "16",
    }
    form = parse(RequestKind.RETIREMENT, raw)
    assert form.birth == date(1970, 6, 10)
    assert form.statutory.retirement_month == YearMonth(2031, 11)
    assert problems(lambda: parse(RequestKind.RETIREMENT, {**raw, "retirement_category": "female_55"})) == {
        "retirement_category": "category_sex_mismatch"
    }
    woman = parse(
        RequestKind.RETIREMENT, {**raw, "resident_id": WOMAN_1980, "retirement_category": "female_50"}
    )
    assert woman.statutory.retirement_month == YearMonth(2032, 8)  # DOMAIN §6: 1980-01 worker


@pytest.mark.parametrize(
    ("wanted", "code"),
    [
        ("2026-10", "wanted_month_past"),
        ("2030-05", "flexible_before_original_age"),  # before 60
        ("2034-12", "flexible_more_than_3_years_late"),
    ],
)
def test_a_flexible_retirement_month_must_be_allowed(wanted, code):
    raw = {
        "full_name": "Z",
        "resident_id": MAN_1970,
        "retirement_category": "male",
        "contribution_years": "16",
        "wanted_month": wanted,
    }
    assert problems(lambda: parse(RequestKind.RETIREMENT, raw)) == {"wanted_month": code}


def test_early_retirement_counts_the_years_contributed_until_then():
    raw = {
        "full_name": "Z",
        "resident_id": MAN_1970,
        "retirement_category": "male",
        "wanted_month": "2030-06",
    }
    # 2030 needs 15.5 years; 12 now + 43 months until June 2030 = 15.58 years.
    assert parse(RequestKind.RETIREMENT, {**raw, "contribution_years": "12"}).wanted_month == YearMonth(
        2030, 6
    )
    assert problems(lambda: parse(RequestKind.RETIREMENT, {**raw, "contribution_years": "11.9"})) == {
        "wanted_month": "flexible_minimum_years_not_met"
    }


def test_unemployment_form_and_its_assessment():
    raw = {
        "separation_date": "2026-12-31",
        "separation_reason": "mutual_by_employer",
        "contribution_years": "10",
        "registered_unemployed": "yes",
        "carried_over_months": "30",
    }
    assert problems(lambda: parse(RequestKind.UNEMPLOYMENT, raw)) == {"carried_over_months": "count_format"}
    form = parse(RequestKind.UNEMPLOYMENT, {**raw, "carried_over_months": ""})
    assert form.registered_unemployed is RegisteredUnemployed.YES
    check = form.assessment()
    assert check.eligible and check.max_months == 24
    pending = parse(
        RequestKind.UNEMPLOYMENT, {**raw, "registered_unemployed": "not_yet", "carried_over_months": ""}
    )
    assert pending.assessment().pending == ("register_as_unemployed",)


def test_medical_dates():
    raw = {"treatment_kind": "inpatient", "hospital": "Ruijin", "date_from": "2025-01-01"}
    assert problems(lambda: parse(RequestKind.MEDICAL, raw)) == {"date_from": "date_too_early"}
    assert parse(RequestKind.MEDICAL, {**raw, "date_from": "2026-11-01"}).date_to is None


def test_settlement_rules():
    raw = {
        "settle_reason": "death",
        "person": "U2",
        "full_name": "Z",
        "id_number": MAN_1970,
        "event_date": "2026-12-01",
    }
    assert problems(lambda: parse(RequestKind.SETTLEMENT, raw, for_others=True)) == {
        "event_date": "date_too_late"  # a death is not in the future
    }
    assert problems(lambda: parse(RequestKind.SETTLEMENT, {**raw, "id_number": "110105197006100017"})) == {
        "person": "only_for_yourself",
        "id_number": "resident_id_check_digit",
        "event_date": "date_too_late",
    }
    leaving = parse(
        RequestKind.SETTLEMENT,
        {**raw, "settle_reason": "leaving_china", "person": "U1", "id_number": "e12345678"},
    )
    assert leaving.id_number == "E12345678" and mask_document(leaving.id_number) == "*******78"
    # An employee's form has no person picker: the filer is the person, and a death (an
    # option their form does not offer) is refused on the reason.
    own = {k: v for k, v in raw.items() if k != "person"}
    assert parse(RequestKind.SETTLEMENT, {**own, "settle_reason": "leaving_china"}).person == "U1"
    assert problems(lambda: parse(RequestKind.SETTLEMENT, {**own, "event_date": "2026-11-01"})) == {
        "settle_reason": "settle_death_self"
    }


def test_every_form_survives_storage():
    forms = {
        RequestKind.CARD: parse(
            RequestKind.CARD,
            {"card_action": "lost", "full_name": "Z", "resident_id": MAN_1970, "lost_on": "2026-11-01"},
        ),
        RequestKind.RETIREMENT: parse(
            RequestKind.RETIREMENT,
            {
                "full_name": "Z",
                "resident_id": MAN_1970,
                "retirement_category": "male",
                "contribution_years": "16.5",
            },
        ),
        RequestKind.UNEMPLOYMENT: parse(
            RequestKind.UNEMPLOYMENT,
            {
                "separation_date": "2026-12-31",
                "separation_reason": "other",
                "contribution_years": "2",
                "registered_unemployed": "not_yet",
                "carried_over_months": "5",
            },
        ),
    }
    for kind, form in forms.items():
        assert read_form(kind, to_payload(form)) == form
    assert forms[RequestKind.RETIREMENT].contribution_years == Decimal("16.5")


def test_every_kind_is_one_registry_entry():
    assert set(KINDS) == set(RequestKind)
    assert len({spec.command for spec in KINDS.values()}) == len(KINDS)
    for spec in KINDS.values():
        assert parse_command(spec.command) == cmd.FileRequest(spec.kind)


def test_command_words_open_the_procedures():
    assert parse_command("card lost").prefill == {"card_action": "lost"}
    assert parse_command("transfer OUT").prefill == {"direction": "out"}
    assert parse_command("settle leaving-china").prefill == {"settle_reason": "leaving_china"}
    assert parse_command("retire") == cmd.FileRequest(RequestKind.RETIREMENT)
    assert parse_command("admin list settle approved") == cmd.AdminList(
        RequestKind.SETTLEMENT, State.APPROVED
    )
    for text, code in [
        ("card broken", "usage_card"),
        ("transfer sideways", "usage_transfer"),
        ("retire now", "usage_no_arguments"),
        ("export change-form 2026-13", "bad_month"),
        ("export everything", "usage_export"),
        ("admin add bob", "usage_admin_add_remove"),
        ("admin add <@U1> 5 Jan", "bad_filed_date"),
        ("admin handover", "usage_handover"),
        ("docs burn", "usage_docs"),
    ]:
        with pytest.raises(Refused) as caught:
            parse_command(text)
        assert caught.value.code == code, text
    assert parse_command("export change-form") == cmd.ExportChangeForm()
    assert parse_command("export handover 3") == cmd.ExportHandover(3)


def test_the_form_refuses_a_deferral_once_the_statutory_date_has_passed():
    # A man born 1966-05-10: 16 months after January 1965 -> 16 // 4 + 1 = 5 months' delay ->
    # 60 years 5 months, reached on 2026-10-10. On 2026-11-27 a deferral to 2027-03 comes too
    # late: it is agreed at least 1 month before the statutory date and never after it
    # (《实施弹性退休制度暂行办法》, DOMAIN.md §16).
    raw = {
        "full_name": "Z",
        "resident_id": "110105196605100013",
        "retirement_category": "male",
        "contribution_years": "30",
        "wanted_month": "2027-03",
    }
    with pytest.raises(FieldErrors) as caught:
        parse(RequestKind.RETIREMENT, raw)
    problem = caught.value.problems["wanted_month"]
    assert problem.code == "flexible_statutory_date_passed"
    assert problem.params["statutory_day"] == "2026-10-10"
    # The same deferral asked for in time is accepted (the agreement is the employer's).
    context = FormContext("U1", False, date(2026, 9, 10), POLICY)
    assert parse_form(RequestKind.RETIREMENT, raw, context).form.wanted_month == YearMonth(2027, 3)


def test_a_record_correction_is_about_past_months_and_says_what_is_wrong():
    raw = {"full_name": "Zhang San", "resident_id": MAN_1970, "month_from": "2026-12", "issue": "x"}
    assert problems(lambda: parse(RequestKind.CORRECTION, raw)) == {
        "month_from": "month_not_past",
        "issue": "choose_one",
        "description": "required",
    }
    raw = {**raw, "month_from": "2026-10", "month_to": "2026-11", "issue": "base_wrong", "expected": "9,100"}
    form = parse(RequestKind.CORRECTION, {**raw, "description": "The bill says 9,000"})
    assert (form.month_to, form.expected) == (YearMonth(2026, 11), Decimal("9100"))
    assert parse_command("correction 2026-10") == cmd.FileRequest(
        RequestKind.CORRECTION, {"month_from": "2026-10"}
    )
    with pytest.raises(Refused, match="bad_month"):
        parse_command("correction October")
