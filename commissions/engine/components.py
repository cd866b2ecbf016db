"""Component kinds (plans.md section 5).

Each function computes one payee's component from exact (unrounded) values and returns
a ``LineSource``: the exact total (rounded once by ``calculate``) and a recipe for the
per-deal lines. The lines themselves (largest-remainder amounts, basis, sentence) are
built from that recipe the first time someone reads ``ComponentResult.lines``, so a
calculation whose lines are not all read does not pay for a million line objects.
The recipe holds only what was computed here: nothing is recomputed differently.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from itertools import compress, pairwise
from operator import and_, attrgetter, itemgetter

from commissions.engine.credit import Credits, Entry
from commissions.engine.money import CONTEXT, ONE, ZERO, format_percent
from commissions.engine.plan import (
    PerDealComponent,
    TieredComponent,
)
from commissions.engine.result import (
    BonusLine,
    ComponentContext,
    CurveLine,
    DealSizeLine,
    Line,
    LineSource,
    OverrideLine,
    PerDealLine,
    TierLine,
)

Builder = Callable[[list[Decimal]], list[Line]]


class Spec:
    """A plan component flattened once per calculation (plain attributes, no Pydantic access
    in the per-payee loop)."""

    __slots__ = (
        "at",
        "bounds",
        "cap",
        "condition",
        "from_",
        "kind",
        "mode",
        "name",
        "needs_attainment",
        "on",
        "pay",
        "per",
        "points",
        "rate",
        "rates",
        "to",
    )

    def __init__(self, component: object) -> None:
        self.name = component.name  # type: ignore[attr-defined]
        self.kind = component.kind  # type: ignore[attr-defined]
        self.cap = component.cap  # type: ignore[attr-defined]
        self.needs_attainment = component.needs_attainment  # type: ignore[attr-defined]
        self.rates = component.rates if isinstance(component, TieredComponent) else ()
        self.bounds = component.bounds if isinstance(component, TieredComponent) else ()
        self.condition = component.condition if isinstance(component, PerDealComponent) else None
        self.pay = getattr(component, "pay", None)
        self.rate = getattr(component, "rate", None)
        self.from_ = getattr(component, "from_", None)
        self.to = getattr(component, "to", None)
        self.mode = getattr(component, "mode", "marginal")
        self.on = getattr(component, "on", "attainment")
        self.per = getattr(component, "per", "period")
        self.at = getattr(component, "at", None)
        self.points = getattr(component, "points", None)


class PayeeCredit:
    """One payee's credited deals in deal order, with credited money and measure per deal."""

    __slots__ = (
        "attainment",
        "credited",
        "credits",
        "entries",
        "measures",
        "moneys",
        "person",
        "quota",
    )

    def __init__(
        self,
        person: str,
        entries: list[Entry],
        moneys: list[Decimal],
        count_metric: bool,
        quota: Decimal | None,
        credits: Credits,
    ) -> None:
        self.person = person
        self.entries = entries
        self.moneys = moneys
        if count_metric:
            self.measures = [entry[2] for entry in entries]
            self.credited = sum(self.measures, ZERO)
        else:
            self.measures = moneys
            self.credited = sum(moneys, ZERO)
        self.quota = quota
        self.attainment = None if quota is None or quota <= 0 else CONTEXT.divide(self.credited, quota)
        self.credits = credits


def credited_money(entries: list[Entry]) -> list[Decimal]:
    """amount × share per entry (the amount itself for sole credit)."""
    return [deal.amount if share is ONE else deal.amount * share for _, deal, share in entries]


_deal = itemgetter(1)
_share = itemgetter(2)
_amount = attrgetter("amount")


def _source(exact: list[Decimal], build: Builder) -> LineSource:
    return LineSource(sum(exact, ZERO), lambda: (exact, build))


def tiered(component: Spec, payee: PayeeCredit, ctx: ComponentContext) -> LineSource:
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
    entries, moneys = payee.entries, payee.moneys
    if component.mode == "retroactive":
        total = sum(measures, ZERO)
        tier = next((k for k, bound in enumerate(bounds) if total <= bound), len(bounds))
        rate = rates[tier]
        exact = [money * rate for money in moneys]

        def build_retro(amounts: list[Decimal]) -> list[Line]:
            return [
                TierLine(entry[1], amount, ctx, money, entry[2], (tier, money))
                for entry, money, amount in zip(entries, moneys, amounts, strict=False)
            ]

        return _source(exact, build_retro)
    exact, tiers, crossings = _marginal(entries, moneys, measures, bounds, rates)

    def build(amounts: list[Decimal]) -> list[Line]:
        lines: list[Line] = []
        for i, (entry, money, amount) in enumerate(zip(entries, moneys, amounts, strict=False)):
            slices = crossings.get(i) if crossings else None
            lines.append(TierLine(entry[1], amount, ctx, money, entry[2], slices or (tiers[i], money)))
        return lines

    return _source(exact, build)


def _marginal(
    entries: list[Entry],
    moneys: list[Decimal],
    measures: list[Decimal],
    bounds: list[Decimal],
    rates: tuple[Decimal, ...],
) -> tuple[list[Decimal], list[int], dict[int, tuple]]:
    """Deals fill the tiers in deal order; a deal crossing a bound is paid partly at each
    rate. With a count measure (quota: deals) a straddling deal splits its credited money
    in the proportion of its count. Returns exact values, each line's tier, and the
    slices (tier, credited part, ...) of the lines that cross a bound."""
    exact: list[Decimal] = []
    tiers: list[int] = []
    crossings: dict[int, tuple] = {}
    nb = len(bounds)
    tier = 0
    rate = rates[0]
    position = ZERO
    same = measures is moneys
    next_bound = bounds[0] if nb else None
    for i, money in enumerate(moneys):
        measure = money if same else measures[i]
        end = position + measure
        if next_bound is None or end <= next_bound:
            exact.append(money * rate)
            tiers.append(tier)
            position = end
            if next_bound is not None and end == next_bound:  # the next deal starts in the next tier
                tier += 1
                rate = rates[tier]
                next_bound = bounds[tier] if tier < nb else None
            continue
        slices: list = []
        value = ZERO
        start = position
        paid = ZERO
        while True:
            if next_bound is None or end <= next_bound:
                piece = money - paid  # the rest: slices always add up to the credited money
                slices += (tier, piece)
                value += piece * rate
                break
            span = next_bound - start
            if span > 0:
                piece = span if same else CONTEXT.divide(money * span, measure)
                slices += (tier, piece)
                value += piece * rate
                paid += piece
            start = next_bound
            tier += 1
            rate = rates[tier]
            next_bound = bounds[tier] if tier < nb else None
        if next_bound is not None and end == next_bound:
            tier += 1
            rate = rates[tier]
            next_bound = bounds[tier] if tier < nb else None
        exact.append(value)
        tiers.append(tier)
        crossings[i] = tuple(slices)
        position = end
    return exact, tiers, crossings


def _tiered_per_deal(
    component: Spec, payee: PayeeCredit, ctx: ComponentContext, rates: tuple[Decimal, ...]
) -> LineSource:
    """Deal-size tiers: each deal's whole amount is tiered on its own, then paid pro rata."""
    bounds = component.bounds
    nb = len(bounds)
    retro = component.mode == "retroactive"
    exact: list[Decimal] = []
    all_slices: list[tuple] = []
    for _, deal, share in payee.entries:
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
        exact.append(whole if share is ONE else whole * share)
        all_slices.append(slices)
    entries = payee.entries

    def build(amounts: list[Decimal]) -> list[Line]:
        return [
            DealSizeLine(entry[1], amount, ctx, entry[2], slices)
            for entry, amount, slices in zip(entries, amounts, all_slices, strict=False)
        ]

    return _source(exact, build)


def per_deal(component: Spec, payee: PayeeCredit, ctx: ComponentContext) -> LineSource:
    """Fixed ``pay`` and/or ``rate`` on every qualifying deal, pro rata to the share."""
    condition = component.condition
    start, end = component.from_, component.to
    pay, rate = component.pay, component.rate
    entries, moneys = payee.entries, payee.moneys
    deals = list(map(_deal, entries))
    qualifies: list[bool] | None = None
    if condition is not None:
        qualifies = list(map(condition.test, deals))
    if start is not None or end is not None:
        low, high = start or date.min, end or date.max
        in_window = [low <= deal.closed_at <= high for deal in deals]
        qualifies = in_window if qualifies is None else list(map(and_, qualifies, in_window))
    chosen = list(range(len(entries))) if qualifies is None else list(compress(range(len(entries)), qualifies))
    exact: list[Decimal] = []
    for i in chosen:
        share = entries[i][2]
        value = ZERO
        if pay is not None:
            value = pay if share is ONE else pay * share
        if rate is not None:
            value += moneys[i] * rate
        exact.append(value)

    def build(amounts: list[Decimal]) -> list[Line]:
        return [
            PerDealLine(entries[i][1], amount, ctx, moneys[i], entries[i][2])
            for i, amount in zip(chosen, amounts, strict=True)
        ]

    return _source(exact, build)


def bonus(component: Spec, payee: PayeeCredit, ctx: ComponentContext) -> LineSource:
    assert payee.quota is not None
    reached = payee.credited >= component.at * payee.quota  # no division: exact at the bound
    value = component.pay if reached else ZERO
    return _source([value], lambda amounts: [BonusLine(None, amounts[0], ctx)])


def curve_payout(points: list[tuple[Decimal, Decimal]], credited: Decimal, quota: Decimal) -> tuple[Decimal, str]:
    """Payout on the curve at attainment credited/quota, linear between points."""
    first, last = points[0], points[-1]
    if credited <= first[0] * quota:
        return first[1], f"at or below the first point {format_percent(first[0])}"
    if credited >= last[0] * quota:
        return last[1], f"at or beyond the last point {format_percent(last[0])}"
    for (x0, y0), (x1, y1) in pairwise(points):
        if credited <= x1 * quota:
            # y0 + (y1 - y0) * (a - x0) / (x1 - x0) with a = credited / quota, one division
            value = y0 + CONTEXT.divide((y1 - y0) * (credited - x0 * quota), (x1 - x0) * quota)
            return (
                value,
                f"between {format_percent(x0)} ({y0}) and {format_percent(x1)} ({y1})",
            )
    return last[1], f"at or beyond the last point {format_percent(last[0])}"  # pragma: no cover


def curve(component: Spec, payee: PayeeCredit, ctx: ComponentContext, count_metric: bool) -> LineSource:
    assert payee.quota is not None
    payout, segment = curve_payout(component.points, payee.credited, payee.quota)
    total = payee.credited
    ctx.extra = (payout, total, segment, count_metric)
    if payout == 0 or total == 0:
        return _source([payout], lambda amounts: [CurveLine(None, amounts[0], ctx, None)])
    entries, measures = payee.entries, payee.measures

    def make() -> tuple[list[Decimal], Builder]:
        exact = [CONTEXT.divide(payout * measure, total) for measure in measures]

        def build(amounts: list[Decimal]) -> list[Line]:
            return [
                CurveLine(entry[1], amount, ctx, measure)
                for entry, measure, amount in zip(entries, measures, amounts, strict=False)
            ]

        return exact, build

    return LineSource(payout, make)


def override(
    component: Spec, payee: PayeeCredit, ctx: ComponentContext, report_totals: dict[str, Decimal]
) -> LineSource:
    """The rate on everything credited to the payee's reports (recursively), never on the
    payee's own share. The total is rate × the reports' credited sums; the per-deal lines
    (the reports' shares merged in deal order) are only built when read."""
    rate = component.rate
    credits = payee.credits
    person = payee.person
    reports = credits.reports.get(person, ())
    credited = sum((report_totals.get(r, ZERO) for r in reports), ZERO)

    def make() -> tuple[list[Decimal], Builder]:
        detail = credits.reports_detail(person)  # (position, deal, share, email) in deal order
        positions = [row[0] for row in detail]
        if len(set(positions)) == len(positions):  # no deal shared by two reports: one row per line
            moneys = [row[1].amount if row[2] is ONE else row[1].amount * row[2] for row in detail]
            groups = [(row[1], money, (row,)) for row, money in zip(detail, moneys, strict=False)]
        else:
            groups = []  # (deal, credited, rows)
            for row in detail:
                money = row[1].amount if row[2] is ONE else row[1].amount * row[2]
                if groups and groups[-1][2][0][0] == row[0]:
                    deal, credited, rows = groups[-1]
                    groups[-1] = (deal, credited + money, (*rows, row))
                else:
                    groups.append((row[1], money, (row,)))
        exact = [money * rate for _, money, _ in groups]

        def build(amounts: list[Decimal]) -> list[Line]:
            return [
                OverrideLine(deal, amount, ctx, money, rows)
                for (deal, money, rows), amount in zip(groups, amounts, strict=False)
            ]

        return exact, build

    return LineSource(credited * rate, make)
