"""A manager's statement (issue 16): totals first, summed by the database (per component and per direct
report), and the lines a page at a time in the API (`limit`, `cursor`, `next_cursor`, `Link`) and on the page
("Show more", a link without JavaScript, rows appended with htmx), whatever the number of lines."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import Engine, event, func, insert, select

from commissions.calculation.ledger import book_lines
from commissions.calculation.rows import table_of
from commissions.calculation.service import recalc_period
from commissions.core.db import transaction
from commissions.core.paging import make_cursor
from commissions.models import Deal, PayoutLine, Period, Person
from commissions.statements.pages import PAGE_LINES, PROOF_INLINE_LINES
from tests.calc_fixtures import example_deal, store_plan, store_quota
from tests.conftest import sign_in
from tests.deals.test_deals_api import token_for

MANAGERS_PLAN = (Path(__file__).parents[2] / "commissions" / "demo_plans" / "managers.yaml").read_text()
API = "/api/v1/statements/cro@example.com"
PAGE = "/statements/cro@example.com"
#: who owns each deal, and the direct report of cro's it comes through ("outside": not in cro's tree)
OWNERS = {"D-1": "ana", "D-2": "bo", "D-3": "lee", "D-4": "out", "D-5": "ana"}
THROUGH = {"ana": "mia@example.com", "bo": "mia@example.com", "lee": "lee@example.com", "out": None}


def setup(client: TestClient, engine: Engine, make_person) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """cro manages mia (who manages ana and bo) and lee; out is outside the tree and shares D-4 with lee.
    cro and mia are on the managers' plan (team credit and an override), the reps on the worked example's."""
    make_person("cro@example.com", "manager")
    make_person("mia@example.com", "manager", manager="cro@example.com")
    make_person("ana@example.com", manager="mia@example.com")
    make_person("bo@example.com", manager="mia@example.com")
    make_person("lee@example.com", manager="cro@example.com")
    make_person("out@example.com")
    make_person("zoe@example.com", "manager")
    make_person("fin@example.com", "finance")
    make_person("root@example.com", "admin")
    reps = ["ana@example.com", "bo@example.com", "lee@example.com", "out@example.com"]
    store_plan(engine, reps)
    store_plan(engine, ["cro@example.com", "mia@example.com"], document=MANAGERS_PLAN, name="Sales managers 2026")
    for email in reps:
        store_quota(engine, email, 100_000)
    store_quota(engine, "cro@example.com", 500_000)
    store_quota(engine, "mia@example.com", 250_000)
    crm = token_for(engine, "admin")
    for body in (
        example_deal("D-1", "60000", "2026-01-10"),
        example_deal("D-2", "45000", "2026-02-03", owner="bo@example.com"),
        example_deal("D-3", "25000", "2026-03-20", owner="lee@example.com"),
        example_deal(
            "D-4",
            "30000",
            "2026-03-01",
            owner="out@example.com",
            splits=[{"person": "out@example.com", "share": "50"}, {"person": "lee@example.com", "share": "50"}],
        ),
        example_deal("D-5", "20000", "2026-02-15"),
    ):
        response = client.post("/api/v1/deals", json=body, headers=crm)
        assert response.status_code == 201, response.text
    recalc_period(engine, "2026-Q1")  # the managers above the deals too (the worker's job in the app)
    return {
        "cro": token_for(engine, "manager", "cro@example.com"),
        "mia": token_for(engine, "manager", "mia@example.com"),
        "ana": token_for(engine, "rep", "ana@example.com"),
        "zoe": token_for(engine, "manager", "zoe@example.com"),
        "finance": token_for(engine, "finance", "fin@example.com"),
        "admin": token_for(engine, "admin", "root@example.com"),
    }


def add_lines(engine: Engine, count: int, *, component: str = "Team override", with_deal: bool = True) -> None:
    """``count`` more override lines in force on cro's statement, straight into the ledger (volume without
    computing thousands of deals), spread over the stored deals; 1.00 to 9.99 each."""
    with transaction(engine) as s:
        person = s.exec(select(Person.id).where(Person.email == "cro@example.com")).scalar_one()
        period = s.exec(select(Period.id).where(Period.key == "2026-Q1")).scalar_one()
        deals = [tuple(row) for row in s.exec(select(Deal.id, Deal.owner_id).order_by(Deal.id)).all()]
        before = s.exec(select(func.max(PayoutLine.id))).scalar_one()
        now = datetime.now(UTC)
        rows = [
            {
                "person_id": person,
                "period_id": period,
                "component": component,
                "kind": "earning",
                "deal_id": deals[i % len(deals)][0] if with_deal else None,
                "deal_owner_id": deals[i % len(deals)][1] if with_deal else None,
                "amount_minor": 100 + (i * 37) % 900,
                "currency": "USD",
                "text": f"synthetic line {i}",
                "basis": {},
                "created_at": now,
            }
            for i in range(count)
        ]
        s.execute(insert(table_of(PayoutLine)), rows)
        added = s.exec(select(PayoutLine.id).where(PayoutLine.id > before)).scalars().all()
        book_lines(s, line_ids=added)  # as every writer of the ledger does


def walk_api(client: TestClient, headers: dict[str, str], limit: int) -> list[dict[str, Any]]:
    """Every page of cro's statement, following ``next_cursor`` (and checking ``Link`` says the same)."""
    pages: list[dict[str, Any]] = []
    url: str | None = f"{API}?period=2026-Q1&limit={limit}"
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
        assert len(body["lines"]) <= limit
        following = body["next_cursor"]
        if following:
            assert response.headers["x-next-cursor"] == following
            link = re.fullmatch(r'<([^>]+)>; rel="next"', response.headers["link"])
            assert link and f"cursor={following}" in link.group(1) and f"limit={limit}" in link.group(1)
            url = link.group(1)
        else:
            assert "link" not in response.headers and "x-next-cursor" not in response.headers
            url = None
        assert len(pages) < 1000, "the pages never end"
    return pages


def totals_of(body: dict[str, Any]) -> Any:
    return (
        body["total"],
        body["line_count"],
        [(c["name"], c["amount"], c["line_count"]) for c in body["components"]],
        body["reports"],
        body["adjustments"],
    )


def test_the_api_pages_a_manager_statement_to_exactly_its_unpaged_lines_and_totals(
    client: TestClient, engine: Engine, make_person
) -> None:
    tokens = setup(client, engine, make_person)
    add_lines(engine, 23)
    add_lines(engine, 2, component="Manager bonus", with_deal=False)
    whole = client.get(f"{API}?period=2026-Q1&proof=true", headers=tokens["cro"]).json()
    # unpaged: every line, where it always was, and no page fields
    assert whole["lines"] is None and whole["next_cursor"] is None and whole["fingerprint"]
    all_lines = [(c["name"], line) for c in whole["components"] for line in c["lines"]]
    ids = sorted(line["id"] for _, line in all_lines)
    assert len(ids) == len(set(ids)) == whole["line_count"] > 25
    assert {c["name"] for c in whole["components"]} == {"Team attainment", "Team override", "Manager bonus"}

    for limit in (1, 4, 1000):
        pages = walk_api(client, tokens["cro"], limit)
        assert len(pages) == -(-len(ids) // limit)
        paged = [line for body in pages for line in body["lines"]]
        assert [line["id"] for line in paged] == ids, "every line once, in id order, none missing"
        for body in pages:
            assert totals_of(body) == totals_of(whole), "totals are the same on every page"
            # components[].lines hold the page's lines too, each under its own component
            nested = sorted((c["name"], line["id"]) for c in body["components"] for line in c["lines"])
            assert nested == sorted((line["component"], line["id"]) for line in body["lines"])
            assert body["reproducible"] is None and body["fingerprint"] == "" and body["offline_notes"]
        # the pages add up to the total, and to each component's amount
        assert sum(Decimal(line["amount"]) for line in paged) == Decimal(whole["total"])
        for c in whole["components"]:
            assert sum(Decimal(line["amount"]) for line in paged if line["component"] == c["name"]) == Decimal(
                c["amount"]
            )
        by_id = {line["id"]: (name, line) for name, line in all_lines}
        assert all(by_id[line["id"]] == (line["component"], _plain(line)) for line in paged)

    # per report: the lines' sums by the direct report the deal's owner sits under
    expected: dict[tuple[str, str | None], tuple[Decimal, int]] = {}
    for _, line in all_lines:
        if line["deal"] is None:
            key: tuple[str, str | None] = ("none", None)
        else:
            through = THROUGH[OWNERS[line["deal"]]]
            key = ("report", through) if through else ("outside", None)
        amount, count = expected.get(key, (Decimal(0), 0))
        expected[key] = (amount + Decimal(line["amount"]), count + 1)
    got = {(r["group"], r["report"]): (Decimal(r["amount"]), r["line_count"]) for r in whole["reports"]}
    assert got == expected
    assert [r["report"] for r in whole["reports"] if r["group"] == "report"] == ["lee@example.com", "mia@example.com"]
    assert sum(Decimal(r["amount"]) for r in whole["reports"]) == Decimal(whole["total"])
    # the override on D-4 (owned outside, shared with lee) is the "outside" group's
    assert got[("outside", None)][1] >= 1


def _plain(line: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in line.items() if k != "component"}


def page_rows(text: str) -> list[int]:
    """The line ids of the statement rows in an HTML page or partial."""
    return [int(n) for n in re.findall(r'<tr id="line-(\d+)"', text)]


def more_link(text: str) -> str | None:
    found = re.search(r'<tr class="more-lines[^"]*">\s*<td[^>]*>\s*<a class="button" href="([^"#]+)', text)
    return html.unescape(found.group(1)) if found else None


def test_the_statement_page_shows_totals_first_and_pages_the_lines_with_and_without_javascript(
    client: TestClient, engine: Engine, make_person
) -> None:
    tokens = setup(client, engine, make_person)
    add_lines(engine, 2 * PAGE_LINES + 17)
    whole = client.get(f"{API}?period=2026-Q1&proof=true", headers=tokens["cro"]).json()
    ids = sorted(line["id"] for c in whole["components"] for line in c["lines"])
    sign_in(client, "cro@example.com")
    first = client.get(f"{PAGE}?period=2026-Q1")
    assert first.status_code == 200
    text = first.text
    # totals first: per component and per report, before any line
    assert text.index('id="statement-totals"') < text.index('id="statement-lines"')
    assert "By report" in text and "Mia" in text and "mia@example.com and their reports" in text
    for c in whole["components"]:
        assert f"{int(Decimal(c['amount'])):,}" in text
    assert f"Total {Decimal(whole['total']):,.2f} USD" in text

    # without JavaScript: "Show more" is a link to the whole page with the next rows
    seen, url, pages = page_rows(text), more_link(text), 1
    assert len(seen) == PAGE_LINES and url
    while url:
        page = client.get(url)
        assert page.status_code == 200 and "<html" in page.text and 'id="statement-totals"' in page.text
        rows = page_rows(page.text)
        assert 0 < len(rows) <= PAGE_LINES
        seen += rows
        url, pages = more_link(page.text), pages + 1
    assert seen == ids and pages == 3

    # with htmx: the link's hx-get answers only the next rows (and the next link), appended in its place
    assert 'hx-get="' in text and 'hx-target="closest tr"' in text
    seen, url = page_rows(text), more_link(text)
    while url:
        partial = client.get(url, headers={"HX-Request": "true"})
        assert partial.status_code == 200 and "<html" not in partial.text and "statement-totals" not in partial.text
        seen += page_rows(partial.text)
        url = more_link(partial.text)
    assert seen == ids

    # the page honours limit too, and keeps it in its "Show more" link
    small = client.get(f"{PAGE}?period=2026-Q1&limit=7")
    assert page_rows(small.text) == ids[:7] and "limit=7" in (more_link(small.text) or "")
    assert page_rows(client.get(more_link(small.text) or "", headers={"HX-Request": "true"}).text) == ids[7:14]

    # the component filter still works, and pages too
    override = next(c for c in whole["components"] if c["name"] == "Team override")
    url = f"{PAGE}?period=2026-Q1&component=Team+override"
    filtered = client.get(url, headers={"HX-Request": "true"})
    assert "<html" not in filtered.text and "Team attainment" not in filtered.text
    seen, url = page_rows(filtered.text), more_link(filtered.text)
    while url:
        partial = client.get(url, headers={"HX-Request": "true"})
        seen += page_rows(partial.text)
        url = more_link(partial.text)
    assert seen == sorted(line["id"] for line in override["lines"]) and len(seen) == override["line_count"]


def test_bad_limit_or_cursor_is_a_400_naming_it(client: TestClient, engine: Engine, make_person) -> None:
    tokens = setup(client, engine, make_person)
    for limit in ("0", "1001", "-3", "ten"):
        response = client.get(f"{API}?period=2026-Q1&limit={limit}", headers=tokens["cro"])
        assert response.status_code == 400 and "limit" in response.text, (limit, response.text)
    for cursor in ("not-a-cursor!", "%%%", make_cursor("2026-01-10", "D-1"), make_cursor("line", "x1")):
        response = client.get(f"{API}?period=2026-Q1&limit=5&cursor={cursor}", headers=tokens["cro"])
        assert response.status_code == 400 and response.json()["extra"]["field"] == "cursor", response.text
        assert client.get(f"{API}?period=2026-Q1&cursor={cursor}", headers=tokens["cro"]).status_code == 400
    sign_in(client, "cro@example.com")
    assert client.get(f"{PAGE}?period=2026-Q1&cursor=not-a-cursor").status_code == 400
    for limit in ("0", "1001", "ten"):
        response = client.get(f"{PAGE}?period=2026-Q1&limit={limit}")
        assert response.status_code == 400 and "limit" in response.text, limit
    # a good cursor in a period without a statement: no lines, no error
    cursor = client.get(f"{API}?period=2026-Q1&limit=1", headers=tokens["cro"]).json()["next_cursor"]
    for headers in ({}, {"HX-Request": "true"}):
        empty = client.get(f"{PAGE}?period=2025-Q1&cursor={cursor}", headers=headers)
        assert empty.status_code == 200 and page_rows(empty.text) == [], empty.text


def test_paging_keeps_the_statement_rules_of_who_may_read_it(client: TestClient, engine: Engine, make_person) -> None:
    tokens = setup(client, engine, make_person)
    first = client.get(f"{API}?period=2026-Q1&limit=2", headers=tokens["cro"]).json()
    cursor = first["next_cursor"]
    assert cursor
    expected = {"cro": 200, "finance": 200, "mia": 404, "ana": 404, "zoe": 404, "admin": 403}
    for who, status in expected.items():
        for query in ("limit=2", f"limit=2&cursor={cursor}", f"cursor={cursor}"):
            response = client.get(f"{API}?period=2026-Q1&{query}", headers=tokens[who])
            assert response.status_code == status, (who, query)
    # down the chain: mia's statement is cro's to page, not ana's
    assert client.get("/api/v1/statements/mia@example.com?limit=1", headers=tokens["cro"]).status_code == 200
    assert client.get("/api/v1/statements/mia@example.com?limit=1", headers=tokens["ana"]).status_code == 404
    sign_in(client, "ana@example.com")
    assert client.get(f"{PAGE}?period=2026-Q1&cursor={cursor}").status_code == 404
    assert client.get(f"{PAGE}?period=2026-Q1&cursor={cursor}", headers={"HX-Request": "true"}).status_code == 404
    assert client.get(f"{PAGE}/check?period=2026-Q1").status_code == 404


def _cost(engine: Engine, call: Callable[[], Any]) -> tuple[int, int, Any]:
    """How many SQL statements ``call`` issued, how many payout lines it loaded as objects, and its answer."""
    statements = lines = 0

    def statement(*_: Any) -> None:
        nonlocal statements
        statements += 1

    def line(*_: Any) -> None:
        nonlocal lines
        lines += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(PayoutLine, "load", line)
    try:
        answer = call()
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(PayoutLine, "load", line)
    return statements, lines, answer


def test_the_first_page_costs_the_same_queries_and_at_most_a_page_of_lines_however_long_the_statement(
    client: TestClient, engine: Engine, make_person
) -> None:
    tokens = setup(client, engine, make_person)
    sign_in(client, "cro@example.com")
    limit = 50
    api, page = f"{API}?period=2026-Q1&limit={limit}", f"{PAGE}?period=2026-Q1"

    def costs() -> dict[str, tuple[int, int, Any]]:
        found = {}
        for url, headers in ((api, tokens["cro"]), (page, {})):
            assert client.get(url, headers=headers).status_code == 200  # caches warm (session, token, period)
            found[url] = _cost(engine, lambda url=url, headers=headers: client.get(url, headers=headers))
        return found

    add_lines(engine, PROOF_INLINE_LINES + 1)  # past the size whose proof the page checks on every view
    some = costs()
    add_lines(engine, 2 * PROOF_INLINE_LINES)  # three times the lines
    many = costs()
    for url in (api, page):
        assert some[url][0] == many[url][0], f"{url}: {some[url][0]} SQL statements, then {many[url][0]}"
        assert some[url][0] < 40, some[url][0]
        for _, loaded, _ in (some[url], many[url]):
            assert loaded <= limit, f"{url} loaded {loaded} payout lines"
    for _, _, response in (some[api], many[api]):
        body = response.json()
        assert len(body["lines"]) == limit and body["next_cursor"]
    assert many[api][2].json()["line_count"] > 3 * PROOF_INLINE_LINES
    for _, _, response in (some[page], many[page]):
        assert len(page_rows(response.text)) == PAGE_LINES
        assert "Check it now" in response.text and "Checked just now" not in response.text
    # the page's size does not grow with the statement's lines
    assert len(many[page][2].content) < len(some[page][2].content) * 1.05

    # the check, when asked: the proof partial (htmx) or a page of its own
    check = client.get(f"{PAGE}/check?period=2026-Q1", headers={"HX-Request": "true"})
    assert check.status_code == 200 and 'id="check-yourself"' in check.text and "<html" not in check.text
    assert "Fingerprint" in check.text
    assert "<html" in client.get(f"{PAGE}/check?period=2026-Q1").text


def test_a_short_statement_still_shows_its_proof_and_a_reps_statement_has_no_report_table(
    client: TestClient, engine: Engine, make_person
) -> None:
    setup(client, engine, make_person)
    sign_in(client, "ana@example.com")
    text = client.get("/statements/ana@example.com?period=2026-Q1").text
    assert "Fingerprint" in text and "Check it now" not in text and "Show more lines" not in text
    assert "By report" not in text


def test_per_report_totals_follow_a_deal_to_its_new_owner(client: TestClient, engine: Engine, make_person) -> None:
    """Per-report totals come from the running totals, grouped by the owner each line was computed for
    (``payout_line.deal_owner_id``): when D-1 moves from ana (under mia) to lee, its lines on cro's statement are
    recomputed for lee and move to lee's row, and the running totals still equal the lines."""
    from commissions.calculation.check import check_period

    tokens = setup(client, engine, make_person)

    def by_report() -> dict[str | None, tuple[str, int]]:
        body = client.get(API + "?period=2026-Q1", headers=tokens["finance"]).json()
        return {r["report"]: (r["amount"], r["line_count"]) for r in body["reports"] if r["group"] == "report"}

    before = by_report()
    moved = example_deal("D-1", "60000", "2026-01-10", owner="lee@example.com")
    assert client.post("/api/v1/deals", json=moved, headers=token_for(engine, "admin")).status_code == 200
    recalc_period(engine, "2026-Q1")
    after = by_report()
    assert after["mia@example.com"][1] == before["mia@example.com"][1] - 2  # D-1's team credit and override
    assert after["lee@example.com"][1] == before["lee@example.com"][1] + 2
    assert Decimal(after["mia@example.com"][0]) < Decimal(before["mia@example.com"][0])
    assert check_period(engine, "2026-Q1").ok
