"""What a statement tells its reader besides the figures: a late deal of a locked period paid as an
adjustment, the empty states (no plan, no quota, nothing yet) and the confirmation after a save."""

from __future__ import annotations

from sqlalchemy import Engine

from tests.adjustments.test_locked_periods import locked_q1, post
from tests.calc_fixtures import example_deal, store_plan, store_quota
from tests.conftest import sign_in
from tests.finance_fixtures import setup_books


def test_a_deal_recorded_after_its_period_locked_is_explained_on_the_statement(
    client, engine: Engine, make_person
) -> None:
    tokens = locked_q1(client, engine, make_person)
    post(client, tokens, "D-9", "30000", "2026-02-15")  # closed in the locked 2026-Q1
    sign_in(client, "ana@example.com")
    q2 = client.get("/statements/ana@example.com?period=2026-Q2").text
    assert "Recorded after 2026-Q1 was locked: paid as an adjustment in 2026-Q2. Deals: D-9." in q2
    assert 'class="notice locked-notice" role="note"' in q2
    q1 = client.get("/statements/ana@example.com?period=2026-Q1").text
    assert "was locked:" not in q1  # the locked period's own statement is unchanged


def test_a_cancellation_after_lock_says_it_is_taken_back(client, engine: Engine, make_person) -> None:
    tokens = locked_q1(client, engine, make_person)
    post(client, tokens, "D-1", "60000", "2026-01-10", status="cancelled", cancelled_at="2026-04-20")
    sign_in(client, "ana@example.com")
    q2 = client.get("/statements/ana@example.com?period=2026-Q2").text
    assert "Changed after 2026-Q1 was locked: taken back as an adjustment in 2026-Q2. Deals: D-1." in q2


def test_empty_states_no_plan_no_quota_nothing_yet(client, engine: Engine, make_person) -> None:
    make_person("mia@example.com", "manager")
    make_person("ana@example.com", manager="mia@example.com")  # a plan and a quota, no deal yet
    make_person("bo@example.com", manager="mia@example.com")  # a plan, no quota
    make_person("cy@example.com", manager="mia@example.com")  # no plan at all
    store_plan(engine, ["ana@example.com", "bo@example.com"])
    store_quota(engine, "ana@example.com", 100_000)
    from tests.deals.test_deals_api import token_for

    crm = token_for(engine, "admin")
    deal = example_deal("D-1", "60000", "2026-01-10", owner="bo@example.com")
    assert client.post("/api/v1/deals", json=deal, headers=crm).status_code == 201

    sign_in(client, "ana@example.com")
    ana = client.get("/statements/ana@example.com?period=2026-Q1").text
    assert 'id="statement-nothing"' in ana and "Nothing credited in 2026-Q1 yet" in ana
    assert "No deal credits you in 2026-Q1 so far" in ana
    assert 'id="statement-totals"' not in ana and "Total 0.00 USD" not in ana

    sign_in(client, "bo@example.com")
    bo = client.get("/statements/bo@example.com?period=2026-Q1").text
    assert "No quota for 2026-Q1 yet, so no attainment: your manager sets quotas" in bo
    assert 'id="statement-nothing"' not in bo and "60,000.00 USD" in bo  # bo's deal is credited

    sign_in(client, "cy@example.com")
    cy = client.get("/statements/cy@example.com?period=2026-Q1").text
    assert "No plan for 2026-Q1 yet" in cy and "You are not on a compensation plan" in cy
    assert "Total 0.00 USD" not in cy

    sign_in(client, "mia@example.com")  # her manager reads it in the third person
    seen = client.get("/statements/ana@example.com?period=2026-Q1").text
    assert "No deal credits Ana in 2026-Q1 so far" in seen


def test_the_statement_confirms_only_a_save_it_knows(client, engine: Engine, make_person) -> None:
    setup_books(engine, make_person)
    sign_in(client, "fin@example.com")
    unknown = client.get("/statements/ana@example.com?period=2026-Q1&saved=<script>").text
    assert 'id="statement-saved"' not in unknown and "<script>" not in unknown.split("</h1>")[1][:2000]
