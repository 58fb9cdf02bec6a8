"""Retirement approval (退休审批): the statutory date under the 2024 reform, the minimum
contribution years, and a flexible (earlier or later) retirement when asked for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from bot.domain import resident_id
from bot.domain import retirement as rules
from bot.domain.fields import FormReader, MonthWindow
from bot.domain.kinds.spec import LONG, RESIDENT_ID, YEARS, Fact, FactContext, FormContext, KindSpec
from bot.domain.months import YearMonth
from bot.domain.policy import Policy
from bot.domain.requests import RequestKind
from bot.domain.retirement import Category


@dataclass(frozen=True)
class RetirementRequest:
    full_name: str
    resident_id: str = field(metadata=RESIDENT_ID)  # birth date and sex come from it
    retirement_category: Category
    contribution_years: Decimal = field(metadata=YEARS)
    wanted_month: YearMonth | None  # a flexible (earlier or later) retirement, if asked for
    notes: str = field(metadata=LONG)

    @property
    def birth(self) -> date:
        return resident_id.birth_date(self.resident_id)

    @property
    def statutory(self) -> rules.Retirement:
        return rules.statutory_retirement(self.birth, self.retirement_category)


def is_male(number: str) -> bool:
    """GB 11643: the 17th character is odd for men, even for women."""
    return int(number[16]) % 2 == 1


def parse(form: FormReader, ctx: FormContext) -> RetirementRequest:
    """A retirement request. Birth date and sex come from the resident ID; the category
    must agree with the sex. A wanted (flexible) month must be in the future and within
    what the 2024 reform allows: never before the original age, at most 3 years early (and
    only with the minimum years for that month) or 3 years late; a deferral is refused once
    the statutory date has passed (《实施弹性退休制度暂行办法》: it is agreed in writing at
    least 1 month before that date and cannot be extended afterwards)."""
    today = ctx.today
    full_name = form.name("full_name")
    number = form.resident_id("resident_id", today)
    category = form.choice("retirement_category", Category)
    if number and category and is_male(number) != (category is Category.MALE):
        form.problem("retirement_category", "category_sex_mismatch")
        category = None
    years = form.years("contribution_years")
    wanted = form.month("wanted_month", required=False)
    if wanted and wanted < YearMonth.of(today):
        form.problem("wanted_month", "wanted_month_past", current=str(YearMonth.of(today)))
    elif wanted and number and category and years is not None:
        birth = resident_id.birth_date(number)
        bounds = rules.flexible_bounds(birth, category)
        statutory = rules.statutory_retirement(birth, category)
        # Contributions go on until the wanted month (the person is employed here).
        months = int(years * 12) + max(0, wanted.months_since(YearMonth.of(today)))
        check = rules.assess_flexible(birth, category, wanted, months, applied_on=today)
        # Short notice is shown on the request, not refused: the agreement may exist already.
        advisory = ("employer_agreement_needed", "notice_too_short", "deferral_notice_too_short")
        blocking = [r for r in check.reasons if r not in advisory]
        if blocking:
            form.problem(
                "wanted_month",
                f"flexible_{blocking[0]}",
                earliest=str(bounds.earliest),
                statutory=str(bounds.statutory),
                latest=str(bounds.latest),
                minimum=check.minimum_years,
                statutory_day=statutory.reached_on.isoformat(),
            )
    notes = form.notes("notes")
    form.done()
    return RetirementRequest(full_name, number, category, years, wanted, notes)


def facts(form: RetirementRequest, ctx: FactContext) -> list[Fact]:
    """The statutory age and month, whether the minimum years are met, and what a
    flexible month means. Private: the statutory month tells the birth month."""
    statutory = form.statutory
    minimum = rules.minimum_contribution_years(statutory.retirement_month)
    met = form.contribution_years >= minimum
    found = [
        Fact(
            "fact.retirement_statutory",
            {
                "years": statutory.age_years,
                "months": statutory.age_months,
                "month": str(statutory.retirement_month),
                "day": statutory.reached_on.isoformat(),
                "original": statutory.original_age,
                "delay": statutory.delay_months,
            },
            private=True,
        ),
        Fact(
            "fact.retirement_minimum_met" if met else "fact.retirement_minimum_short",
            {"minimum": years_text(minimum), "years": years_text(form.contribution_years)},
            private=True,
        ),
    ]
    if form.wanted_month and form.wanted_month != statutory.retirement_month:
        check = rules.assess_flexible(form.birth, form.retirement_category, form.wanted_month, 0)
        found.append(Fact(f"fact.flexible_{check.timing}", {"month": str(form.wanted_month)}, private=True))
        if check.timing == "late":
            # 《实施弹性退休制度暂行办法》: agreed in writing 1 month before the statutory date.
            by = rules.deferral_agreed_by(statutory).isoformat()
            found.append(Fact("fact.flexible_employer", {"by": by}, private=True))
        else:
            by = str(form.wanted_month.plus(-rules.EARLY_NOTICE_MONTHS))
            found.append(Fact("fact.flexible_early_notice", {"by": by}, private=True))
    return found


def years_text(value: Decimal) -> str:
    """``15.50`` → ``15.5``, ``15.00`` → ``15``."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def month_windows(policy: Policy, today: date) -> dict[str, MonthWindow]:
    """A wanted month: from this month on (the parser holds it to the flexible bounds)."""
    return {"wanted_month": MonthWindow.ahead(YearMonth.of(today), policy.retirement_months_ahead)}


SPEC = KindSpec(
    kind=RequestKind.RETIREMENT,
    command="retire",
    form=RetirementRequest,
    parse=parse,
    materials=lambda form: "materials.retirement",
    facts=facts,
    month_windows=month_windows,
    sensitive=True,
)
