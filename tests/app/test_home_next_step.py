"""The next step up a plan, for Home (commissions/statements/next_step.py): from the stored credited amount and
quota and the plan the figures were computed with: tiers, bonuses and curve points, nearest first."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from commissions.core.periods import quarter_of
from commissions.people.queries import person_by_email
from commissions.statements.next_step import NextStep, next_steps
from tests.calc_fixtures import example_deal, store_plan, store_quota
from tests.conftest import read
from tests.deals.test_deals_api import token_for

QUARTER = quarter_of(date.today())

PLAN = """\
name: Ladder 2026
currency: USD
period: quarter
quota: bookings
credit:
  scope: own
components:
  - name: Commission
    kind: tiered
    on: attainment
    mode: retroactive
    tiers:
      - {to: 50%, rate: 5%}
      - {to: 110%, rate: 8%}
      - {rate: 12%}
  - name: Kicker
    kind: curve
    points: [[0%, 0], [90%, 0], [130%, 3000]]
  - name: Club
    kind: bonus
    at: 100%
    pay: 1500
"""


def _steps(engine: Engine, email: str) -> list[NextStep]:
    return read(engine, lambda s: next_steps(s, person_by_email(s, email).id, QUARTER))  # type: ignore[no-any-return]


def _record(client, engine: Engine, owner: str, amount: str, external_id: str) -> None:  # type: ignore[no-untyped-def]
    body = example_deal(external_id, amount, QUARTER.starts_on.isoformat(), owner=owner)
    assert client.post("/api/v1/deals", json=body, headers=token_for(engine, "admin")).status_code == 201


def test_steps_are_the_plans_tiers_bonus_and_curve_point_nearest_first(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    store_plan(engine, ["ana@example.com"], document=PLAN, name="Ladder 2026")
    store_quota(engine, "ana@example.com", 100_000, period=QUARTER.key)
    _record(client, engine, "ana@example.com", "60000", "L-1")  # 60 %: tier 2 (50-110 %)
    steps = _steps(engine, "ana@example.com")
    assert [(s.kind, s.component, s.needed_minor, s.at_ppm) for s in steps] == [
        ("bonus", "Club", 4_000_000, 1_000_000),  # 40,000.00 more to 100 %
        ("tier", "Commission", 5_000_000, 1_100_000),  # 50,000.00 more to 110 %
        ("curve", "Kicker", 7_000_000, 1_300_000),  # 70,000.00 more to 130 % (90 % pays nothing)
    ]
    bonus, tier, curve = steps
    assert bonus.pay_minor == 150_000 and curve.pay_minor == 300_000
    assert tier.tier == 3 and tier.rate_ppm == 120_000 and tier.retroactive
    assert all((s.plan, s.metric, s.currency) == ("Ladder 2026", "bookings", "USD") for s in steps)


def test_at_a_bound_is_the_lower_tier_and_past_the_last_is_the_top(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("bo@example.com")
    make_person("cy@example.com")
    store_plan(engine, ["bo@example.com", "cy@example.com"], document=PLAN, name="Ladder 2026")
    store_quota(engine, "bo@example.com", 100_000, period=QUARTER.key)
    store_quota(engine, "cy@example.com", 100_000, period=QUARTER.key)
    _record(client, engine, "bo@example.com", "50000", "B-1")  # exactly 50 %: still tier 1
    _record(client, engine, "cy@example.com", "140000", "C-1")  # 140 %: top tier, bonus and curve reached
    bo = {s.kind: s for s in _steps(engine, "bo@example.com")}
    assert bo["tier"].tier == 2 and bo["tier"].needed_minor == 1 and bo["tier"].rate_ppm == 80_000  # one cent more
    cy = _steps(engine, "cy@example.com")
    assert [(s.kind, s.tier, s.rate_ppm) for s in cy] == [("top", 3, 120_000)]


def test_no_quota_or_no_plan_has_no_steps(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("dee@example.com")
    make_person("new@example.com")
    store_plan(engine, ["dee@example.com"], document=PLAN, name="Ladder 2026")
    _record(client, engine, "dee@example.com", "10000", "D-1")
    assert _steps(engine, "dee@example.com") == []
    assert _steps(engine, "new@example.com") == []


def test_a_capped_component_shows_its_cap_not_a_rate_on_further_bookings(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    """Home said "20.0% on all further bookings" while the commission cap took everything above it back."""
    from tests.conftest import sign_in

    capped = PLAN.replace("    mode: retroactive\n", "    mode: retroactive\n    cap: 5000\n")
    make_person("ana@example.com")
    store_plan(engine, ["ana@example.com"], document=capped, name="Ladder 2026")
    store_quota(engine, "ana@example.com", 100_000, period=QUARTER.key)
    _record(client, engine, "ana@example.com", "60000", "L-1")  # 60 % at 8 %: 4,800.00, under the cap
    assert "capped" not in [s.kind for s in _steps(engine, "ana@example.com")]
    _record(client, engine, "ana@example.com", "60000", "L-2")  # 120 % at 12 %: 14,400.00, capped at 5,000.00
    steps = _steps(engine, "ana@example.com")
    commission = [s for s in steps if s.component == "Commission"]
    assert [(s.kind, s.pay_minor) for s in commission] == [("capped", 500_000)]
    assert steps[-1].kind == "capped"  # told after the steps still ahead (the kicker)
    sign_in(client, "ana@example.com")
    home = client.get("/").text
    assert "Commission has reached its cap of 5,000.00 USD this period: further bookings add nothing to it." in home
    assert "on all further bookings" not in home
