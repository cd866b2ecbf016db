"""The leaderboard shows attainment by the one rounding rule (half-up), as the statement does: 1.3955 is
139.6 % everywhere, never 139.5 % (issue 17: the board used to truncate)."""

from __future__ import annotations

import re

from sqlalchemy import Engine

from tests.calc_fixtures import example_deal, store_plan, store_quota
from tests.conftest import sign_in
from tests.deals.test_deals_api import token_for


def test_board_table_tv_api_and_statement_round_alike(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    make_person("bo@example.com")
    store_plan(engine, ["ana@example.com", "bo@example.com"])
    store_quota(engine, "ana@example.com", 100_000)
    store_quota(engine, "bo@example.com", 100_000)
    crm = token_for(engine, "admin")
    # 139,550 of 100,000: 1.3955 (half-up 139.6 %); 83,449 of 100,000: 0.83449 (83.4 % on pages, "0.8345" in the API)
    client.post("/api/v1/deals", json=example_deal("D-1", "139550", "2026-01-10"), headers=crm)
    client.post("/api/v1/deals", json=example_deal("D-2", "83449", "2026-01-10", owner="bo@example.com"), headers=crm)
    sign_in(client, "ana@example.com")
    board = client.get("/leaderboard?period=2026-Q1").text
    shown = dict(re.findall(r'data-person="([^"]+)".*?<span class="attainment">([^<]+)</span>', board, flags=re.S))
    assert shown == {"ana@example.com": "139.6%", "bo@example.com": "83.4%"}
    statement = client.get("/statements/ana@example.com?period=2026-Q1").text
    assert re.findall(r'<span class="attainment"[^>]*>([^<]+)</span>', statement) == ["139.6%"]
    tv = client.get("/leaderboard/tv?period=2026-Q1").text
    assert '<span class="pct attainment">139.6%</span>' in tv
    api = client.get("/api/v1/leaderboard?period=2026-Q1", headers=token_for(engine, "rep", "ana@example.com")).json()
    assert {e["person"]: e["attainment"] for e in api["entries"]} == {
        "ana@example.com": "1.3955",
        "bo@example.com": "0.8345",  # 0.83449: half-up to four places
    }
    assert "What the figures mean" in board and "credits to them in 2026-Q1" in board
