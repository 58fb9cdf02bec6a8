"""Unemployment benefit: periods (SIL Art. 46 / UIR Art. 17) and eligibility (SIL Art. 45)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.domain.unemployment import SeparationReason, assess, benefit_months, is_involuntary


@pytest.mark.parametrize(
    ("years", "months"),
    [
        (0, 0),
        ("0.99", 0),
        (1, 12),
        (Decimal("4.99"), 12),
        (5, 18),
        ("9.9", 18),
        (10, 24),
        (35, 24),
    ],
)
def test_benefit_months(years, months):
    assert benefit_months(years) == months


@pytest.mark.parametrize("bad", [-1, "ten", "NaN", "Infinity"])
def test_benefit_months_refuses_nonsense(bad):
    with pytest.raises(ValueError):
        benefit_months(bad)


def test_benefit_months_refuses_floats_and_booleans():
    with pytest.raises(TypeError):
        benefit_months(4.999999)
    with pytest.raises(TypeError):
        benefit_months(True)


@pytest.mark.parametrize(
    ("reason", "involuntary"),
    [
        ("contract_expired_not_renewed_by_employer", True),
        ("dismissed", True),
        ("mutual_by_employer", True),
        ("employee_terminated_art38", True),
        ("resigned", False),
        ("other", False),
    ],
)
def test_is_involuntary(reason, involuntary):
    assert is_involuntary(reason) is involuntary
    assert is_involuntary(SeparationReason(reason)) is involuntary


def test_an_unknown_reason_is_refused():
    with pytest.raises(ValueError):
        is_involuntary("fired")


def test_a_dismissed_registered_employee_with_six_years_gets_18_months():
    result = assess(6, "dismissed", registered_unemployed=True)
    assert result.eligible and result.max_months == 18
    assert result.unmet == () and result.pending == ()


def test_registration_still_to_do_is_pending_not_unmet():
    result = assess(6, "dismissed")
    assert not result.eligible and result.pending == ("register_as_unemployed",)
    assert result.max_months == 18  # what it will be once registered


def test_resigning_or_too_short_is_not_eligible():
    result = assess("0.5", "resigned", registered_unemployed=False)
    assert not result.eligible and result.max_months == 0
    assert result.unmet == ("contributions_under_1_year", "separation_voluntary", "not_registered_unemployed")


def test_other_reasons_need_an_administrator():
    result = assess(3, "other", registered_unemployed=True)
    assert not result.eligible and result.unmet == () and result.pending == ("review_separation_reason",)


def test_a_pensioner_cannot_draw_it():
    assert assess(20, "dismissed", registered_unemployed=True, receiving_pension=True).unmet == (
        "receiving_pension",
    )


def test_unused_months_carry_over_up_to_24():
    assert assess(2, "dismissed", registered_unemployed=True, carried_over_months=5).max_months == 17
    assert assess(12, "dismissed", registered_unemployed=True, carried_over_months=10).max_months == 24
    with pytest.raises(ValueError):
        assess(2, "dismissed", carried_over_months=-1)


def test_months_left_from_an_earlier_claim_need_no_new_year_of_contributions():
    # 《失业保险金申领发放办法》 Art. 15(2) (DOMAIN.md §16): someone re-employed and unemployed
    # again may draw the months left from the earlier claim even with under a year of new
    # contributions. Half a year now, 10 months left over: eligible, at most 10 months.
    check = assess(Decimal("0.5"), "dismissed", registered_unemployed=True, carried_over_months=10)
    assert check.eligible and check.max_months == 10 and check.unmet == ()
    # Without months left over, half a year is not enough.
    assert assess(Decimal("0.5"), "dismissed", registered_unemployed=True).unmet == (
        "contributions_under_1_year",
    )


@pytest.mark.parametrize("reason", ["contract_expired", "employer_closed"])
def test_every_contract_expiry_and_the_employers_closure_are_involuntary(reason):
    # 人社部令第13号 Art. 13(1): termination under Labour Contract Law Art. 44(1) (any expiry),
    # 44(4) (bankruptcy) and 44(5) (licence revoked, ordered closed, dissolved early).
    assert is_involuntary(reason)
