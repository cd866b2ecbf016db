"""Finance's period page, the period API and the payroll export cost what they show: the number of SQL
statements they issue does not grow with the number of ledger lines (issue 16)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event

from commissions.models import PayoutLine
from tests.conftest import sign_in
from tests.finance_fixtures import example_deal, setup_books

ROUTES = [
    "/finance/periods/2026-Q1",
    "/finance?period=2026-Q1",
    "/api/v1/periods/2026-Q1",
    "/api/v1/payouts/2026-Q1.csv",
    "/api/v1/payouts/2026-Q1.xlsx",
]
SUMMED_FROM_RUNNING_TOTALS = [route for route in ROUTES if route != "/finance/periods/2026-Q1"]


def _statements(engine: Engine, call: Callable[[], Any], sql: list[str] | None = None) -> tuple[int, int]:
    """How many SQL statements ``call`` issued (their text into ``sql``), and how many payout lines it loaded."""
    statements = lines = 0

    def statement(_conn: Any, _cursor: Any, text: str, *_: Any) -> None:
        nonlocal statements
        statements += 1
        if sql is not None:
            sql.append(text)

    def line(*_: Any) -> None:
        nonlocal lines
        lines += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(PayoutLine, "load", line)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(PayoutLine, "load", line)
    return statements, lines


def _costs(client, engine: Engine, finance: dict[str, str]) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    costs = {}
    for route in ROUTES:
        headers = {} if route.startswith("/finance") else finance
        assert client.get(route, headers=headers).status_code == 200  # caches warm (session, token, period)
        costs[route] = _statements(engine, lambda route=route, headers=headers: client.get(route, headers=headers))
    return costs


def test_period_page_api_and_export_issue_as_many_statements_for_many_lines_as_for_few(
    client, engine: Engine, make_person
) -> None:
    tokens = setup_books(engine, make_person)
    assert sign_in(client, "fin@example.com").status_code in (302, 303)

    def deals(first: int, count: int) -> None:
        for i in range(first, first + count):
            owner = "ana@example.com" if i % 2 else "bo@example.com"
            body = example_deal(f"D-{i}", str(10_000 + i), f"2026-0{1 + i % 3}-1{i % 9}", owner=owner)
            assert client.post("/api/v1/deals", json=body, headers=tokens["crm"]).status_code == 201

    deals(0, 2)
    few = _costs(client, engine, tokens["finance"])
    deals(2, 30)  # fifteen times the lines, the same people
    many = _costs(client, engine, tokens["finance"])
    assert {route: statements for route, (statements, _) in many.items()} == {
        route: statements for route, (statements, _) in few.items()
    }
    assert all(statements > 0 for statements, _ in few.values())
    # Totals come summed from the database: no payout line is loaded as an object to add it up (the
    # period API loaded every line: 4 objects for 2 deals, 34 for 32). The page's own list of what the
    # latest calculation changed shows at most 50 lines, and reads at most one more.
    for costs in (few, many):
        assert costs["/api/v1/periods/2026-Q1"][1] == 0
        assert costs["/api/v1/payouts/2026-Q1.csv"][1] == 0
        assert costs["/finance/periods/2026-Q1"][1] <= 51


def test_totals_dashboard_and_exports_never_read_the_ledger_lines(client, engine: Engine, make_person) -> None:
    """They sum the running totals (``ledger_total``, a few rows per person, kept with the ledger in the
    same transactions), so they cost the people they show, not the 2.1M lines of a 300k-deal quarter."""
    tokens = setup_books(engine, make_person)
    assert sign_in(client, "fin@example.com").status_code in (302, 303)
    for i in range(4):
        body = example_deal(f"D-{i}", str(20_000 + i), f"2026-02-1{i}")
        assert client.post("/api/v1/deals", json=body, headers=tokens["crm"]).status_code == 201
    for route in SUMMED_FROM_RUNNING_TOTALS:
        headers = {} if route.startswith("/finance") else tokens["finance"]
        sql: list[str] = []
        _statements(engine, lambda route=route, headers=headers: client.get(route, headers=headers), sql)
        assert any("ledger_total" in text for text in sql), route
        assert not [text for text in sql if re.search(r"\bpayout_line\b", text)], route


def test_the_period_api_pages_its_people_and_the_pages_add_up_to_the_whole(client, engine: Engine, make_person) -> None:
    """``limit``/``cursor`` on ``GET /api/v1/periods/{p}`` (issue 16: 20,000 people made a 3.7 MB answer):
    the totals stay the whole period's, the people come a page at a time by name, and the pages hold every
    person of the unpaged answer once, with the same figures; a cursor it did not hand out is a 400."""
    tokens = setup_books(engine, make_person)
    for i, owner in enumerate(["ana", "bo", "ana"]):
        body = example_deal(f"P-{i}", str(30_000 + i), "2026-02-10", owner=f"{owner}@example.com")
        assert client.post("/api/v1/deals", json=body, headers=tokens["crm"]).status_code == 201
    whole = client.get("/api/v1/periods/2026-Q1", headers=tokens["finance"])
    assert whole.status_code == 200 and whole.json()["next_cursor"] is None
    assert "link" not in whole.headers
    everyone = whole.json()["people"]
    assert len(everyone) == 2

    pages, cursor = [], None
    while True:
        params = {"limit": "1"} | ({"cursor": cursor} if cursor else {})
        answer = client.get("/api/v1/periods/2026-Q1", params=params, headers=tokens["finance"])
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["totals"] == whole.json()["totals"]
        assert sorted(body["components"].items()) == sorted(whole.json()["components"].items())
        assert len(body["people"]) == 1
        pages.append(body["people"])
        cursor = body["next_cursor"]
        if cursor is None:
            assert "x-next-cursor" not in answer.headers
            break
        assert answer.headers["x-next-cursor"] == cursor and 'rel="next"' in answer.headers["link"]
    assert len(pages) == len(everyone)
    by_person = {p["person"]: p for p in everyone}
    paged = [p for page in pages for p in page]
    assert sorted(p["person"] for p in paged) == sorted(by_person)  # each person once
    assert all(p == by_person[p["person"]] for p in paged)  # with the same figures

    wrong = client.get("/api/v1/periods/2026-Q1", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=tokens["finance"])
    assert wrong.status_code == 400 and "cursor" in wrong.text
    assert client.get("/api/v1/periods/2026-Q1", params={"limit": "0"}, headers=tokens["finance"]).status_code == 400
