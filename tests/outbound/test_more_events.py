"""deal.credited (per person), badge.granted and contest.ended reach the outbox in their change's transaction."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from commissions.core.db import transaction
from commissions.core.periods import ensure_period
from leaderboard.badges import evaluate
from leaderboard.contests.results import record_results
from leaderboard.models import Contest
from tests.deals.test_deals_api import BODY, token_for
from tests.finance_fixtures import person_id
from tests.leaderboard.test_contests import END_INSTANT, add_deal, new_contest
from tests.outbound.conftest import events, subscribe

URL = "https://hooks.example.com/in"


def test_a_split_deal_is_credited_to_each_person(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    make_person("bo@example.com")
    crm = token_for(engine, "admin")
    subscribe(engine, URL, ["deal.credited"])
    body = {
        **BODY,
        "splits": [{"person": "ana@example.com", "share": "60"}, {"person": "bo@example.com", "share": "40"}],
    }
    assert client.post("/api/v1/deals", json=body, headers=crm).status_code == 201
    credited = sorted((e.data["person"], e.data["share"]) for e in events(engine, "deal.credited"))
    assert credited == [("ana@example.com", "60"), ("bo@example.com", "40")]
    assert events(engine, "deal.recorded") == []  # not subscribed: not written
    cancelled = {**BODY, "external_id": "SF-9", "status": "cancelled", "cancelled_at": "2026-02-10"}
    assert client.post("/api/v1/deals", json=cancelled, headers=crm).status_code == 201
    assert len(events(engine, "deal.credited")) == 2  # a cancellation credits nobody


def test_badges_and_contests_announce_themselves(engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    ana = person_id(engine, "ana@example.com")
    subscribe(engine, URL, ["badge.granted", "contest.ended"])
    contest = new_contest(engine)
    add_deal(engine, "W1", ana, 100_00, date(2026, 12, 8))
    with transaction(engine) as s:
        key = ensure_period(s, "2026-Q4").key
    with transaction(engine) as s:
        report = evaluate(s, key)
    assert report.granted
    badges = events(engine, "badge.granted")
    assert {e.data["person"] for e in badges} == {"ana@example.com"}
    assert len(badges) == len(report.granted) and all(e.data["period"] == key for e in badges)

    with transaction(engine) as s:
        assert record_results(s, s.get(Contest, contest), now=END_INSTANT)
    [ended] = events(engine, "contest.ended")
    assert ended.data["contest"] == contest and ended.data["winners"] == ["Ana"]
    assert ended.data["standings"][0]["name"] == "Ana" and "value" not in ended.data["standings"][0]
