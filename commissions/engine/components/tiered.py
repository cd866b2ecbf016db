"""``kind: tiered`` (plans.md section 5): rates by tiers of attainment or of amount, marginal
or retroactive, on the period's running total or on each deal's own size (``per: deal``)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from decimal import Decimal, localcontext
from itertools import accumulate, compress, repeat
from operator import is_not, mul
from typing import Any, Literal

from pydantic import Field, PrivateAttr, model_validator

from commissions.engine.components.base import Calculation, PayeeCredit, PlanComponent
from commissions.engine.components.registry import register
from commissions.engine.credit import Shares
from commissions.engine.inputs import Deal
from commissions.engine.lines import (
    CHUNK,
    Builder,
    Columns,
    ComponentContext,
    Line,
    LineSource,
    RowsBuilder,
    exact_lines,
    label_of,
    rounded_attainment,
    with_conversions,
)
from commissions.engine.money import CONTEXT, ONE, ZERO, amount_texts, format_percent, rounded_texts
from commissions.engine.plan_schema import FieldProblem, PlanModel, Rate, to_money, to_ratio

#: (tier index, the credited part paid at that tier's rate), in tier order.
Slices = tuple[tuple[int, Decimal], ...]


class Tier(PlanModel):
    to: Any = None  # an attainment (100% / 1.0) or an amount, read by the component's `on`
    rate: Rate


@register
class TieredComponent(PlanComponent):
    kind: Literal["tiered"]
    on: Literal["attainment", "amount"] = "attainment"
    mode: Literal["marginal", "retroactive"] = "marginal"
    per: Literal["period", "deal"] = "period"
    tiers: list[Tier] = Field(min_length=1)
    _bounds: tuple[Decimal, ...] = PrivateAttr(default=())
    _rates: tuple[Decimal, ...] = PrivateAttr(default=())

    listing_order = 10
    attainment_field = "on"

    @model_validator(mode="after")
    def _check_tiers(self) -> TieredComponent:
        if self.per == "deal" and self.on != "amount":
            raise FieldProblem("per", "per: deal tiers each deal on its own amount and needs on: amount")
        bounds: list[Decimal] = []
        last = len(self.tiers) - 1
        for i, tier in enumerate(self.tiers):
            where = f"tiers[{i}].to"
            if tier.to is None:
                if i != last:
                    raise FieldProblem(where, "only the last tier may be open-ended; give this tier a `to`")
                continue
            if i == last:
                raise FieldProblem(where, "the last tier must be open-ended (no `to`)")
            try:
                bound = to_ratio(tier.to) if self.on == "attainment" else to_money(tier.to)
            except ValueError as exc:
                raise FieldProblem(where, str(exc)) from None
            if bound <= 0:
                raise FieldProblem(where, "tier bounds must be above 0")
            if bounds and bound <= bounds[-1]:
                shown = format_percent if self.on == "attainment" else str
                raise FieldProblem(where, f"tier bounds must rise ({shown(bound)} after {shown(bounds[-1])})")
            bounds.append(bound)
        self._bounds = tuple(bounds)
        self._rates = tuple(tier.rate for tier in self.tiers)
        return self

    @property
    def bounds(self) -> tuple[Decimal, ...]:
        """The `to` of every tier but the last, as ratios (on: attainment) or amounts."""
        return self._bounds

    @property
    def rates(self) -> tuple[Decimal, ...]:
        return self._rates

    @property
    def needs_attainment(self) -> bool:
        return self.on == "attainment"

    def compute(self, payee: PayeeCredit, calculation: Calculation) -> LineSource:
        ctx = TieredContext(self, calculation.digits, payee)
        if self.per == "deal":
            return _deal_size_tiers(self, payee, ctx)
        if self.on == "attainment":
            quota = payee.target
            bounds = [bound * quota for bound in self.bounds]
            measures = payee.measures
        else:
            bounds = list(self.bounds)
            measures = payee.moneys  # on: amount: currency bounds on the credited amount
        if self.mode == "retroactive":
            return _retroactive(payee, ctx, bounds, measures)
        return _marginal(payee, ctx, bounds, measures)


class TieredContext(ComponentContext):
    """A tiered component's bounds, rates, `on` and `mode`, for its lines' sentences."""

    __slots__ = ("_single_tails", "bounds", "mode", "on", "rates")

    def __init__(self, component: TieredComponent, digits: int, payee: PayeeCredit) -> None:
        super().__init__(component.name, component.kind, digits, attainment=payee.attainment, quota=payee.quota)
        self.bounds = component.bounds
        self.rates = component.rates
        self.on = component.on
        self.mode = component.mode
        self._single_tails: list[str] | None = None

    @property
    def single_tails(self) -> list[str]:
        """Per tier, what follows the credited amount in the sentence of a line paid at that tier
        alone: `` at 8% (tier 1, up to 100% of quota) = `` (then the line's amount)."""
        if self._single_tails is None:
            self._single_tails = [
                f" at {format_percent(rate)} (tier {tier + 1}, {self.tier_range(tier)}) = "
                for tier, rate in enumerate(self.rates)
            ]
        return self._single_tails

    def bound(self, value: Decimal) -> str:
        return format_percent(value) if self.on == "attainment" else self.money(value)

    def tier_range(self, tier: int, of_quota: bool = True) -> str:
        suffix = " of quota" if self.on == "attainment" and of_quota else ""
        if tier == 0:
            if not self.bounds:
                return "all" + suffix
            return f"up to {self.bound(self.bounds[0])}{suffix}"
        if tier >= len(self.bounds):
            return f"over {self.bound(self.bounds[-1])}{suffix}"
        return f"{self.bound(self.bounds[tier - 1])}-{self.bound(self.bounds[tier])}{suffix}"

    def slices_basis(self, slices: Slices) -> list[dict[str, Any]]:
        return [{"tier": tier + 1, "amount": str(money), "rate": str(self.rates[tier])} for tier, money in slices]


def _retroactive(payee: PayeeCredit, ctx: TieredContext, bounds: list[Decimal], measures: list[Decimal]) -> LineSource:
    """All of the credit at the rate of the tier the period's total ends in."""
    total = sum(measures, ZERO)
    tier = next((k for k, bound in enumerate(bounds) if total <= bound), len(bounds))
    rate = ctx.rates[tier]
    entries, moneys = payee.entries, payee.moneys
    exact = [money * rate for money in moneys]

    def build(amounts: list[Decimal]) -> list[Line]:
        return [
            TierLine(entry[1], amount, ctx, money, entry[2], ((tier, money),))
            for entry, money, amount in zip(entries, moneys, amounts, strict=False)
        ]

    def rows(amounts: list[Decimal]) -> Iterator[Columns]:
        return _tier_rows(ctx, entries, moneys, [tier] * len(moneys), {}, amounts)

    return exact_lines(exact, build, rows)


class _TierCursor:
    """The tier the running credited measure is in while deals fill the tiers."""

    __slots__ = ("bounds", "next_bound", "rate", "rates", "tier")

    def __init__(self, bounds: list[Decimal], rates: tuple[Decimal, ...]) -> None:
        self.bounds = bounds
        self.rates = rates
        self.tier = 0
        self.rate = rates[0]
        self.next_bound: Decimal | None = bounds[0] if bounds else None

    def advance(self) -> None:
        self.tier += 1
        self.rate = self.rates[self.tier]
        self.next_bound = self.bounds[self.tier] if self.tier < len(self.bounds) else None


def _marginal(payee: PayeeCredit, ctx: TieredContext, bounds: list[Decimal], measures: list[Decimal]) -> LineSource:
    """Deals fill the tiers in deal order; a deal crossing a bound is paid partly at each rate.

    The running total before and after each deal (``accumulate``, C-level) tells, by bisection,
    where each tier's deals start and which few deals cross a bound; every other deal is paid at
    its tier's rate. The exact per-deal values are summed now and made again when the lines are
    (not kept: a million of them would stay in memory until printed)."""
    entries, moneys = payee.entries, payee.moneys
    n = len(moneys)
    running = list(accumulate(measures, initial=ZERO))  # running[i]: before deal i; running[i + 1]: after
    starts, ends = running[:-1], running[1:]
    del running
    # tier k's deals start with the first deal starting at or above bound k-1 (a deal ending exactly
    # on a bound leaves the next one in the next tier)
    firsts = [0, *(bisect_left(starts, bound) for bound in bounds), n]
    crossings: dict[int, tuple[Decimal, Slices]] = {}  # the lines that cross a bound: value, slices
    for bound in bounds:
        i = bisect_left(ends, bound)  # the first deal ending at or above the bound
        if i < n and ends[i] != bound and starts[i] < bound and i not in crossings:
            tier = bisect_right(bounds, starts[i])
            cursor = _TierCursor(bounds, ctx.rates)
            cursor.tier, cursor.rate = tier, ctx.rates[tier]
            cursor.next_bound = bounds[tier] if tier < len(bounds) else None
            crossings[i] = _cross(cursor, starts[i], ends[i], moneys[i], measures[i], measures is moneys)
    del starts, ends
    rates = ctx.rates

    def tiers() -> list[int]:
        out: list[int] = []
        for k in range(len(firsts) - 1):
            out += [k] * (firsts[k + 1] - firsts[k])
        return out

    def exact_values() -> list[Decimal]:
        exact: list[Decimal] = []
        with localcontext(CONTEXT):  # as computed inside calculate(), also when made again for the lines
            for k in range(len(firsts) - 1):
                a, b = firsts[k], firsts[k + 1]
                exact += map(mul, moneys[a:b], repeat(rates[k], b - a))
        for i, (value, _) in crossings.items():
            exact[i] = value
        return exact

    slices_of = {i: slices for i, (_, slices) in crossings.items()}

    def make() -> tuple[list[Decimal], Builder]:
        in_tier = tiers()

        def build(amounts: list[Decimal]) -> list[Line]:
            lines: list[Line] = []
            for i, (entry, money, amount) in enumerate(zip(entries, moneys, amounts, strict=False)):
                slices = slices_of.get(i) if slices_of else None
                lines.append(TierLine(entry[1], amount, ctx, money, entry[2], slices or ((in_tier[i], money),)))
            return lines

        return exact_values(), build

    def make_rows() -> tuple[list[Decimal], RowsBuilder]:
        in_tier = tiers()
        return exact_values(), lambda amounts: _tier_rows(ctx, entries, moneys, in_tier, slices_of, amounts)

    with localcontext(CONTEXT):
        total = sum(exact_values(), ZERO)
    return LineSource(total, make, make_rows)


def _tier_rows(
    ctx: TieredContext,
    entries: Shares,
    moneys: list[Decimal],
    tiers: list[int],
    crossings: dict[int, Slices],
    amounts: list[Decimal],
) -> Iterator[Columns]:
    """``TierLine``'s columns without the objects, ``CHUNK`` lines at a time: a sole-credit deal
    in one tier from its tier's prepared template, the others (a share, a crossing) from
    ``tier_sentence``."""
    digits = ctx.digits
    all_deals, all_shares = entries.deals, entries.shares
    for start in range(0, len(all_deals), CHUNK):
        stop = start + CHUNK
        deals = all_deals[start:stop]
        shares = all_shares[start:stop]
        n = len(deals)
        plain = amount_text = rounded_texts(amounts[start:stop])
        tails = list(map(ctx.single_tails.__getitem__, tiers[start:stop]))
        moneys_text = amount_texts(moneys[start:stop], digits)[1]
        texts = [  # the label (deal.label) written in place: one pass over the deals
            f"{deal.external_id} {deal.name}: {money}{tail}{amount}"
            if deal.name
            else f"{deal.external_id}: {money}{tail}{amount}"
            for deal, money, tail, amount in zip(deals, moneys_text, tails, amount_text, strict=True)
        ]
        ids = [deal.external_id for deal in deals]
        special = set(compress(range(n), map(is_not, shares, repeat(ONE, n))))
        special.update(i - start for i in crossings if start <= i < stop)
        for k in special:
            i = start + k
            slices = crossings.get(i) or ((tiers[i], moneys[i]),)
            texts[k] = tier_sentence(ctx, deals[k], shares[k], slices, amount_text[k])
        deal_ids: list[str | None] = list(ids)
        yield deal_ids, plain, with_conversions(deals, texts)


def _cross(
    cursor: _TierCursor, start: Decimal, end: Decimal, money: Decimal, measure: Decimal, same: bool
) -> tuple[Decimal, Slices]:
    """A deal whose measure runs from ``start`` to ``end`` across one or more bounds: its
    exact value and slices. With a count measure (quota: deals) a straddling deal splits
    its credited money in the proportion of its count."""
    slices: list[tuple[int, Decimal]] = []
    value = ZERO
    paid = ZERO
    while True:
        next_bound = cursor.next_bound
        if next_bound is None or end <= next_bound:
            piece = money - paid  # the rest: slices always add up to the credited money
            slices.append((cursor.tier, piece))
            value += piece * cursor.rate
            return value, tuple(slices)
        span = next_bound - start
        if span > 0:
            piece = span if same else CONTEXT.divide(money * span, measure)
            slices.append((cursor.tier, piece))
            value += piece * cursor.rate
            paid += piece
        start = next_bound
        cursor.advance()


def _deal_size_tiers(component: TieredComponent, payee: PayeeCredit, ctx: TieredContext) -> LineSource:
    """Deal-size tiers: each deal's whole amount is tiered on its own, then paid pro rata."""
    retroactive = component.mode == "retroactive"
    exact: list[Decimal] = []
    all_slices: list[Slices] = []
    for _, deal, share in payee.entries:
        whole, slices = _deal_size(deal.amount, component.bounds, component.rates, retroactive)
        exact.append(whole if share is ONE else whole * share)
        all_slices.append(slices)
    entries = payee.entries

    def build(amounts: list[Decimal]) -> list[Line]:
        return [
            DealSizeLine(entry[1], amount, ctx, entry[2], slices)
            for entry, amount, slices in zip(entries, amounts, all_slices, strict=False)
        ]

    return exact_lines(exact, build)


def _deal_size(
    amount: Decimal, bounds: tuple[Decimal, ...], rates: tuple[Decimal, ...], retroactive: bool
) -> tuple[Decimal, Slices]:
    """One deal's whole amount tiered: its value at full share, and its slices."""
    count = len(bounds)
    if retroactive:
        tier = next((k for k, bound in enumerate(bounds) if amount <= bound), count)
        return amount * rates[tier], ((tier, amount),)
    parts: list[tuple[int, Decimal]] = []
    whole = ZERO
    low = ZERO
    for k in range(count + 1):
        high = bounds[k] if k < count else None
        top = amount if high is None or amount < high else high
        if top > low or (k == 0 and amount == 0):
            parts.append((k, top - low))
            whole += (top - low) * rates[k]
        if high is None or amount <= high:
            break
        low = high
    return whole, tuple(parts)


class TierLine(Line):
    """A deal in tiered commission, paid at one tier or, crossing bounds, at several."""

    __slots__ = ("credited", "share", "slices")
    deal: Deal
    ctx: TieredContext

    def __init__(
        self, deal: Deal, amount: Decimal, ctx: TieredContext, credited: Decimal, share: Decimal, slices: Slices
    ) -> None:
        super().__init__(deal, amount, ctx)
        self.credited = credited
        self.share = share
        self.slices = slices

    @property
    def sentence(self) -> str:
        return tier_sentence(self.ctx, self.deal, self.share, self.slices, self.ctx.money(self.amount))

    @property
    def details(self) -> dict[str, Any]:
        ctx = self.ctx
        return {
            "credited": str(self.credited),
            "share": str(self.share),
            "slices": ctx.slices_basis(self.slices),
            "attainment": rounded_attainment(ctx.attainment),
            "mode": ctx.mode,
            "on": ctx.on,
        }


def tier_sentence(ctx: TieredContext, deal: Deal, share: Decimal, slices: Slices, amount: str) -> str:
    """The sentence of a tiered line (``TierLine.text``); ``amount`` is the line's amount as text."""
    parts = []
    count = len(slices)
    for k, (tier, money) in enumerate(slices):
        if count == 1 or ctx.mode == "retroactive":
            # The tier's range says why this rate; the attainment that reached it is the
            # statement's (its summary). Repeating it here would change the text of every line
            # of a manager's whole team with each new deal, and so rewrite them all in the ledger.
            where = f"tier {tier + 1}, {ctx.tier_range(tier)}"
        elif k == 0:
            where = f"tier {tier + 1}"
        else:
            where = f"tier {tier + 1}, {ctx.tier_range(tier, of_quota=False)}"
        parts.append(f"{ctx.money(money)} at {format_percent(ctx.rates[tier])} ({where})")
    head = f"{label_of(deal)}: "
    if share != 1:
        head += f"{format_percent(share)} share of {ctx.money(deal.amount)}: "
    return f"{head}{' + '.join(parts)} = {amount}"


class DealSizeLine(Line):
    """``per: deal`` tiers: the deal's whole amount tiered, then its credited share paid."""

    __slots__ = ("share", "slices")
    deal: Deal
    ctx: TieredContext

    def __init__(self, deal: Deal, amount: Decimal, ctx: TieredContext, share: Decimal, slices: Slices) -> None:
        super().__init__(deal, amount, ctx)
        self.share = share
        self.slices = slices

    @property
    def sentence(self) -> str:
        ctx, deal = self.ctx, self.deal
        parts = [
            f"{ctx.money(money)} at {format_percent(ctx.rates[tier])} (tier {tier + 1}, {ctx.tier_range(tier)})"
            for tier, money in self.slices
        ]
        share = f", {format_percent(self.share)} share" if self.share != 1 else ""
        return f"{deal.label}: deal of {ctx.money(deal.amount)}: {' + '.join(parts)}{share} = {ctx.money(self.amount)}"

    @property
    def details(self) -> dict[str, Any]:
        return {
            "deal_amount": str(self.deal.amount),
            "share": str(self.share),
            "slices": self.ctx.slices_basis(self.slices),
            "mode": self.ctx.mode,
        }


__all__ = ["DealSizeLine", "Slices", "Tier", "TierLine", "TieredComponent", "TieredContext"]
