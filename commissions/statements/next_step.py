"""The next step up a plan, for Home: "another 16,450.00 USD of bookings takes you to tier 2 at 15%".

Read from the stored calculation (``payee_summary``: the statement's credited amount and quota, quota
already prorated) and the plan version the figures were computed with: the distance to the next tier of an
attainment-tiered component, to the next bonus and to the next point of a payout curve, with what each pays
as the plan states it. The tier arithmetic is the what-if's (``whatif._tier_index``): a figure exactly at a
bound belongs to the lower tier. Nothing is recomputed and the engine is not run.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from sqlmodel import Session, col, select

from commissions.calculation.loader import parsed_version, plan_catalogue
from commissions.core.money import to_minor
from commissions.core.periods import PeriodKey
from commissions.engine.components.bonus import BonusComponent
from commissions.engine.components.curve import CurveComponent
from commissions.engine.components.tiered import TieredComponent
from commissions.models import LedgerTotal, PayeeSummary, Period, Plan, PlanVersion
from commissions.statements.whatif import _tier_index

PPM = 1_000_000


@dataclass(frozen=True, slots=True)
class NextStep:
    """One step up: ``needed_minor`` more of the plan's metric (its units: minor units, or hundredths of a
    count) reaches ``at_ppm`` of quota, where ``kind`` is ``tier`` (then ``rate_ppm`` on what follows;
    ``retroactive``: on everything credited), ``bonus`` (``pay_minor`` once) or ``curve`` (the component pays
    ``pay_minor`` in all at that point). ``kind == "top"``: already in the top tier, at ``rate_ppm``;
    ``kind == "capped"``: the component's cap (``pay_minor``) bites, so more credit adds nothing to it."""

    plan: str
    component: str
    kind: str
    metric: str
    currency: str
    needed_minor: int = 0
    at_ppm: int = 0
    rate_ppm: int | None = None
    pay_minor: int | None = None
    tier: int | None = None  # 1-based number of the tier reached
    retroactive: bool = False


def _ppm(ratio: Decimal) -> int:
    return int((ratio * PPM).to_integral_value())


def _needed(ratio: Decimal, quota: int, credited: int) -> int:
    """How much more credit reaches ``ratio`` of quota: at least one unit (at a bound is the lower tier)."""
    short = (ratio * quota - credited).to_integral_value(rounding=ROUND_CEILING)
    return max(int(short), 1)


def next_steps(session: Session, person_id: int, period: PeriodKey) -> list[NextStep]:
    """The nearest steps up each of the person's plans in the period, nearest first (top tiers last)."""
    period_id = session.exec(select(Period.id).where(Period.key == period.key)).first()
    if period_id is None:
        return []
    rows = session.exec(
        select(PayeeSummary, Plan.name, PlanVersion)
        .join(Plan, col(Plan.id) == PayeeSummary.plan_id)
        .join(PlanVersion, col(PlanVersion.id) == PayeeSummary.plan_version_id)
        .where(PayeeSummary.period_id == period_id, PayeeSummary.person_id == person_id)
        .order_by(col(Plan.name))
    ).all()
    if not rows:
        return []
    fields = plan_catalogue(session).custom_fields
    # components whose cap bites (the engine's "cap: <name>" lines in force): further credit adds nothing to them
    capped = {
        str(name).removeprefix("cap: ")
        for name in session.exec(
            select(LedgerTotal.component).where(
                LedgerTotal.period_id == period_id,
                LedgerTotal.person_id == person_id,
                LedgerTotal.lines > 0,
                col(LedgerTotal.component).startswith("cap: "),
            )
        ).all()
    }
    steps: list[NextStep] = []
    for summary, plan_name, version in rows:
        quota, credited = summary.quota_minor, summary.credited_minor
        if not quota or summary.errors:
            continue
        try:
            parsed = parsed_version(version, fields)
        except Exception:  # a document the engine refuses has no steps to show (its figures carry the error)
            continue
        digits_currency = summary.currency
        base: dict[str, Any] = {"plan": plan_name, "metric": summary.metric, "currency": summary.currency}
        for component in parsed.components:
            if isinstance(component, TieredComponent) and component.name in capped and component.cap is not None:
                # the cap bites: no tier ahead (or the top tier's rate) pays anything more this period
                cap_minor = to_minor(component.cap, digits_currency)
                steps.append(NextStep(component=component.name, kind="capped", pay_minor=cap_minor, **base))
                continue
            if isinstance(component, TieredComponent) and component.on == "attainment" and component.per == "period":
                bounds = component.bounds
                index = _tier_index(tuple(b * quota for b in bounds), Decimal(credited))
                retro = component.mode == "retroactive"
                if index >= len(bounds):
                    steps.append(
                        NextStep(
                            component=component.name,
                            kind="top",
                            rate_ppm=_ppm(component.rates[index]),
                            tier=index + 1,
                            retroactive=retro,
                            **base,
                        )
                    )
                    continue
                steps.append(
                    NextStep(
                        component=component.name,
                        kind="tier",
                        needed_minor=_needed(bounds[index], quota, credited),
                        at_ppm=_ppm(bounds[index]),
                        rate_ppm=_ppm(component.rates[index + 1]),
                        tier=index + 2,
                        retroactive=retro,
                        **base,
                    )
                )
            elif isinstance(component, BonusComponent):
                if credited >= component.at * quota:  # paid already (the engine's own test, no division)
                    continue
                steps.append(
                    NextStep(
                        component=component.name,
                        kind="bonus",
                        needed_minor=_needed(component.at, quota, credited),
                        at_ppm=_ppm(component.at),
                        pay_minor=to_minor(component.pay, digits_currency),
                        **base,
                    )
                )
            elif isinstance(component, CurveComponent):
                ahead = [(at, pay) for at, pay in component.points if credited < at * quota and pay > 0]
                if ahead:
                    at, pay = ahead[0]
                    steps.append(
                        NextStep(
                            component=component.name,
                            kind="curve",
                            needed_minor=_needed(at, quota, credited),
                            at_ppm=_ppm(at),
                            pay_minor=to_minor(pay, digits_currency),
                            **base,
                        )
                    )
    return sorted(steps, key=lambda s: (s.kind in ("top", "capped"), s.needed_minor, s.plan, s.component))


__all__ = ["NextStep", "next_steps"]
