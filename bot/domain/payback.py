"""Payback (补缴) estimate: base x (employer + employee rates) x months, plus the late fee.

The late fee is 0.05 % a day (社会保险法 Art. 86) on each month's total from the day that
month's contributions fell due (the policy's ``payment_day`` of the month) to the day of
the estimate. It is the employer's to pay and may not be passed on to the employee.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from bot.domain.months import YearMonth, month_range
from bot.domain.policy import Policy

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PaybackEstimate:
    months: int
    employer_contributions: Decimal
    employee_contributions: Decimal
    late_fee: Decimal
    late_days: int  # days late, added up over the months

    @property
    def employer_total(self) -> Decimal:
        return self.employer_contributions + self.late_fee

    @property
    def total(self) -> Decimal:
        return self.employer_total + self.employee_contributions


def estimate_payback(
    first: YearMonth, last: YearMonth, monthly_base: Decimal, policy: Policy, today: date
) -> PaybackEstimate:
    months = month_range(first, last)
    employer_monthly = monthly_base * policy.employer_rate / HUNDRED
    employee_monthly = monthly_base * policy.employee_rate / HUNDRED
    daily = policy.late_fee_daily_percent / HUNDRED
    late_days = sum(max(0, (today - m.day(policy.payment_day)).days) for m in months)
    late_fee = (employer_monthly + employee_monthly) * daily * late_days
    return PaybackEstimate(
        months=len(months),
        employer_contributions=(employer_monthly * len(months)).quantize(CENT, ROUND_HALF_UP),
        employee_contributions=(employee_monthly * len(months)).quantize(CENT, ROUND_HALF_UP),
        late_fee=late_fee.quantize(CENT, ROUND_HALF_UP),
        late_days=late_days,
    )
