"""A deal delivery (with its rep's statement brought up to date) and a statement read issue a bounded number
of SQL statements, the same for a small organisation as for a bigger one (issue 16: each statement is a
round trip on PostgreSQL). Plans, assignments, custom fields, campaigns and the reporting tree come from the
process's memory behind one stored version (commissions/core/stored_versions.py); the proof of pay, which
read the statement's inputs again and ran the calculator, is built when asked for (``proof=true``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import Engine, event

from tests.calc_fixtures import example_deal, store_plan, store_quota
from tests.deals.test_deals_api import token_for

# Round trips: statements, transactions' ends and pings of pooled connections (``_statements``), the token's
# look-up included. Session 18, counted so: POST 42 and GET 14 on PostgreSQL before (a ping at every checkout, the
# statement computed in a read transaction of its own, the lazy commit set apart, two reads of what a store no
# longer covers, the closed periods read again for the marks; the statement's period read twice), 33 and 11 after;
# SQLite 41 and 14 before, 39 and 13 after (its BEGINs are statements too). One to spare for the POST.
POST_MAX = {"postgresql": 34, "sqlite": 40}
GET_MAX = {"postgresql": 11, "sqlite": 13}


SQL: list[str] = []  # the last call's statements, for the failure's message


def _statements(engine: Engine, call: Callable[[], Any]) -> int:
    """The round trips ``call`` costs: every statement, every transaction's end, and every ping of a pooled
    connection (``core.db._ping_after_idle``; neither of the last two is a cursor's statement)."""
    count = 0
    SQL.clear()

    def seen(_conn: object, _cursor: object, text: str, *_: object) -> None:
        nonlocal count
        count += 1
        SQL.append(" ".join(text.split())[:100])

    def ended(_conn: object) -> None:
        nonlocal count
        count += 1
        SQL.append("(end of a transaction)")

    ping = engine.dialect.do_ping

    def pinged(dbapi_connection: Any) -> bool:
        nonlocal count
        count += 1
        SQL.append("(ping)")
        return ping(dbapi_connection)

    event.listen(engine, "before_cursor_execute", seen)
    event.listen(engine, "commit", ended)
    event.listen(engine, "rollback", ended)
    engine.dialect.do_ping = pinged  # type: ignore[method-assign]
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
        event.remove(engine, "commit", ended)
        event.remove(engine, "rollback", ended)
        engine.dialect.do_ping = ping  # type: ignore[method-assign]
    return count


def _organisation(engine: Engine, make_person, reps: int) -> list[str]:  # type: ignore[no-untyped-def]
    make_person("vp@example.com", "manager")
    make_person("mia@example.com", "manager", manager="vp@example.com")
    emails = [f"rep{i}@example.com" for i in range(reps)]
    for email in emails:
        make_person(email, manager="mia@example.com")
    store_plan(engine, emails)
    for email in emails:
        store_quota(engine, email, 100_000)
    return emails


def _costs(client: TestClient, engine: Engine, emails: list[str], deals_each: int) -> tuple[int, int, list[str]]:
    crm, finance = token_for(engine, "admin"), token_for(engine, "finance")
    for i, email in enumerate(emails):  # the organisation's deals, and caches warm
        for k in range(deals_each):
            body = example_deal(f"D-{i}-{k}", str(1_000 + k), "2026-02-1" + str(k % 9), owner=email)
            assert client.post("/api/v1/deals", json=body, headers=crm).status_code == 201
    rep = emails[0]
    assert client.get(f"/api/v1/statements/{rep}?period=2026-Q1", headers=finance).status_code == 200  # token known
    body = example_deal("NEW-1", "4321", "2026-02-20", owner=rep)
    post = _statements(engine, lambda: client.post("/api/v1/deals", json=body, headers=crm))
    read = _statements(engine, lambda: client.get(f"/api/v1/statements/{rep}?period=2026-Q1", headers=finance))
    read_sql = list(SQL)
    statement = client.get(f"/api/v1/statements/{rep}?period=2026-Q1", headers=finance).json()
    assert any(line["deal"] == "NEW-1" for c in statement["components"] for line in c["lines"])
    assert statement["reproducible"] is None and statement["fingerprint"] == ""  # not asked for
    return post, read, read_sql


def test_a_deal_and_its_statement_cost_a_bounded_number_of_statements_whatever_the_organisation(
    client: TestClient, engine: Engine, make_person
) -> None:
    small = _costs(client, engine, _organisation(engine, make_person, 2), 1)
    from tests.conftest import empty_database

    empty_database(engine)
    big = _costs(client, engine, _organisation(engine, make_person, 12), 4)
    assert big[:2] == small[:2], (small, big)
    post, read, read_sql = big
    assert post <= POST_MAX[engine.dialect.name], post
    assert read <= GET_MAX[engine.dialect.name], read_sql


def test_the_proof_of_pay_comes_when_asked_for(client: TestClient, engine: Engine, make_person) -> None:
    emails = _organisation(engine, make_person, 1)
    crm, finance = token_for(engine, "admin"), token_for(engine, "finance")
    assert client.post("/api/v1/deals", json=example_deal("D-1", "5000", "2026-02-10", owner=emails[0]), headers=crm)
    url = f"/api/v1/statements/{emails[0]}?period=2026-Q1"
    plain = client.get(url, headers=finance).json()
    proved = client.get(url + "&proof=true", headers=finance).json()
    assert plain["reproducible"] is None and plain["inputs"] == {} and "proof=true" in plain["offline_notes"][0]
    assert proved["reproducible"] is True and proved["fingerprint"] and proved["offline_notes"] == []
    figures = ("person", "period", "total", "components", "plans", "adjustments", "computed_at", "pending", "error")
    assert {k: plain[k] for k in figures} == {k: proved[k] for k in figures}  # the same stored calculation
