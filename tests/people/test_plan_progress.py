"""Home and My team show each person's figures from their own plan's stored calculation, as the statement
does (issue 17): a plan that leaves renewals out, a manager's team plan, someone without a plan yet."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import Engine

from commissions.calculation import queue
from commissions.core.periods import quarter_of
from commissions.people.progress import plan_progress
from tests.calc_fixtures import example_deal, store_plan, store_quota
from tests.conftest import read, sign_in
from tests.deals.test_deals_api import token_for

TEAM_PLAN = """\
name: Sales managers 2026
currency: USD
period: quarter
quota: bookings
credit:
  scope: team
components:
  - name: Team attainment
    kind: tiered
    on: attainment
    mode: retroactive
    tiers:
      - {to: 100%, rate: 1%}
      - {rate: 1.5%}
"""

QUARTER = quarter_of(date.today())  # Home and My team show the current quarter


def _setup(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("mia@example.com", "manager")
    make_person("ana@example.com", manager="mia@example.com")
    make_person("bo@example.com", manager="mia@example.com")
    make_person("new@example.com", manager="mia@example.com")  # a new hire: no plan yet
    store_plan(engine, ["ana@example.com", "bo@example.com"], starts_on=date(2026, 1, 1))
    store_plan(engine, ["mia@example.com"], document=TEAM_PLAN, name="Sales managers 2026")
    store_quota(engine, "ana@example.com", 100_000, period=QUARTER.key)
    store_quota(engine, "bo@example.com", 100_000, period=QUARTER.key)
    store_quota(engine, "mia@example.com", 120_000, period=QUARTER.key)
    crm = token_for(engine, "admin")
    day = QUARTER.starts_on.isoformat()
    later = min(QUARTER.starts_on + timedelta(days=1), date.today()).isoformat()
    for body in (
        example_deal("D-1", "60000", day),
        example_deal("D-2", "23550", later),
        example_deal("D-3", "50000", day, type="renewal"),  # the AE plan leaves renewals out
        example_deal("D-4", "80000", day, owner="bo@example.com"),
    ):
        assert client.post("/api/v1/deals", json=body, headers=crm).status_code == 201
    queue.drain(engine)  # managers' statements are brought up to date beside the app


def _attainment(html: str) -> list[str]:
    return re.findall(r'<span class="attainment"[^>]*>([^<]+)</span>', html)


def _home_own_and_team(html: str) -> str:
    """Home's own figures and team table (the game's sections, which also show attainment, are checked apart)."""
    blocks = re.findall(r'<section class="card home-card (?:my-figures|home-team)".*?</section>', html, re.S)
    return "".join(blocks)


def test_figures_are_the_stored_summary_and_the_statement_total(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    _setup(client, engine, make_person)
    ids = read(
        engine,
        lambda s: {r.email: r for r in plan_progress(s, list(range(1, 10)), QUARTER)},
    )
    ana, mia, new = ids["ana@example.com"], ids["mia@example.com"], ids["new@example.com"]
    # 83,550 credited of 100,000 (the 50,000 renewal is not credited): 0.8355, not 1.3355
    assert (ana.plan, ana.metric, ana.credited_minor, ana.quota_minor) == ("AE 2026", "bookings", 8_355_000, 10_000_000)
    assert ana.attainment_ppm == 835_500 and ana.credit_when == 'type != "renewal"' and ana.scope == "own"
    # the manager's plan credits the team's deals (renewal included: the team plan has no condition)
    assert (mia.credited_minor, mia.attainment_ppm, mia.scope) == (21_355_000, 1_779_583, "team")
    assert new.plan is None and new.attainment_ppm is None and not new.has_plan
    body = client.get(
        f"/api/v1/statements/ana@example.com?period={QUARTER.key}", headers=token_for(engine, "rep", "ana@example.com")
    ).json()
    assert ana.pay_minor is not None and f"{ana.pay_minor / 100:.2f}" == body["total"]
    assert body["plans"][0]["attainment"] == "0.8355"


def test_home_team_and_statement_show_one_attainment(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    _setup(client, engine, make_person)
    sign_in(client, "ana@example.com")
    home = client.get("/").text
    statement = client.get(f"/statements/ana@example.com?period={QUARTER.key}").text
    assert _attainment(_home_own_and_team(home)) == _attainment(statement) == ["83.6%"]  # 83.55 % half-up, renewals out
    assert set(_attainment(home)) <= {"83.6%", "80.0%"}  # the game's sections show the same figures
    assert "130.6" not in home  # the raw sum with the renewal, the old Home figure
    assert "only deals where <code>type != &#34;renewal&#34;</code>" in home
    assert 'href="/help/figures#metric-bookings"' in home and 'href="/help/figures#metric-bookings"' in statement
    sign_in(client, "mia@example.com")
    home = client.get("/").text
    team = client.get("/team").text
    statement = client.get(f"/statements/mia@example.com?period={QUARTER.key}").text
    # the manager's own attainment (team plan: 213,550 of 120,000), then the team: Ana 83.6 %, Bo 80.0 %
    assert _attainment(statement) == ["178.0%"]
    assert _attainment(_home_own_and_team(home)) == ["178.0%", "83.6%", "80.0%"]
    assert set(_attainment(home)) <= {"178.0%", "83.6%", "80.0%"}
    assert _attainment(team) == ["178.0%", "83.6%", "80.0%"]
    assert "No plan for " + QUARTER.key + " yet" in team  # the new hire's row
    assert ">0.0%<" not in home and "no quota" not in home


def test_a_new_hire_without_a_plan_sees_an_empty_state(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    _setup(client, engine, make_person)
    sign_in(client, "new@example.com")
    home = client.get("/").text
    assert f"You are not on a plan for {QUARTER.key} yet." in home
    assert "Total 0.00" not in home and ">0.0%<" not in home
    statement = client.get(f"/statements/new@example.com?period={QUARTER.key}").text
    assert f"No plan for {QUARTER.key} yet" in statement and "Total 0.00 USD" not in statement


def test_help_page_explains_each_metric(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    sign_in(client, "ana@example.com")
    page = client.get("/help/figures")
    assert page.status_code == 200
    for anchor in ("attainment", "metric-bookings", "metric-sourced_revenue", "metric-pipeline", "rounding"):
        assert f'id="{anchor}"' in page.text
    assert "sourced revenue: won deals from your campaigns" in page.text
    assert "pipeline from lead events" in page.text
    assert "139.6%" in page.text
