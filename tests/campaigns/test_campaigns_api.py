"""``GET``/``PUT /api/v1/campaigns`` (api.md "Integration resources"): an idempotent, all-or-nothing upsert
by code with the campaigns page's rules, for admin and finance tokens."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func
from sqlmodel import col, select

from commissions.calculation.check import check_period
from commissions.calculation.queue import drain
from commissions.calculation.state import pending_select
from commissions.models import AuditEvent, Campaign
from tests.calc_fixtures import example_deal, store_plan
from tests.conftest import read
from tests.deals.test_deals_api import token_for
from tests.finance_fixtures import lines_in

WEB = {
    "code": "WEB-SEO",
    "name": "Organic search",
    "owner": "mark@example.com",
    "channel": "web",
    "cost": "12000.00",
    "currency": "USD",
    "start": "2026-01-01",
    "end": "2026-06-30",
}
EVENTS = {**WEB, "code": "EVT-1", "name": "Trade show", "channel": "events", "cost": "500", "end": None}
MARKETING_PLAN = """name: Marketing 2026
currency: USD
period: quarter
quota: sourced_revenue
components:
  - name: Sourced
    kind: per_deal
    rate: 1%
"""


@pytest.fixture
def tokens(engine: Engine, make_person) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    make_person("root@example.com", "admin")
    make_person("fin@example.com", "finance")
    make_person("mia@example.com", "manager")
    make_person("mark@example.com", manager="mia@example.com")
    make_person("nina@example.com", manager="mia@example.com")
    make_person("ana@example.com", manager="mia@example.com")
    return {
        "admin": token_for(engine, "admin", "root@example.com"),
        "finance": token_for(engine, "finance", "fin@example.com"),
        "manager": token_for(engine, "manager", "mia@example.com"),
        "rep": token_for(engine, "rep", "ana@example.com"),
    }


def campaigns(engine: Engine) -> list[tuple]:
    return read(
        engine,
        lambda s: [
            (c.code, c.name, c.owner_id, c.channel, c.cost_minor, c.currency, c.starts_on, c.ends_on)
            for c in s.exec(select(Campaign).order_by(col(Campaign.code))).all()
        ],
    )


def audit_count(engine: Engine) -> int:
    return read(
        engine,
        lambda s: s.exec(
            select(func.count()).select_from(AuditEvent).where(col(AuditEvent.action).startswith("campaign."))
        ).one(),
    )


def pending(engine: Engine) -> int:
    return read(
        engine,
        lambda s: s.exec(pending_select(func.count())).one(),
    )


def test_create_update_and_the_same_body_twice_changes_nothing(client, engine: Engine, tokens) -> None:  # type: ignore[no-untyped-def]
    created = client.put("/api/v1/campaigns", json=[WEB, EVENTS], headers=tokens["admin"])
    assert created.status_code == 200, created.text
    assert created.json() == {
        "changed": True,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "items": [
            {"index": 0, "key": "WEB-SEO", "result": "created"},
            {"index": 1, "key": "EVT-1", "result": "created"},
        ],
    }
    stored, audited = campaigns(engine), audit_count(engine)
    assert [row[0] for row in stored] == ["EVT-1", "WEB-SEO"] and stored[1][4] == 1_200_000  # cost in cents

    again = client.put("/api/v1/campaigns", json=[WEB, EVENTS], headers=tokens["finance"])
    assert again.status_code == 200, again.text
    assert again.json()["changed"] is False and again.json()["unchanged"] == 2
    assert [item["result"] for item in again.json()["items"]] == ["unchanged", "unchanged"]
    assert campaigns(engine) == stored and audit_count(engine) == audited  # nothing written, nothing audited

    renamed = client.put(
        "/api/v1/campaigns", json=[{**WEB, "code": "web-seo", "name": "SEO", "cost": 13000}], headers=tokens["admin"]
    )
    assert renamed.json()["items"] == [{"index": 0, "key": "WEB-SEO", "result": "updated"}]  # the code keeps its case
    row = next(r for r in campaigns(engine) if r[0] == "WEB-SEO")
    assert row[1] == "SEO" and row[4] == 1_300_000


def test_fields_left_out_take_their_defaults_and_the_stored_currency_stays(client, engine: Engine, tokens) -> None:  # type: ignore[no-untyped-def]
    minimal = {"code": "MIN", "name": "Minimal", "owner": "mark@example.com"}
    assert client.put("/api/v1/campaigns", json=[minimal], headers=tokens["admin"]).json()["created"] == 1
    [row] = campaigns(engine)
    assert row[3:] == ("", 0, "USD", None, None)
    client.put("/api/v1/campaigns", json=[{**minimal, "currency": "EUR", "cost": "10"}], headers=tokens["admin"])
    same = client.put("/api/v1/campaigns", json=[{**minimal, "cost": "10"}], headers=tokens["admin"])
    assert same.json()["items"][0]["result"] == "unchanged"  # no currency: the stored EUR
    assert campaigns(engine)[0][5] == "EUR"


def test_get_pages_and_its_items_put_back_change_nothing(client, engine: Engine, tokens) -> None:  # type: ignore[no-untyped-def]
    third = {**WEB, "code": "PPC", "name": "Paid search", "start": None, "end": None, "channel": ""}
    client.put("/api/v1/campaigns", json=[WEB, EVENTS, third], headers=tokens["admin"])
    first = client.get("/api/v1/campaigns?limit=2", headers=tokens["finance"])
    assert first.status_code == 200, first.text
    cursor = first.json()["next_cursor"]
    assert [c["code"] for c in first.json()["items"]] == ["WEB-SEO", "EVT-1"]  # in the order they were created
    assert first.json()["items"][0] == WEB
    assert first.headers["x-next-cursor"] == cursor
    assert first.headers["link"] == f'</api/v1/campaigns?limit=2&cursor={cursor}>; rel="next"'
    rest = client.get(f"/api/v1/campaigns?limit=2&cursor={cursor}", headers=tokens["finance"])
    assert [c["code"] for c in rest.json()["items"]] == ["PPC"] and rest.json()["next_cursor"] is None
    assert "link" not in rest.headers

    everything = client.get("/api/v1/campaigns", headers=tokens["admin"]).json()["items"]
    assert len(everything) == 3
    before, audited = campaigns(engine), audit_count(engine)
    back = client.put("/api/v1/campaigns", json=everything, headers=tokens["admin"])
    assert back.json()["changed"] is False and back.json()["unchanged"] == 3
    assert campaigns(engine) == before and audit_count(engine) == audited

    bad = client.get("/api/v1/campaigns?cursor=nonsense", headers=tokens["admin"])
    assert bad.status_code == 400 and bad.json()["extra"]["field"] == "cursor"
    assert client.get("/api/v1/campaigns?limit=1001", headers=tokens["admin"]).status_code == 400


def test_a_bad_item_refuses_the_whole_list_naming_every_index_and_field(client, engine: Engine, tokens) -> None:  # type: ignore[no-untyped-def]
    client.put("/api/v1/campaigns", json=[EVENTS], headers=tokens["admin"])
    before, audited = campaigns(engine), audit_count(engine)
    items = [
        WEB,  # fine on its own
        {**WEB, "code": "X-1", "owner": "nobody@example.com"},
        {**WEB, "code": "X-2", "cost": "-5"},
        {**WEB, "code": "X-3", "cost": "a lot"},
        {**WEB, "code": "X-4", "start": "2026-03-01", "end": "2026-02-01"},
        {**WEB, "code": "web-seo"},  # the same code again
        {**EVENTS, "name": "Trade show 2", "cost": "1.234"},  # more decimals than USD has
        {**WEB, "code": "X-7", "currency": "DOL"},  # three letters, no currency ("dollars" in a 3-letter box)
    ]
    response = client.put("/api/v1/campaigns", json=items, headers=tokens["admin"])
    assert response.status_code == 400, response.text
    errors = response.json()["extra"]["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [
        (1, "owner"),
        (2, "cost"),
        (3, "cost"),
        (4, "end"),
        (5, "code"),
        (6, "cost"),
        (7, "currency"),
    ]
    assert errors[-1]["message"] == "DOL is not a currency code (ISO 4217): write e.g. USD, EUR or GBP"
    assert "nobody@example.com" in errors[0]["message"] and "negative" in errors[1]["message"]
    assert response.json()["detail"].startswith("item 1: owner:")
    assert campaigns(engine) == before and audit_count(engine) == audited  # WEB-SEO was not created either


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({**WEB, "budget": 5}, "budget"),  # an unknown key
        ({k: v for k, v in WEB.items() if k != "owner"}, "owner"),
        ({**WEB, "start": "31/01/2026"}, "start"),
        ({**WEB, "cost": True}, "cost"),
    ],
)
def test_malformed_items_are_named_by_index_and_field(client, engine: Engine, tokens, item: dict, field: str) -> None:  # type: ignore[no-untyped-def]
    response = client.put("/api/v1/campaigns", json=[EVENTS, item], headers=tokens["admin"])
    assert response.status_code == 400, response.text
    assert [(e["index"], e["field"]) for e in response.json()["extra"]["errors"]] == [(1, field)]
    assert campaigns(engine) == []
    not_a_list = client.put("/api/v1/campaigns", json=WEB, headers=tokens["admin"])
    assert not_a_list.status_code == 400 and campaigns(engine) == []


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("finance", 200), ("manager", 403), ("rep", 403)])
def test_admin_and_finance_tokens_may_read_and_write_others_are_refused(
    client, engine: Engine, tokens, role: str, status: int
) -> None:  # type: ignore[no-untyped-def]
    assert client.put("/api/v1/campaigns", json=[WEB], headers=tokens[role]).status_code == status
    assert client.get("/api/v1/campaigns", headers=tokens[role]).status_code == status
    assert len(campaigns(engine)) == (1 if status == 200 else 0)


def test_anonymous_callers_get_401(client, engine: Engine, tokens) -> None:  # type: ignore[no-untyped-def]
    assert client.put("/api/v1/campaigns", json=[WEB]).status_code == 401
    assert client.get("/api/v1/campaigns").status_code == 401
    assert campaigns(engine) == []


def test_a_new_owner_moves_the_sourced_credit_and_the_ledger_equals_a_fresh_calculation(
    client, engine: Engine, tokens
) -> None:  # type: ignore[no-untyped-def]
    store_plan(engine, ["mark@example.com", "nina@example.com"], document=MARKETING_PLAN, name="Marketing 2026")
    assert client.put("/api/v1/campaigns", json=[WEB], headers=tokens["admin"]).status_code == 200
    deal = example_deal("D-1", "50000", "2026-02-10", source_campaign="WEB-SEO")
    assert client.post("/api/v1/deals", json=deal, headers=tokens["admin"]).status_code == 201
    drain(engine)

    def sourced() -> dict[str, int]:
        found = {}
        for email in ("mark@example.com", "nina@example.com"):
            lines = [line for line in lines_in(engine, email, "2026-Q1") if line.component == "Sourced"]
            if lines:
                found[email] = sum(line.amount_minor for line in lines)
        return found

    assert sourced() == {"mark@example.com": 50_000}  # 1% of 50,000.00
    same = client.put("/api/v1/campaigns", json=[WEB], headers=tokens["admin"])
    assert same.json()["changed"] is False and pending(engine) == 0  # nothing queued

    moved = client.put("/api/v1/campaigns", json=[{**WEB, "owner": "nina@example.com"}], headers=tokens["finance"])
    assert moved.json()["items"][0]["result"] == "updated"
    assert pending(engine) >= 2  # the old and the new owner's statements (and their manager's)
    assert not check_period(engine, "2026-Q1").ok
    drain(engine)
    assert sourced() == {"nina@example.com": 50_000}
    assert check_period(engine, "2026-Q1").differences == []
