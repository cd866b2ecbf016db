"""POST /api/v1/deals: idempotent on external_id, validated, authorised, safe under concurrent deliveries."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import Engine, func
from sqlmodel import col, select

from commissions.auth.tokens import create_token
from commissions.core.db import transaction
from commissions.core.principal import Principal
from commissions.deals.schemas import DealIn
from commissions.deals.service import record_one
from commissions.models import Deal, DealSplit, Person
from tests.conftest import read, sign_in

BODY = {
    "external_id": "SF-0001",
    "name": "Acme platform",
    "account": "Acme",
    "owner": "ana@example.com",
    "amount": "45000.00",
    "currency": "USD",
    "closed_at": "2026-02-03",
    "type": "new",
    "product": "Enterprise",
    "term_months": 36,
}


def token_for(engine: Engine, role: str, email: str | None = None) -> dict[str, str]:
    """A token; a finance token always acts for a finance person (one is made if none is named)."""
    with transaction(engine) as s:
        if role == "finance" and not email:
            email = "finance-token@example.com"
            if s.exec(select(Person).where(Person.email == email)).first() is None:
                s.add(Person(email=email, name="Finance token", role="finance"))
                s.flush()
        person = s.exec(select(Person).where(Person.email == email)).one() if email else None
        _, clear = create_token(s, name="t", role=role, person=person, created_by=None)
    return {"Authorization": f"Bearer {clear}"}


def deal_count(engine: Engine) -> int:
    return read(engine, lambda s: s.exec(select(func.count()).select_from(Deal)).one())


@pytest.fixture
def crm(engine: Engine, make_person) -> dict[str, str]:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    make_person("bo@example.com")
    return token_for(engine, "admin")


def test_same_delivery_twice_gives_one_deal(client, crm, engine: Engine) -> None:
    first = client.post("/api/v1/deals", json=BODY, headers=crm)
    assert first.status_code == 201
    assert first.json()["amount"] == "45000.00" and first.json()["owner"] == "ana@example.com"
    again = client.post("/api/v1/deals", json=BODY, headers=crm)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert deal_count(engine) == 1


def test_the_same_amount_written_another_way_is_the_same_delivery(client, crm, engine: Engine) -> None:
    """45000, "45000" and "45000.00" USD are one amount: a CRM sending a number after a string repeats itself,
    it does not update the deal (no audit event, no announcement of an update)."""
    from commissions.models import AuditEvent, OutboxEvent

    def recorded() -> tuple[list[str], int]:
        actions = read(
            engine,
            lambda s: list(
                s.exec(
                    select(AuditEvent.action).where(AuditEvent.object_type == "deal").order_by(col(AuditEvent.id))
                ).all()
            ),
        )
        events = read(engine, lambda s: s.exec(select(func.count()).select_from(OutboxEvent)).one())
        return actions, events

    assert client.post("/api/v1/deals", json=BODY, headers=crm).status_code == 201
    after_create = recorded()
    for amount in (45000, "45000", 45000.0, "45000.0", "4.5E+4"):
        again = client.post("/api/v1/deals", json={**BODY, "amount": amount}, headers=crm)
        assert again.status_code == 200 and again.json()["amount"] == "45000.00", amount
    assert recorded() == after_create
    changed = client.post("/api/v1/deals", json={**BODY, "amount": "45000.01"}, headers=crm)
    assert changed.status_code == 200 and changed.json()["amount"] == "45000.01"
    assert recorded()[0] == ["deal.created", "deal.updated"]


def test_changed_body_updates_and_cancellation_is_a_status_change(client, crm, engine: Engine) -> None:
    client.post("/api/v1/deals", json=BODY, headers=crm)
    changed = client.post(
        "/api/v1/deals",
        json={
            **BODY,
            "amount": 50000,
            "splits": [{"person": "ana@example.com", "share": 60}, {"person": "bo@example.com", "share": "40"}],
        },
        headers=crm,
    )
    assert changed.status_code == 200
    assert changed.json()["amount"] == "50000.00"
    assert changed.json()["splits"] == [
        {"person": "ana@example.com", "share": "60"},
        {"person": "bo@example.com", "share": "40"},
    ]
    cancelled = client.post(
        "/api/v1/deals", json={**BODY, "status": "cancelled", "cancelled_at": "2026-03-01"}, headers=crm
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["splits"] == []
    assert deal_count(engine) == 1
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(DealSplit)).one()) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "-5"}, "amount"),
        ({"amount": "1e30"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"currency": "dollars"}, "currency"),
        ({"closed_at": "1899-01-01"}, "closed_at"),
        ({"closed_at": "2026-02-30"}, "closed_at"),
        ({"owner": "ghost@example.com"}, "owner"),
        ({"type": "upsell"}, "type"),
        ({"status": "cancelled"}, "cancelled_at"),
        ({"splits": [{"person": "ana@example.com", "share": 60}, {"person": "bo@example.com", "share": 30}]}, "splits"),
        (
            {"splits": [{"person": "ana@example.com", "share": 100}, {"person": "zed@example.com", "share": 0}]},
            "splits",
        ),
        ({"external_id": ""}, "external_id"),
        ({"surprise": 1}, "surprise"),
        ({"amount": "\u0661\u0662\u0663"}, "amount"),  # Arabic-Indic digits: Decimal read them as 123
        ({"name": "Acme\x00"}, "name"),  # NUL: PostgreSQL refused it in words about lengths
        ({"account": "Acme \u202eevil"}, "account"),  # a bidirectional override changes how a page reads
        ({"external_id": "CRM\n1001"}, "external_id"),
    ],
)
def test_bad_deliveries_are_clear_400s_and_store_nothing(client, crm, engine: Engine, change: dict, field: str) -> None:
    response = client.post("/api/v1/deals", json={**BODY, **change}, headers=crm)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status_code"] == 400
    assert field in (str(body["extra"]) + body["detail"])
    assert deal_count(engine) == 0


def test_rep_token_records_own_deals_only(client, engine: Engine, make_person) -> None:
    make_person("ana@example.com")
    make_person("bo@example.com")
    ana = token_for(engine, "rep", "ana@example.com")
    assert client.post("/api/v1/deals", json=BODY, headers=ana).status_code == 201
    foreign = client.post("/api/v1/deals", json={**BODY, "external_id": "SF-2", "owner": "bo@example.com"}, headers=ana)
    assert foreign.status_code == 403
    takeover = client.post(
        "/api/v1/deals", json={**BODY, "owner": "bo@example.com"}, headers=token_for(engine, "rep", "bo@example.com")
    )
    assert takeover.status_code == 403, "bo may not rewrite ana's deal into his own"
    assert deal_count(engine) == 1
    assert read(engine, lambda s: s.exec(select(Deal.owner_id)).one()) == read(
        engine, lambda s: s.exec(select(Person.id).where(Person.email == "ana@example.com")).one()
    )


def test_manager_records_for_team_but_not_outside(client, engine: Engine, make_person) -> None:
    make_person("lead@example.com", "manager")
    make_person("ana@example.com", manager="lead@example.com")
    make_person("bo@example.com")
    lead = token_for(engine, "manager", "lead@example.com")
    assert client.post("/api/v1/deals", json=BODY, headers=lead).status_code == 201
    outside = client.post("/api/v1/deals", json={**BODY, "external_id": "X", "owner": "bo@example.com"}, headers=lead)
    assert outside.status_code == 403
    assert deal_count(engine) == 1


def test_a_browser_session_cannot_post_deals(client, make_person, engine: Engine) -> None:
    make_person("root@example.com", "admin")
    make_person("ana@example.com")
    sign_in(client, "root@example.com")
    assert client.post("/api/v1/deals", json=BODY).status_code == 401
    assert deal_count(engine) == 0


def test_concurrent_identical_deliveries_create_one_deal(engine: Engine, make_person) -> None:
    make_person("ana@example.com")
    admin = Principal(role="admin", person_id=None, email=None, name="crm", via_token=True)
    data = DealIn.model_validate(BODY)
    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(lambda _: record_one(engine, data, by=admin)[0].outcome, range(20)))
    assert outcomes.count("created") == 1
    assert set(outcomes) <= {"created", "unchanged"}
    assert deal_count(engine) == 1
    assert read(engine, lambda s: s.exec(select(Deal.closed_at)).one()) == date(2026, 2, 3)


def _follow(client, url: str, headers: dict[str, str]) -> list[list[dict]]:  # type: ignore[no-untyped-def]
    """Every page of a deal list, following each answer's ``Link: <...>; rel="next"``."""
    pages = []
    next_url: str | None = url
    while next_url:
        answer = client.get(next_url, headers=headers)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        link = answer.headers.get("link")
        if link is None:
            assert "x-next-cursor" not in answer.headers
            next_url = None
        else:
            assert link.endswith('; rel="next"') and answer.headers["x-next-cursor"] in link
            next_url = link[1 : link.index(">")]
    return pages


def test_the_deal_list_pages_with_limit_and_cursor(client, crm, engine: Engine) -> None:
    """``limit`` is honoured (it was ignored: a 300k-deal org got megabytes); the pages, followed through their
    ``Link: rel="next"``, hold every visible deal exactly once, newest close first; the last page has no link."""
    days = ["2026-01-05", "2026-01-05", "2026-01-05", "2026-02-10", "2026-03-01", "2026-03-01", "2026-04-20"]
    for i, day in enumerate(days):
        owner = "bo@example.com" if i == 3 else "ana@example.com"
        body = {**BODY, "external_id": f"P-{i}", "closed_at": day, "owner": owner}
        assert client.post("/api/v1/deals", json=body, headers=crm).status_code == 201
    pages = _follow(client, "/api/v1/deals?limit=3", crm)
    assert [len(page) for page in pages] == [3, 3, 1]
    seen = [(d["closed_at"], d["external_id"]) for page in pages for d in page]
    assert len(set(seen)) == 7
    assert seen == sorted(seen, key=lambda d: (-date.fromisoformat(d[0]).toordinal(), d[1]))
    # A rep's pages hold only what the rep may see, and the period filter carries over to the next pages.
    ana = token_for(engine, "rep", "ana@example.com")
    rep_pages = _follow(client, "/api/v1/deals?limit=2&period=2026-Q1", ana)
    assert [d["external_id"] for page in rep_pages for d in page] == ["P-4", "P-5", "P-0", "P-1", "P-2"]


def test_listed_deals_say_whom_they_credit_as_post_answers(client, crm, engine: Engine) -> None:
    """The list's items were summaries without splits: a manager saw another team's deal with nothing saying why.
    Each item reads as POST answers the deal (its custom fields aside)."""
    split = {
        **BODY,
        "external_id": "SPLIT-1",
        "splits": [{"person": "bo@example.com", "share": 40}, {"person": "ana@example.com", "share": 60}],
    }
    posted = client.post("/api/v1/deals", json=split, headers=crm).json()
    plain = client.post("/api/v1/deals", json={**BODY, "external_id": "PLAIN-1"}, headers=crm).json()
    listed = {d["external_id"]: d for d in client.get("/api/v1/deals?period=2026-Q1", headers=crm).json()}
    for answer in (posted, plain):
        expected = {k: v for k, v in answer.items() if k not in ("custom_fields", "approval")}
        assert listed[answer["external_id"]] == expected
    assert listed["SPLIT-1"]["splits"] == [
        {"person": "ana@example.com", "share": "60"},
        {"person": "bo@example.com", "share": "40"},
    ]


@pytest.mark.parametrize(
    ("query", "field"), [("limit=0", "limit"), ("limit=1001", "limit"), ("cursor=not-a-cursor", "cursor")]
)
def test_bad_paging_is_a_400_naming_the_parameter(client, crm, query: str, field: str) -> None:
    answer = client.get(f"/api/v1/deals?{query}", headers=crm)
    assert answer.status_code == 400
    assert field in answer.text


def test_a_currency_in_lower_case_is_the_code_and_a_wrong_one_says_so_in_words(client, crm, engine: Engine) -> None:
    """ "eur" was refused in pydantic's words ("String should match pattern '^[A-Z]{3}$'")."""
    made = client.post("/api/v1/deals", json={**BODY, "currency": "usd"}, headers=crm)
    assert made.status_code == 201 and made.json()["currency"] == "USD"
    wrong = client.post("/api/v1/deals", json={**BODY, "external_id": "SF-2", "currency": "dollars"}, headers=crm)
    said = str(wrong.json()["extra"]) + wrong.json()["detail"]
    assert wrong.status_code == 400 and "currency" in said
    assert "'dollars' is not a currency code: write three letters, e.g. USD or EUR" in said
    assert "pattern" not in said
    # "dollars" typed into the form's three-character box arrives as "dol": three letters, but no currency
    dol = client.post("/api/v1/deals", json={**BODY, "external_id": "SF-3", "currency": "dol"}, headers=crm)
    assert dol.status_code == 400 and "DOL is not a currency code (ISO 4217): write e.g. USD, EUR or GBP" in dol.text
    assert deal_count(engine) == 1


def test_a_body_that_does_not_read_is_named_in_the_detail(client, crm, engine: Engine) -> None:
    """Litestar answered "Validation failed for POST /api/v1/deals" alone: the detail now names the field and
    what is wrong, and ``extra`` still lists each as key and message."""
    splits = [{"person": "ana@example.com", "share": 60}, {"person": "bo@example.com", "share": 30}]
    body = client.post("/api/v1/deals", json={**BODY, "splits": splits}, headers=crm).json()
    assert body["status_code"] == 400 and "shares must sum to exactly 100, not 90" in body["detail"]
    assert body["detail"].startswith("Validation failed for POST /api/v1/deals: ")
    assert isinstance(body["extra"], list) and body["extra"][0]["message"]
    bad_date = client.post("/api/v1/deals", json={**BODY, "closed_at": "2026-02-30"}, headers=crm).json()
    assert "closed_at" in bad_date["detail"]
    assert deal_count(engine) == 0
