"""Marginal tiers found by running totals and bisection (``tiered._marginal``) against the
deal-by-deal walk they replaced: the same exact value, tier and slices for every deal,
including deals ending exactly on a bound, deals of 0, and one deal crossing several bounds."""

from __future__ import annotations

from decimal import Decimal, localcontext
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from commissions.engine.components.tiered import Slices, _cross, _marginal, _TierCursor
from commissions.engine.money import CONTEXT, ONE, ZERO


def _walk(bounds: list[Decimal], rates: tuple[Decimal, ...], moneys: list[Decimal], measures: list[Decimal]):
    """The deal-by-deal walk of engine 2026.12.2."""
    exact: list[Decimal] = []
    tiers: list[int] = []
    crossings: dict[int, Slices] = {}
    cursor = _TierCursor(bounds, rates)
    position = ZERO
    same = measures is moneys
    for i, money in enumerate(moneys):
        measure = money if same else measures[i]
        end = position + measure
        if cursor.next_bound is None or end <= cursor.next_bound:
            exact.append(money * cursor.rate)
        else:
            value, crossings[i] = _cross(cursor, position, end, money, measure, same)
            exact.append(value)
        tiers.append(cursor.tier)
        if cursor.next_bound is not None and end == cursor.next_bound:
            cursor.advance()
        position = end
    return exact, [crossings.get(i) or ((tiers[i], moneys[i]),) for i in range(len(moneys))]


money = st.integers(min_value=0, max_value=5000).map(lambda cents: Decimal(cents).scaleb(-2))
counts = st.sampled_from([ONE, Decimal("0.6"), Decimal("0.4"), Decimal("0.25")])


@given(
    moneys=st.lists(st.one_of(money, st.sampled_from([Decimal("10.00"), Decimal("0.00")])), max_size=30),
    steps=st.lists(st.integers(min_value=1, max_value=3000), min_size=0, max_size=4),
    count_metric=st.booleans(),
    shares=st.lists(counts, min_size=30, max_size=30),
)
def test_marginal_tiers_match_the_deal_by_deal_walk(
    moneys: list[Decimal], steps: list[int], count_metric: bool, shares: list[Decimal]
) -> None:
    bounds: list[Decimal] = []
    for step in steps:  # rising bounds, some landing exactly on running totals of 10.00 deals
        bounds.append((bounds[-1] if bounds else ZERO) + Decimal(step).scaleb(-1))
    rates = tuple(Decimal(k + 1).scaleb(-2) for k in range(len(bounds) + 1))
    measures = [shares[i] for i in range(len(moneys))] if count_metric else moneys
    entries = [(i, SimpleNamespace(external_id=f"D-{i}", name=""), shares[i]) for i in range(len(moneys))]
    payee = SimpleNamespace(entries=entries, moneys=moneys)
    ctx = SimpleNamespace(rates=rates)
    with localcontext(CONTEXT):
        source = _marginal(payee, ctx, bounds, measures)  # type: ignore[arg-type]
        exact, slices = _walk(bounds, rates, moneys, measures)
        total = sum(exact, ZERO)
    assert source.exact_total == total
    made, build = source.make()
    assert [str(value) for value in made] == [str(value) for value in exact]
    lines = build([ZERO] * len(moneys))
    assert [line.slices for line in lines] == slices  # type: ignore[attr-defined]
