"""Lead events (API and CSV: idempotent, all or nothing, stage order), the /marketing dashboard, and who may use them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, func
from sqlmodel import col, select

from commissions.core.db import transaction
from commissions.core.periods import ensure_period
from commissions.models import AuditEvent, Campaign, Lead, LeadEvent, Person, Quota, Team
from tests.conftest import read, sign_in
from tests.deals.test_deals_api import token_for

URL = "/api/v1/leads/events"


@pytest.fixture
def org(make_person, engine: Engine):  # type: ignore[no-untyped-def]
    make_person("mlead@example.com", "manager", team="Marketing")
    make_person("nora@example.com", manager="mlead@example.com", team="Marketing")
    make_person("ana@example.com", team="Sales")
    make_person("admin@example.com", "admin")
    make_person("finance@example.com", "finance")
    with transaction(engine) as s:
        team = s.exec(select(Team).where(Team.name == "Marketing")).one()
        team.kind = "marketing"
        nora = s.exec(select(Person).where(Person.email == "nora@example.com")).one()
        s.add(
            Campaign(
                code="WEB",
                name="Webinars",
                owner_id=nora.id,
                cost_minor=600_000,
                currency="USD",
                starts_on=date(2026, 10, 1),
                ends_on=date(2026, 12, 31),
            )
        )
    return token_for(engine, "finance")


def event(lead: str, stage: str, day: str, **extra: object) -> dict:
    return {"lead": lead, "stage": stage, "occurred_at": day, "owner": "nora@example.com", "campaign": "WEB", **extra}


def events(engine: Engine) -> list[tuple]:
    return read(
        engine,
        lambda s: s.exec(
            select(Lead.external_id, LeadEvent.stage, LeadEvent.occurred_on, LeadEvent.amount_minor, LeadEvent.flag)
            .join(Lead, Lead.id == LeadEvent.lead_id)
            .order_by(Lead.external_id, LeadEvent.id)
        ).all(),
    )


def test_same_lead_event_twice_stores_one_and_a_changed_body_updates_it(client, org, engine: Engine) -> None:
    first = client.post(URL, json=event("L-1", "opportunity", "2026-10-10", amount="10000.00"), headers=org)
    assert first.status_code == 201, first.text
    again = client.post(URL, json=event("L-1", "opportunity", "2026-10-10", amount="10000.00"), headers=org)
    assert again.status_code == 200 and again.json() == first.json()
    assert len(events(engine)) == 1
    changed = client.post(URL, json=event("L-1", "opportunity", "2026-10-11", amount="12000.50"), headers=org)
    assert changed.status_code == 200 and changed.json()["amount"] == "12000.50"
    assert events(engine) == [("L-1", "opportunity", date(2026, 10, 11), 1_200_050, "no sql before it")]
    actions = read(
        engine,
        lambda s: s.exec(
            select(AuditEvent.action).where(AuditEvent.object_type == "lead").order_by(AuditEvent.id)
        ).all(),
    )
    assert actions == ["lead_event.created", "lead_event.updated"]


def test_an_sql_without_an_mql_is_stored_flagged_and_counted_once_the_mql_arrives(client, org, engine: Engine) -> None:
    response = client.post(URL, json=event("L-2", "sql", "2026-10-05"), headers=org)
    assert response.status_code == 201
    assert response.json()["in_order"] is False and response.json()["flag"] == "no mql before it"
    sign_in(client, "ana@example.com")
    page = client.get("/marketing?period=2026-Q4").text
    assert "1 SQL not counted: no mql before it" in page
    assert '<span class="big" data-metric="sqls">0</span>' in page
    # the MQL arrives late (delivery order is not stage order): the SQL now counts
    assert client.post(URL, json=event("L-2", "mql", "2026-10-01"), headers=org).status_code == 201
    assert [e[-1] for e in events(engine)] == ["", ""]
    page = client.get("/marketing?period=2026-Q4").text
    assert "not counted" not in page
    assert '<span class="big" data-metric="sqls">1</span>' in page
    assert '<span class="big" data-metric="conversion">100.0%</span>' in page
    assert (
        'id="what-marketing-counts"' in page and "count the opportunity and won events of your leads" in page
    )  # says what its revenue counts


def test_three_sqls_without_an_mql_are_reported_on_the_dashboard(client, org, engine: Engine) -> None:
    for i in range(3):
        client.post(URL, json=event(f"S-{i}", "sql", "2026-10-05"), headers=org)
    client.post(URL, json=event("M-1", "mql", "2026-10-02"), headers=org)
    sign_in(client, "finance@example.com")
    page = client.get("/marketing?period=2026-Q4").text
    assert "3 SQLs not counted: no mql before it" in page
    assert (
        '<span class="big" data-metric="mqls">1</span>' in page
        and '<span class="big" data-metric="sqls">0</span>' in page
    )


def test_bad_lead_events_are_refused_with_the_field_named_and_nothing_stored(client, org, engine: Engine) -> None:
    cases = [
        (event("L-3", "opportunity", "2026-10-10"), "amount"),  # an opportunity needs its amount
        (event("L-3", "mql", "2026-10-10", amount="5"), "amount"),  # an MQL has none
        (event("L-3", "qualified", "2026-10-10"), "stage"),
        ({**event("L-3", "mql", "2026-10-10"), "owner": "nobody@example.com"}, "owner"),
        (event("L-3", "won", "2026-10-10", amount="10.001"), "amount"),
    ]
    for body, field in cases:
        response = client.post(URL, json=body, headers=org)
        assert response.status_code == 400, body
        assert field in response.text, (body, response.text)
    assert events(engine) == []


def test_only_finance_and_admin_tokens_record_lead_events(client, org, engine: Engine) -> None:
    for role, email in [("rep", "nora@example.com"), ("manager", "mlead@example.com")]:
        response = client.post(URL, json=event("L-4", "mql", "2026-10-01"), headers=token_for(engine, role, email))
        assert response.status_code == 403
    sign_in(client, "admin@example.com")  # a session cookie never writes through the API
    assert client.post(URL, json=event("L-4", "mql", "2026-10-01")).status_code in (401, 403)
    assert (
        client.post(URL, json=event("L-4", "mql", "2026-10-01"), headers=token_for(engine, "admin")).status_code == 201
    )
    assert len(events(engine)) == 1


CSV = (
    "lead,stage,occurred_at,owner,campaign,amount,currency\n"
    "L-1,mql,2026-10-01,nora@example.com,WEB,,\n"
    "L-1,sql,2026-10-03,nora@example.com,WEB,,\n"
    "L-1,opportunity,2026-10-10,nora@example.com,WEB,10000,USD\n"
    "L-1,won,2026-11-09,nora@example.com,WEB,12000,USD\n"
)


def test_csv_import_is_all_or_nothing_and_idempotent(client, org, engine: Engine) -> None:
    bad = CSV + "L-2,sql,2026-10-03,ghost@example.com,WEB,,\nL-3,won,2026-10-03,nora@example.com,WEB,,\n"
    response = client.post(URL + "/import", content=bad.encode(), headers={**org, "content-type": "text/csv"})
    assert response.status_code == 400
    errors = response.json()["extra"]["errors"]
    # every bad row at once, whatever its kind of problem: the unknown owner beside the row that does not read
    assert [(e["line"], e["field"]) for e in errors] == [(6, "owner"), (7, "amount")]
    assert events(engine) == []
    bad_owner = CSV + "L-2,sql,2026-10-03,ghost@example.com,WEB,,\n"
    response = client.post(URL + "/import", content=bad_owner.encode(), headers={**org, "content-type": "text/csv"})
    assert response.status_code == 400 and response.json()["extra"]["errors"] == [
        {"line": 6, "field": "owner", "message": "no person with email ghost@example.com"}
    ]
    assert events(engine) == []
    dry = client.post(URL + "/import?dry_run=true", content=CSV.encode(), headers={**org, "content-type": "text/csv"})
    assert dry.status_code == 200 and dry.json()["created"] == 4 and dry.json()["committed"] is False
    assert events(engine) == []
    done = client.post(URL + "/import", content=CSV.encode(), headers={**org, "content-type": "text/csv"})
    body = done.json()
    body.pop("statements_queued")  # depends on today's date (the current period is always open): tested below
    assert body == {"committed": True, "rows": 4, "created": 4, "updated": 0, "unchanged": 0, "errors": []}
    again = client.post(URL + "/import", content=CSV.encode(), headers={**org, "content-type": "text/csv"})
    assert again.json()["unchanged"] == 4 and len(events(engine)) == 4


def test_dashboard_shows_the_metrics_charts_and_forecast_against_the_marketing_quota(
    client, org, engine: Engine
) -> None:
    client.post(URL + "/import", content=CSV.encode(), headers={**org, "content-type": "text/csv"})
    for body in [
        event("L-2", "mql", "2026-10-02"),
        event("L-2", "sql", "2026-10-04"),
        event("L-2", "opportunity", "2026-10-20", amount="30000"),
        event("L-3", "mql", "2026-10-02"),
        event("L-3", "sql", "2026-10-04"),
        event("L-3", "opportunity", "2026-10-06", amount="8000"),
        event("L-3", "lost", "2026-10-30"),
    ]:
        assert client.post(URL, json=body, headers=org).status_code == 201
    with transaction(engine) as s:
        period = ensure_period(s, "2026-Q4")
        team = s.exec(select(Team).where(Team.name == "Marketing")).one()
        s.add(Quota(team_id=team.id, metric="sourced_revenue", period_id=period.id, target_minor=4_000_000))
        s.add(Quota(team_id=team.id, metric="mqls", period_id=period.id, target_minor=1_000))
    sign_in(client, "nora@example.com")
    page = client.get("/marketing?period=2026-Q4").text
    # 3 MQLs, 3 SQLs; pipeline 10,000 + 30,000 + 8,000; revenue 12,000; cost 6,000 (the whole campaign is in Q4)
    assert '<span class="big" data-metric="mqls">3</span>' in page and "30.0% of 10" in page
    assert '<span class="big" data-metric="pipeline">48,000.00 USD</span>' in page
    assert '<span class="big" data-metric="revenue">12,000.00 USD</span>' in page
    assert '<span class="big" data-metric="cpa">6,000.00 USD</span>' in page
    assert '<span class="big" data-metric="roi">100.0%</span>' in page
    # win rate 1 won / (1 won + 1 lost) = 50 %; forecast 12,000 + 30,000 open × 50 % = 27,000 of a 40,000 quota
    assert '<span class="big" data-metric="forecast">27,000.00 USD</span>' in page and "67.5% of 40,000.00 USD" in page
    # velocity: 3 opportunities × 50 % × 12,000 average won / 30 days cycle = 600 per day
    assert '<span class="big" data-metric="velocity">600.00 USD</span>' in page
    assert 'id="funnel-chart"' in page and 'id="forecast-chart"' in page and "<svg" in page
    assert 'class="chart-marker"' in page  # the quota line
    one = client.get("/marketing?period=2026-Q4&campaign=WEB", headers={"HX-Request": "true"}).text
    assert one.lstrip().startswith('<div id="marketing-figures">') and "<html" not in one  # htmx gets the partial
    assert "2026-Q4 · WEB" in one


def test_dashboard_refuses_a_bad_period_or_currency_with_the_field_named(client, org) -> None:
    sign_in(client, "ana@example.com")
    response = client.get("/marketing?period=2026-Q5")
    assert response.status_code == 400 and "period" in response.text
    assert client.get("/marketing?currency=dollars").status_code == 400
    # a currency no plan or campaign is in read every figure 0.00 under the quota relabelled: refused, naming
    # the ones offered (a list to choose from, not a text box)
    xyz = client.get("/marketing?currency=XYZ")
    assert xyz.status_code == 400 and "XYZ is not a currency of any plan or campaign: choose USD" in xyz.text
    page = client.get("/marketing").text
    assert '<select name="currency"><option selected>USD</option></select>' in page
    # an unknown campaign is said, not every campaign shown under a filter naming one
    nope = client.get("/marketing?campaign=NOPE")
    assert nope.status_code == 400 and "no campaign &#39;NOPE&#39;" in nope.text


def test_lead_counts_match_the_database(client, org, engine: Engine) -> None:
    client.post(URL + "/import", content=CSV.encode(), headers={**org, "content-type": "text/csv"})
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(Lead)).one()) == 1


MQL_PLAN = """\
name: MQL incentive
currency: USD
period: quarter
quota: mqls
components:
  - name: MQL incentive
    kind: curve
    points: [[0%, 0], [100%, 1000]]
"""


def test_marketing_quotas_are_plan_metrics_credited_from_lead_events(client, org, engine: Engine) -> None:
    """Nora is on a plan with an MQL quota of 4 in 2026-Q1: 3 counted MQLs (the flagged SQL adds nothing)
    are 75 % of it, 750.00 on a 0..1,000 curve; her statement and the queue follow the events."""
    from commissions.calculation.service import recompute
    from commissions.calculation.state import pending_select
    from commissions.models import PayeeSummary, StatementState
    from tests.calc_fixtures import store_plan, store_quota

    store_plan(engine, ["nora@example.com"], document=MQL_PLAN, name="MQL incentive")
    store_quota(engine, "nora@example.com", 4, metric="mqls")
    for lead, day in [("A", "2026-01-05"), ("B", "2026-02-10"), ("C", "2026-03-30")]:
        assert client.post(URL, json=event(lead, "mql", day), headers=org).status_code == 201
    client.post(URL, json=event("D", "sql", "2026-02-11"), headers=org)  # no MQL: flagged, not counted
    queued = read(
        engine,
        lambda s: {
            (p, k)
            for p, k in s.exec(
                pending_select(Person.email, StatementState.period_key).join(
                    Person, col(Person.id) == StatementState.person_id
                )
            ).all()
        },
    )
    assert {("nora@example.com", "2026-Q1"), ("mlead@example.com", "2026-Q1")} <= queued
    with transaction(engine) as s:
        recompute(s, "2026-Q1", trigger="test")
    summary = read(engine, lambda s: s.exec(select(PayeeSummary).where(PayeeSummary.metric == "mqls")).one())
    assert summary.credited_minor == 300 and summary.attainment_ppm == 750_000  # 3.00 MQLs, 75 %
    sign_in(client, "nora@example.com")
    statement = client.get("/statements/nora@example.com?period=2026-Q1")
    assert "750.00" in statement.text


def _team_form(client, period: str, team_id: int, **targets: str) -> object:  # type: ignore[no-untyped-def]
    from tests.conftest import csrf_from

    data = {"period": period, "team_id": str(team_id), "_csrf_token": csrf_from(client)}
    for metric in ("mqls", "sqls", "pipeline", "sourced_revenue"):
        data[f"target_{metric}"] = targets.get(metric, "")
    return client.post("/marketing/team-quotas", data=data, follow_redirects=False)


def test_marketing_manager_sets_team_quotas_shown_against_the_figures(client, org, engine: Engine) -> None:
    team_id = read(engine, lambda s: s.exec(select(Team.id).where(Team.name == "Marketing")).one())
    sign_in(client, "mlead@example.com")
    page = client.get("/marketing?period=2026-Q4").text
    assert 'id="team-quotas"' in page and 'name="target_mqls"' in page
    response = _team_form(
        client, "2026-Q4", team_id, mqls="120", sqls="45", pipeline="900,000", sourced_revenue="250000.50"
    )
    assert response.status_code == 303
    # back at the form, with a confirmation naming the team (it said nothing, far below the charts)
    assert response.headers["location"] == f"/marketing?period=2026-Q4&saved={team_id}#team-quotas"
    assert "Saved: the targets of Marketing for 2026-Q4." in client.get(response.headers["location"]).text
    assert 'action="/marketing/team-quotas#team-quotas"' in page  # a refused form comes back at its error
    stored = read(
        engine, lambda s: {q.metric: q.target_minor for q in s.exec(select(Quota).where(Quota.team_id == team_id))}
    )
    assert stored == {"mqls": 12_000, "sqls": 4_500, "pipeline": 90_000_000, "sourced_revenue": 25_000_050}
    shown = client.get("/marketing?period=2026-Q4").text
    assert "of 120" in shown
    # whose targets the percentages are of, and that a person's own statement may read another figure
    assert "The percentages are of the marketing teams' quotas" in shown and "so the two may differ" in shown
    # a bad target refuses the whole form, naming it; nothing changes
    bad = _team_form(
        client, "2026-Q4", team_id, mqls="130", sqls="4.555", pipeline="900000", sourced_revenue="250000.50"
    )
    assert bad.status_code == 400 and "target" in bad.text
    # the error sits on the box that is wrong, and what was typed stays in every box
    assert (
        'name="target_sqls" value="4.555" inputmode="decimal" size="12" autocomplete="off" aria-invalid="true"'
        in bad.text
    )
    assert 'name="target_mqls" value="130"' in bad.text
    assert f'id="error-{team_id}-target_sqls"' in bad.text
    assert (
        read(
            engine,
            lambda s: s.exec(select(Quota.target_minor).where(Quota.team_id == team_id, Quota.metric == "mqls")).one(),
        )
        == 12_000
    )
    audit = read(engine, lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "quota.set")).all())
    assert {a.detail["metric"] for a in audit} == {"mqls", "sqls", "pipeline", "sourced_revenue"}


def test_only_the_marketing_teams_manager_or_an_admin_sets_its_quotas(client, org, make_person, engine: Engine) -> None:
    team_id = read(engine, lambda s: s.exec(select(Team.id).where(Team.name == "Marketing")).one())
    make_person("sales.boss@example.com", "manager", team="Sales")
    for email, status in [("sales.boss@example.com", 403), ("nora@example.com", 403), ("finance@example.com", 403)]:
        client.cookies.clear()
        sign_in(client, email)
        assert 'id="team-quotas"' not in client.get("/marketing").text
        assert _team_form(client, "2026-Q4", team_id, mqls="1").status_code == status, email
    assert read(engine, lambda s: s.exec(select(Quota)).all()) == []
    client.cookies.clear()
    sign_in(client, "admin@example.com")
    assert _team_form(client, "2026-Q4", team_id, mqls="10").status_code == 303


def test_marketers_carry_mql_sql_and_pipeline_quotas_in_the_grid_and_csv(client, org, engine: Engine) -> None:
    from tests.conftest import csrf_from

    sign_in(client, "mlead@example.com")
    grid = client.get("/quotas?period=2026-Q4").text
    assert '<th scope="col">MQLs</th>' in grid and '<th scope="col">Sourced pipeline</th>' in grid
    assert '<th scope="col">Bookings</th>' not in grid  # a marketing team's grid: marketing metrics only
    nora = read(engine, lambda s: s.exec(select(Person.id).where(Person.email == "nora@example.com")).one())
    response = client.post(
        "/quotas/cell",
        data={
            "person_id": nora,
            "metric": "mqls",
            "period": "2026-Q4",
            "version": 0,
            "target": "40",
            "_csrf_token": csrf_from(client),
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "40" in response.text and "MQLs" in response.text
    stored = read(
        engine, lambda s: s.exec(select(Quota.metric, Quota.target_minor).where(Quota.person_id == nora)).all()
    )
    assert stored == [("mqls", 4_000)]
    client.cookies.clear()
    sign_in(client, "admin@example.com")
    body = "person,metric,period,target\nnora@example.com,sqls,2026-Q4,12\nana@example.com,mqls,2026-Q4,5\n"
    preview = client.post(
        "/quotas/upload", files={"file": ("q.csv", body.encode(), "text/csv")}, data={"_csrf_token": csrf_from(client)}
    )
    assert "mqls is not a quota of ana@example.com" in preview.text  # a sales rep carries no MQL quota


def test_the_dashboard_shows_sourced_revenue_as_plans_pay_it_beside_the_lead_events_figure(
    client, org, engine: Engine
) -> None:
    """Won deals naming the campaign as their source count in the deal figure (the campaigns page's and the plans'
    sourced revenue); lead events in the other; deals of other currencies, other periods, cancelled ones or with
    no campaign in neither."""
    for stage, day, amount in [
        ("mql", "2026-10-01", None),
        ("sql", "2026-10-02", None),
        ("opportunity", "2026-10-03", "5000"),
        ("won", "2026-10-10", "5000"),
    ]:
        extra = {"amount": amount} if amount else {}
        assert client.post(URL, json=event("L-9", stage, day, **extra), headers=org).status_code == 201
    crm = token_for(engine, "admin")
    deals = [
        ("S-1", "20000", "USD", "2026-10-05", "WEB", "won"),
        ("S-2", "1500.50", "USD", "2026-11-20", "WEB", "won"),
        ("S-3", "9000", "EUR", "2026-11-20", "WEB", "won"),  # another currency: not in USD
        ("S-4", "7000", "USD", "2026-09-30", "WEB", "won"),  # Q3
        ("S-5", "8000", "USD", "2026-10-07", "", "won"),  # no campaign
    ]
    for external_id, amount, currency, day, campaign, status in deals:
        body = {
            "external_id": external_id,
            "name": external_id,
            "owner": "ana@example.com",
            "amount": amount,
            "currency": currency,
            "closed_at": day,
            "type": "new",
            "source_campaign": campaign,
            "status": status,
        }
        answer = client.post("/api/v1/deals", json=body, headers=crm)
        assert answer.status_code in (201, 202), answer.text
    with transaction(engine) as s:
        period = ensure_period(s, "2026-Q4")
        team = s.exec(select(Team).where(Team.name == "Marketing")).one()
        s.add(Quota(team_id=team.id, metric="sourced_revenue", period_id=period.id, target_minor=4_300_100))
    sign_in(client, "nora@example.com")
    page = client.get("/marketing?period=2026-Q4").text
    assert '<span class="big" data-metric="revenue">5,000.00 USD</span>' in page
    assert (
        '<span class="big" data-metric="deals-sourced">21,500.50 USD</span>' in page
        and "50.0% of 43,001.00 USD" in page
    )
    campaigns = client.get("/campaigns?period=2026-Q4").text
    assert "21,500.50 USD" in campaigns  # the same figure as the campaigns page's
    # the by-campaign table has it per campaign beside the lead events' revenue (it read 0.00 beside ROI -100%)
    table = page.split('id="campaign-metrics"')[1]
    assert '<td class="num" data-metric="deals-sourced">21,500.50 USD</td>' in table
    assert (
        "Sourced counts won deals by their source campaign, as plans pay it" in page.split('id="campaign-columns"')[1]
    )
    assert 'data-metric="deals-sourced">7,000.00 USD<' in client.get("/marketing?period=2026-Q3&campaign=WEB").text
