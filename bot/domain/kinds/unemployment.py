"""Unemployment benefit (失业保险金): eligibility and the longest benefit period."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from bot.domain import unemployment as rules
from bot.domain.fields import FormReader
from bot.domain.kinds.spec import LONG, YEARS, Fact, FactContext, FormContext, KindSpec
from bot.domain.requests import RequestKind
from bot.domain.unemployment import SeparationReason


class RegisteredUnemployed(StrEnum):
    YES = "yes"
    NOT_YET = "not_yet"


@dataclass(frozen=True)
class UnemploymentRequest:
    separation_date: date
    separation_reason: SeparationReason
    contribution_years: Decimal = field(metadata=YEARS)
    registered_unemployed: RegisteredUnemployed
    carried_over_months: int
    notes: str = field(metadata=LONG)

    def assessment(self) -> rules.UnemploymentAssessment:
        return rules.assess(
            self.contribution_years,
            self.separation_reason,
            registered_unemployed=True if self.registered_unemployed is RegisteredUnemployed.YES else None,
            carried_over_months=self.carried_over_months,
        )


def parse(form: FormReader, ctx: FormContext) -> UnemploymentRequest:
    """An unemployment-benefit request: the separation day (at most 3 months ahead), its
    reason, the years of unemployment contributions, and months carried over from an
    earlier spell (at most 24)."""
    today = ctx.today
    separated = form.day(
        "separation_date", earliest=today - timedelta(days=366 * 5), latest=today + timedelta(days=92)
    )
    reason = form.choice("separation_reason", SeparationReason)
    years = form.years("contribution_years")
    registered = form.choice("registered_unemployed", RegisteredUnemployed)
    carried = form.count("carried_over_months", limit=rules.MAX_MONTHS)
    notes = form.notes("notes")
    form.done()
    return UnemploymentRequest(separated, reason, years, registered, carried, notes)


def facts(form: UnemploymentRequest, ctx: FactContext) -> list[Fact]:
    """Eligible (and for how long at most), not eligible (and why), or what is pending."""
    check = form.assessment()
    by_years = rules.benefit_months(form.contribution_years)
    longest = min(rules.MAX_MONTHS, by_years + form.carried_over_months)
    if check.eligible:
        return [Fact("fact.unemployment_eligible", {"months": check.max_months})]
    if check.unmet:
        return [Fact("fact.unemployment_not_eligible")] + [Fact(f"fact.unmet.{code}") for code in check.unmet]
    return [Fact("fact.unemployment_pending", {"months": longest})] + [
        Fact(f"fact.pending.{code}") for code in check.pending
    ]


SPEC = KindSpec(
    kind=RequestKind.UNEMPLOYMENT,
    command="unemployment",
    form=UnemploymentRequest,
    parse=parse,
    materials=lambda form: "materials.unemployment",
    facts=facts,
    sensitive=True,
)
