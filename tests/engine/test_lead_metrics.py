"""Plan metrics from lead events (mqls, sqls, pipeline): credited to the lead's owner, the same
engine paths as deals; plans on the other metrics compute exactly as before."""

from __future__ import annotations

from datetime import date

from commissions.engine import LeadEvent, Quota, calculate, result_to_json_dict
from tests.engine.helpers import Q1, D, deal, make_plan, people

NORA, OSCAR = "nora@x.com", "oscar@x.com"
PEOPLE = people(f"{NORA}<lead@x.com", f"{OSCAR}<lead@x.com", "lead@x.com", "ana@x.com")


def ev(
    lead: str, stage: str, day: str, owner: str = NORA, amount: str | None = None, currency: str = "USD"
) -> LeadEvent:
    return LeadEvent(
        lead,
        owner,
        stage,
        date.fromisoformat(day),
        None if amount is None else D(amount),
        None if amount is None else currency,
        "WEB",
    )


LEADS = [
    ev("L1", "mql", "2026-01-05"),
    ev("L1", "sql", "2026-01-20"),
    ev("L1", "opportunity", "2026-02-01", amount="40000"),
    ev("L2", "mql", "2026-02-05"),
    ev("L2", "sql", "2026-03-01"),
    ev("L3", "mql", "2026-03-30"),
    ev("L4", "mql", "2026-04-02"),  # next quarter: not counted in Q1
    ev("L5", "mql", "2026-01-09", owner=OSCAR),
    ev("L5", "opportunity", "2026-03-10", owner=OSCAR, amount="15000"),
    ev("L6", "opportunity", "2026-03-11", owner=OSCAR, amount="9000", currency="EUR"),
]


def payee(result, email):  # type: ignore[no-untyped-def]
    return next(p for p in result.payees if p.person == email)


def test_mqls_quota_counts_mql_events_of_the_owner_in_the_period() -> None:
    # Nora: 3 MQLs in Q1 (L1, L2, L3) of a 4 MQL quota = 75 % → curve 0 %..100 % → 0..1,000: 750.00
    plan = make_plan({"name": "MQL incentive", "kind": "curve", "points": [["0%", 0], ["100%", 1000]]}, quota="mqls")
    result = calculate(
        plan, Q1, PEOPLE, [Quota(NORA, "mqls", Q1, D(4)), Quota(OSCAR, "mqls", Q1, D(2))], [], leads=LEADS
    )
    nora = payee(result, NORA)
    assert nora.credited == D(3) and nora.attainment == D("0.75") and nora.total == D("750.00")
    oscar = payee(result, OSCAR)
    assert oscar.credited == D(1) and oscar.total == D("500.00")  # 1 of 2: 50 %
    assert result_to_json_dict(result)["payees"][0]["credited"] == "3.00"  # counts with 2 decimals, like deals


def test_sqls_and_pipeline_quotas() -> None:
    sqls = make_plan({"name": "SQL bonus", "kind": "bonus", "at": "100%", "pay": 500}, quota="sqls")
    result = calculate(sqls, Q1, PEOPLE, [Quota(NORA, "sqls", Q1, D(2))], [], leads=LEADS)
    assert payee(result, NORA).credited == D(2) and payee(result, NORA).total == D("500.00")
    # pipeline: Oscar's USD opportunity 15,000 of a 30,000 quota = 50 %, at 2 % of pipeline = 300.00;
    # his EUR opportunity is not credited (warning), the plan pays USD
    pipeline = make_plan({"name": "Pipeline", "kind": "tiered", "tiers": [{"rate": "2%"}]}, quota="pipeline")
    result = calculate(pipeline, Q1, PEOPLE, [Quota(OSCAR, "pipeline", Q1, D(30000))], [], leads=LEADS)
    oscar = payee(result, OSCAR)
    assert oscar.credited == D(15000) and oscar.attainment == D("0.5") and oscar.total == D("300.00")
    assert payee(result, NORA).credited == D(40000)
    assert any("L6" in w and "EUR" in w for w in result.warnings)


def test_lead_metric_plans_credit_no_deals_and_other_plans_ignore_leads() -> None:
    deals = [deal("D1", 50000, owner=NORA, source_campaign=None)]
    mqls = make_plan({"name": "MQL", "kind": "curve", "points": [["0%", 0], ["100%", 1000]]}, quota="mqls")
    result = calculate(mqls, Q1, PEOPLE, [Quota(NORA, "mqls", Q1, D(3))], deals, leads=[])
    assert payee(result, NORA).credited == 0
    bookings = make_plan({"name": "Commission", "kind": "tiered", "tiers": [{"rate": "10%"}]})
    with_leads = calculate(bookings, Q1, PEOPLE, [Quota(NORA, "bookings", Q1, D(100000))], deals, leads=LEADS)
    without = calculate(bookings, Q1, PEOPLE, [Quota(NORA, "bookings", Q1, D(100000))], deals)
    assert result_to_json_dict(with_leads) == result_to_json_dict(without)
    assert payee(without, NORA).total == D("5000.00")
