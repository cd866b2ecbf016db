"""Component kinds (plans.md section 5): each turns one payee's credited deals into exact
(unrounded) line values. Rounding, caps and draws happen in ``calculate``.

Every function returns a list of lines whose ``amount`` is still exact.
"""

from __future__ import annotations

from decimal import Decimal

from commissions.engine.inputs import Deal
from commissions.engine.money import CONTEXT, ONE, ZERO
from commissions.engine.plan import (
    BonusComponent,
    CurveComponent,
    OverrideComponent,
    PerDealComponent,
    TieredComponent,
)
from commissions.engine.result import (
    BonusLine,
    ComponentContext,
    CurveLine,
    DealSizeLine,
    Line,
    OverrideLine,
    PerDealLine,
    TierLine,
)
from commissions.engine.money import format_amount, format_percent


class PayeeCredit:
    """One payee's credited deals in deal order, with credited money and measure per deal."""

    __slots__ = ("entries", "moneys", "measures", "credited", "quota", "attainment", "reports")

    def __init__(self, entries: list, count_metric: bool, quota: Decimal | None, reports: list | None) -> None:
        self.entries = entries
        moneys = [deal.amount if share is ONE else deal.amount * share for deal, share in entries]
        self.moneys = moneys
        self.measures = [share for _, share in entries] if count_metric else moneys
        self.credited = sum(self.measures, ZERO)
        self.quota = quota
        self.attainment = None if not quota or quota <= 0 else CONTEXT.divide(self.credited, quota)
        self.reports = reports or []


def tiered(component: TieredComponent, payee: PayeeCredit, ctx: ComponentContext) -> list[Line]:
    rates = component.rates
    if component.per == "deal":
        return _tiered_per_deal(component, payee, ctx, rates)
    if component.on == "attainment":
        quota = payee.quota
        assert quota is not None
        bounds = [bound * quota for bound in component.bounds]
        measures = payee.measures
    else:
        bounds = list(component.bounds)
        measures = payee.moneys  # on: amount: currency bounds on the credited amount
    if component.mode == "retroactive":
        total = sum(measures, ZERO)
        tier = next((k for k, bound in enumerate(bounds) if total <= bound), len(bounds))
        rate = rates[tier]
        return [
            TierLine(deal, money * rate, ctx, money, share, (tier, money))
            for (deal, share), money in zip(payee.entries, payee.moneys)
        ]
    return _marginal(payee, ctx, bounds, measures, rates)


def _marginal(payee: PayeeCredit, ctx: ComponentContext, bounds: list[Decimal], measures: list[Decimal],
              rates: tuple[Decimal, ...]) -> list[Line]:  # fmt: skip
    """Deals fill the tiers in deal order; a deal crossing a bound is paid partly at each rate.
    With a count measure (quota: deals) a straddling deal splits its credited money in the
    proportion of its count."""
    lines: list[Line] = []
    append = lines.append
    nb = len(bounds)
    tier = 0
    position = ZERO
    same = measures is payee.moneys
    next_bound = bounds[0] if nb else None
    for (deal, share), money, measure in zip(payee.entries, payee.moneys, measures):
        while next_bound is not None and position >= next_bound:
            tier += 1
            next_bound = bounds[tier] if tier < nb else None
        end = position + measure
        if next_bound is None or end <= next_bound:
            append(TierLine(deal, money * rates[tier], ctx, money, share, (tier, money)))
            position = end
            continue
        slices: list = []
        value = ZERO
        start = position
        paid = ZERO
        while True:
            if next_bound is None or end <= next_bound:
                piece = money - paid  # the rest: slices always add up to the credited money
                slices += (tier, piece)
                value += piece * rates[tier]
                break
            span = next_bound - start
            if span > 0:
                piece = span if same else CONTEXT.divide(money * span, measure)
                slices += (tier, piece)
                value += piece * rates[tier]
                paid += piece
            start = next_bound
            tier += 1
            next_bound = bounds[tier] if tier < nb else None
        append(TierLine(deal, value, ctx, money, share, tuple(slices)))
        position = end
    return lines


def _tiered_per_deal(component: TieredComponent, payee: PayeeCredit, ctx: ComponentContext,
                     rates: tuple[Decimal, ...]) -> list[Line]:  # fmt: skip
    """Deal-size tiers: each deal's whole amount is tiered on its own, then paid pro rata."""
    bounds = component.bounds
    nb = len(bounds)
    retro = component.mode == "retroactive"
    lines: list[Line] = []
    for deal, share in payee.entries:
        amount = deal.amount
        if retro:
            tier = next((k for k, bound in enumerate(bounds) if amount <= bound), nb)
            slices: tuple = (tier, amount)
            whole = amount * rates[tier]
        else:
            parts: list = []
            whole = ZERO
            low = ZERO
            for k in range(nb + 1):
                high = bounds[k] if k < nb else None
                top = amount if high is None or amount < high else high
                if top > low or (k == 0 and amount == 0):
                    parts += (k, top - low)
                    whole += (top - low) * rates[k]
                if high is None or amount <= high:
                    break
                low = high
            slices = tuple(parts)
        lines.append(DealSizeLine(deal, whole if share is ONE else whole * share, ctx, share, slices))
    return lines


def per_deal(component: PerDealComponent, payee: PayeeCredit, ctx: ComponentContext) -> list[Line]:
    condition = component.condition
    test = condition.test if condition is not None else None
    start, end = component.from_, component.to
    pay, rate = component.pay, component.rate
    lines: list[Line] = []
    for (deal, share), money in zip(payee.entries, payee.moneys):
        if start is not None and deal.closed_at < start:
            continue
        if end is not None and deal.closed_at > end:
            continue
        if test is not None and not test(deal):
            continue
        value = ZERO
        if pay is not None:
            value = pay if share is ONE else pay * share
        if rate is not None:
            value += money * rate
        lines.append(PerDealLine(deal, value, ctx, money, share))
    return lines


def bonus(component: BonusComponent, payee: PayeeCredit, ctx: ComponentContext) -> list[Line]:
    assert payee.quota is not None
    reached = payee.credited >= component.at * payee.quota  # no division: exact at the bound
    return [BonusLine(None, component.pay if reached else ZERO, ctx)]


def curve_payout(points: list[tuple[Decimal, Decimal]], credited: Decimal, quota: Decimal) -> tuple[Decimal, str]:
    """Payout on the curve at attainment credited/quota, linear between points."""
    first, last = points[0], points[-1]
    if credited <= first[0] * quota:
        return first[1], f"at or below the first point {format_percent(first[0])}"
    if credited >= last[0] * quota:
        return last[1], f"at or beyond the last point {format_percent(last[0])}"
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if credited <= x1 * quota:
            # y0 + (y1 - y0) * (a - x0) / (x1 - x0) with a = credited / quota, one division
            value = y0 + CONTEXT.divide((y1 - y0) * (credited - x0 * quota), (x1 - x0) * quota)
            return value, f"between {format_percent(x0)} ({y0}) and {format_percent(x1)} ({y1})"
    return last[1], f"at or beyond the last point {format_percent(last[0])}"  # pragma: no cover


def curve(component: CurveComponent, payee: PayeeCredit, ctx: ComponentContext, count_metric: bool) -> list[Line]:
    assert payee.quota is not None
    payout, segment = curve_payout(component.points, payee.credited, payee.quota)
    total = payee.credited
    ctx.extra = (payout, total, segment, count_metric)
    if payout == 0 or total == 0:
        return [CurveLine(None, payout, ctx, None)]
    return [
        CurveLine(deal, CONTEXT.divide(payout * measure, total), ctx, measure)
        for (deal, _), measure in zip(payee.entries, payee.measures)
    ]


def override(component: OverrideComponent, payee: PayeeCredit, ctx: ComponentContext) -> list[Line]:
    rate = component.rate
    lines: list[Line] = []
    current: Deal | None = None
    reports: list = []
    credited = ZERO
    for deal, email, share in payee.reports:
        if deal is not current:
            if current is not None:
                lines.append(OverrideLine(current, credited * rate, ctx, credited, tuple(reports)))
            current, reports, credited = deal, [], ZERO
        reports.append((email, share))
        credited += deal.amount if share is ONE else deal.amount * share
    if current is not None:
        lines.append(OverrideLine(current, credited * rate, ctx, credited, tuple(reports)))
    return lines


__all__ = ["PayeeCredit", "bonus", "curve", "curve_payout", "override", "per_deal", "tiered", "format_amount"]
