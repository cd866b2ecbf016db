"""Contests: locked rules, their own ranking (people and teams, ties, window edges, cancellations),
winners recorded once, privacy and who may do what. Every database test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

import leaderboard.models  # noqa: F401  (the contest tables are emptied between tests)
from commissions.core.db import transaction
from commissions.core.errors import Conflict, Forbidden, InputProblem
from commissions.core.periods import ensure_period
from commissions.core.principal import Principal
from commissions.models import AuditEvent, Campaign, Deal, DealSplit, PayeeSummary, Person, Plan, PlanVersion, Team
from commissions.models.base import utcnow
from leaderboard.contests.editing import ContestInput, cancel_contest, create_contest, update_contest
from leaderboard.contests.results import record_ended, record_results
from leaderboard.contests.rules import state
from leaderboard.contests.standings import live_rows, standings
from leaderboard.models import Contest, ContestResult, ContestTeam
from tests.conftest import csrf_from, read, sign_in

START, END = date(2026, 12, 7), date(2026, 12, 13)
BEFORE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # scheduled
START_INSTANT = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
RUNNING = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
END_INSTANT = datetime(2026, 12, 14, 0, 0, tzinfo=UTC)  # the day after the last day, 00:00 UTC
SECRET_TOTALS = [987_654_321, 876_543_219, 765_432_198]


def admin(person_id: int | None = None) -> Principal:
    return Principal(role="admin", person_id=person_id, email="root@example.com", name="Root")


def as_principal(person: Person) -> Principal:
    return Principal(role=person.role, person_id=person.id, email=person.email, name=person.name)


def contest_input(**changes: object) -> ContestInput:
    values = {
        "name": "December dash",
        "description": "Most bookings wins.",
        "prize": "A day off",
        "metric": "bookings",
        "mode": "individual",
        "scope": "everyone",
        "teams": [],
        "currency": "USD",
        "start": START.isoformat(),
        "end": END.isoformat(),
    }
    values.update(changes)
    return ContestInput(**values)  # type: ignore[arg-type]


def new_contest(
    engine: Engine, principal: Principal | None = None, *, now: datetime = BEFORE, **changes: object
) -> int:
    with transaction(engine) as s:
        return create_contest(s, principal or admin(), contest_input(**changes), now=now).id


def add_deal(
    engine: Engine,
    external_id: str,
    owner: int,
    amount: int,
    closed: date,
    *,
    status: str = "won",
    splits: dict[int, int] | None = None,
    campaign: str | None = None,
    currency: str = "USD",
) -> None:
    with transaction(engine) as s:
        deal = Deal(
            external_id=external_id,
            name=external_id,
            owner_id=owner,
            amount_minor=amount,
            currency=currency,
            closed_at=closed,
            status=status,
            source_campaign=campaign,
            cancelled_at=closed + timedelta(days=1) if status == "cancelled" else None,
        )
        s.add(deal)
        s.flush()
        for person_id, share_bp in (splits or {}).items():
            s.add(DealSplit(deal_id=deal.id, person_id=person_id, share_bp=share_bp))


def cancel_deal(engine: Engine, external_id: str) -> None:
    with transaction(engine) as s:
        deal = s.exec(select(Deal).where(Deal.external_id == external_id)).one()
        deal.status, deal.cancelled_at = "cancelled", deal.closed_at + timedelta(days=1)


def load(engine: Engine, contest_id: int) -> Contest:
    return read(engine, lambda s: s.get(Contest, contest_id))


def board(engine: Engine, contest_id: int, now: datetime = RUNNING) -> list[tuple[int, str, int, bool]]:
    """(rank, name, value, would win): the live ranking while running, the recorded one once final."""

    def run(s):  # type: ignore[no-untyped-def]
        contest = s.get(Contest, contest_id)
        rows = standings(s, contest, now=now).rows if state(contest, now) == "final" else live_rows(s, contest)
        return [(r.rank, r.name, r.value, r.winner) for r in rows]

    return read(engine, run)


@pytest.fixture
def people(engine: Engine, make_person) -> dict[str, Person]:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        s.add_all([Team(name="East"), Team(name="West"), Team(name="Growth", kind="marketing")])
    out = {
        "ana": make_person("ana@example.com", team="East"),
        "bo": make_person("bo@example.com", team="East"),
        "cy": make_person("cy@example.com", team="West"),
        "dee": make_person("dee@example.com", team="West"),
        "mo": make_person("mo@example.com", team="Growth"),
        "east_boss": make_person("eastboss@example.com", "manager", team="East"),
        "west_boss": make_person("westboss@example.com", "manager", team="West"),
        "root": make_person("root@example.com", "admin"),
    }
    return out


def team_id(engine: Engine, name: str) -> int:
    return read(engine, lambda s: s.exec(select(Team.id).where(Team.name == name)).one())


# --- rules locked once the contest starts -----------------------------------------------------------------


def test_everything_editable_before_the_start(engine: Engine, people) -> None:  # type: ignore[no-untyped-def]
    cid = new_contest(engine)
    east = team_id(engine, "East")
    with transaction(engine) as s:
        update_contest(
            s,
            admin(),
            s.get(Contest, cid),
            contest_input(
                metric="deals",
                mode="team",
                scope="teams",
                teams=[str(east)],
                prize="Team dinner",
                currency="EUR",
                start="2026-12-08",
                end="2026-12-20",
            ),
            now=BEFORE,
        )
    c = load(engine, cid)
    assert (c.metric, c.mode, c.scope, c.prize, c.currency, c.starts_on, c.ends_on) == (
        "deals",
        "team",
        "teams",
        "Team dinner",
        "EUR",
        date(2026, 12, 8),
        date(2026, 12, 20),
    )
    assert read(engine, lambda s: s.exec(select(ContestTeam.team_id).where(ContestTeam.contest_id == cid)).all()) == [
        east
    ]
    changes = read(engine, lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "contest.update")).one())
    assert changes.detail["changes"]["metric"] == ["bookings", "deals"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metric": "deals"}, "metric"),
        ({"mode": "team"}, "mode"),
        ({"prize": "A car"}, "prize"),
        ({"start": "2026-12-08"}, "start"),
        ({"end": "2026-12-31"}, "end"),
        ({"currency": "EUR"}, "currency"),
        ({"scope": "teams", "teams": ["__east__"]}, "scope"),
    ],
)
def test_rules_are_locked_from_the_start_instant(engine: Engine, people, change: dict, field: str) -> None:  # type: ignore[no-untyped-def]
    cid = new_contest(engine)
    if change.get("teams") == ["__east__"]:
        change = {**change, "teams": [str(team_id(engine, "East"))]}
    before = load(engine, cid).model_dump()
    for now in (START_INSTANT, RUNNING):
        with pytest.raises(Conflict) as refused, transaction(engine) as s:
            update_contest(s, admin(), s.get(Contest, cid), contest_input(**change), now=now)
        assert refused.value.field == field
        assert (
            "the contest started on 2026-12-07" in refused.value.message
            and "can no longer be changed" in refused.value.message
        )
        assert load(engine, cid).model_dump() == before  # nothing changed
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(ContestTeam)).one()) == 0


def test_after_the_start_only_name_and_description_change_and_after_the_end_nothing(engine: Engine, people) -> None:  # type: ignore[no-untyped-def]
    cid = new_contest(engine)
    with transaction(engine) as s:
        update_contest(
            s,
            admin(),
            s.get(Contest, cid),
            contest_input(name="December dash!", description="Typo fixed."),
            now=RUNNING,
        )
    assert (load(engine, cid).name, load(engine, cid).description) == ("December dash!", "Typo fixed.")
    with pytest.raises(Conflict, match="record is final"), transaction(engine) as s:
        update_contest(s, admin(), s.get(Contest, cid), contest_input(name="Renamed later"), now=END_INSTANT)
    assert load(engine, cid).name == "December dash!"


def test_only_a_scheduled_contest_can_be_cancelled(engine: Engine, people) -> None:  # type: ignore[no-untyped-def]
    running = new_contest(engine)
    with pytest.raises(Conflict, match="only an upcoming contest can be cancelled"), transaction(engine) as s:
        cancel_contest(s, admin(), s.get(Contest, running), now=START_INSTANT)
    assert load(engine, running).status == "active"
    with transaction(engine) as s:
        cancel_contest(s, admin(), s.get(Contest, running), now=BEFORE)
    cancelled = load(engine, running)
    assert cancelled.status == "cancelled" and state(cancelled, RUNNING) == "cancelled"
    with pytest.raises(Conflict, match="cancelled"), transaction(engine) as s:
        update_contest(s, admin(), s.get(Contest, running), contest_input(name="Back"), now=BEFORE)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"name": "  "}, "name", "is required"),
        ({"metric": "commission"}, "metric", "choose one of"),
        ({"start": "2026-11-30"}, "start", "is in the past"),
        ({"end": "2026-12-06"}, "end", "is before the start"),
        ({"start": "07/12/2026"}, "start", "is not a date"),
        ({"scope": "teams", "teams": []}, "teams", "choose at least one team"),
        ({"scope": "teams", "teams": ["9999"]}, "teams", "no such team"),
        ({"currency": "dollars"}, "currency", "three-letter"),
    ],
)
def test_bad_input_is_named_and_nothing_is_stored(engine: Engine, people, change: dict, field: str, words: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputProblem) as problem:
        new_contest(engine, **change)
    assert problem.value.field == field and words in problem.value.message
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(Contest)).one()) == 0


def test_state_follows_the_utc_window() -> None:
    c = Contest(name="x", metric="deals", starts_on=START, ends_on=END)
    assert [
        state(c, t)
        for t in (
            BEFORE,
            START_INSTANT - timedelta(microseconds=1),
            START_INSTANT,
            RUNNING,
            END_INSTANT - timedelta(microseconds=1),
            END_INSTANT,
        )
    ] == ["scheduled", "scheduled", "running", "running", "running", "ended"]


def test_time_left_is_days_then_hours_then_minutes_and_seconds() -> None:
    """The text the page shows before leaderboard/static/countdown.js ticks it (the same format)."""
    from leaderboard.contests.rules import time_left

    c = Contest(name="x", metric="deals", starts_on=START, ends_on=END)
    assert time_left(c, START_INSTANT - timedelta(days=1, hours=2)) == "1 day 2 h"
    assert time_left(c, START_INSTANT - timedelta(hours=3, minutes=7, seconds=30)) == "3 h 7 min"
    assert time_left(c, END_INSTANT - timedelta(minutes=4, seconds=9)) == "4 min 9 s"
    assert time_left(c, END_INSTANT) == ""


# --- ranking -----------------------------------------------------------------------------------------------


def test_individual_ranking_window_edges_splits_cancellations_and_ties(engine: Engine, people) -> None:  # type: ignore[no-untyped-def]
    p = people
    cid = new_contest(engine)
    add_deal(engine, "AT-START", p["ana"].id, 100_00, START)  # the start instant's day counts
    add_deal(engine, "AT-END", p["bo"].id, 60_00, END)  # the last day counts
    add_deal(engine, "SPLIT", p["cy"].id, 80_00, date(2026, 12, 9), splits={p["cy"].id: 5000, p["bo"].id: 5000})
    add_deal(engine, "EARLY", p["cy"].id, 500_00, START - timedelta(days=1))  # before the window
    add_deal(engine, "LATE", p["dee"].id, 500_00, END + timedelta(days=1))  # after the window
    add_deal(engine, "GONE", p["dee"].id, 900_00, date(2026, 12, 10), status="cancelled")
    add_deal(engine, "EURO", p["dee"].id, 900_00, date(2026, 12, 10), currency="EUR")  # another currency
    add_deal(engine, "BOSS", p["east_boss"].id, 900_00, date(2026, 12, 10))  # managers are not on the board
    # Ana 100, Bo 60 + 40 = 100 (a tie: by name), Cy 40, Dee 0; Mo (marketing) is not on a bookings board
    assert board(engine, cid) == [
        (1, "Ana", 100_00, True),
        (1, "Bo", 100_00, True),
        (3, "Cy", 40_00, False),
        (4, "Dee", 0, False),
    ]
    cancel_deal(engine, "AT-START")  # a cancellation drops out
    assert board(engine, cid) == [
        (1, "Bo", 100_00, True),
        (2, "Cy", 40_00, False),
        (3, "Ana", 0, False),
        (3, "Dee", 0, False),
    ]


def test_deals_metric_counts_split_shares_and_team_mode_sums_members(engine: Engine, people) -> None:  # type: ignore[no-untyped-def]
    p = people
    deals_contest = new_contest(engine, metric="deals")
    teams_contest = new_contest(engine, mode="team")
    add_deal(engine, "D1", p["ana"].id, 30_00, date(2026, 12, 8))
    add_deal(engine, "D2", p["cy"].id, 50_00, date(2026, 12, 8), splits={p["cy"].id: 6000, p["ana"].id: 4000})
    add_deal(engine, "D3", p["dee"].id, 10_00, date(2026, 12, 9))
    # deals in hundredths: Ana 1 + 0.4, Cy 0.6, Dee 1
    assert board(engine, deals_contest) == [
        (1, "Ana", 140, True),
        (2, "Dee", 100, False),
        (3, "Cy", 60, False),
        (4, "Bo", 0, False),
    ]
    # bookings by team: East = Ana 30 + 20 = 50; West = Cy 30 + Dee 10 = 40
    assert board(engine, teams_contest) == [(1, "East", 50_00, True), (2, "West", 40_00, False)]
    add_deal(engine, "D4", p["dee"].id, 10_00, date(2026, 12, 9))  # West catches up: a shared win
    assert board(engine, teams_contest) == [(1, "East", 50_00, True), (1, "West", 50_00, True)]


def test_chosen_teams_only_and_sourced_revenue_to_the_campaign_owner(engine: Engine, people) -> None:  # type: ignore[no-untyped-def]
    p = people
    west_only = new_contest(engine, scope="teams", teams=[str(team_id(engine, "West"))])
    sourced = new_contest(engine, metric="sourced_revenue")
    with transaction(engine) as s:
        s.add(Campaign(code="WEB", name="Web", owner_id=p["mo"].id))
    add_deal(engine, "S1", p["ana"].id, 70_00, date(2026, 12, 8), campaign="WEB")
    add_deal(engine, "S2", p["cy"].id, 20_00, date(2026, 12, 8))
    assert [name for _, name, _, _ in board(engine, west_only)] == ["Cy", "Dee"]
    assert board(engine, sourced) == [(1, "Mo", 70_00, True)]


def test_nothing_sold_means_no_winner(engine: Engine, people) -> None:  # type: ignore[no-untyped-def]
    cid = new_contest(engine)
    assert all(rank == 1 and not won for rank, _, _, won in board(engine, cid))


# --- winners recorded once -----------------------------------------------------------------------------------


def test_winners_recorded_once_and_late_deals_change_nothing(engine: Engine, people) -> None:  # type: ignore[no-untyped-def]
    p = people
    cid = new_contest(engine)
    add_deal(engine, "W1", p["ana"].id, 100_00, date(2026, 12, 8))
    add_deal(engine, "W2", p["cy"].id, 100_00, date(2026, 12, 9))
    add_deal(engine, "W3", p["bo"].id, 10_00, date(2026, 12, 9))
    with transaction(engine) as s:
        assert record_results(s, s.get(Contest, cid), now=RUNNING) is False  # still running: nothing recorded
        assert record_ended(s, now=RUNNING) == []
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(ContestResult)).one()) == 0
    with transaction(engine) as s:
        assert [c.id for c in record_ended(s, now=END_INSTANT)] == [cid]
    recorded = read(
        engine,
        lambda s: [
            (r.position, r.rank, r.name, r.value, r.winner)
            for r in s.exec(
                select(ContestResult).where(ContestResult.contest_id == cid).order_by(ContestResult.position)
            )
        ],
    )
    assert recorded == [
        (1, 1, "Ana", 100_00, True),
        (2, 1, "Cy", 100_00, True),
        (3, 3, "Bo", 10_00, False),
        (4, 4, "Dee", 0, False),
    ]
    closed_at = load(engine, cid).closed_at
    # a late CRM sync inside the window and a cancellation of a winning deal: the record stands
    add_deal(engine, "LATE-SYNC", p["dee"].id, 999_00, date(2026, 12, 10))
    cancel_deal(engine, "W1")
    later = END_INSTANT + timedelta(days=3)
    with transaction(engine) as s:
        assert record_results(s, s.get(Contest, cid), now=later) is False
        assert record_ended(s, now=later) == []
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(ContestResult)).one()) == 4
    assert load(engine, cid).closed_at == closed_at
    assert board(engine, cid, later)[:2] == [(1, "Ana", 100_00, True), (1, "Cy", 100_00, True)]
    assert (
        read(
            engine,
            lambda s: s.exec(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "contest.results")
            ).one(),
        )
        == 1
    )


def test_close_command_records_ended_contests(tmp_path: Path) -> None:
    """The command on a file database of its own (the service it calls is tested on both databases above)."""
    from commissions.core.db import make_engine
    from commissions.core.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    other = make_engine(url)
    upgrade(engine=other)
    with transaction(other) as s:
        ana = Person(email="ana@example.com", name="Ana")
        s.add(ana)
        s.flush()
        yesterday = utcnow().date() - timedelta(days=1)
        s.add(Contest(name="Done", metric="bookings", starts_on=yesterday - timedelta(days=6), ends_on=yesterday))
        s.add(Deal(external_id="X", name="X", owner_id=ana.id, amount_minor=500, currency="USD", closed_at=yesterday))
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(tmp_path)}
    first = subprocess.run(
        [sys.executable, "-m", "commissions.cli", "contests", "close"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    assert "results recorded" in first.stdout and "1 contest(s) closed." in first.stdout
    with transaction(other) as s:  # a second one, recorded by the worker's once-a-minute task
        s.add(Contest(name="Also done", metric="deals", starts_on=yesterday, ends_on=yesterday))
    worker = subprocess.run(
        [sys.executable, "-m", "commissions.cli", "worker", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr
    again = subprocess.run(
        [sys.executable, "-m", "commissions.cli", "contests", "close"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0 and "0 contest(s) closed." in again.stdout
    assert read(
        other,
        lambda s: s.exec(
            select(Contest.name, ContestResult.name, ContestResult.value, ContestResult.winner)
            .join(Contest, Contest.id == ContestResult.contest_id)
            .order_by(Contest.id)
        ).all(),
    ) == [("Done", "Ana", 500, True), ("Also done", "Ana", 100, True)]
    other.dispose()


# --- the web: pages, API, privacy, who may do what ----------------------------------------------------------


def _web_contest(engine: Engine, *, days_from_today: int, length: int = 7, **changes: object) -> int:
    """A contest relative to the real today (the web uses the clock)."""
    today = utcnow().date()
    start = today + timedelta(days=days_from_today)
    with transaction(engine) as s:
        c = create_contest(
            s, admin(), contest_input(start=today.isoformat(), end=today.isoformat(), **changes), now=utcnow()
        )
        c.starts_on, c.ends_on = start, start + timedelta(days=length - 1)  # a past start is set up directly
        return c.id


def test_first_read_after_the_end_records_the_winners(client, engine: Engine, people) -> None:  # type: ignore[no-untyped-def]
    cid = _web_contest(engine, days_from_today=-10)
    add_deal(engine, "P1", people["bo"].id, 42_00, utcnow().date() - timedelta(days=8))
    assert state(load(engine, cid), utcnow()) == "ended"
    sign_in(client, "ana@example.com")
    page = client.get(f"/leaderboard/contests/{cid}")
    assert page.status_code == 200
    assert "🏆 <strong>Bo</strong> with 42.00 USD" in page.text
    assert read(engine, lambda s: s.exec(select(ContestResult.name).where(ContestResult.winner)).all()) == ["Bo"]
    listing = client.get("/leaderboard/contests").text
    assert 'id="contests-final"' in listing and "🏆 Bo" in listing.split('id="contests-final"')[1]


def test_board_page_highlights_the_viewer_and_the_api_has_no_earnings(client, engine: Engine, people) -> None:  # type: ignore[no-untyped-def]
    p = people
    cid = _web_contest(engine, days_from_today=-2)
    today = utcnow().date()
    add_deal(engine, "E1", p["cy"].id, 120_00, today - timedelta(days=1))
    add_deal(engine, "E2", p["ana"].id, 80_00, today - timedelta(days=1))
    with transaction(engine) as s:  # statements with distinctive earnings: none may appear anywhere
        period = ensure_period(s, f"{today.year}-Q{(today.month - 1) // 3 + 1}")
        plan = Plan(name="P", currency="USD", period_kind="quarter")
        s.add(plan)
        s.flush()
        version = PlanVersion(plan_id=plan.id, version=1, document="{}", effective_from=date(today.year, 1, 1))
        s.add(version)
        s.flush()
        for n, person in enumerate((p["ana"], p["cy"], p["bo"])):
            s.add(
                PayeeSummary(
                    person_id=person.id,
                    period_id=period.id,
                    plan_id=plan.id,
                    plan_version_id=version.id,
                    metric="bookings",
                    currency="USD",
                    credited_minor=1,
                    quota_minor=None,
                    attainment_ppm=None,
                    total_minor=SECRET_TOTALS[n],
                )
            )
    sign_in(client, "ana@example.com")
    page = client.get(f"/leaderboard/contests/{cid}")
    assert (
        page.status_code == 200 and "<html" in page.text and "A day off" in page.text and "left</strong>" in page.text
    )
    assert '<tr data-rank="2" class="me" aria-current="true">' in page.text and page.text.count('class="me"') == 1
    partial = client.get(f"/leaderboard/contests/{cid}", headers={"HX-Request": "true"})
    assert "<html" not in partial.text and 'class="me"' in partial.text
    api = client.get(f"/api/v1/contests/{cid}").json()
    assert api["state"] == "running" and api["results_recorded"] is False and api["prize"] == "A day off"
    assert [(e["rank"], e["person"], e["value"], e["winner"]) for e in api["entries"][:2]] == [
        (1, "cy@example.com", "120.00", False),
        (2, "ana@example.com", "80.00", False),
    ]  # a leader, no winner yet
    assert set(api["entries"][0]) == {"rank", "name", "person", "team", "value", "winner"}
    listing = client.get("/api/v1/contests").json()
    assert [c["id"] for c in listing["contests"]] == [cid]
    for text in (
        page.text,
        partial.text,
        client.get(f"/api/v1/contests/{cid}").text,
        client.get("/api/v1/contests").text,
        client.get("/leaderboard/contests").text,
    ):
        for total in SECRET_TOTALS:
            for spelled in (str(total), f"{total / 100:,.2f}", f"{total // 100:,}", str(total // 100)):
                assert spelled not in text


def test_rep_cannot_create_or_edit_and_anonymous_is_refused(client, engine: Engine, people) -> None:  # type: ignore[no-untyped-def]
    cid = _web_contest(engine, days_from_today=3)
    sign_in(client, "ana@example.com")
    token = csrf_from(client)
    assert client.get("/leaderboard/contests/new").status_code == 403
    assert client.get(f"/leaderboard/contests/{cid}/edit").status_code == 403
    created = client.post("/leaderboard/contests/", data={**_form(), "_csrf_token": token})
    assert created.status_code == 403
    edited = client.post(f"/leaderboard/contests/{cid}", data={**_form(name="Hacked"), "_csrf_token": token})
    assert edited.status_code == 403
    assert client.post(f"/leaderboard/contests/{cid}/cancel", data={"_csrf_token": token}).status_code == 403
    assert read(engine, lambda s: [c.name for c in s.exec(select(Contest))]) == ["December dash"]
    with pytest.raises(Forbidden), transaction(engine) as s:
        create_contest(s, as_principal(people["ana"]), contest_input(), now=BEFORE)
    client.cookies.clear()
    for path in ("/leaderboard/contests", f"/leaderboard/contests/{cid}", "/leaderboard/contests/new"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")
    for path in ("/api/v1/contests", f"/api/v1/contests/{cid}"):
        response = client.get(path)
        assert response.status_code == 401 and response.json()["status_code"] == 401


def _form(**changes: str) -> dict[str, object]:
    today = utcnow().date()
    values: dict[str, object] = {
        "name": "Team sprint",
        "description": "",
        "prize": "Pizza",
        "metric": "deals",
        "mode": "individual",
        "scope": "teams",
        "currency": "USD",
        "start": (today + timedelta(days=2)).isoformat(),
        "end": (today + timedelta(days=9)).isoformat(),
    }
    values.update(changes)
    return values


def test_manager_runs_contests_for_their_own_teams_only(client, engine: Engine, people) -> None:  # type: ignore[no-untyped-def]
    east, west = team_id(engine, "East"), team_id(engine, "West")
    sign_in(client, "eastboss@example.com")
    token = csrf_from(client)
    refused = client.post("/leaderboard/contests/", data={**_form(), "teams": [str(west)], "_csrf_token": token})
    assert refused.status_code == 400 and "only for their own team" in refused.text
    everyone = client.post("/leaderboard/contests/", data={**_form(scope="everyone"), "_csrf_token": token})
    assert everyone.status_code == 400 and "choose them" in everyone.text
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(Contest)).one()) == 0
    made = client.post(
        "/leaderboard/contests/", data={**_form(), "teams": [str(east)], "_csrf_token": token}, follow_redirects=False
    )
    assert made.status_code == 303
    mine = read(engine, lambda s: s.exec(select(Contest.id)).one())
    # West's own contest is invisible to the East manager (404), a company-wide one is read-only (403)
    theirs = _web_contest(engine, days_from_today=3, scope="teams", teams=[str(west)])
    company = _web_contest(engine, days_from_today=3)
    assert client.get(f"/leaderboard/contests/{theirs}").status_code == 404
    assert client.get(f"/api/v1/contests/{theirs}").status_code == 404
    assert (
        client.post(
            f"/leaderboard/contests/{theirs}", data={**_form(name="Mine now"), "_csrf_token": token}
        ).status_code
        == 404
    )
    assert client.get(f"/leaderboard/contests/{company}/edit").status_code == 403
    assert (
        client.post(f"/leaderboard/contests/{company}", data={**_form(name="X"), "_csrf_token": token}).status_code
        == 403
    )
    assert read(engine, lambda s: sorted(c.name for c in s.exec(select(Contest)))) == [
        "December dash",
        "December dash",
        "Team sprint",
    ]
    untick = client.post(f"/leaderboard/contests/{mine}", data={**_form(name="No teams"), "_csrf_token": token})
    assert (
        untick.status_code == 400
        and "choose at least one team" in untick.text
        and load(engine, mine).name == "Team sprint"
    )
    saved = client.post(
        f"/leaderboard/contests/{mine}",
        data={**_form(name="Team sprint 2"), "teams": [str(east)], "_csrf_token": token},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and load(engine, mine).name == "Team sprint 2"
    # a West rep neither lists nor opens the East contest
    client.cookies.clear()
    sign_in(client, "cy@example.com")
    assert mine not in [c["id"] for c in client.get("/api/v1/contests").json()["contests"]]
    assert client.get(f"/leaderboard/contests/{mine}").status_code == 404


def test_locked_edit_page_shows_the_rules_read_only_and_refuses_a_forged_change(client, engine: Engine, people) -> None:  # type: ignore[no-untyped-def]
    cid = _web_contest(engine, days_from_today=-1)
    sign_in(client, "root@example.com")
    token = csrf_from(client)
    page = client.get(f"/leaderboard/contests/{cid}/edit").text
    assert "its rules are locked" in page and 'name="metric"' not in page and 'name="prize"' not in page
    assert 'name="name"' in page and 'name="description"' in page
    forged = client.post(
        f"/leaderboard/contests/{cid}", data={"name": "December dash", "metric": "deals", "_csrf_token": token}
    )
    assert forged.status_code == 409 and "can no longer be changed" in forged.text
    assert load(engine, cid).metric == "bookings"
    fixed = client.post(
        f"/leaderboard/contests/{cid}",
        data={"name": "December dash", "description": "Bookings, USD.", "_csrf_token": token},
        follow_redirects=False,
    )
    assert fixed.status_code == 303 and load(engine, cid).description == "Bookings, USD."


def test_admin_creates_through_the_form_and_cancels_before_the_start(client, engine: Engine, people) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "root@example.com")
    token = csrf_from(client)
    assert client.get("/leaderboard/contests/new").status_code == 200
    bad = client.post(
        "/leaderboard/contests/", data={**_form(end="not a date", scope="everyone"), "_csrf_token": token}
    )
    assert bad.status_code == 400 and "is not a date" in bad.text
    made = client.post(
        "/leaderboard/contests/", data={**_form(scope="everyone"), "_csrf_token": token}, follow_redirects=False
    )
    assert made.status_code == 303
    cid = int(made.headers["location"].rsplit("/", 1)[1])
    assert "The board opens when the contest starts." in client.get(made.headers["location"]).text
    assert "Cancel contest" in client.get(f"/leaderboard/contests/{cid}/edit").text
    cancelled = client.post(f"/leaderboard/contests/{cid}/cancel", data={"_csrf_token": token}, follow_redirects=False)
    assert cancelled.status_code == 303 and load(engine, cid).status == "cancelled"


def test_a_managers_new_contest_form_starts_with_their_own_team_ticked(client, engine: Engine, people) -> None:  # type: ignore[no-untyped-def]
    """The form defaulted to "Chosen teams" with none ticked, so a manager's first submit failed (issue 17)."""
    import re

    from sqlmodel import Session

    sign_in(client, "eastboss@example.com")
    form = client.get("/leaderboard/contests/new").text
    with Session(engine) as s:
        east = s.exec(select(Team.id).where(Team.name == "East")).one()
    ticked = re.findall(r'<input[^>]*name="teams"[^>]*>', form)
    assert ticked, "the form lists the teams"
    assert [tag for tag in ticked if "checked" in tag] == [tag for tag in ticked if f'value="{east}"' in tag]
