"""The deal list (/deals): search, filters, sort and keyset paging, server-side and within the caller's
visibility; bad parameters answered naming the parameter (commissions/deals/listing.py)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from commissions.deals.csv_import import import_deals
from commissions.deals.listing import make_list_cursor, read_filter
from tests.conftest import sign_in

HEADER = "external_id,name,account,owner,amount,currency,closed_at,type,product,status,cancelled_at,splits\n"
OWNERS = ["ana@example.com", "bo@example.com", "cy@example.com", "mgr@example.com"]
TYPES = ["new", "expansion", "renewal"]
ACCOUNTS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli"]


def seed_rows() -> list[dict[str, object]]:
    """97 deals over 2026 (so a page size of 7 ends on a partial page), some with equal amounts and dates,
    names that tie, cancellations and one split of ana's deal with cy (another team)."""
    rows = []
    start = date(2026, 1, 1)
    for i in range(97):
        closed = start + timedelta(days=(i * 11) % 360)
        cancelled = i % 9 == 0
        rows.append(
            {
                "external_id": f"D-{i:03d}",
                "name": f"{ACCOUNTS[i % 5]} {['platform', 'seats', 'renewal'][i % 3]}",
                "account": ACCOUNTS[(i * 3) % 5],
                "owner": OWNERS[i % 4],
                "amount_minor": (1000 + (i % 13) * 250) * 100,  # repeats: ties broken by id
                "closed_at": closed,
                "type": TYPES[i % 3],
                "status": "cancelled" if cancelled else "won",
                "cancelled_at": closed if cancelled else None,
                "splits": "ana@example.com:50;cy@example.com:50" if i == 4 else "",
            }
        )
    return rows


ROWS = seed_rows()


@pytest.fixture
def world(engine: Engine, make_person) -> Engine:
    make_person("mgr@example.com", "manager", team="East")
    make_person("ana@example.com", manager="mgr@example.com", team="East")
    make_person("bo@example.com", manager="mgr@example.com", team="East")
    make_person("west@example.com", "manager", team="West")
    make_person("cy@example.com", manager="west@example.com", team="West")
    make_person("fin@example.com", "finance")
    make_person("root@example.com", "admin")
    body = HEADER + "".join(
        f"{r['external_id']},{r['name']},{r['account']},{r['owner']},{r['amount_minor'] // 100},USD,"
        f"{r['closed_at']},{r['type']},Pro,{r['status']},{r['cancelled_at'] or ''},{r['splits']}\n"
        for r in ROWS
    )
    report = import_deals(engine, body.encode(), by=None, commit=True)
    assert report.committed, report.errors
    return engine


def visible_to(who: str) -> list[dict[str, object]]:
    if who in ("fin@example.com", "root@example.com"):
        return ROWS
    if who == "mgr@example.com":
        team = {"ana@example.com", "bo@example.com", "mgr@example.com"}
        return [r for r in ROWS if r["owner"] in team or "ana@example.com" in str(r["splits"])]
    return [r for r in ROWS if r["owner"] == who or who in str(r["splits"])]


def listed_ids(html: str) -> list[str]:
    return re.findall(r'<small class="muted">(D-\d{3})</small>', html)


def total_of(html: str) -> int:
    found = re.search(r'id="deal-count">([\d,]+) of', html)
    assert found, html[:2000]
    return int(found.group(1).replace(",", ""))


def walk(client: TestClient, query: str) -> tuple[list[str], int, str]:
    """Every page of the list from the first, following "Next"; (ids in order, the total shown, the last page)."""
    html = client.get(f"/deals?{query}").text
    total, ids, pages = total_of(html), [], 0
    while True:
        ids += listed_ids(html)
        pages += 1
        assert pages < 100
        following = re.search(r'rel="next" class="button" href="([^"]+)"', html)
        if not following:
            return ids, total, html
        html = client.get(unescape(following.group(1))).text
        assert total_of(html) == total


def expected(rows: list[dict[str, object]], key: str, order: str) -> list[str]:
    field = {"closed_at": "closed_at", "amount": "amount_minor", "name": "name"}[key]
    # ties broken by id, which follows the import order (= external id order here)
    ordered = sorted(rows, key=lambda r: (r[field], r["external_id"]), reverse=order == "desc")
    return [str(r["external_id"]) for r in ordered]


CASES = [
    ("period=all", lambda r: True),
    ("period=2026-Q2", lambda r: date(2026, 4, 1) <= r["closed_at"] <= date(2026, 6, 30)),
    ("period=2026&q=globex", lambda r: "globex" in f"{r['name']} {r['account']}".lower()),
    ("period=all&q=d-01", lambda r: str(r["external_id"]).startswith("D-01")),
    ("period=all&status=cancelled", lambda r: r["status"] == "cancelled"),
    ("period=all&type=renewal&status=won", lambda r: r["type"] == "renewal" and r["status"] == "won"),
    ("period=all&owner=bo%40example.com", lambda r: r["owner"] == "bo@example.com"),
    ("period=2026-03", lambda r: date(2026, 3, 1) <= r["closed_at"] <= date(2026, 3, 31)),
]


@pytest.mark.parametrize("who", ["fin@example.com", "mgr@example.com", "ana@example.com"])
@pytest.mark.parametrize(("sort", "order"), [("closed_at", "desc"), ("amount", "asc"), ("name", "desc")])
def test_cursor_walk_adds_up_to_the_filtered_total(
    client: TestClient, world: Engine, who: str, sort: str, order: str
) -> None:
    sign_in(client, who)
    for query, keep in CASES:
        rows = [r for r in visible_to(who) if keep(r)]
        ids, total, _ = walk(client, f"{query}&sort={sort}&order={order}&limit=7")
        assert total == len(rows), (who, query)
        assert len(ids) == len(set(ids)) == total, (who, query)
        assert ids == expected(rows, sort, order), (who, query, sort, order)


def test_team_filter_and_the_paging_links_keep_every_filter(client: TestClient, world: Engine) -> None:
    sign_in(client, "fin@example.com")
    page = client.get("/deals?period=all").text
    west = re.search(r'<option value="(\d+)">West</option>', page)
    assert west, "finance may filter by team"
    ids, total, _ = walk(client, f"period=all&team={west.group(1)}&type=new&limit=5")
    rows = [r for r in ROWS if r["owner"] == "cy@example.com" and r["type"] == "new"]
    assert total == len(rows) and sorted(ids) == sorted(str(r["external_id"]) for r in rows)
    first = client.get(f"/deals?period=all&team={west.group(1)}&type=new&limit=5").text
    link = unescape(re.search(r'rel="next" class="button" href="([^"]+)"', first).group(1))
    assert f"team={west.group(1)}" in link and "type=new" in link and "limit=5" in link and "period=all" in link


def test_previous_pages_walk_back_to_the_first(client: TestClient, world: Engine) -> None:
    sign_in(client, "fin@example.com")
    query = "period=all&sort=amount&order=desc&limit=10"
    forward, _, last = walk(client, query)
    pages: list[list[str]] = []
    html = last
    while True:
        pages.insert(0, listed_ids(html))
        back = re.search(r'rel="prev" href="([^"]+)"', html)
        if not back:
            break
        html = client.get(unescape(back.group(1))).text
    assert [i for p in pages for i in p] == forward
    assert all(len(p) == 10 for p in pages[:-1])
    assert 'rel="prev"' not in client.get(f"/deals?{query}").text


def test_a_rep_sees_only_their_deals_whatever_the_filters(client: TestClient, world: Engine) -> None:
    sign_in(client, "cy@example.com")
    ids, total, _ = walk(client, "period=all&limit=50")
    assert set(ids) == {str(r["external_id"]) for r in visible_to("cy@example.com")}
    assert "D-004" in ids  # ana's deal cy shares by a split
    # filtering by someone else's deals shows nothing of theirs (and says nothing about them)
    ids, total, _ = walk(client, "period=all&owner=bo%40example.com")
    assert (ids, total) == ([], 0)
    ids, _, _ = walk(client, "period=all&owner=ana%40example.com")
    assert ids == ["D-004"]


def test_the_period_defaults_to_this_quarter(client: TestClient, world: Engine) -> None:
    today = date.today()
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    sign_in(client, "fin@example.com")
    assert f"closed in {quarter}" in client.get("/deals").text
    assert "every period" in client.get("/deals?period=ALL").text


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("period=2026-Q5", "period"),
        ("period=soon", "period"),
        ("sort=owner", "sort"),
        ("order=sideways", "order"),
        ("status=lost", "status"),
        ("type=upsell", "type"),
        ("team=east", "team"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("q=" + "x" * 101, "q"),
        ("cursor=garbage", "cursor"),
        ("cursor=ZGVhbHN8MQ", "cursor"),
    ],
)
def test_bad_parameters_are_named(client: TestClient, world: Engine, query: str, name: str) -> None:
    sign_in(client, "fin@example.com")
    page = client.get(f"/deals?{query}")
    assert page.status_code == 400
    problem = re.search(r'id="deal-list-problem"><strong>(\w+)</strong>: ([^<]+)<', page.text)
    assert problem and problem.group(1) == name, page.text[-1500:]
    assert 'id="deal-filters"' in page.text, "the form stays, to fix the value"
    swapped = client.get(f"/deals?{query}", headers={"HX-Request": "true"})
    assert swapped.status_code == 200 and f"<strong>{name}</strong>" in swapped.text
    assert "<html" not in swapped.text


def test_a_cursor_of_another_sort_or_list_is_refused(client: TestClient, world: Engine) -> None:
    sign_in(client, "fin@example.com")
    first = client.get("/deals?period=all&sort=amount&limit=5").text
    cursor = re.search(r"cursor=([\w-]+)", unescape(first)).group(1)
    assert client.get(f"/deals?period=all&sort=amount&limit=5&cursor={cursor}").status_code == 200
    assert client.get(f"/deals?period=all&sort=name&limit=5&cursor={cursor}").status_code == 400
    from commissions.core.paging import make_cursor

    statement_cursor = make_cursor("lines", "12")
    assert client.get(f"/deals?period=all&cursor={statement_cursor}").status_code == 400
    api = client.get(f"/api/v1/deals?cursor={cursor}")
    assert api.status_code == 400 and "cursor" in api.text


def test_htmx_gets_the_table_only_and_a_history_restore_the_page(client: TestClient, world: Engine) -> None:
    sign_in(client, "fin@example.com")
    part = client.get("/deals?period=all&q=hooli", headers={"HX-Request": "true"})
    assert part.text.lstrip().startswith("{#") or part.text.lstrip().startswith('<section id="deals-table"')
    assert "<html" not in part.text and listed_ids(part.text)
    restore = client.get(
        "/deals?period=all&q=hooli", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.text and 'id="deal-filters"' in restore.text


def test_search_matches_id_name_and_account_case_blind_and_literally(client: TestClient, world: Engine) -> None:
    sign_in(client, "fin@example.com")
    by_account = walk(client, "period=all&q=UMBRELLA&limit=200")[0]
    assert set(by_account) == {
        str(r["external_id"]) for r in ROWS if "umbrella" in f"{r['name']} {r['account']}".lower()
    }
    assert walk(client, "period=all&q=%25")[1] == 0  # % is a character, not a wildcard
    assert walk(client, "period=all&q=_")[1] == 0


def test_the_recorded_notice_links_the_deal_only_for_those_who_see_it(client: TestClient, world: Engine) -> None:
    sign_in(client, "ana@example.com")
    page = client.get("/deals?recorded=D-000").text
    assert "Deal D-000 recorded." in page and re.search(r'href="/deals/\d+">See the deal', page)
    assert "See the deal" not in client.get("/deals?recorded=D-001").text  # bo's deal


def test_read_filter_and_cursor_round_trip() -> None:
    f = read_filter({"period": "2026-Q1", "sort": "name", "order": "asc", "limit": "5", "q": " acme "})
    assert (f.period.key if f.period else None, f.q, f.limit) == ("2026-Q1", "acme", 5)
    assert f.query() == {"q": "acme", "period": "2026-Q1", "sort": "name", "order": "asc", "limit": "5"}
    assert read_filter({}, today=date(2026, 5, 1)).period.key == "2026-Q2"  # type: ignore[union-attr]
    from commissions.deals.listing import ListedDeal, read_list_cursor

    row = ListedDeal(7, "X|1", "A|b", "", "", "", 5, "USD", date(2026, 1, 2), "new", "", "won")
    assert read_list_cursor(f, make_list_cursor(f, "p", row)) == ("p", "A|b", 7)
