"""Unemployment benefit (失业保险金): who may claim it, and for how long at most.

Eligibility needs all three (社会保险法 Art. 45; 失业保险条例 Art. 14): unemployment
premiums paid for at least 1 year before the job loss; an involuntary separation; and
registration as unemployed with the wish to work. "Involuntary" (人社部令第13号 Art. 13):
every contract expiry (劳动合同法 Art. 44(1)) and the employer's bankruptcy or closure
(Art. 44(4)(5)); dismissal (Art. 39-41); a mutual termination the employer proposed
(Art. 36); the employee ending the contract under Art. 38 (the employer's fault, e.g.
unpaid social insurance). Resigning does not qualify.

Longest period (社会保险法 Art. 46; 失业保险条例 Art. 17): 1 to under 5 years of
contributions → 12 months; 5 to under 10 → 18; 10 or more → 24. Months left unclaimed from
an earlier spell of unemployment add on, 24 in all at most. Someone unemployed again with
months left over may draw them even with under a year of new contributions
(《失业保险金申领发放办法》 Art. 15(2)). The amount is set by the province and is not
computed here.

Results carry codes, never sentences: the words live in ``messages/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

MAX_MONTHS = 24


class SeparationReason(StrEnum):
    CONTRACT_EXPIRED = "contract_expired"  # any expiry (劳动合同法 Art. 44(1))
    # Older requests' word for an expiry; read, no longer offered (every expiry counts).
    CONTRACT_EXPIRED_NOT_RENEWED_BY_EMPLOYER = "contract_expired_not_renewed_by_employer"
    EMPLOYER_CLOSED = "employer_closed"  # bankruptcy, licence revoked, closed (Art. 44(4)(5))
    DISMISSED = "dismissed"
    MUTUAL_BY_EMPLOYER = "mutual_by_employer"  # mutual termination the employer proposed
    EMPLOYEE_TERMINATED_ART38 = "employee_terminated_art38"
    RESIGNED = "resigned"
    OTHER = "other"  # an administrator has to look at it


INVOLUNTARY = frozenset(
    {
        SeparationReason.CONTRACT_EXPIRED,
        SeparationReason.CONTRACT_EXPIRED_NOT_RENEWED_BY_EMPLOYER,
        SeparationReason.EMPLOYER_CLOSED,
        SeparationReason.DISMISSED,
        SeparationReason.MUTUAL_BY_EMPLOYER,
        SeparationReason.EMPLOYEE_TERMINATED_ART38,
    }
)


@dataclass(frozen=True)
class UnemploymentAssessment:
    """``eligible`` only when every condition is known and met.

    ``unmet``: codes of conditions that fail (``contributions_under_1_year``,
    ``separation_voluntary``, ``not_registered_unemployed``, ``receiving_pension``).
    ``pending``: codes of what is still to be done or checked before it can be said
    (``register_as_unemployed``, ``review_separation_reason``).
    ``max_months``: the longest period if eligible, carried-over months included; 0 when
    something is unmet.
    """

    eligible: bool
    max_months: int
    unmet: tuple[str, ...]
    pending: tuple[str, ...]


def benefit_months(contribution_years: Decimal | int | str) -> int:
    """The longest benefit period for this many years of unemployment contributions
    (0: under one year, not eligible)."""
    years = _years(contribution_years)
    if years < 1:
        return 0
    if years < 5:
        return 12
    if years < 10:
        return 18
    return 24


def is_involuntary(reason: SeparationReason | str) -> bool:
    """Whether the separation counts as involuntary (``other`` does not: it needs review).
    ValueError for an unknown code."""
    return SeparationReason(reason) in INVOLUNTARY


def assess(
    contribution_years: Decimal | int | str,
    reason: SeparationReason | str,
    *,
    registered_unemployed: bool | None = None,
    carried_over_months: int = 0,
    receiving_pension: bool = False,
) -> UnemploymentAssessment:
    """Whether a leaver can draw unemployment benefit, and for how long at most.

    ``registered_unemployed``: ``None`` while not known yet (e.g. on the day of leaving):
    registering is then pending, not unmet. ``carried_over_months``: months left unclaimed
    from an earlier spell of unemployment; they may be drawn even with under a year of new
    contributions (《失业保险金申领发放办法》 Art. 15(2)), so they alone make a period.
    """
    reason = SeparationReason(reason)
    if carried_over_months < 0:
        raise ValueError(f"carried-over months cannot be negative: {carried_over_months}")
    unmet: list[str] = []
    pending: list[str] = []
    months = benefit_months(contribution_years)
    if months == 0 and carried_over_months == 0:
        unmet.append("contributions_under_1_year")
    if reason is SeparationReason.OTHER:
        pending.append("review_separation_reason")
    elif reason not in INVOLUNTARY:
        unmet.append("separation_voluntary")
    if registered_unemployed is None:
        pending.append("register_as_unemployed")
    elif not registered_unemployed:
        unmet.append("not_registered_unemployed")
    if receiving_pension:
        unmet.append("receiving_pension")
    max_months = 0 if unmet else min(MAX_MONTHS, months + carried_over_months)
    return UnemploymentAssessment(not unmet and not pending, max_months, tuple(unmet), tuple(pending))


def _years(value: Decimal | int | str) -> Decimal:
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
        # A float would carry binary rounding into a legal threshold: pass a Decimal.
        raise TypeError(f"contribution years must be a Decimal, int or str, got {value!r}")
    try:
        years = Decimal(value)
    except InvalidOperation:
        years = Decimal("NaN")
    if not years.is_finite() or years < 0:
        raise ValueError(f"not a number of contribution years: {value!r}")
    return years
