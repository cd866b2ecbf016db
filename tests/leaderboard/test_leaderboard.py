"""The leaderboard: ranking and ties, around-me, views, movement, privacy, the API's shape, the live stream."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

import anyio
from sqlalchemy import Engine
from sqlmodel import select

import leaderboard.models  # noqa: F401  (the snapshot table is emptied between tests)
from commissions.core.db import transaction
from commissions.core.money import format_money
from commissions.core.periods import ensure_period, parse_period_key
from commissions.models import PayeeSummary, Person, Plan, PlanVersion, Team
from leaderboard.models import LeaderboardSnapshot
from leaderboard.ranking import around, competition_rank, movement
from leaderboard.service import Celebration, board, take_snapshot
from leaderboard.stream import messages_for
from tests.calc_fixtures import example_deal, store_plan, store_quota
from tests.conftest import read, sign_in
from tests.deals.test_deals_api import token_for

PERIOD = "2026-Q1"
SECRET_TOTALS = [987_654_321, 876_543_219, 765_432_198, 654_321_987, 543_219_876, 432_198_765]


# --- ranking: pure, with hand-made numbers ---------------------------------------------------------------


def _rank(rows: list[tuple[str, int | None]]) -> list[tuple[int, str]]:
    return [
        (r.rank, r.item[0])
        for r in competition_rank(rows, value=lambda r: r[1], name=lambda r: r[0], key=lambda r: r[0])
    ]


def test_competition_ranking_shares_ranks_and_skips_after_a_tie() -> None:
    rows = [("Dan", 500), ("ana", 900), ("Cy", 700), ("Bo", 700), ("Eve", 100)]
    assert _rank(rows) == [(1, "ana"), (2, "Bo"), (2, "Cy"), (4, "Dan"), (5, "Eve")]


def test_three_way_tie_at_the_top_and_people_without_a_value_last() -> None:
    rows = [("Zed", None), ("Cy", 10), ("Ann", 10), ("Bo", 10), ("Al", None), ("Dee", 3)]
    assert _rank(rows) == [(1, "Ann"), (1, "Bo"), (1, "Cy"), (4, "Dee"), (5, "Al"), (5, "Zed")]


def test_ranking_exact_decimals_and_empty_input() -> None:
    rows = [("a", Decimal("2.50")), ("b", Decimal("2.5")), ("c", Decimal("2.49"))]
    assert _rank(rows) == [(1, "a"), (1, "b"), (3, "c")]
    assert competition_rank([], value=lambda r: r, name=str) == []


def test_around_me_window() -> None:
    rows = list(range(10))
    assert around(rows, lambda r: r == 5, size=2) == [3, 4, 5, 6, 7]
    assert around(rows, lambda r: r == 0, size=2) == [0, 1, 2]
    assert around(rows, lambda r: r == 9, size=3) == [6, 7, 8, 9]
    assert around(rows, lambda r: r == 42, size=1) == [0, 1, 2]  # not on the board: the top


def test_movement_is_yesterdays_rank_minus_todays() -> None:
    assert movement(5, 2) == 3 and movement(1, 4) == -3 and movement(2, 2) == 0 and movement(None, 1) is None


# --- stored summaries --------------------------------------------------------------------------------------


def _summaries(engine: Engine, make_person, figures: dict[str, tuple]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """figures: email -> (team, team kind, role, plan metric, credited_minor, quota_minor, attainment_ppm)."""
    ids: dict[str, int] = {}
    with transaction(engine) as s:
        for team, kind in {(f[0], f[1]) for f in figures.values()}:
            s.add(Team(name=team, kind=kind))
    for email, (team, _kind, role, *_rest) in figures.items():
        ids[email] = make_person(email, role, team=team).id
    with transaction(engine) as s:
        period = ensure_period(s, PERIOD)
        plans = {}
        for n, (email, (_t, _k, _r, metric, credited, quota, ppm)) in enumerate(figures.items()):
            if metric not in plans:
                plan = Plan(name=f"P {metric}", currency="USD", period_kind="quarter")
                s.add(plan)
                s.flush()
                version = PlanVersion(plan_id=plan.id, version=1, document="{}", effective_from=date(2026, 1, 1))
                s.add(version)
                s.flush()
                plans[metric] = (plan.id, version.id)
            s.add(
                PayeeSummary(
                    person_id=ids[email],
                    period_id=period.id,
                    plan_id=plans[metric][0],
                    plan_version_id=plans[metric][1],
                    metric=metric,
                    currency="USD",
                    credited_minor=credited,
                    quota_minor=quota,
                    attainment_ppm=ppm,
                    total_minor=SECRET_TOTALS[n % len(SECRET_TOTALS)],
                )
            )
    return ids


FIGURES = {
    "ana@example.com": ("East", "sales", "rep", "bookings", 12_000_000, 10_000_000, 1_200_000),
    "bo@example.com": ("East", "sales", "rep", "bookings", 9_000_000, 10_000_000, 900_000),
    "cy@example.com": ("West", "sales", "rep", "bookings", 18_000_000, 20_000_000, 900_000),
    "dee@example.com": ("West", "sales", "rep", "bookings", 3_000_000, 10_000_000, 300_000),
    "boss@example.com": ("East", "sales", "manager", "bookings", 40_000_000, 10_000_000, 4_000_000),
    "mo@example.com": ("Growth", "marketing", "rep", "sourced_revenue", 5_000_000, 4_000_000, 1_250_000),
    "mi@example.com": ("Growth", "marketing", "rep", "sourced_revenue", 8_000_000, 10_000_000, 800_000),
}


def _names(b) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    return [(e.rank, e.email.split("@")[0]) for e in b.rows]


def test_company_team_and_marketing_views(engine: Engine, make_person) -> None:
    ids = _summaries(engine, make_person, FIGURES)
    key = parse_period_key(PERIOD)
    east = read(engine, lambda s: s.exec(select(Team.id).where(Team.name == "East")).one())
    growth = read(engine, lambda s: s.exec(select(Team.id).where(Team.name == "Growth")).one())
    from sqlmodel import Session

    with Session(engine) as s:
        # company: sales reps only (no manager, no marketer); by attainment, Bo and Cy tie at 90 %
        assert _names(board(s, period=key)) == [(1, "ana"), (2, "bo"), (2, "cy"), (4, "dee")]
        assert _names(board(s, period=key, metric="bookings")) == [(1, "cy"), (2, "ana"), (3, "bo"), (4, "dee")]
        assert _names(board(s, period=key, view="team", team_id=east)) == [(1, "ana"), (2, "bo")]
        assert _names(board(s, period=key, view="marketing")) == [(1, "mo"), (2, "mi")]
        assert _names(board(s, period=key, view="marketing", metric="sourced_revenue")) == [(1, "mi"), (2, "mo")]
        assert _names(board(s, period=key, view="team", team_id=growth)) == [(1, "mo"), (2, "mi")]
        # sales reps have no sourced revenue: all tied last, by name
        assert _names(board(s, period=key, metric="sourced_revenue")) == [(1, "ana"), (1, "bo"), (1, "cy"), (1, "dee")]
        viewer = board(s, period=key, viewer_id=ids["cy@example.com"]).viewer
        assert viewer is not None and viewer.email == "cy@example.com" and viewer.percent == Decimal("90.0")
        assert board(s, period=parse_period_key("2020-Q1")).rows == []


def test_people_a_metric_does_not_count_get_no_place_and_no_podium(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    """The company board by sourced revenue: salespeople have none, so nobody stands on a podium of three "1"s;
    the page says who is counted by it instead."""
    _summaries(engine, make_person, FIGURES)
    sign_in(client, "ana@example.com")
    page = client.get(f"/leaderboard?period={PERIOD}&metric=sourced_revenue").text
    assert 'class="podium"' not in page
    assert "Nobody on this board is counted by sourced revenue in 2026-Q1." in page
    assert "Marketers are: choose the Marketing view." in page
    assert (
        page.count('<td class="num rank"><span class="muted" title="not counted by sourced revenue">–</span></td>') == 4
    )
    marketing = client.get(f"/leaderboard?period={PERIOD}&view=marketing&metric=sourced_revenue").text
    assert 'class="podium"' in marketing and "Nobody on this board is counted" not in marketing
    # the funnel metrics are marketers' too: sales reps are not counted by them (all were "Rank 1" at 0)
    for metric, words in (("mqls", "mqls"), ("sqls", "sqls"), ("pipeline", "sourced pipeline")):
        funnel = client.get(f"/leaderboard?period={PERIOD}&metric={metric}").text
        assert 'class="podium"' not in funnel, metric
        assert (
            f"Nobody on this board is counted by {words} in 2026-Q1. Marketers are: choose the Marketing view."
            in funnel
        )
        on_marketing = client.get(f"/leaderboard?period={PERIOD}&view=marketing&metric={metric}").text
        assert "Nobody on this board is counted" not in on_marketing, metric  # marketers at 0 are ranked
    assert '<td class="num rank">1</td>' in marketing
    # by attainment, someone without a quota is listed last with no place
    by_attainment = client.get(f"/leaderboard?period={PERIOD}").text
    assert "Nobody on this board is counted" not in by_attainment and 'class="podium"' in by_attainment


def test_movement_against_a_snapshot_from_yesterday(client, engine: Engine, make_person) -> None:
    ids = _summaries(engine, make_person, FIGURES)
    today = date.today()
    with transaction(engine) as s:  # yesterday: Dee led, Ana was third
        period_id = ensure_period(s, PERIOD).id
        for email, rank in {"dee@example.com": 1, "bo@example.com": 2, "ana@example.com": 3}.items():
            s.add(
                LeaderboardSnapshot(
                    period_id=period_id, person_id=ids[email], rank=rank, taken_on=today - timedelta(days=1)
                )
            )
        s.add(
            LeaderboardSnapshot(
                period_id=period_id, person_id=ids["cy@example.com"], rank=1, taken_on=today - timedelta(days=5)
            )
        )  # too old: not "yesterday"
    sign_in(client, "bo@example.com")
    body = client.get(f"/api/v1/leaderboard?period={PERIOD}").json()
    moves = {e["person"].split("@")[0]: e["movement"] for e in body["entries"]}
    assert moves == {"ana": 2, "bo": 0, "cy": None, "dee": -3}
    # the first read of the day stored today's ranks, once
    stored = read(
        engine,
        lambda s: s.exec(
            select(LeaderboardSnapshot.person_id, LeaderboardSnapshot.rank).where(LeaderboardSnapshot.taken_on == today)
        ).all(),
    )
    by_id = {v: k.split("@")[0] for k, v in ids.items()}
    assert sorted((by_id[p], r) for p, r in stored) == [
        ("ana", 1),
        ("bo", 2),
        ("cy", 2),
        ("dee", 4),
        ("mi", 2),
        ("mo", 1),
    ]
    client.get(f"/leaderboard?period={PERIOD}")
    with transaction(engine) as s:
        assert take_snapshot(s, period=parse_period_key(PERIOD), today=today) == 0
    assert (
        read(
            engine,
            lambda s: len(s.exec(select(LeaderboardSnapshot.id).where(LeaderboardSnapshot.taken_on == today)).all()),
        )
        == 6
    )
    page = client.get(f"/leaderboard?period={PERIOD}").text
    assert "▲ 2" in page and "▼ 3" in page


def test_api_shape_and_privacy_for_every_role(client, engine: Engine, make_person) -> None:
    _summaries(engine, make_person, FIGURES)
    make_person("fin@example.com", "finance")
    make_person("root@example.com", "admin")
    for email in ("bo@example.com", "boss@example.com", "fin@example.com", "root@example.com"):
        client.cookies.clear()
        sign_in(client, email)
        response = client.get(f"/api/v1/leaderboard?period={PERIOD}")
        assert response.status_code == 200, email
        body = response.json()
        assert (body["period"], body["view"], body["metric"], body["team"]) == (PERIOD, "company", "attainment", None)
        first = body["entries"][0]
        # ``value``: what the board ranks by (here attainment), never earnings
        assert set(first) == {"person", "name", "team", "rank", "attainment", "credited", "badges", "movement", "value"}
        assert first == {
            "person": "ana@example.com",
            "name": "Ana",
            "team": "East",
            "rank": 1,
            "attainment": "1.2000",
            "credited": "120000.00",
            "badges": [],
            "movement": None,
            "value": "1.2000",
        }
        responses = [response.text]
        for query in (
            "",
            "?metric=bookings",
            "?metric=deals",
            "?view=marketing",
            "?view=team&team=1",
            "?around_me=true",
        ):
            responses.append(client.get(f"/leaderboard{query}{'&' if query else '?'}period={PERIOD}").text)
            responses.append(
                client.get(
                    f"/leaderboard{query}{'&' if query else '?'}period={PERIOD}", headers={"HX-Request": "true"}
                ).text
            )
        responses.append(client.get(f"/api/v1/leaderboard?period={PERIOD}&view=marketing").text)
        for text in responses:
            for total in SECRET_TOTALS:  # earnings, in any spelling
                for spelled in (
                    str(total),
                    f"{total / 100:,.2f}".split(".")[0],
                    f"{total // 100:,}",
                    str(total // 100),
                ):
                    assert spelled not in text, (email, spelled)


def test_api_rejects_unknown_metric_view_and_period(client, engine: Engine, make_person) -> None:
    make_person("bo@example.com")
    sign_in(client, "bo@example.com")
    assert client.get("/api/v1/leaderboard?metric=commission").status_code == 400
    assert client.get("/api/v1/leaderboard?view=secret").status_code == 400
    assert client.get("/api/v1/leaderboard?period=2026-Q9").status_code == 400
    assert client.get("/api/v1/leaderboard?team=999").status_code == 400
    client.cookies.clear()
    assert client.get("/api/v1/leaderboard").status_code == 401


def test_team_is_chosen_by_name_or_id(client, engine: Engine, make_person) -> None:
    figures = {
        "ana@example.com": ("Sales East", "sales", "rep", "bookings", 12_000_000, 10_000_000, 1_200_000),
        "bo@example.com": ("Sales East", "sales", "rep", "bookings", 9_000_000, 10_000_000, 900_000),
        "cy@example.com": ("West", "sales", "rep", "bookings", 18_000_000, 20_000_000, 900_000),
        "al@example.com": ("alpha", "sales", "rep", "bookings", 1_000_000, 10_000_000, 100_000),
        "au@example.com": ("ALPHA", "sales", "rep", "bookings", 2_000_000, 10_000_000, 200_000),
    }
    _summaries(engine, make_person, figures)
    east = read(engine, lambda s: s.exec(select(Team.id).where(Team.name == "Sales East")).one())
    sign_in(client, "cy@example.com")
    for team in (str(east), "Sales East", "sales east", "SALES EAST", " Sales East "):
        response = client.get("/api/v1/leaderboard", params={"period": PERIOD, "team": team})
        assert response.status_code == 200, team
        body = response.json()
        assert (body["view"], body["team"]) == ("team", east), team
        assert [e["person"] for e in body["entries"]] == ["ana@example.com", "bo@example.com"], team
    # two teams that differ only in case: the exact name picks one, any other spelling is ambiguous
    exact = client.get("/api/v1/leaderboard", params={"period": PERIOD, "team": "alpha"}).json()
    assert [e["person"] for e in exact["entries"]] == ["al@example.com"]
    for unknown in ("Alpha", "Nowhere", "999", "-1", "Sales"):
        response = client.get("/api/v1/leaderboard", params={"period": PERIOD, "team": unknown})
        assert response.status_code == 400, unknown
        body = response.json()
        assert body["status_code"] == 400 and "team" in body["detail"] and body["extra"] == {"team": unknown}
    # the page shares the parsing
    page = client.get("/leaderboard", params={"period": PERIOD, "view": "team", "team": "sales east"})
    assert page.status_code == 200 and 'data-person="ana@example.com"' in page.text
    assert 'data-person="cy@example.com"' not in page.text
    assert client.get("/leaderboard", params={"period": PERIOD, "view": "team", "team": "Nowhere"}).status_code == 400


def test_page_highlights_the_viewer_and_shows_around_me(client, engine: Engine, make_person) -> None:
    figures = {
        f"r{n:02d}@example.com": ("East", "sales", "rep", "bookings", n * 100_000, 10_000_000, n * 10_000)
        for n in range(1, 21)
    }
    _summaries(engine, make_person, figures)
    sign_in(client, "r10@example.com")
    page = client.get(f"/leaderboard?period={PERIOD}")
    assert page.status_code == 200 and "<html" in page.text and 'sse-connect="/leaderboard/stream"' in page.text
    assert page.text.count("<tr data-person=") == 20
    assert '<tr data-person="r10@example.com" data-rank="11" class="me" aria-current="true">' in page.text
    assert page.text.count('class="me"') == 1
    assert '<progress max="100" value="10">' in page.text
    partial = client.get(f"/leaderboard?period={PERIOD}&around_me=true", headers={"HX-Request": "true"}).text
    assert "<html" not in partial
    shown = [line.split('"')[1] for line in partial.split("<tr data-person=")[1:]]
    assert shown == [f"r{n:02d}@example.com" for n in (13, 12, 11, 10, 9, 8, 7)]


def test_ranks_from_real_deals_and_no_statement_total_leaks(client, engine: Engine, make_person) -> None:
    make_person("ana@example.com")
    make_person("bo@example.com")
    store_plan(engine, ["ana@example.com", "bo@example.com"])
    store_quota(engine, "ana@example.com", 100_000)
    store_quota(engine, "bo@example.com", 100_000)
    crm = token_for(engine, "admin")
    client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=crm)
    client.post(
        "/api/v1/deals",
        json=example_deal("D-2", "45000", "2026-02-03", product="Enterprise", term_months=36),
        headers=crm,
    )
    client.post("/api/v1/deals", json=example_deal("D-3", "30000", "2026-02-10", owner="bo@example.com"), headers=crm)
    client.post("/api/v1/deals", json=example_deal("D-4", "10000", "2026-02-11", owner="bo@example.com"), headers=crm)
    total = read(
        engine,
        lambda s: s.exec(
            select(PayeeSummary.total_minor)
            .join(Person, Person.id == PayeeSummary.person_id)
            .where(Person.email == "ana@example.com")
        ).one(),
    )
    assert total == 1_375_000  # Ana earns 13,750.00 (the worked example)
    sign_in(client, "bo@example.com")
    body = client.get(f"/api/v1/leaderboard?period={PERIOD}&metric=deals").json()
    assert [(e["person"], e["rank"], e["attainment"], e["credited"], e["value"]) for e in body["entries"]] == [
        ("ana@example.com", 1, "1.0500", "105000.00", "2.00"),
        ("bo@example.com", 1, "0.4000", "40000.00", "2.00"),
    ]  # 2 deals each: the value ranked by
    by_bookings = client.get(f"/api/v1/leaderboard?period={PERIOD}&metric=bookings").json()["entries"]
    assert [(e["person"], e["value"]) for e in by_bookings] == [
        ("ana@example.com", "105000.00"),
        ("bo@example.com", "40000.00"),
    ]
    by_attainment = client.get(f"/api/v1/leaderboard?period={PERIOD}").json()["entries"]
    assert [(e["person"], e["value"]) for e in by_attainment] == [
        ("ana@example.com", "1.0500"),
        ("bo@example.com", "0.4000"),
    ]
    for url in (f"/api/v1/leaderboard?period={PERIOD}", f"/leaderboard?period={PERIOD}"):
        text = client.get(url).text
        assert "13750" not in text and "13,750" not in text


def test_stream_messages_refresh_the_table_and_celebrate_new_deals_only() -> None:
    # its own thread and event loop: Playwright's sync API may hold this thread's loop when browser tests ran first
    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, _stream_messages).result()


async def _stream_messages() -> None:
    cheer = Celebration(owner="Ana", account="Acme", amount_minor=4_500_000, currency="USD")
    rendered: list[dict] = []

    def render(**context):  # type: ignore[no-untyped-def]
        rendered.append(context)
        c = context["cheer"]
        return f"{c.owner} closed {c.account}, {format_money(c.amount_minor, c.currency)}"

    created = await messages_for({"event": "deal.created", "external_id": "D-1"}, lambda _: cheer, render)
    assert [(m.event, m.data) for m in created] == [
        ("deal", "Ana closed Acme, 45,000.00 USD")
    ]  # the refresh came first
    updated = await messages_for({"event": "deal.updated", "external_id": "D-1"}, lambda _: cheer, render)
    assert updated == []
    imported = await messages_for({"event": "deals.imported", "created": 3}, lambda _: cheer, render)
    assert [(m.event, m.data) for m in imported] == [("payouts", "deals.imported")]
    recomputed = await messages_for({"event": "payouts.recomputed", "people": [1]}, lambda _: cheer, render)
    assert [(m.event, m.data) for m in recomputed] == [("payouts", "payouts.recomputed")]
    unknown = await messages_for({"event": "deal.created", "external_id": "gone"}, lambda _: None, render)
    assert unknown == []  # a deal gone since: nothing to celebrate
    assert await messages_for({"event": "something.else"}, lambda _: cheer, render) == []
    assert len(rendered) == 1


def test_a_reconnecting_stream_catches_up_only_after_a_missed_event(monkeypatch) -> None:
    from leaderboard import stream

    monkeypatch.setattr(stream, "_last_event_ms", 5_000)
    assert stream.missed_something(None) is False  # first connection: the page is current
    assert stream.missed_something("") is False
    assert stream.missed_something("4000") is True  # an event at 5 s, the browser last heard at 4 s
    assert stream.missed_something("5000") is False
    assert stream.missed_something("garbage") is True


def test_top_rows_then_the_viewers_window_with_a_gap() -> None:
    from leaderboard.ranking import top_and_viewer

    rows = list(range(100))
    shown, gap = top_and_viewer(rows, lambda r: r == 80, top=10, size=2)
    assert shown == [*range(10), 78, 79, 80, 81, 82] and gap == 10
    near, gap = top_and_viewer(rows, lambda r: r == 11, top=10, size=2)
    assert near == list(range(14)) and gap is None, "a viewer just below the top joins it without a gap"
    absent, gap = top_and_viewer(rows, lambda r: False, top=10, size=2)
    assert absent == list(range(10)) and gap is None


def test_marketing_view_ranks_marketers_on_mqls_sqls_and_pipeline_quotas(engine: Engine, make_person) -> None:
    """Marketers on plans with marketing quotas appear on the marketing board; each metric is a choice."""
    figures = {
        "mo@example.com": ("Growth", "marketing", "rep", "sourced_revenue", 5_000_000, 4_000_000, 1_250_000),
        "max@example.com": ("Growth", "marketing", "rep", "mqls", 4_500, 4_000, 1_125_000),  # 45 MQLs of 40
        "mia@example.com": ("Growth", "marketing", "rep", "mqls", 6_000, 8_000, 750_000),  # 60 of 80
        "pat@example.com": ("Growth", "marketing", "rep", "pipeline", 30_000_000, 20_000_000, 1_500_000),
        "ana@example.com": ("East", "sales", "rep", "bookings", 12_000_000, 10_000_000, 1_200_000),
    }
    _summaries(engine, make_person, figures)
    key = parse_period_key(PERIOD)
    from sqlmodel import Session

    with Session(engine) as s:
        assert _names(board(s, period=key, view="marketing")) == [(1, "pat"), (2, "mo"), (3, "max"), (4, "mia")]
        mqls = board(s, period=key, view="marketing", metric="mqls")
        assert _names(mqls)[:2] == [(1, "mia"), (2, "max")]  # 60 MQLs before 45; the others have none
        assert mqls.rows[0].credited_label == "60 MQLs"
        assert _names(board(s, period=key, view="marketing", metric="pipeline"))[0] == (1, "pat")
        assert "ana" not in [n for _, n in _names(board(s, period=key, view="marketing", metric="sqls"))]


def test_ranking_marketers_by_mqls_counts_lead_events_when_their_plan_pays_on_something_else(
    engine: Engine,  # type: ignore[no-untyped-def]
    make_person,
) -> None:
    """Everyone on the marketing board is ranked by the MQLs, SQLs or pipeline their leads reached in the
    period, counted like the dashboard counts them: an event out of stage order is left out."""
    from sqlmodel import Session

    from commissions.models.marketing import Lead, LeadEvent

    figures = {
        "mo@example.com": ("Growth", "marketing", "rep", "sourced_revenue", 5_000_000, 4_000_000, 1_250_000),
        "mi@example.com": ("Growth", "marketing", "rep", "sourced_revenue", 8_000_000, 10_000_000, 800_000),
        "max@example.com": ("Growth", "marketing", "rep", "mqls", 300, 4_000, 75_000),  # plan-credited: 3 MQLs
    }
    ids = _summaries(engine, make_person, figures)
    events = {  # owner: [(stage, day, amount_minor, flag)] per lead
        "mo@example.com": [
            [
                ("mql", "2026-01-05", None, ""),
                ("sql", "2026-01-20", None, ""),
                ("opportunity", "2026-02-01", 4_000_000, ""),
            ],
            [("sql", "2026-02-03", None, "no mql before it")],
        ],
        "mi@example.com": [
            [("mql", "2026-01-06", None, "")],
            [("mql", "2026-02-06", None, "")],
            [("mql", "2026-03-06", None, "")],
            [("mql", "2026-04-02", None, "")],  # Q2: not counted
            [("mql", "2026-03-30", None, ""), ("opportunity", "2026-03-31", 1_000_000, "")],
        ],
    }
    with transaction(engine) as s:
        for owner, leads in events.items():
            for n, stages in enumerate(leads):
                lead = Lead(external_id=f"{owner}-{n}", owner_id=ids[owner], campaign=None)
                s.add(lead)
                s.flush()
                for stage, day, minor, flag in stages:
                    s.add(
                        LeadEvent(
                            lead_id=lead.id,
                            stage=stage,
                            occurred_on=date.fromisoformat(day),
                            flag=flag,
                            amount_minor=minor,
                            currency="USD" if minor is not None else None,
                        )
                    )
    key = parse_period_key(PERIOD)
    with Session(engine) as s:
        mqls = board(s, period=key, view="marketing", metric="mqls")
        assert [(e.rank, e.email.split("@")[0], e.value("mqls")) for e in mqls.rows] == [
            (1, "mi", 4),
            (2, "max", Decimal("3.00")),
            (3, "mo", 1),
        ]
        sqls = board(s, period=key, view="marketing", metric="sqls")
        assert next((e.email.split("@")[0], e.value("sqls")) for e in sqls.rows) == (
            "mo",
            1,
        )  # the flagged SQL is left out
        pipeline = board(s, period=key, view="marketing", metric="pipeline")
        assert [(e.email.split("@")[0], e.funnel_label("pipeline")) for e in pipeline.rows][:2] == [
            ("mo", "40,000.00 USD"),
            ("mi", "10,000.00 USD"),
        ]


def test_the_api_pages_the_board_in_rank_order_and_the_pages_add_up_to_it(client, engine: Engine, make_person) -> None:
    """``limit``/``cursor`` on ``GET /api/v1/leaderboard`` (issue 16: 20,000 people made a 4.4 MB answer): a
    page at a time in rank order (ties by person), each entry once, the same entries as the whole board; a
    cursor it did not hand out is a 400 naming ``cursor``."""
    _summaries(engine, make_person, FIGURES)
    sign_in(client, "bo@example.com")
    whole = client.get(f"/api/v1/leaderboard?period={PERIOD}").json()
    assert whole["next_cursor"] is None and len(whole["entries"]) >= 4
    pages, cursor = [], None
    while True:
        params = {"period": PERIOD, "limit": "1"} | ({"cursor": cursor} if cursor else {})
        answer = client.get("/api/v1/leaderboard", params=params)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json()["entries"])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break
        assert answer.headers["x-next-cursor"] == cursor and 'rel="next"' in answer.headers["link"]
    entries = [e for page in pages for e in page]
    assert all(len(page) == 1 for page in pages)
    assert [(e["rank"], e["person"]) for e in entries] == sorted((e["rank"], e["person"]) for e in whole["entries"])
    assert sorted(entries, key=lambda e: e["person"]) == sorted(whole["entries"], key=lambda e: e["person"])
    wrong = client.get("/api/v1/leaderboard", params={"period": PERIOD, "cursor": "bm9wZQ"})
    assert wrong.status_code == 400 and "cursor" in wrong.text


def test_an_entrys_value_is_the_figure_its_board_ranks_by_whatever_the_persons_plan() -> None:
    """A deals plan credits deals by its rules (renewals left out, say) while the deals board ranks won deals pro rata:
    the value shown is the board's, as are bookings (credited money) and the lead metrics (units)."""
    from leaderboard.api import ranked_value
    from leaderboard.service import Entry

    deals_plan = Entry(1, "d@example.com", "Di", None, "", "deals", "USD", 300, 1000, 300_000, deals=Decimal("4.5"))
    bookings_plan = Entry(
        2, "b@example.com", "Bo", None, "", "bookings", "USD", 1_234_550, None, None, deals=Decimal(2)
    )
    bookings_plan.funnel = {"mqls": Decimal(7), "pipeline": Decimal("12500")}
    assert ranked_value(deals_plan, "deals") == "4.50"  # not its 3.00 credited deals
    assert ranked_value(deals_plan, "attainment") == "0.3000"
    assert ranked_value(deals_plan, "bookings") is None  # nothing credited in money to compare
    assert ranked_value(bookings_plan, "bookings") == "12345.50"
    assert ranked_value(bookings_plan, "attainment") is None  # no quota
    assert (ranked_value(bookings_plan, "mqls"), ranked_value(bookings_plan, "pipeline")) == ("7.00", "12500.00")


def test_a_plain_leaderboard_link_opens_ones_own_board(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    """The navigation's /leaderboard: the company board for sales, the marketing board for a marketer (who is not
    on the company's board of sales reps); a view in the link is kept."""
    _summaries(engine, make_person, FIGURES)
    sign_in(client, "mo@example.com")
    own = client.get(f"/leaderboard?period={PERIOD}").text
    assert '<option value="marketing" selected' in own and "mo@example.com" in own
    company = client.get(f"/leaderboard?period={PERIOD}&view=company").text
    assert '<option value="company" selected' in company
    client.cookies.clear()
    sign_in(client, "ana@example.com")
    assert '<option value="company" selected' in client.get(f"/leaderboard?period={PERIOD}").text
