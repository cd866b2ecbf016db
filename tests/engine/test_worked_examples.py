"""Every worked example of plans.md, table-driven."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commissions.engine import (
    Deal,
    Person,
    Quota,
    calculate,
    load_plan_document,
    parse_plan,
    result_to_json_dict,
)

from .helpers import D, amounts, deal, make_plan, run

DATA = Path(__file__).parent / "data"
TIERS = [{"to": "100%", "rate": "10%"}, {"to": "150%", "rate": "15%"}, {"rate": "20%"}]
SIZE_TIERS = [{"to": 1000, "rate": "1%"}, {"to": 3000, "rate": "2%"}, {"rate": "3%"}]


@pytest.mark.parametrize(
    ("component", "deals", "expected"),
    [
        # section 5: Q = 100000, C = 130000
        ({"kind": "tiered", "mode": "marginal", "tiers": TIERS}, [130000], "14500.00"),
        (
            {"kind": "tiered", "mode": "retroactive", "tiers": TIERS},
            [130000],
            "19500.00",
        ),
        # the same credit in several deals changes nothing for the total
        (
            {"kind": "tiered", "mode": "marginal", "tiers": TIERS},
            [70000, 40000, 20000],
            "14500.00",
        ),
        (
            {"kind": "tiered", "mode": "retroactive", "tiers": TIERS},
            [70000, 40000, 20000],
            "19500.00",
        ),
        # per: deal, deal of 1500 with tiers 1 % to 1000, 2 % to 3000
        (
            {
                "kind": "tiered",
                "on": "amount",
                "per": "deal",
                "mode": "marginal",
                "tiers": SIZE_TIERS,
            },
            [1500],
            "20.00",
        ),
        (
            {
                "kind": "tiered",
                "on": "amount",
                "per": "deal",
                "mode": "retroactive",
                "tiers": SIZE_TIERS,
            },
            [1500],
            "30.00",
        ),
        # curve at 150 %
        (
            {
                "kind": "curve",
                "points": [["0%", 0], ["50%", 0], ["100%", 2500], ["200%", 3500]],
            },
            [150000],
            "3000.00",
        ),
        # bonus at exactly 100 %
        ({"kind": "bonus", "at": "100%", "pay": 2500}, [100000], "2500.00"),
        ({"kind": "bonus", "at": "100%", "pay": 2500}, [99999.99], "0.00"),
    ],
    ids=[
        "marginal",
        "retroactive",
        "marginal-3-deals",
        "retroactive-3-deals",
        "per-deal-marginal",
        "per-deal-retroactive",
        "curve-150",
        "bonus-at-100",
        "bonus-below",
    ],
)
def test_section_5(component: dict, deals: list, expected: str) -> None:
    plan = make_plan({"name": "C", **component})
    result = run(
        plan,
        [deal(f"D-{i}", amount, day=f"2026-01-{i + 10}") for i, amount in enumerate(deals)],
    )
    (payee,) = result.payees
    assert str(payee.component("C").amount) == expected
    assert str(payee.total) == expected


def test_marginal_line_of_a_deal_crossing_the_bound_says_so() -> None:
    plan = make_plan({"name": "C", "kind": "tiered", "tiers": TIERS})
    result = run(
        plan,
        [deal("D-1", 90000, day="2026-01-10"), deal("D-2", 40000, day="2026-02-01")],
    )
    component = result.payees[0].component("C")
    assert amounts(component) == ["9000.00", "5500.00"]
    assert component.lines[1].text == ("D-2: 10000.00 at 10% (tier 1) + 30000.00 at 15% (tier 2, 100%-150%) = 5500.00")
    assert component.lines[1].basis["slices"] == [
        {"tier": 1, "amount": "10000", "rate": "0.1"},
        {"tier": 2, "amount": "30000", "rate": "0.15"},
    ]


def _section_9_inputs() -> tuple:
    plan = parse_plan(load_plan_document((DATA / "plan.yaml").read_text()))
    staff = [
        Person("mia@example.com", "Mia Manager"),
        Person("ana@example.com", "Ana Rep", "mia@example.com"),
    ]
    deals = [
        Deal(
            "D-1",
            "ana@example.com",
            D(60000),
            "USD",
            deal("x", 1, day="2026-01-10").closed_at,
            name="Acme expansion",
            type="new",
            product="Pro",
            term_months=12,
        ),
        Deal(
            "D-2",
            "ana@example.com",
            D(45000),
            "USD",
            deal("x", 1, day="2026-02-03").closed_at,
            name="Globex platform",
            type="new",
            product="Enterprise",
            term_months=36,
        ),
        Deal(
            "D-3",
            "ana@example.com",
            D(25000),
            "USD",
            deal("x", 1, day="2026-03-20").closed_at,
            name="Initech renewal",
            type="renewal",
            product="Pro",
            term_months=12,
        ),
    ]
    quotas = [Quota("ana@example.com", "bookings", "2026-Q1", D(100000))]
    return plan, staff, quotas, deals


def test_section_9_matches_expected_json_exactly() -> None:
    plan, staff, quotas, deals = _section_9_inputs()
    result = calculate(plan, "2026-Q1", staff, quotas, deals)
    expected = json.loads((DATA / "expected.json").read_text())
    assert result_to_json_dict(result) == expected


def test_section_9_amounts() -> None:
    plan, staff, quotas, deals = _section_9_inputs()
    (ana,) = calculate(plan, "2026-Q1", staff, quotas, deals).payees
    assert ana.person == "ana@example.com"  # Mia has no quota and no own credit: not listed
    assert ana.attainment == D("1.05")
    assert [(c.name, str(c.amount)) for c in ana.components] == [
        ("Commission", "10750.00"),
        ("Multi-year SPIFF", "500.00"),
        ("Quota club", "2500.00"),
    ]
    assert amounts(ana.component("Commission")) == ["6000.00", "4750.00"]
    assert str(ana.total) == "13750.00"
