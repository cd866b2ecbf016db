"""``GET``/``PUT /api/v1/rates`` (issue 19): idempotent all-or-nothing upserts by (from, to, effective_from),
per-item errors, paging and filters, the pair's history in the audit log, and who may call them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from commissions.models import AuditEvent, ExchangeRate
from tests.conftest import read
from tests.deals.test_deals_api import token_for

EUR_USD = {"from": "EUR", "to": "USD", "rate": "1.0850", "effective_from": "2026-01-01"}
GBP_USD = {"from": "GBP", "to": "USD", "rate": "1.27", "effective_from": "2026-01-01"}


def stored(engine: Engine) -> list[tuple[str, str, Decimal, str]]:
    return read(
        engine,
        lambda s: [
            (r.source, r.target, r.rate, r.effective_from.isoformat())
            for r in s.exec(select(ExchangeRate).order_by(col(ExchangeRate.id))).all()
        ],
    )


@pytest.fixture
def finance(engine: Engine) -> dict[str, str]:
    return token_for(engine, "finance")


def test_put_creates_then_the_same_body_changes_nothing(client, engine: Engine, finance) -> None:
    first = client.put("/api/v1/rates", json=[EUR_USD, GBP_USD], headers=finance)
    assert first.status_code == 200, first.text
    assert first.json()["changed"] is True and first.json()["created"] == 2
    assert [i["key"] for i in first.json()["items"]] == ["EUR/USD 2026-01-01", "GBP/USD 2026-01-01"]
    again = client.put("/api/v1/rates", json=[EUR_USD, GBP_USD], headers=finance)
    assert again.json() == {
        "changed": False,
        "created": 0,
        "updated": 0,
        "unchanged": 2,
        "items": [
            {"index": 0, "key": "EUR/USD 2026-01-01", "result": "unchanged"},
            {"index": 1, "key": "GBP/USD 2026-01-01", "result": "unchanged"},
        ],
    }
    # "1.085" is the same rate as "1.0850": unchanged too
    same = client.put("/api/v1/rates", json=[{**EUR_USD, "rate": "1.085"}], headers=finance)
    assert same.json()["unchanged"] == 1
    assert [(s, t, r) for s, t, r, _ in stored(engine)] == [
        ("EUR", "USD", Decimal("1.085")),
        ("GBP", "USD", Decimal("1.27")),
    ]


def test_a_correction_keeps_the_old_value_in_the_history(client, engine: Engine, finance) -> None:
    client.put("/api/v1/rates", json=[EUR_USD], headers=finance)
    fixed = client.put("/api/v1/rates", json=[{**EUR_USD, "rate": "1.0900"}], headers=finance)
    assert fixed.json()["updated"] == 1 and fixed.json()["changed"] is True
    assert stored(engine) == [("EUR", "USD", Decimal("1.09"), "2026-01-01")]
    history = read(
        engine,
        lambda s: [
            e.detail
            for e in s.exec(
                select(AuditEvent).where(AuditEvent.action == "rate.set").order_by(col(AuditEvent.id))
            ).all()
        ],
    )
    assert history == [
        {"effective_from": "2026-01-01", "before": None, "after": "1.0850"},
        {"effective_from": "2026-01-01", "before": "1.0850", "after": "1.0900"},
    ]


def test_one_bad_item_refuses_the_whole_list_naming_each_problem(client, engine: Engine, finance) -> None:
    bad = [
        EUR_USD,
        {"from": "EURO", "to": "USD", "rate": "1.1", "effective_from": "2026-01-01"},
        {"from": "USD", "to": "USD", "rate": "1", "effective_from": "2026-01-01"},
        {"from": "JPY", "to": "USD", "rate": "0", "effective_from": "2026-01-01"},
        {"from": "CHF", "to": "USD", "rate": "1.123456789012", "effective_from": "2026-01-01"},
        {**EUR_USD, "rate": "1.09"},  # the same key twice in one list
    ]
    answer = client.put("/api/v1/rates", json=bad, headers=finance)
    assert answer.status_code == 400, answer.text
    assert answer.json()["extra"]["errors"] == [
        {"index": 1, "field": "from", "message": "'EURO' is not a currency code: write three letters, e.g. USD or EUR"},
        {"index": 2, "field": "to", "message": "a rate converts between two currencies: from and to are both USD"},
        {"index": 3, "field": "rate", "message": "0 is not a rate: it must be a number above 0"},
        {"index": 4, "field": "rate", "message": "1.123456789012 has more than 10 decimals"},
        {"index": 5, "field": "effective_from", "message": "EUR to USD from 2026-01-01 is already item 0 of this list"},
    ]
    assert (
        answer.json()["detail"] == "item 1: from: 'EURO' is not a currency code: write three letters, e.g. USD or EUR"
    )
    # three letters ISO 4217 does not know (a form's three-character box makes "DOL" of "dollars")
    unknown = client.put("/api/v1/rates", json=[{**EUR_USD, "from": "DOL"}], headers=finance)
    assert unknown.status_code == 400 and unknown.json()["extra"]["errors"] == [
        {"index": 0, "field": "from", "message": "DOL is not a currency code (ISO 4217): write e.g. USD, EUR or GBP"}
    ]
    assert stored(engine) == []  # nothing written, not even the good first item
    shape = client.put("/api/v1/rates", json=[{"from": "EUR", "to": "USD", "rate": "x"}], headers=finance)
    assert shape.status_code == 400  # the schema: no effective_from, rate not a number


def test_get_pages_and_filters(client, engine: Engine, finance) -> None:
    items = [
        {"from": code, "to": "USD", "rate": "1.5", "effective_from": f"2026-01-{day:02d}"}
        for code in ("EUR", "GBP")
        for day in range(1, 4)
    ]
    client.put("/api/v1/rates", json=items, headers=finance)
    first = client.get("/api/v1/rates?limit=4", headers=finance)
    assert first.status_code == 200
    body = first.json()
    assert len(body["items"]) == 4 and body["next_cursor"]
    assert body["items"][0] == {"from": "EUR", "to": "USD", "rate": "1.5000", "effective_from": "2026-01-01"}
    assert first.headers["X-Next-Cursor"] == body["next_cursor"] and 'rel="next"' in first.headers["Link"]
    rest = client.get(f"/api/v1/rates?limit=4&cursor={body['next_cursor']}", headers=finance).json()
    assert [i["effective_from"] for i in rest["items"]] == ["2026-01-02", "2026-01-03"] and rest["next_cursor"] is None
    assert [(i["from"], i["effective_from"]) for i in body["items"] + rest["items"]] == [
        (i["from"], i["effective_from"]) for i in items
    ]
    gbp = client.get("/api/v1/rates?from=GBP", headers=finance).json()["items"]
    assert {i["from"] for i in gbp} == {"GBP"} and len(gbp) == 3
    assert client.get("/api/v1/rates?to=EUR", headers=finance).json()["items"] == []
    assert client.get("/api/v1/rates?cursor=nonsense", headers=finance).status_code == 400


@pytest.mark.parametrize(
    ("role", "status"), [("rep", 403), ("manager", 403), ("finance", 200), ("admin", 200), (None, 401)]
)
def test_who_may_read_and_set_rates(client, engine: Engine, role: str | None, status: int) -> None:
    headers = token_for(engine, role) if role else {}
    assert client.get("/api/v1/rates", headers=headers).status_code == status
    assert client.put("/api/v1/rates", json=[EUR_USD], headers=headers).status_code == status
    assert len(stored(engine)) == (1 if status == 200 else 0)


def test_the_openapi_document_spells_from_and_to(client) -> None:
    schema = client.get("/schema/openapi.json").json()
    rate_in = schema["components"]["schemas"]["RateIn"]
    assert set(rate_in["properties"]) == {"from", "to", "rate", "effective_from"}
    rate_out = schema["components"]["schemas"]["RateOut"]
    assert {"from", "to", "rate", "effective_from"} <= set(rate_out["properties"])
