"""Every revenue-marketing metric on a hand-computed example (the numbers are in the test), and the stage order."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from commissions.core.periods import parse_period_key
from commissions.marketing import metrics as m
from commissions.marketing.dashboard import DISPLAY, LeadFacts, campaign_cost, figures
from commissions.models import Campaign


def test_conversion_rate_is_converted_mqls_over_mqls() -> None:
    # 40 MQLs, 10 of them reached SQL in order: 10 / 40 = 0.25
    assert m.conversion_rate(40, 10) == D("0.25")
    assert m.conversion_rate(0, 0) is None


def test_cost_per_acquisition_is_cost_over_won_customers() -> None:
    # 12,000.00 spent, 3 customers won: 4,000.00 each
    assert m.cost_per_acquisition(D("12000.00"), 3) == D("4000")
    assert m.cost_per_acquisition(D("12000.00"), 0) is None


def test_programme_roi_is_revenue_minus_cost_over_cost() -> None:
    # (50,000 − 20,000) / 20,000 = 1.5 (150 %); losing money is negative
    assert m.programme_roi(D("50000"), D("20000")) == D("1.5")
    assert m.programme_roi(D("5000"), D("20000")) == D("-0.75")
    assert m.programme_roi(D("5000"), D("0")) is None


def test_pipeline_velocity() -> None:
    # 20 opportunities × 25 % win rate × 10,000 average deal / 50 days = 1,000 per day
    assert m.pipeline_velocity(20, D("0.25"), D("10000"), D("50")) == D("1000")
    assert m.pipeline_velocity(20, None, D("10000"), D("50")) is None
    assert m.pipeline_velocity(20, D("0.25"), D("10000"), D("0")) is None


def test_win_rate_and_average() -> None:
    # 3 won, 1 lost: 3 / 4 = 0.75; average of 10, 20, 60 = 30
    assert m.win_rate(3, 1) == D("0.75")
    assert m.win_rate(0, 0) is None
    assert m.average([D(10), D(20), D(60)]) == D(30)
    assert m.average([]) is None


def test_customer_lifetime_value_from_recurring_amounts_and_churn() -> None:
    # deals of 12,000 over 12 months (1,000/month) and 36,000 over 12 months (3,000/month):
    # average 2,000 per month; at 2 % monthly churn a customer stays 50 months: CLV 100,000
    monthly = [m.monthly_recurring(D("12000"), 12), m.monthly_recurring(D("36000"), 12)]
    assert monthly == [D(1000), D(3000)]
    assert m.lifetime_value(monthly, D("0.02")) == D("100000")
    assert m.monthly_recurring(D("5000"), None) is None
    assert m.lifetime_value([], D("0.02")) is None
    assert m.lifetime_value(monthly, D("0")) is None


def test_forecast_is_closed_plus_open_pipeline_weighted_by_win_rate_against_quota() -> None:
    # 30,000 closed + 80,000 open × 25 % = 50,000; against a 100,000 quota: 50 %
    forecast = m.forecast(D("30000"), D("80000"), D("0.25"))
    assert forecast == D("50000")
    assert m.attainment(forecast, D("100000")) == D("0.5")
    assert m.forecast(D("30000"), D("80000"), None) == D("30000")  # no history: open pipeline counts for nothing
    assert m.attainment(forecast, None) is None


def test_enps_is_percent_promoters_minus_percent_detractors() -> None:
    # 10 answers: 5 promoters (9, 9, 10, 10, 10), 2 passives (7, 8), 3 detractors (0, 4, 6)
    # 50 % − 30 % = +20
    tally = {9: 2, 10: 3, 7: 1, 8: 1, 0: 1, 4: 1, 6: 1}
    result = m.enps(tally, minimum=5)
    assert (result.answers, result.promoters, result.passives, result.detractors) == (10, 5, 2, 3)
    assert result.score == D(20) and result.score_text == "+20"
    # 3 answers: 1 promoter, 2 detractors: (1 − 2) × 100 / 3 = −33.33…, shown as −33
    assert m.enps({10: 1, 2: 2}, minimum=3).score_text == "-33"


def test_enps_reveals_nothing_below_the_minimum_group_size() -> None:
    four = {10: 2, 0: 2}
    hidden = m.enps(four, minimum=5)
    assert hidden.score is None and not hidden.shown and hidden.score_text == "–"
    assert (hidden.promoters, hidden.passives, hidden.detractors) == (0, 0, 0)
    shown = m.enps({**four, 8: 1}, minimum=5)  # the fifth answer reveals it: (2 − 2) / 5 = 0
    assert shown.shown and shown.score == 0 and shown.score_text == "0"


def test_stage_order_flags_an_sql_without_an_mql() -> None:
    d = date(2026, 10, 1)
    assert m.stage_flags({"mql": d, "sql": d}) == {"mql": "", "sql": ""}
    assert m.stage_flags({"sql": d}) == {"sql": "no mql before it"}
    assert m.stage_flags({"mql": date(2026, 10, 5), "sql": d})["sql"] == "mql is dated after it (2026-10-05)"
    # a flagged stage taints the stages after it
    flags = m.stage_flags({"sql": d, "opportunity": d, "won": d})
    assert flags == {
        "sql": "no mql before it",
        "opportunity": "sql is out of order",
        "won": "opportunity is out of order",
    }
    # won and lost exclude each other: the later is flagged
    both = m.stage_flags({"mql": d, "sql": d, "opportunity": d, "won": date(2026, 10, 9), "lost": date(2026, 10, 3)})
    assert both["lost"] == "" and both["won"] == "the lead is also lost"


def _lead(campaign: str, **stages: tuple) -> LeadFacts:
    return LeadFacts(
        campaign,
        {
            s: (
                date.fromisoformat(v[0]),
                None if v[1] is None else D(v[1]),
                None if v[1] is None else "USD",
                v[2] if len(v) > 2 else "",
            )
            for s, v in stages.items()
        },
    )


def test_dashboard_figures_on_a_hand_computed_period() -> None:
    """Five leads in 2026-Q4 (and one closed in Q3, history for the win rate):

    A: mql 10-01, sql 10-05, opportunity 10-10 (10,000), won 11-09 (12,000)  — cycle 30 days
    B: mql 10-02, sql 10-06, opportunity 10-12 (20,000), lost 11-01
    C: mql 10-03, sql 11-01, opportunity 11-02 (30,000), still open
    D: mql 10-04 only
    E: sql 10-07 with no mql: flagged, not counted
    H: (history) mql 07-01, sql 07-02, opportunity 07-03 (5,000), won 07-23 (6,000) — cycle 20 days
    """
    leads = [
        _lead(
            "X",
            mql=("2026-10-01", None),
            sql=("2026-10-05", None),
            opportunity=("2026-10-10", "10000"),
            won=("2026-11-09", "12000"),
        ),
        _lead(
            "X",
            mql=("2026-10-02", None),
            sql=("2026-10-06", None),
            opportunity=("2026-10-12", "20000"),
            lost=("2026-11-01", None),
        ),
        _lead("X", mql=("2026-10-03", None), sql=("2026-11-01", None), opportunity=("2026-11-02", "30000")),
        _lead("X", mql=("2026-10-04", None)),
        _lead("X", sql=("2026-10-07", None, "no mql before it")),
        _lead(
            "X",
            mql=("2026-07-01", None),
            sql=("2026-07-02", None),
            opportunity=("2026-07-03", "5000"),
            won=("2026-07-23", "6000"),
        ),
    ]
    f = figures(
        leads,
        parse_period_key("2026-Q4"),
        "USD",
        cost=D("6000.00"),
        monthly_amounts=[D(1000), D(3000)],
        churn=D("0.02"),
    )
    assert (f.mqls, f.sqls, f.converted) == (4, 3, 3)
    assert f.conversion == D("0.75")  # 3 of 4 MQLs reached SQL
    assert f.flagged == {("sql", "no mql before it"): 1}
    assert f.opportunities == 3 and f.pipeline == D(60000)  # 10,000 + 20,000 + 30,000
    assert f.won_customers == 1 and f.revenue == D(12000)
    assert f.cpa == D(6000)  # 6,000 / 1
    assert f.roi == D(1)  # (12,000 − 6,000) / 6,000
    assert f.win_rate == D(2) / D(3)  # history to the period end: 2 won (A, H), 1 lost (B)
    assert f.average_deal == D(9000)  # (12,000 + 6,000) / 2
    assert f.average_cycle_days == D(25)  # (30 + 20) / 2
    assert f.velocity == 3 * (D(2) / D(3)) * D(9000) / D(25)  # = 720 per day
    assert DISPLAY.money(f.velocity, "USD") == "720.00 USD"
    assert f.open_pipeline == D(30000)  # C only
    assert f.forecast == D(12000) + D(30000) * (D(2) / D(3))  # = 32,000
    assert DISPLAY.money(f.forecast, "USD") == "32,000.00 USD"
    assert f.clv == D(100000)
    assert DISPLAY.pct(f.conversion) == "75.0%" and DISPLAY.pct(None) == "–"


def test_campaign_cost_is_prorated_by_days_in_the_period_half_up() -> None:
    # 9,200.00 over 2026-09-01..2026-10-31 (61 days): 30 days in Q3, 31 in Q4
    c = Campaign(
        code="X",
        name="X",
        owner_id=1,
        cost_minor=920_000,
        currency="USD",
        starts_on=date(2026, 9, 1),
        ends_on=date(2026, 10, 31),
    )
    assert campaign_cost(c, parse_period_key("2026-Q3")) == D("4524.59")  # 9,200 × 30 / 61 = 4,524.590…
    assert campaign_cost(c, parse_period_key("2026-Q4")) == D("4675.41")  # 9,200 × 31 / 61 = 4,675.409…
    assert campaign_cost(c, parse_period_key("2026")) == D("9200.00")
    assert campaign_cost(c, parse_period_key("2026-Q1")) == 0
