"""Each component kind and its boundaries."""

from __future__ import annotations

import pytest

from commissions.engine import Person

from .helpers import D, amounts, deal, make_plan, people, quota, run, tiered

TIERS = [{"to": "100%", "rate": "10%"}, {"to": "150%", "rate": "15%"}, {"rate": "20%"}]


@pytest.mark.parametrize(
    ("mode", "credit", "expected"),
    [
        ("marginal", "100000", "10000.00"),  # exactly at the bound: all in tier 1
        (
            "marginal",
            "100000.01",
            "10000.00",
        ),  # 0.01 at 15% = 0.0015 → still 10000.00 after half-up
        (
            "marginal",
            "100000.04",
            "10000.01",
        ),  # 0.04 at 15% = 0.006 → 10000.006 → 10000.01
        ("retroactive", "100000", "10000.00"),  # at the bound belongs to the lower tier
        ("retroactive", "100000.01", "15000.00"),  # 100000.01 × 15% = 15000.0015
        ("retroactive", "150000", "22500.00"),
        ("retroactive", "150000.01", "30000.00"),  # 150000.01 × 20% = 30000.002
        ("marginal", "0", "0.00"),
    ],
)
def test_tier_bounds(mode: str, credit: str, expected: str) -> None:
    plan = make_plan(tiered(mode=mode))
    (payee,) = run(plan, [deal("D-1", credit)]).payees
    assert str(payee.component("Commission").amount) == expected


def test_deal_ending_exactly_at_a_bound_then_the_next_deal_starts_in_the_next_tier() -> None:
    plan = make_plan(tiered())
    result = run(
        plan,
        [deal("D-1", 100000, day="2026-01-01"), deal("D-2", 10000, day="2026-01-02")],
    )
    component = result.payees[0].component("Commission")
    assert amounts(component) == ["10000.00", "1500.00"]
    assert "tier 2, 100%-150% of quota" in component.lines[1].text


def test_deal_crossing_two_bounds() -> None:
    plan = make_plan(tiered())
    (payee,) = run(plan, [deal("D-1", 200000)]).payees
    line = payee.component("Commission").lines[0]
    # 100000 × 10% + 50000 × 15% + 50000 × 20%
    assert str(line.amount) == "27500.00"
    assert line.text.count(" + ") == 2


def test_deals_fill_tiers_in_deal_order_closed_at_then_external_id() -> None:
    plan = make_plan(tiered())
    deals = [
        deal("D-10", 60000, day="2026-02-01"),
        deal("D-9", 60000, day="2026-02-01"),
        deal("D-1", 10, day="2026-03-01"),
    ]
    component = run(plan, deals).payees[0].component("Commission")
    # "D-10" < "D-9" as text: D-10 fills tier 1 first
    assert [line.deal_id for line in component.lines] == ["D-10", "D-9", "D-1"]
    assert amounts(component) == ["6000.00", "7000.00", "1.50"]


def test_tiered_on_amount_per_period() -> None:
    plan = make_plan(tiered(on="amount", tiers=[{"to": 50000, "rate": "5%"}, {"rate": "8%"}]))
    component = (
        run(
            plan,
            [
                deal("D-1", 30000, day="2026-01-01"),
                deal("D-2", 30000, day="2026-01-02"),
            ],
        )
        .payees[0]
        .component("Commission")
    )
    assert amounts(component) == ["1500.00", "1800.00"]  # 20000 × 5% + 10000 × 8%
    assert "(tier 2, 50000.00-" not in component.lines[1].text
    assert "over 50000.00" in component.lines[1].text or "(tier 2" in component.lines[1].text


@pytest.mark.parametrize(
    ("amount", "marginal", "retroactive"),
    [
        ("1000", "10.00", "10.00"),  # exactly at the bound: tier 1
        ("1000.01", "10.00", "20.00"),  # 1000 × 1% + 0.01 × 2% = 10.0002; retro 1000.01 × 2% = 20.0002
        ("5000", "100.00", "150.00"),  # 10 + 40 + 2000 × 3% = 110? see below
    ],
)
def test_per_deal_tiers(amount: str, marginal: str, retroactive: str) -> None:
    tiers = [{"to": 1000, "rate": "1%"}, {"to": 3000, "rate": "2%"}, {"rate": "3%"}]
    if amount == "5000":
        marginal = "110.00"  # 1000 × 1% + 2000 × 2% + 2000 × 3%
    for mode, expected in (("marginal", marginal), ("retroactive", retroactive)):
        plan = make_plan(
            {
                "name": "Size",
                "kind": "tiered",
                "on": "amount",
                "per": "deal",
                "mode": mode,
                "tiers": tiers,
            }
        )
        (payee,) = run(plan, [deal("D-1", amount)]).payees
        assert str(payee.component("Size").amount) == expected, mode


def test_per_deal_tiers_pay_the_credited_share_of_the_whole_deal() -> None:
    tiers = [{"to": 1000, "rate": "1%"}, {"to": 3000, "rate": "2%"}, {"rate": "3%"}]
    plan = make_plan(
        {
            "name": "Size",
            "kind": "tiered",
            "on": "amount",
            "per": "deal",
            "tiers": tiers,
        }
    )
    staff = people("ana@x.com", "bo@x.com")
    result = run(
        plan,
        [deal("D-1", 1500, splits=[("ana@x.com", 60), ("bo@x.com", 40)])],
        [],
        staff,
    )
    assert [(p.person, str(p.total)) for p in result.payees] == [
        ("ana@x.com", "12.00"),
        ("bo@x.com", "8.00"),
    ]
    assert (
        "deal of 1500.00: 1000.00 at 1% (tier 1, up to 1000.00) + 500.00 at 2%"
        in result.payees[0].components[0].lines[0].text
    )


def test_per_deal_flat_rate_and_spiff_with_window_and_condition() -> None:
    plan = make_plan(
        {"name": "Flat", "kind": "per_deal", "rate": "2%"},
        {
            "name": "SPIFF",
            "kind": "per_deal",
            "pay": 500,
            "rate": "1%",
            "when": 'product == "Pro" and region == "EMEA"',
            "from": "2026-02-01",
            "to": "2026-02-28",
        },
        custom_fields=["region"],
    )
    deals = [
        deal("D-1", 10000, day="2026-01-31", product="Pro", custom={"region": "EMEA"}),  # before the window
        deal("D-2", 10000, day="2026-02-01", product="Pro", custom={"region": "EMEA"}),  # first day: inside
        deal("D-3", 10000, day="2026-02-28", product="Pro", custom={"region": "AMER"}),
        deal("D-4", 10000, day="2026-02-28", product="Basic", custom={"region": "EMEA"}),
    ]
    payee = run(plan, deals, []).payees[0]
    assert str(payee.component("Flat").amount) == "800.00"
    spiff = payee.component("SPIFF")
    assert [line.deal_id for line in spiff.lines] == ["D-2"]
    assert spiff.lines[0].text == "D-2: Pro, region EMEA: SPIFF 500.00 + 10000.00 at 1% = 600.00"
    assert payee.quota is None and payee.attainment is None


def test_plan_without_attainment_components_needs_no_quota() -> None:
    plan = make_plan({"name": "Flat", "kind": "per_deal", "rate": "10%"})
    (payee,) = run(plan, [deal("D-1", 1234.56)], []).payees
    assert str(payee.total) == "123.46" and payee.errors == ()


def test_spiff_on_split_deal_is_pro_rata() -> None:
    plan = make_plan({"name": "SPIFF", "kind": "per_deal", "pay": 500})
    staff = people("ana@x.com", "bo@x.com")
    result = run(
        plan,
        [deal("D-1", 1000, splits=[("ana@x.com", 60), ("bo@x.com", 40)])],
        [],
        staff,
    )
    assert [str(p.total) for p in result.payees] == ["300.00", "200.00"]
    assert result.payees[0].components[0].lines[0].text == "D-1: SPIFF 300.00 (60% of 500.00) = 300.00"


@pytest.mark.parametrize(
    ("credit", "expected"),
    [
        ("0", "0.00"),
        ("40000", "0.00"),
        ("50000", "0.00"),
        ("75000", "1250.00"),
        ("100000", "2500.00"),
        ("150000", "3000.00"),
        ("200000", "3500.00"),
        ("500000", "3500.00"),
        ("133333", "2833.33"),
    ],
)
def test_curve(credit: str, expected: str) -> None:
    plan = make_plan(
        {
            "name": "Curve",
            "kind": "curve",
            "points": [["0%", 0], ["50%", 0], ["100%", 2500], ["200%", 3500]],
        }
    )
    deals = [deal("D-1", credit)] if credit != "0" else []
    (payee,) = run(plan, deals).payees
    assert str(payee.total) == expected


def test_curve_below_first_point_pays_the_first_points_payout_and_lines_share_pro_rata() -> None:
    plan = make_plan({"name": "Curve", "kind": "curve", "points": [["20%", 100], ["100%", 1000]]})
    component = (
        run(
            plan,
            [deal("D-1", 5000, day="2026-01-01"), deal("D-2", 10000, day="2026-01-02")],
        )
        .payees[0]
        .component("Curve")
    )
    assert str(component.amount) == "100.00"
    assert amounts(component) == ["33.33", "66.67"]


def test_bonus_below_threshold_explains_itself() -> None:
    plan = make_plan({"name": "Club", "kind": "bonus", "at": "120%", "pay": 1000})
    component = run(plan, [deal("D-1", 119999)]).payees[0].component("Club")
    assert str(component.amount) == "0.00"
    assert component.lines[0].text == "Attainment 120.00% < 120%: no bonus (1000.00 at 120%)"  # 119.999 shows as 120.00


def test_deals_quota_counts_deals_and_splits_a_straddling_share() -> None:
    plan = make_plan(tiered(tiers=[{"to": "100%", "rate": "10%"}, {"rate": "20%"}]), quota="deals")
    staff = people("ana@x.com", "bo@x.com")
    deals = [
        deal("D-1", 1000, day="2026-01-01"),
        deal("D-2", 3000, day="2026-01-02", splits=[("ana@x.com", 50), ("bo@x.com", 50)]),
    ]
    result = run(
        plan,
        deals,
        [quota("ana@x.com", "1.25", "deals")],
        staff,
        participants=["ana@x.com"],
    )
    (ana,) = result.payees
    assert ana.credited == D("1.5") and ana.attainment == D("1.2")
    # D-2: credit 1500 for a count of 0.5, of which 0.25 fills tier 1 (750 at 10%) and 0.25 tier 2 (750 at 20%)
    assert amounts(ana.component("Commission")) == ["100.00", "225.00"]
    from commissions.engine import result_to_json_dict

    entry = result_to_json_dict(result)["payees"][0]
    assert (entry["credited"], entry["quota"], entry["attainment"]) == (
        "1.50",
        "1.25",
        "1.2000",
    )


def test_no_quota_and_zero_quota_are_errors_for_that_person_only() -> None:
    plan = make_plan(tiered())
    staff = people("ana@x.com", "bo@x.com", "cy@x.com")
    deals = [
        deal("D-1", 1000, "ana@x.com"),
        deal("D-2", 1000, "bo@x.com"),
        deal("D-3", 1000, "cy@x.com"),
    ]
    result = run(plan, deals, [quota("bo@x.com", 0), quota("cy@x.com", 10000)], staff)
    ana, bo, cy = result.payees
    assert ana.errors == ("no bookings quota for ana@x.com in 2026-Q1",) and ana.total is None
    assert bo.errors == ("the bookings quota for bo@x.com in 2026-Q1 is 0; a target must be > 0",)
    assert cy.errors == () and str(cy.total) == "100.00"
    assert result.has_errors


def test_empty_period() -> None:
    plan = make_plan(tiered(), {"name": "Club", "kind": "bonus", "at": "100%", "pay": 100})
    (payee,) = run(plan, [deal("D-1", 1000, day="2025-12-31")]).payees  # last quarter's deal
    assert payee.credited == 0 and payee.attainment == 0
    assert [(c.name, str(c.amount)) for c in payee.components] == [
        ("Commission", "0.00"),
        ("Club", "0.00"),
    ]
    assert run(plan, [], []).payees == ()  # no quota, no credit: nobody is paid


def test_component_and_plan_caps() -> None:
    plan = make_plan(
        {"name": "Flat", "kind": "per_deal", "rate": "10%", "cap": 5000},
        {"name": "Other", "kind": "per_deal", "rate": "5%"},
        cap=7000,
    )
    payee = run(plan, [deal("D-1", 80000)], []).payees[0]
    assert [(c.name, str(c.amount)) for c in payee.components] == [
        ("Flat", "8000.00"),
        ("cap: Flat", "-3000.00"),
        ("Other", "4000.00"),
        ("cap", "-2000.00"),
    ]
    assert str(payee.total) == "7000.00"
    assert payee.components[1].lines[0].text == "Flat capped at 5000.00 (earned 8000.00): -3000.00"
    assert payee.components[3].lines[0].text == "Plan total capped at 7000.00 (earned 9000.00): -2000.00"


def test_cap_hit_exactly_does_not_bite() -> None:
    plan = make_plan({"name": "Flat", "kind": "per_deal", "rate": "10%", "cap": 5000}, cap=5000)
    payee = run(plan, [deal("D-1", 50000)], []).payees[0]
    assert [c.name for c in payee.components] == ["Flat"] and str(payee.total) == "5000.00"


def test_overrides_are_recursive_and_never_on_own_share() -> None:
    plan = make_plan({"name": "Override", "kind": "override", "rate": "1%"}, quota=None)
    staff = people("vp@x.com", "mia@x.com<vp@x.com", "ana@x.com<mia@x.com", "bo@x.com<mia@x.com")
    deals = [
        deal("D-1", 10000, "ana@x.com", day="2026-01-01"),
        deal(
            "D-2",
            20000,
            "mia@x.com",
            day="2026-01-02",
            splits=[("mia@x.com", 50), ("bo@x.com", 50)],
        ),
        deal(
            "D-3",
            30000,
            "ana@x.com",
            day="2026-01-03",
            splits=[("ana@x.com", 50), ("bo@x.com", 50)],
        ),
    ]
    result = run(plan, deals, [], staff)
    by_person = {p.person: p for p in result.payees}
    mia, vp = by_person["mia@x.com"], by_person["vp@x.com"]
    assert amounts(mia.components[0]) == [
        "100.00",
        "100.00",
        "300.00",
    ]  # not on her own 50% of D-2
    assert amounts(vp.components[0]) == [
        "100.00",
        "200.00",
        "300.00",
    ]  # D-2: mia's and bo's shares
    assert mia.components[0].lines[2].text == "D-3: 30000.00 credited to ana@x.com 50%, bo@x.com 50% at 1% = 300.00"
    assert mia.components[0].lines[1].text == "D-2: 10000.00 of 20000.00 credited to bo@x.com 50% at 1% = 100.00"
    # ana and bo get no override but still appear: they have credit under this plan
    assert str(by_person["ana@x.com"].total) == "0.00"


def test_team_scope_credits_the_whole_tree() -> None:
    plan = make_plan(
        tiered(mode="retroactive", tiers=[{"to": "100%", "rate": "1%"}, {"rate": "2%"}]),
        credit={"scope": "team"},
    )
    staff = people("mia@x.com", "ana@x.com<mia@x.com", "bo@x.com<ana@x.com")
    deals = [
        deal("D-1", 60000, "ana@x.com"),
        deal("D-2", 60000, "bo@x.com", day="2026-01-16", splits=[("bo@x.com", 50), ("ana@x.com", 50)]),
    ]
    result = run(
        plan,
        deals,
        [
            quota("mia@x.com", 100000),
            quota("ana@x.com", 200000),
            quota("bo@x.com", 10000),
        ],
        staff,
    )
    by_person = {p.person: p for p in result.payees}
    assert by_person["mia@x.com"].credited == D(120000)
    assert [line.credited for line in by_person["mia@x.com"].components[0].lines] == [
        60000,
        60000,
    ]  # merged split
    assert str(by_person["mia@x.com"].total) == "2400.00"
    assert by_person["ana@x.com"].credited == D(120000) and by_person["bo@x.com"].credited == D(30000)


def test_people_on_another_plan_are_not_paid() -> None:
    plan = make_plan({"name": "Flat", "kind": "per_deal", "rate": "10%"})
    staff = [Person("ana@x.com"), Person("bo@x.com")]
    deals = [deal("D-1", 100, "ana@x.com"), deal("D-2", 100, "bo@x.com")]
    result = run(plan, deals, [], staff, participants=["bo@x.com"])
    assert [p.person for p in result.payees] == ["bo@x.com"]


def test_every_line_has_a_json_basis_and_a_sentence() -> None:
    import gc
    import json
    from datetime import date

    from commissions.engine import prorate
    from commissions.engine.inputs import parse_period

    plan = make_plan(
        tiered(mode="retroactive", cap=1),
        {
            "name": "Size",
            "kind": "tiered",
            "on": "amount",
            "per": "deal",
            "tiers": [{"to": 1000, "rate": "1%"}, {"rate": "2%"}],
        },
        {"name": "SPIFF", "kind": "per_deal", "pay": 10, "rate": "1%"},
        {"name": "Club", "kind": "bonus", "at": "1%", "pay": 5},
        {"name": "Curve", "kind": "curve", "points": [["0%", 0], ["100%", 100]]},
        {"name": "Override", "kind": "override", "rate": "1%"},
        draw={"amount": 1000000, "recoverable": False},
    )
    staff = people("mia@x.com", "ana@x.com<mia@x.com")
    deals = [
        deal("D-1", 5000, "ana@x.com", day="2026-01-02"),
        deal("D-2", 3000, "mia@x.com", day="2026-01-03", splits=[("mia@x.com", 50), ("ana@x.com", 50)]),
    ]
    result = run(plan, deals, [quota("ana@x.com", 10000), quota("mia@x.com", 10000)], staff)
    assert gc.isenabled()  # paused only inside the calculation
    kinds = set()
    for payee in result.payees:
        for component in payee.components:
            kinds.add(component.kind)
            for line in component.lines:
                assert line.text and json.dumps(line.basis)
    assert kinds == {"tiered", "per_deal", "bonus", "curve", "override", "cap", "draw"}
    mia = result.payee("mia@x.com")
    assert (
        mia is not None
        and mia.component("Override").lines[0].text == "D-1: 5000.00 credited to ana@x.com at 1% = 50.00"
    )
    # proration helper for the app: 45 of 90 days
    q1 = parse_period("2026-Q1")
    assert prorate(D(90000), q1, date(2026, 2, 15), None) == D(45000)
