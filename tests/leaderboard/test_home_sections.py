"""The leaderboard's sections on Home (leaderboard/home.py): the rules of rank, movement, gap and streak, and the
sections' figures, which must be the board's own (issue 17: one truth on every page)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

import leaderboard.models  # noqa: F401  (the leaderboard's tables are emptied between tests)
from commissions.core.db import transaction
from commissions.core.formatting import format_percent
from commissions.core.money import format_money
from commissions.core.periods import quarter_of
from commissions.core.principal import Principal
from commissions.models import Person
from leaderboard.extension import extension
from leaderboard.home import (
    contest_section,
    credit_to_pass,
    current_streak,
    gap_to,
    next_up,
    podium_edge,
    rank_section,
    recent_weeks,
    streak_section,
    time_left_text,
    wins_section,
)
from leaderboard.models import Contest, LeaderboardSnapshot
from leaderboard.service import Entry, board
from tests.calc_fixtures import example_deal, store_plan, store_quota
from tests.deals.test_deals_api import token_for

# --- pure rules ---------------------------------------------------------------------------------------------------


def _entry(name: str, rank: int, ppm: int | None, credited: int = 0, quota: int | None = 10_000_000) -> Entry:
    return Entry(
        person_id=hash(name) % 10_000,
        email=f"{name.lower()}@example.com",
        name=name,
        team_id=None,
        team_name="",
        plan_metric="bookings",
        currency="USD",
        credited_minor=credited,
        quota_minor=quota,
        attainment_ppm=ppm,
        rank=rank,
    )


def test_credit_to_pass_lifts_the_stored_attainment_strictly_above_the_target() -> None:
    quota = 10_000_000  # 100,000.00 USD
    # 83.5 % to pass: 8,350,005 minor would store 835,000.5 ppm, rounded half-even to 835,000 (a tie, not a pass)
    assert credit_to_pass(8_000_000, quota, 835_000) == 350_006
    assert round(Decimal(8_350_006) * 1_000_000 / quota) > 835_000
    assert round(Decimal(8_350_005) * 1_000_000 / quota) == 835_000
    assert credit_to_pass(9_000_000, quota, 835_000) == 0  # already above
    with pytest.raises(ValueError):
        credit_to_pass(0, 0, 1)


def test_next_up_is_the_nearest_rank_above_and_the_podium_edge_the_lowest_podium_place() -> None:
    rows = [
        _entry("Ana", 1, 1_200_000),
        _entry("Bo", 2, 1_000_000),
        _entry("Cy", 2, 1_000_000),
        _entry("Di", 4, 900_000),
        _entry("Ed", 5, 800_000, credited=8_000_000),
        _entry("Fay", 6, None, quota=None),
    ]
    ana, bo, di, ed, fay = rows[0], rows[1], rows[3], rows[4], rows[5]
    assert next_up(rows, ana) is None  # the leader has no one to pass
    assert next_up(rows, di) is bo  # a tie above: its first by the board's order
    assert next_up(rows, ed) is di
    assert podium_edge(rows, bo) is None  # on the podium already
    assert podium_edge(rows, ed) is bo  # passing rank 2 (the lowest podium rank) puts Ed on the podium
    # 10,000.06 USD exactly lifts Ed's stored attainment above Di's: shown as the whole currency unit above it
    assert credit_to_pass(8_000_000, 10_000_000, 900_000) == 1_000_006 and gap_to(ed, di) == 1_000_100
    yen = Entry(2, "y@example.com", "Yui", None, "", "bookings", "JPY", 800, 1000, 800_000, rank=5)
    assert gap_to(yen, _entry("Di", 4, 900_000)) == credit_to_pass(800, 1000, 900_000) == 101  # no minor unit
    assert gap_to(fay, ed) is None  # no quota: no attainment to compare
    # a deals quota (hundredths of a deal): 12 deals for 100 %; 5.5 credited, 6.01 needed to pass 50 %: one whole deal
    closer = Entry(1, "g@example.com", "Gil", None, "", "deals", "USD", 550, 1200, 458_333, rank=3)
    assert credit_to_pass(550, 1200, 500_000) == 51
    assert gap_to(closer, _entry("Hal", 2, 500_000)) == 100


def test_a_streak_counts_consecutive_weeks_back_from_this_one() -> None:
    today = date(2026, 12, 9)  # a Wednesday
    monday = date(2026, 12, 7)
    assert current_streak([], today) == 0
    assert current_streak([today], today) == 1
    # wins in each of the last three weeks, none yet this week: still alive at 3 until Sunday
    last_three = [monday - timedelta(days=3), monday - timedelta(days=10), monday - timedelta(days=17)]
    assert current_streak(last_three, today) == 3
    assert current_streak([*last_three, monday], today) == 4
    # a week without a win breaks it; two wins in one week count once
    assert current_streak([monday, monday - timedelta(days=14), monday - timedelta(days=13)], today) == 1
    assert current_streak([monday - timedelta(days=14)], today) == 0  # last week had none: over
    assert current_streak([today + timedelta(days=7)], today) == 0  # the future does not count
    weeks = recent_weeks([monday, monday - timedelta(days=13)], today, count=3)
    assert [(w.monday, w.won) for w in weeks] == [
        (monday - timedelta(days=14), True),
        (monday - timedelta(days=7), False),
        (monday, True),
    ]


def test_time_left_reads_in_days_and_hours() -> None:
    now = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    assert time_left_text(now + timedelta(days=3, hours=4, minutes=5), now) == "3 days 4 hours"
    assert time_left_text(now + timedelta(days=1, hours=1), now) == "1 day 1 hour"
    assert time_left_text(now + timedelta(hours=2, minutes=5), now) == "2 hours 5 minutes"
    assert time_left_text(now + timedelta(minutes=1), now) == "1 minute"


def test_the_extension_registers_its_home_sections_in_order() -> None:
    assert extension.home_sections == [rank_section, streak_section, wins_section, contest_section]


# --- the sections, against a database ------------------------------------------------------------------------------


def _principal(session: Session, email: str, role: str = "rep") -> Principal:
    person = session.exec(select(Person).where(Person.email == email)).one()
    return Principal(role=role, person_id=person.id, email=email, name=person.name)


def test_sections_show_the_boards_figures_and_nothing_for_a_person_without_a_plan(
    client, engine: Engine, make_person
) -> None:  # type: ignore[no-untyped-def]
    today = date.today()
    period = quarter_of(today)
    first_day = period.starts_on.isoformat()
    people = ["ana@example.com", "bo@example.com", "cy@example.com", "di@example.com"]
    for email in people:
        make_person(email, team="East")
    make_person("new@example.com", team="East")  # a new hire: no plan yet
    store_plan(engine, people)
    for email in people:
        store_quota(engine, email, 100_000, period=period.key)
    crm = token_for(engine, "admin")
    amounts = {
        "ana@example.com": "120000",
        "bo@example.com": "90000",
        "cy@example.com": "83500",
        "di@example.com": "50000",
    }
    for n, (email, amount) in enumerate(amounts.items()):
        response = client.post(
            "/api/v1/deals",
            json=example_deal(f"H-{n}", amount, first_day, owner=email, account=f"Acct {n}"),
            headers=crm,
        )
        assert response.status_code == 201, response.text
    # a streak for Di: a win this week and one last week (deals of the current quarter or the one before)
    for n, day in enumerate([today, today - timedelta(days=7)]):
        body = example_deal(f"S-{n}", "1000", day.isoformat(), owner="di@example.com", account="Initech")
        assert client.post("/api/v1/deals", json=body, headers=crm).status_code == 201
    with transaction(engine) as s:
        s.add(
            Contest(
                name="December push",
                metric="bookings",
                starts_on=period.starts_on,
                ends_on=period.starts_on + timedelta(days=365),
                prize="A trophy",
            )
        )

    with Session(engine) as session:
        di = _principal(session, "di@example.com")
        shown = board(session, period=period, viewer_id=di.person_id)
        rows = {e.email: e for e in shown.rows}

        section = rank_section(session, di, period)
        assert section is not None and section.order == 20
        assert section.template == "partials/home_game/rank.html"
        ctx = section.context
        me = ctx["me"]
        # the board's own figures: the same rank and attainment to the part per million
        assert (me.rank, me.attainment_ppm) == (rows["di@example.com"].rank, rows["di@example.com"].attainment_ppm)
        assert me.rank == 4 and ctx["count"] == 4
        assert ctx["next_up"].name == "Cy" and ctx["next_up"].rank == 3
        # to pass Cy's 83.5 % on a 100,000.00 quota: 83,500.06 (just over half a ppm) minus what Di has, shown
        # rounded up to the whole dollar
        credited = me.credited_minor
        assert credited == rows["di@example.com"].credited_minor >= 5_100_000
        assert credit_to_pass(credited, 10_000_000, 835_000) == 8_350_006 - credited
        assert ctx["next_up"].gap_minor == -(-(8_350_006 - credited) // 100) * 100
        assert ctx["podium_edge"].name == "Cy"
        assert [e.name for e in ctx["podium"]] == ["Ana", "Bo", "Cy"]
        assert (ctx["team_rank"], ctx["team_count"], ctx["team_name"]) == (4, 4, "East")

        streak = streak_section(session, di, period)
        assert streak is not None and streak.order == 30
        assert streak.context["streak"] == 2 and streak.context["won_this_week"] is True

        wins = wins_section(session, di, period)
        assert wins is not None and wins.order == 40
        newest = wins.context["wins"][0]
        assert (newest.cheer.account, newest.cheer.amount_minor, newest.cheer.currency, newest.mine) == (
            "Initech",
            100_000,
            "USD",
            True,
        )

        contest = contest_section(session, di, period)
        assert contest is not None and contest.order == 45
        standing = contest.context["s"]
        assert standing.contest.name == "December push"
        assert standing.leader is not None and standing.leader.name == "Ana"
        assert standing.gap_to_leader == 12_000_000 - standing.value

        newcomer = _principal(session, "new@example.com")
        assert rank_section(session, newcomer, period) is None
        assert streak_section(session, newcomer, period) is None
        assert contest_section(session, newcomer, period) is None
        # the floor's news is not their figures: a newcomer still sees who won what
        assert wins_section(session, newcomer, period) is not None

        finance = Principal(role="finance", person_id=None, email=None, name="Finance")
        assert all(fn(session, finance, period) is None for fn in extension.home_sections)

    with Session(engine) as session:  # a snapshot of today was taken, so tomorrow's Home shows movement
        assert session.exec(select(LeaderboardSnapshot).where(LeaderboardSnapshot.taken_on == today)).first()

    # the partials render the figures through the formatting filters
    templates = client.app.template_engine
    with Session(engine) as session:
        html = templates.get_template(section.template).render(ctx=section.context)
        assert f"{format_money(-(-(8_350_006 - credited) // 100) * 100, 'USD')} of bookings to pass Cy" in html
        assert 'data-rank="4"' in html and format_percent(me.attainment_ppm) in html
        html = templates.get_template(wins.template).render(ctx=wins.context)
        assert "<strong>Di</strong> closed <strong>Initech</strong>, 1,000.00 USD" in html
        html = templates.get_template(contest.template).render(ctx=contest.context)
        assert f"{format_money(12_000_000 - standing.value, 'USD')} behind Ana, the leader" in html
        html = templates.get_template(streak.template).render(ctx=streak.context)
        assert "2-week streak" in html


def test_a_manager_sees_their_teams_top(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    period = quarter_of(date.today())
    make_person("boss@example.com", "manager", team="East")
    for email in ("ana@example.com", "bo@example.com"):
        make_person(email, manager="boss@example.com", team="East")
    store_plan(engine, ["ana@example.com", "bo@example.com"])
    for email in ("ana@example.com", "bo@example.com"):
        store_quota(engine, email, 100_000, period=period.key)
    crm = token_for(engine, "admin")
    for n, email in enumerate(("ana@example.com", "bo@example.com")):
        body = example_deal(f"M-{n}", str(40_000 * (n + 1)), period.starts_on.isoformat(), owner=email)
        assert client.post("/api/v1/deals", json=body, headers=crm).status_code == 201
    with Session(engine) as session:
        boss = _principal(session, "boss@example.com", "manager")
        section = rank_section(session, boss, period)
        assert section is not None and section.template == "partials/home_game/team_rank.html"
        assert [(e.rank, e.name, e.attainment_ppm) for e in section.context["rows"]] == [
            (1, "Bo", 800_000),
            (2, "Ana", 400_000),
        ]
        assert section.context["team_name"] == "East"
        assert streak_section(session, boss, period) is None  # no plan, wins or badges of their own: nothing to show


def test_win_days_count_owned_split_and_sourced_deals_once_each(engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    from commissions.models import Campaign, Deal, DealSplit
    from leaderboard.home import win_days

    ana = make_person("ana@example.com")
    bo = make_person("bo@example.com")
    mia = make_person("mia@example.com", team="Marketing")
    day = date(2026, 11, 2)
    with transaction(engine) as s:
        s.add(Campaign(code="WEB", name="Webinars", owner_id=mia.id))

        def deal(ext: str, owner: int, closed: date, **extra: object) -> Deal:
            row = Deal(
                external_id=ext, name=ext, owner_id=owner, amount_minor=100, currency="USD", closed_at=closed, **extra
            )
            s.add(row)
            s.flush()
            return row

        deal("OWN", ana.id, day)
        split = deal("SPLIT", ana.id, day + timedelta(days=1))  # split 50/50: Ana and Bo both hold a share
        s.add(DealSplit(deal_id=split.id, person_id=ana.id, share_bp=5000))
        s.add(DealSplit(deal_id=split.id, person_id=bo.id, share_bp=5000))
        given = deal("GIVEN", ana.id, day + timedelta(days=2))  # owned by Ana, all of it split to Bo
        s.add(DealSplit(deal_id=given.id, person_id=bo.id, share_bp=10000))
        deal("CANCELLED", ana.id, day + timedelta(days=3), status="cancelled", cancelled_at=day + timedelta(days=5))
        deal("SOURCED", bo.id, day + timedelta(days=4), source_campaign="WEB")
    with Session(engine) as session:
        window = {"since": day - timedelta(days=30), "until": day + timedelta(days=30)}
        assert sorted(win_days(session, ana.id, **window)) == [day, day + timedelta(days=1)]
        assert sorted(win_days(session, bo.id, **window)) == [
            day + timedelta(days=1),
            day + timedelta(days=2),
            day + timedelta(days=4),
        ]
        assert win_days(session, mia.id, **window) == [day + timedelta(days=4)]  # the marketer's sourced win
        assert win_days(session, ana.id, since=day + timedelta(days=10), until=day + timedelta(days=30)) == []


def test_every_demo_reps_rank_section_is_their_row_on_the_board(engine: Engine) -> None:
    from commissions.demo import load_demo

    today = date.today()
    load_demo(engine, today=today)
    period = quarter_of(today)
    with Session(engine) as session:
        reps = session.exec(select(Person).where(Person.role == "rep", Person.active)).all()
        rows = {
            e.person_id: e
            for view in ("company", "marketing")
            for e in board(session, period=period, view=view, today=today).rows
        }
        assert len(reps) >= 20 and {r.id for r in reps} <= set(rows)
        for rep in reps:
            section = rank_section(session, _principal(session, rep.email), period)
            assert section is not None, rep.email
            me, expected = section.context["me"], rows[rep.id]
            assert (me.rank, me.attainment_ppm, me.credited_minor) == (
                expected.rank,
                expected.attainment_ppm,
                expected.credited_minor,
            ), rep.email
            above = section.context["next_up"]
            if me.rank == 1:
                assert above is None
            else:  # the gap lifts the rep's stored attainment strictly above the person they pass
                assert above.rank < me.rank and above.gap_minor is not None and above.gap_minor > 0
                target = rows[above.person_id]
                assert round(Decimal(me.credited_minor + above.gap_minor) * 1_000_000 / me.quota_minor) > (
                    target.attainment_ppm
                )
