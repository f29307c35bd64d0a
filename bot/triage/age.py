"""Corrected age for babies born early (AAP: more than 3 weeks early, used until about 2 years)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from bot.contract import WEEKS_PER_MONTH
from bot.knowledge.messages import say

PRETERM_THRESHOLD_WEEKS = 3.0
CORRECT_UNTIL_MONTHS = 24.0


@dataclass(frozen=True)
class AgeUsed:
    """The age the rules use, and whether it was corrected for prematurity."""

    actual_months: Optional[float]
    months: Optional[float]
    corrected: bool
    weeks_early: Optional[float]


def needs_correction(age_months: Optional[float], weeks_early: Optional[float]) -> bool:
    """True when corrected age applies: born more than 3 weeks early and still under about 2 years."""
    if age_months is None or weeks_early is None:
        return False
    return weeks_early > PRETERM_THRESHOLD_WEEKS and age_months < CORRECT_UNTIL_MONTHS


def asks_about_prematurity(age_months: Optional[float]) -> bool:
    """Whether 'born early?' can still change the answer (not once the child is past the correction age)."""
    return age_months is None or age_months < CORRECT_UNTIL_MONTHS


def age_for_rules(age_months: Optional[float], weeks_early: Optional[float]) -> AgeUsed:
    """Corrected age when it applies, otherwise the actual age."""
    if not needs_correction(age_months, weeks_early):
        return AgeUsed(actual_months=age_months, months=age_months, corrected=False, weeks_early=weeks_early)
    corrected = max(0.0, age_months - weeks_early / WEEKS_PER_MONTH)  # type: ignore[operator]
    return AgeUsed(actual_months=age_months, months=round(corrected, 1), corrected=True, weeks_early=weeks_early)


def describe_months(months: float) -> str:
    """'10 months', '1 year and 2 months', '3 weeks' - how a parent would say it."""
    if months < 1:
        weeks = max(1, round(months * WEEKS_PER_MONTH))
        return say(f"units.weeks.{plural(weeks)}", n=weeks)
    whole = round(months * 2) / 2
    if whole < 24:
        return say(f"units.months.{plural(whole)}", n=f"{whole:g}".replace(".5", "½"))
    years, rest = divmod(round(months), 12)
    if not rest:
        return say(f"units.years.{plural(years)}", n=years)
    years_text = say(f"units.years.{plural(years)}", n=years)
    return say("units.years_and_months", years=years_text, months=say(f"units.months.{plural(rest)}", n=rest))


def plural(amount: float) -> str:
    """The catalogue's plural form for an amount: 'one' for exactly 1, else 'other'."""
    return "one" if amount == 1 else "other"
