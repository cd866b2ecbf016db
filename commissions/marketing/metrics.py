"""The revenue-marketing metrics as pure functions: numbers in, exact ``Decimal`` out.

No I/O and no ORM: the dashboard service gathers the inputs, these functions compute.
A ratio whose denominator is zero (or missing) is ``None``, shown as "–"; nothing is
rounded here (the page rounds for display, see docs/metrics.md). The stage order
rules live here too, so ingestion and tests share one definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

STAGE_ORDER = {"mql": 0, "sql": 1, "opportunity": 2, "won": 3, "lost": 3}
PREVIOUS = {"sql": "mql", "opportunity": "sql", "won": "opportunity", "lost": "opportunity"}
ZERO = Decimal(0)
HUNDRED = Decimal(100)


def _ratio(numerator: Decimal | int, denominator: Decimal | int | None) -> Decimal | None:
    if denominator is None or denominator == 0:
        return None
    return Decimal(numerator) / Decimal(denominator)


# ---------------------------------------------------------------- stage order


def stage_flags(stages: Mapping[str, date]) -> dict[str, str]:
    """Why each of one lead's stages is out of order ("" when in order).

    A stage counts only if the stage before it (mql < sql < opportunity < won | lost)
    happened on or before it and is itself in order; won and lost exclude each other
    (the later of the two is flagged; on the same day, lost is).
    """
    flags: dict[str, str] = {}
    for stage in sorted(stages, key=lambda s: (STAGE_ORDER[s], s == "lost")):
        before = PREVIOUS.get(stage)
        if before is None:
            flags[stage] = ""
        elif before not in stages:
            flags[stage] = f"no {before} before it"
        elif stages[before] > stages[stage]:
            flags[stage] = f"{before} is dated after it ({stages[before].isoformat()})"
        elif flags.get(before):
            flags[stage] = f"{before} is out of order"
        else:
            flags[stage] = ""
    if "won" in stages and "lost" in stages:
        later = "lost" if stages["lost"] >= stages["won"] else "won"
        other = "won" if later == "lost" else "lost"
        flags[later] = flags[later] or f"the lead is also {other}"
    return flags


# ---------------------------------------------------------------- funnel


def conversion_rate(mqls: int, converted: int) -> Decimal | None:
    """MQL→SQL conversion: of the period's MQLs, the share that reached SQL in order (0..1)."""
    return _ratio(converted, mqls)


def cost_per_acquisition(cost: Decimal, won_customers: int) -> Decimal | None:
    """Campaign cost / won customers."""
    return _ratio(cost, won_customers)


def programme_roi(sourced_revenue: Decimal, cost: Decimal) -> Decimal | None:
    """Marketing programme ROI: (sourced revenue − cost) / cost (0.5 = 50 %)."""
    return _ratio(sourced_revenue - cost, cost)


def win_rate(won: int, lost: int) -> Decimal | None:
    """Won / (won + lost) of closed opportunities."""
    return _ratio(won, won + lost)


def average(values: Iterable[Decimal | int]) -> Decimal | None:
    items = [Decimal(v) for v in values]
    return _ratio(sum(items, ZERO), len(items))


def pipeline_velocity(
    opportunities: int, rate: Decimal | None, average_deal: Decimal | None, average_cycle_days: Decimal | None
) -> Decimal | None:
    """(opportunities × win rate × average deal size) / average sales cycle in days: money per day."""
    if rate is None or average_deal is None or average_cycle_days is None:
        return None
    return _ratio(opportunities * rate * average_deal, average_cycle_days)


def monthly_recurring(amount: Decimal, term_months: int | None) -> Decimal | None:
    """A won deal's recurring amount per month: amount / term in months (None without a term)."""
    if not term_months:
        return None
    return amount / term_months


def lifetime_value(monthly_amounts: Iterable[Decimal], monthly_churn: Decimal) -> Decimal | None:
    """Customer lifetime value: average monthly recurring amount / monthly churn rate (churn as 0..1)."""
    arpa = average(monthly_amounts)
    if arpa is None:
        return None
    return _ratio(arpa, monthly_churn)


def forecast(closed: Decimal, open_pipeline: Decimal, historical_win_rate: Decimal | None) -> Decimal:
    """Revenue forecast for the period end: closed so far + open pipeline × historical win rate
    (no history: the open pipeline counts for nothing rather than for everything)."""
    return closed + open_pipeline * (historical_win_rate if historical_win_rate is not None else ZERO)


def attainment(value: Decimal, quota: Decimal | None) -> Decimal | None:
    """value / quota (1 = 100 %)."""
    return _ratio(value, quota)


# ---------------------------------------------------------------- eNPS


@dataclass(frozen=True, slots=True)
class PulseScore:
    answers: int
    promoters: int
    passives: int
    detractors: int
    score: Decimal | None  # None: fewer answers than the minimum group size, or none at all

    @property
    def shown(self) -> bool:
        return self.score is not None

    @property
    def score_text(self) -> str:
        """The score as shown: a whole number, half away from zero, with its sign ("+33", "-50", "0"); "–" if hidden."""
        if self.score is None:
            return "–"
        whole = self.score.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return f"{whole:+}" if whole else "0"


def enps(tally: Mapping[int, int], *, minimum: int) -> PulseScore:
    """eNPS from answers per score (0-10): % promoters (9-10) − % detractors (0-6), from −100 to 100.

    Below ``minimum`` answers nothing is revealed: not the score, not the split.
    """
    answers = sum(tally.values())
    if answers == 0 or answers < minimum:
        return PulseScore(answers, 0, 0, 0, None)
    promoters = sum(n for s, n in tally.items() if s >= 9)
    detractors = sum(n for s, n in tally.items() if s <= 6)
    passives = answers - promoters - detractors
    score = (Decimal(promoters) - Decimal(detractors)) * HUNDRED / answers
    return PulseScore(answers, promoters, passives, detractors, score)
