"""Properties of the engine, checked with Hypothesis (derandomized in conftest.py)."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from commissions.engine import Deal, calculate, result_to_json, result_to_json_dict

from .helpers import make_plan, people, quota

STAFF = people(
    "vp@x.com",
    "mia@x.com<vp@x.com",
    "ana@x.com<mia@x.com",
    "bo@x.com<mia@x.com",
    "cy@x.com<vp@x.com",
)
EMAILS = [p.email for p in STAFF]
QUOTAS = [quota(email, 50000) for email in EMAILS]
START = date(2026, 1, 1)

amounts = st.decimals(min_value=0, max_value=200000, places=2, allow_nan=False, allow_infinity=False)
rates = st.decimals(min_value=0, max_value=1, places=4)


@st.composite
def splits(draw: st.DrawFn) -> tuple[tuple[str, Decimal], ...]:
    if draw(st.booleans()):
        return ()
    chosen = draw(st.lists(st.sampled_from(EMAILS), min_size=2, max_size=3, unique=True))
    cuts = sorted(
        draw(
            st.lists(
                st.integers(1, 9999),
                min_size=len(chosen) - 1,
                max_size=len(chosen) - 1,
                unique=True,
            )
        )
    )
    bounds = [0, *cuts, 10000]
    return tuple((email, Decimal(bounds[i + 1] - bounds[i]) / 100) for i, email in enumerate(chosen))


@st.composite
def deals(draw: st.DrawFn, min_size: int = 0, max_size: int = 12) -> list[Deal]:
    count = draw(st.integers(min_size, max_size))
    out = []
    for i in range(count):
        out.append(
            Deal(
                f"D-{i}",
                draw(st.sampled_from(EMAILS)),
                draw(amounts),
                "USD",
                START + timedelta(days=draw(st.integers(0, 89))),
                type=draw(st.sampled_from(["new", "expansion", "renewal"])),
                product=draw(st.sampled_from(["Pro", "Basic"])),
                term_months=draw(st.sampled_from([12, 24, 36])),
                splits=draw(splits()),
            )
        )
    return out


@st.composite
def rising_tiers(draw: st.DrawFn, on: str = "attainment") -> list[dict]:
    count = draw(st.integers(1, 4))
    bounds = sorted(draw(st.lists(st.integers(1, 300), min_size=count - 1, max_size=count - 1, unique=True)))
    tier_rates = sorted(draw(st.lists(rates, min_size=count, max_size=count)))
    tiers = []
    for i, rate in enumerate(tier_rates):
        tier = {"rate": rate}
        if i < len(bounds):
            tier["to"] = f"{bounds[i]}%" if on == "attainment" else bounds[i] * 1000
        tiers.append(tier)
    return tiers


@st.composite
def plans(draw: st.DrawFn) -> object:
    tiers = draw(rising_tiers())
    points = sorted(draw(st.lists(st.integers(0, 300), min_size=2, max_size=4, unique=True)))
    payouts = sorted(draw(st.lists(st.integers(0, 10000), min_size=len(points), max_size=len(points))))
    components = [
        {
            "name": "Commission",
            "kind": "tiered",
            "mode": draw(st.sampled_from(["marginal", "retroactive"])),
            "tiers": tiers,
        },
        {
            "name": "Size",
            "kind": "tiered",
            "on": "amount",
            "per": "deal",
            "tiers": draw(rising_tiers("amount")),
        },
        {
            "name": "SPIFF",
            "kind": "per_deal",
            "pay": draw(amounts),
            "rate": draw(rates),
            "when": 'product == "Pro"',
        },
        {"name": "Club", "kind": "bonus", "at": "100%", "pay": draw(amounts)},
        {
            "name": "Curve",
            "kind": "curve",
            "points": [[f"{x}%", y] for x, y in zip(points, payouts, strict=False)],
        },
        {
            "name": "Override",
            "kind": "override",
            "rate": draw(rates),
            "cap": draw(st.none() | amounts),
        },
    ]
    scope = draw(st.sampled_from(["own", "team"]))
    return make_plan(*components, credit={"scope": scope}, cap=draw(st.none() | amounts))


def compute(plan: object, deal_list: list[Deal]):
    return calculate(plan, "2026-Q1", STAFF, QUOTAS, deal_list)  # type: ignore[arg-type]


@given(plans(), deals())
def test_lines_always_sum_to_their_component(plan: object, deal_list: list[Deal]) -> None:
    for payee in compute(plan, deal_list).payees:
        assert payee.total == sum((c.amount for c in payee.components), Decimal(0))
        for component in payee.components:
            assert sum((line.amount for line in component.lines), Decimal(0)) == component.amount
            assert all(line.amount == line.amount.quantize(Decimal("0.01")) for line in component.lines)


@given(deals(min_size=1))
def test_splits_conserve_the_amount(deal_list: list[Deal]) -> None:
    plan = make_plan({"name": "Flat", "kind": "per_deal", "rate": "100%"})
    result = compute(plan, deal_list)
    assert sum((p.credited for p in result.payees), Decimal(0)) == sum((d.amount for d in deal_list), Decimal(0))
    # and at a 100 % rate every credited share is paid, to the cent per line
    paid = sum(
        (line.amount for p in result.payees for line in p.components[0].lines),
        Decimal(0),
    )
    assert abs(paid - sum((d.amount for d in deal_list), Decimal(0))) <= Decimal("0.01") * sum(
        len(d.splits) for d in deal_list
    )


@given(plans(), deals(), deals(min_size=1, max_size=1))
def test_payout_never_falls_when_a_deal_is_added(plan: object, deal_list: list[Deal], extra: list[Deal]) -> None:
    added = Deal(
        **{
            **{f: getattr(extra[0], f) for f in Deal.__dataclass_fields__},
            "external_id": "X-1",
        }
    )
    before = {p.person: p.total for p in compute(plan, deal_list).payees}
    after = {p.person: p.total for p in compute(plan, [*deal_list, added]).payees}
    for person, total in before.items():
        assert after[person] >= total, person


@given(plans(), deals(), st.randoms(use_true_random=False))
def test_recomputing_gives_byte_identical_json(plan: object, deal_list: list[Deal], rng: random.Random) -> None:
    result = compute(plan, deal_list)
    first = json.dumps(result_to_json_dict(result), indent=2)
    # the streamed text of `calc --json` is exactly json.dumps(..., indent=2) of the document
    assert result_to_json(result) == json.dumps(result_to_json_dict(result), indent=2, ensure_ascii=False) + "\n"
    shuffled = list(deal_list)
    rng.shuffle(shuffled)
    assert json.dumps(result_to_json_dict(compute(plan, deal_list)), indent=2) == first
    assert json.dumps(result_to_json_dict(compute(plan, shuffled)), indent=2) == first  # input order is irrelevant


@given(rising_tiers(), deals())
def test_retroactive_pays_at_least_marginal_when_rates_rise(tiers: list[dict], deal_list: list[Deal]) -> None:
    totals = {}
    for mode in ("marginal", "retroactive"):
        plan = make_plan({"name": "C", "kind": "tiered", "mode": mode, "tiers": tiers})
        totals[mode] = {p.person: p.total for p in compute(plan, deal_list).payees}
    for person, marginal in totals["marginal"].items():
        assert totals["retroactive"][person] >= marginal
