"""The leaderboard's sections on Home (the ``home_sections`` hook, commissions/app/extensions.py).

Each section is a callable ``(session, principal, period) -> HomeSection | None`` whose context the Home page hands
to a partial in ``templates/partials/home_game/`` as ``ctx``:

- **Your rank** (order 20): the person's place on the board they play on (sales reps: the company board, marketers:
  the marketing board, both by attainment), movement since yesterday's snapshot (``leaderboard_snapshot``, the same
  one the board shows), what it takes to pass the next person up and to reach the podium. A manager (who is not on
  the board: their plans credit their team's deals) gets their team's top instead.
- **Streaks and badges** (order 30): the current weekly streak and the newest badges.
- **Recent wins** (order 40): the newest won deals, as the live board celebrates them (with their currency).
- **Your contest** (order 45): the running contest the person takes part in, their standing and the time left.

Every figure comes from what the board reads (``leaderboard.service.board``: the stored payee summaries, ranked by
``leaderboard.ranking``), so Home and the board cannot disagree; the rules below (the gap, the streak) are pure
functions over those figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from commissions.core.formatting import COUNTED_METRICS
from commissions.core.i18n import ngettext
from commissions.core.periods import PeriodKey, parse_period_key
from commissions.core.principal import Principal
from commissions.core.rendering import HomeSection
from commissions.engine.money import minor_digits
from commissions.models import Campaign, Deal, DealSplit, Person, Team
from commissions.models.base import utcnow
from leaderboard.contests.rules import ends_at, state, visible_contests
from leaderboard.contests.standings import Row, live_rows
from leaderboard.models import BadgeGrant, BadgeRule, Contest
from leaderboard.service import Celebration, Entry, board, ensure_snapshot

PPM = 1_000_000
PODIUM = 3
STREAK_WEEKS_LOOKED_AT = 53  # a streak longer than a year is shown as a year
NEWEST_BADGES = 3
RECENT_WINS = 5
TEAM_TOP = 5
BADGE_WAIT_SECONDS = 0.5  # as the board page: Home never waits long for a badge evaluation

# --- pure rules ---------------------------------------------------------------------------------------------------


def credit_to_pass(credited_minor: int, quota_minor: int, target_ppm: int) -> int:
    """How much more credit (minor units, or hundredths of a deal) lifts attainment strictly above ``target_ppm``.

    Attainment is stored as parts per million rounded to the nearest integer, so the credit needed is the smallest
    ``c`` with ``c * 1,000,000 / quota > target + ½``: then its stored attainment exceeds the target's whatever the
    rounding. 0 when the person is already above.
    """
    if quota_minor <= 0:
        raise ValueError("a quota must be positive to compare attainment")
    needed = (2 * target_ppm + 1) * quota_minor // (2 * PPM) + 1
    return max(0, needed - credited_minor)


def next_up(rows: Sequence[Entry], me: Entry) -> Entry | None:
    """The person to pass to climb a place: the first of the nearest rank above (None at the top)."""
    above = [row for row in rows if row.rank < me.rank]
    if not above:
        return None
    nearest = max(row.rank for row in above)
    return next(row for row in above if row.rank == nearest)


def podium_edge(rows: Sequence[Entry], me: Entry) -> Entry | None:
    """The lowest-placed person on the podium (ranks 1–3) when ``me`` is not on it: passing them puts you there."""
    if me.rank <= PODIUM:
        return None
    on_podium = [row for row in rows if row.rank <= PODIUM]
    if not on_podium:
        return None
    lowest = max(row.rank for row in on_podium)
    return next(row for row in on_podium if row.rank == lowest)


def gap_to(me: Entry, other: Entry) -> int | None:
    """The credit ``me`` needs to pass ``other`` on attainment, in ``me``'s plan metric, rounded up to what one
    more brings: whole deals, MQLs or SQLs for a counted metric, whole units of the currency for money (the exact
    threshold carries the stored attainment's rounding, half a part per million of the quota: "58,000.16 USD to
    pass" read as a miscalculation where 58,001.00 reads as "a little more than a tie"); None without quotas."""
    if me.quota_minor is None or me.quota_minor <= 0 or other.attainment_ppm is None:
        return None
    gap = credit_to_pass(me.credited_minor, me.quota_minor, other.attainment_ppm)
    # counted in hundredths: a whole deal (MQL, SQL) is what one more brings; money in whole units of its currency
    unit = 100 if me.plan_metric in COUNTED_METRICS else 10 ** minor_digits(me.currency)
    return -(-gap // unit) * unit


def week_of(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def current_streak(win_days: Iterable[date], today: date) -> int:
    """Consecutive ISO weeks (Monday to Sunday) with at least one won deal, counted back from this week.

    This week counts once it has a win; until it ends without one, the streak from the weeks before is still alive
    (a rep with wins in each of the last three weeks and none yet this Monday has a streak of 3).
    """
    weeks = {week_of(day) for day in win_days if day <= today}
    week = week_of(today)
    if week not in weeks:
        week -= timedelta(days=7)
    streak = 0
    while week in weeks:
        streak += 1
        week -= timedelta(days=7)
    return streak


@dataclass(frozen=True, slots=True)
class Week:
    monday: date
    won: bool


def recent_weeks(win_days: Iterable[date], today: date, *, count: int = 8) -> list[Week]:
    """The last ``count`` ISO weeks, oldest first (this week last), each with whether it had a win."""
    weeks = {week_of(day) for day in win_days if day <= today}
    this = week_of(today)
    return [Week(monday, monday in weeks) for monday in (this - timedelta(weeks=n) for n in range(count - 1, -1, -1))]


def time_left_text(until: datetime, now: datetime) -> str:
    """ "3 days 4 hours", "5 hours 10 minutes" or "12 minutes" until ``until`` (translated)."""
    seconds = max(0, int((until - now).total_seconds()))
    days, hours, minutes = seconds // 86_400, seconds % 86_400 // 3_600, seconds % 3_600 // 60
    if days:
        return "{} {}".format(
            ngettext("%(num)d day", "%(num)d days", days) % {"num": days},
            ngettext("%(num)d hour", "%(num)d hours", hours) % {"num": hours},
        )
    if hours:
        return "{} {}".format(
            ngettext("%(num)d hour", "%(num)d hours", hours) % {"num": hours},
            ngettext("%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes},
        )
    return ngettext("%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes}


# --- reading --------------------------------------------------------------------------------------------------------


def period_key_of(period: PeriodKey | str | Any) -> PeriodKey:
    """Home hands over a ``PeriodKey``; a key string or a ``Period`` row (with ``.key``) work too."""
    if isinstance(period, PeriodKey):
        return period
    return parse_period_key(period if isinstance(period, str) else str(period.key))


def _person_and_team(session: Session, person_id: int) -> tuple[Person, Team | None] | None:
    person = session.get(Person, person_id)
    if person is None:
        return None
    return person, (session.get(Team, person.team_id) if person.team_id is not None else None)


def _board_for(session: Session, key: PeriodKey, *, view: str, team_id: int | None, viewer_id: int) -> list[Entry]:
    today = date.today()
    ensure_snapshot(session.get_bind(), period=key, today=today)  # so tomorrow's movement has today to compare
    return board(
        session,
        period=key,
        view=view,
        team_id=team_id,
        viewer_id=viewer_id,
        today=today,
        badge_wait=BADGE_WAIT_SECONDS,
    ).rows


@dataclass(frozen=True, slots=True)
class Target:
    """Someone to pass and what it takes (``gap_minor`` in the viewer's plan metric; None without a quota)."""

    person_id: int
    name: str
    rank: int
    gap_minor: int | None


def _target(me: Entry, other: Entry | None) -> Target | None:
    return None if other is None else Target(other.person_id, other.name, other.rank, gap_to(me, other))


def board_url(view: str, team_id: int | None = None) -> str:
    return (
        "/leaderboard" if view == "company" else f"/leaderboard?view={view}" + (f"&team={team_id}" if team_id else "")
    )


def rank_section(session: Session, principal: Principal, period: PeriodKey | str | Any) -> HomeSection | None:
    """ "Your rank": a rep's or marketer's place on their board; a manager's team top. None for anyone else."""
    if principal.person_id is None or principal.role not in ("rep", "manager"):
        return None
    found = _person_and_team(session, principal.person_id)
    if found is None:
        return None
    _person, team = found
    key = period_key_of(period)
    if principal.role == "manager":
        return _team_section(session, principal.person_id, team, key)
    view = "marketing" if team is not None and team.kind == "marketing" else "company"
    rows = _board_for(session, key, view=view, team_id=None, viewer_id=principal.person_id)
    me = next((row for row in rows if row.person_id == principal.person_id), None)
    if me is None:  # no plan (no stored figures) in the period: not on the board
        return None
    teammates = [row for row in rows if team is not None and row.team_id == team.id]
    return HomeSection(
        template="partials/home_game/rank.html",
        order=20,
        context={
            "period": key,
            "view": view,
            "board_url": board_url(view),
            "me": me,
            "count": len(rows),
            "next_up": _target(me, next_up(rows, me)),
            "podium_edge": _target(me, podium_edge(rows, me)),
            "podium": [row for row in rows if row.rank <= PODIUM][:PODIUM],
            "team_name": team.name if team is not None else "",
            "team_rank": 1 + sum(1 for row in teammates if _ahead(row, me)),
            "team_count": len(teammates),
        },
    )


def _ahead(row: Entry, me: Entry) -> bool:
    """Ahead on attainment (the board's order): ties are not ahead."""
    if row.attainment_ppm is None:
        return False
    return me.attainment_ppm is None or row.attainment_ppm > me.attainment_ppm


def _team_section(session: Session, person_id: int, team: Team | None, key: PeriodKey) -> HomeSection | None:
    """A manager's view: their team's top of the board (the company's when they lead no team of their own)."""
    view = "team" if team is not None else "company"
    rows = _board_for(session, key, view=view, team_id=team.id if team else None, viewer_id=person_id)
    if not rows:
        return None
    return HomeSection(
        template="partials/home_game/team_rank.html",
        order=20,
        context={
            "period": key,
            "team_name": team.name if team is not None else "",
            "board_url": board_url(view, team.id if team else None),
            "rows": rows[:TEAM_TOP],
            "count": len(rows),
        },
    )


# --- streaks and badges ---------------------------------------------------------------------------------------------


def win_days(session: Session, person_id: int, *, since: date, until: date) -> list[date]:
    """The close dates of won deals credited to the person: deals they own without splits, hold a split of, or
    (a marketer) sourced with one of their campaigns."""
    owned_columns: tuple[Any, ...] = (Deal.id, Deal.closed_at)
    owned = session.exec(
        select(*owned_columns).where(
            Deal.owner_id == person_id, Deal.status == "won", Deal.closed_at >= since, Deal.closed_at <= until
        )
    ).all()
    split_deals = set(
        session.exec(
            select(DealSplit.deal_id).where(col(DealSplit.deal_id).in_([deal_id for deal_id, _ in owned] or [-1]))
        ).all()
    )
    days = [closed for deal_id, closed in owned if deal_id not in split_deals]
    days += session.exec(
        select(col(Deal.closed_at))
        .join(DealSplit, col(DealSplit.deal_id) == Deal.id)
        .where(DealSplit.person_id == person_id, Deal.status == "won", Deal.closed_at >= since, Deal.closed_at <= until)
    ).all()
    days += session.exec(  # a marketer's wins: won deals sourced by a campaign they own
        select(col(Deal.closed_at))
        .join(Campaign, col(Campaign.code) == Deal.source_campaign)
        .where(Campaign.owner_id == person_id, Deal.status == "won", Deal.closed_at >= since, Deal.closed_at <= until)
    ).all()
    return days


@dataclass(frozen=True, slots=True)
class BadgeShown:
    name: str
    description: str
    granted_on: date


def newest_badges(session: Session, person_id: int, *, limit: int = NEWEST_BADGES) -> list[BadgeShown]:
    """The person's newest badges that still stand (any period), newest first."""
    rows = session.exec(
        select(BadgeRule.name, BadgeRule.description, BadgeGrant.granted_at)
        .join(BadgeRule, col(BadgeRule.id) == BadgeGrant.rule_id)
        .where(BadgeGrant.person_id == person_id, col(BadgeGrant.revoked_at).is_(None))
        .order_by(col(BadgeGrant.granted_at).desc(), col(BadgeGrant.id).desc())
        .limit(limit)
    ).all()
    return [BadgeShown(name, description, granted.date()) for name, description, granted in rows]


def _streak_badge(session: Session) -> tuple[str, int] | None:
    """The active weekly-streak badge's name and the weeks it asks for (the next thing a streak earns)."""
    for name, params in session.exec(
        select(BadgeRule.name, BadgeRule.params).where(BadgeRule.kind == "weekly_streak", BadgeRule.active)
    ):
        try:
            return name, int(params.get("weeks", 3))
        except (TypeError, ValueError):
            continue
    return None


def _on_board(session: Session, principal: Principal, key: PeriodKey) -> bool:
    """Whether the person has stored figures in the period (a plan): the same test as being on the board."""
    from commissions.models import PayeeSummary, Period

    return (
        session.exec(
            select(PayeeSummary.id)
            .join(Period, col(Period.id) == PayeeSummary.period_id)
            .where(Period.key == key.key, PayeeSummary.person_id == principal.person_id)
            .limit(1)
        ).first()
        is not None
    )


def streak_section(session: Session, principal: Principal, period: PeriodKey | str | Any) -> HomeSection | None:
    """ "Streaks and badges": reps and managers on a plan in the period."""
    if principal.person_id is None or principal.role not in ("rep", "manager"):
        return None
    key = period_key_of(period)
    if not _on_board(session, principal, key):
        return None
    today = date.today()
    days = win_days(
        session, principal.person_id, since=week_of(today) - timedelta(weeks=STREAK_WEEKS_LOOKED_AT), until=today
    )
    streak = current_streak(days, today)
    won_this_week = any(week_of(day) == week_of(today) for day in days if day <= today)
    badges = newest_badges(session, principal.person_id)
    if principal.role == "manager" and streak == 0 and not badges:
        return None  # a manager's deals are mostly their team's: nothing of their own to show
    goal = _streak_badge(session)
    return HomeSection(
        template="partials/home_game/streak.html",
        order=30,
        context={
            "streak": streak,
            "won_this_week": won_this_week,
            "weeks": recent_weeks(days, today),
            "week_ends_on": week_of(today) + timedelta(days=6),
            "badges": badges,
            "goal_name": goal[0] if goal and streak < goal[1] else None,
            "goal_weeks_left": goal[1] - streak if goal and streak < goal[1] else 0,
        },
    )


# --- recent wins ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Win:
    cheer: Celebration
    name: str  # the owner's full name
    closed_on: date
    mine: bool


def recent_wins(session: Session, *, viewer_id: int | None, limit: int = RECENT_WINS) -> list[Win]:
    """The newest won deals (latest close first, then latest recorded), as the board's banner celebrates them:
    bookings, never pay."""
    win_columns: tuple[Any, ...] = (
        Deal.id,
        Deal.name,
        Deal.account,
        Deal.amount_minor,
        Deal.currency,
        Deal.owner_id,
        Deal.closed_at,
        Person.name,
    )
    rows = session.exec(
        select(*win_columns)
        .join(Person, col(Person.id) == Deal.owner_id)
        .where(Deal.status == "won")
        .order_by(col(Deal.closed_at).desc(), col(Deal.created_at).desc(), col(Deal.id).desc())
        .limit(limit)
    ).all()
    splits: dict[int, set[int]] = {}
    for deal_id, person_id in session.exec(
        select(DealSplit.deal_id, DealSplit.person_id).where(col(DealSplit.deal_id).in_([r[0] for r in rows] or [-1]))
    ):
        splits.setdefault(deal_id, set()).add(person_id)
    out = []
    for deal_id, name, account, amount_minor, currency, owner_id, closed_on, owner in rows:
        cheer = Celebration(
            owner=owner.split()[0] if owner else owner,
            account=account or name,
            amount_minor=int(amount_minor),
            currency=currency,
            person_ids=frozenset({int(owner_id), *splits.get(deal_id, set())}),
        )
        out.append(Win(cheer, owner, closed_on, cheer.is_for(viewer_id)))
    return out


def wins_section(session: Session, principal: Principal, period: PeriodKey | str | Any) -> HomeSection | None:
    """ "Recent wins": the company's newest won deals for reps and managers (whether or not they have a plan yet:
    it is the floor's news, not their figures); None when nothing was won yet."""
    if principal.person_id is None or principal.role not in ("rep", "manager"):
        return None
    wins = recent_wins(session, viewer_id=principal.person_id)
    if not wins:
        return None
    return HomeSection(template="partials/home_game/wins.html", order=40, context={"wins": wins})


# --- your contest -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContestStanding:
    contest: Contest
    rank: int
    count: int
    value: int  # minor units, or hundredths of a deal
    leader: Row | None  # None when the viewer leads
    gap_to_leader: int
    time_left: str
    ends_at: datetime


def my_contest(session: Session, principal: Principal, *, now: datetime) -> ContestStanding | None:
    """The running contest (ending soonest) in which the person, or their team in a team contest, is on the board."""
    if principal.person_id is None:
        return None
    team_id = session.exec(select(Person.team_id).where(Person.id == principal.person_id)).first()
    running = sorted(
        (c for c in visible_contests(session, principal) if state(c, now) == "running"),
        key=lambda c: (c.ends_on, c.id or 0),
    )
    for contest in running:
        rows = live_rows(session, contest)
        mine = next(
            (
                r
                for r in rows
                if (r.person_id == principal.person_id if contest.mode == "individual" else r.team_id == team_id)
                and (contest.mode == "individual" or team_id is not None)
            ),
            None,
        )
        if mine is None:
            continue
        top = rows[0]
        leader = None if mine.rank == 1 else top
        return ContestStanding(
            contest=contest,
            rank=mine.rank,
            count=len(rows),
            value=mine.value,
            leader=leader,
            gap_to_leader=0 if leader is None else max(0, leader.value - mine.value),
            time_left=time_left_text(ends_at(contest), now),
            ends_at=ends_at(contest),
        )
    return None


def contest_section(session: Session, principal: Principal, period: PeriodKey | str | Any) -> HomeSection | None:
    """ "Your contest": reps and managers on a plan in the period who take part in a running contest."""
    if principal.person_id is None or principal.role not in ("rep", "manager"):
        return None
    if not _on_board(session, principal, period_key_of(period)):
        return None
    standing = my_contest(session, principal, now=utcnow())
    if standing is None:
        return None
    return HomeSection(template="partials/home_game/contest.html", order=45, context={"s": standing})


SECTIONS = [rank_section, streak_section, wins_section, contest_section]
