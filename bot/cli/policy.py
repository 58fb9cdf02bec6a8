"""``si-bot policy check [--at YYYY-MM]``: read the policy file as the server does, print
its base periods and its rates with the months they take effect, and exit non-zero when the
file is broken (overlapping periods among others) or when some month up to ``--at`` (this
month by default, in SI_TIMEZONE) has no base period. What it prints comes from
``messages/<lang>/texts.toml`` (``policy.cli.*``).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.cli.common import Say
from bot.config import Settings


def add_parser(sub: Any) -> None:
    """The ``policy`` subcommand group, on the main parser's subparsers."""
    policy = sub.add_parser("policy", help="the policy file: check its periods and figures")
    group = policy.add_subparsers(dest="policy_command", required=True)
    check = group.add_parser("check", help="validate the policy file, list its periods, find gaps")
    check.add_argument("--at", help="YYYY-MM: check the periods up to this month (default: this month)")
    policy.set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.domain.months import YearMonth
    from bot.domain.policy import PolicyError, load_policy

    plain = Say(settings)

    def say(key: str, **params: Any) -> str:
        return plain(f"policy.cli.{key}", **params)

    try:
        until = YearMonth.parse(args.at) if args.at else YearMonth.of(datetime.now(settings.tz).date())
    except ValueError:
        print(say("bad_at", value=args.at))
        return 2
    try:
        policy = load_policy(settings.policy_file or None)
    except PolicyError as exc:
        print(say("invalid", error=str(exc)))
        return 1
    print(
        say(
            "header",
            path=policy.path,
            region=policy.region_zh if settings.language == "zh" else policy.region,
        )
    )
    print(say("periods"))
    for period in policy.base_periods:
        average = period.average_wage
        print(
            say(
                "period_row",
                start=period.start,
                end=period.end,
                floor=_money(period.floor),
                ceiling=_money(period.ceiling),
                average=_money(average) if average else "",
                floor_percent=_percent(period.floor, average),
                ceiling_percent=_percent(period.ceiling, average),
                covers=period.covers(until),
                month=until,
                verified=period.verified,
            )
        )
        print(say("source", source=period.source))
    print(say("rates"))
    for rate in policy.rate_schedule:
        print(
            say(
                "rate_row",
                name=rate.name,
                start=rate.start or "",
                employer=rate.employer,
                employee=rate.employee,
            )
        )
        print(say("source", source=rate.source))
    problems = policy.timeline_problems(until)
    for problem in problems:
        print(say("gap", start=problem.start, end=problem.end, last=policy.base_periods[-1].end))
    if problems:
        return 1
    print(say("ok", month=until, count=len(policy.base_periods)))
    return 0


def _money(value: Decimal) -> str:
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def _percent(value: Decimal, average: Decimal | None) -> str:
    """``value`` as a share of the average wage (the notices use 60 % and 300 %)."""
    if not average:
        return ""
    return f"{value * 100 / average:.1f}"
