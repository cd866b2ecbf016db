"""Contest rules: labels, time and derived state, and who may see, create and edit a contest."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core.errors import Forbidden
from commissions.core.i18n import N_, gettext, ngettext
from commissions.core.principal import Principal
from commissions.models import Person
from commissions.people.service import report_ids
from leaderboard.models import Contest, ContestTeam

#: The words of the contest pages, translated where shown (``{{ _(modes[c.mode]) }}``).
METRIC_LABELS = {"bookings": N_("Bookings"), "deals": N_("Deals"), "sourced_revenue": N_("Sourced revenue")}
MODE_LABELS = {"individual": N_("Individuals"), "team": N_("Teams")}
SCOPE_LABELS = {"everyone": N_("Everyone"), "teams": N_("Chosen teams")}
STATE_LABELS = {
    "scheduled": N_("Upcoming"),
    "running": N_("Running"),
    "ended": N_("Ended"),
    "final": N_("Ended"),
    "cancelled": N_("Cancelled"),
}


# --- time -------------------------------------------------------------------------------------------------


def starts_at(contest: Contest) -> datetime:
    return datetime.combine(contest.starts_on, time(), UTC)


def ends_at(contest: Contest) -> datetime:
    """The end instant: 00:00 UTC of the day after ``ends_on``."""
    return datetime.combine(contest.ends_on + timedelta(days=1), time(), UTC)


def state(contest: Contest, now: datetime) -> str:
    if contest.status == "cancelled":
        return "cancelled"
    if contest.closed_at is not None:
        return "final"
    if now < starts_at(contest):
        return "scheduled"
    if now < ends_at(contest):
        return "running"
    return "ended"


def is_locked(contest: Contest, now: datetime) -> bool:
    """The rules are fixed from the start instant on."""
    return now >= starts_at(contest)


def time_left(contest: Contest, now: datetime) -> str:
    """ "3 days 4 h", "2 h 5 min" or "4 min 9 s" until the start (scheduled) or the end (running);
    empty otherwise. leaderboard/static/countdown.js ticks the same text in the browser."""
    current = state(contest, now)
    if current not in ("scheduled", "running"):
        return ""
    delta = (starts_at(contest) if current == "scheduled" else ends_at(contest)) - now
    days, seconds = delta.days, delta.seconds
    hours, minutes, seconds = seconds // 3600, seconds % 3600 // 60, seconds % 60
    words = countdown_words()
    if days:
        return f"{_count(words['day'] if days == 1 else words['days'], days)} {_count(words['h'], hours)}"
    if hours:
        return f"{_count(words['h'], hours)} {_count(words['min'], minutes)}"
    return f"{_count(words['min'], minutes)} {_count(words['s'], seconds)}"


def countdown_words() -> dict[str, str]:
    """The units of a countdown in the page's language (``%(num)d day``, ``%(num)d h``...): ``time_left`` and
    leaderboard/static/countdown.js (given them in ``data-countdown-words``) write the same text."""
    return {
        "day": ngettext("%(num)d day", "%(num)d days", 1),
        "days": ngettext("%(num)d day", "%(num)d days", 2),
        "h": gettext("%(num)d h"),
        "min": gettext("%(num)d min"),
        "s": gettext("%(num)d s"),
    }


def _count(pattern: str, n: int) -> str:
    return pattern % {"num": n}


# --- who ----------------------------------------------------------------------------------------------------


def can_create(principal: Principal) -> bool:
    return principal.role in ("admin", "manager")


def manager_team_ids(session: Session, principal: Principal) -> set[int]:
    """A manager's teams: their own and the teams of everyone in their reporting tree."""
    if principal.role != "manager" or principal.person_id is None:
        return set()
    people = {principal.person_id, *report_ids(session, principal.person_id)}
    return {t for t in session.exec(select(Person.team_id).where(col(Person.id).in_(people))) if t is not None}


def contest_team_ids(session: Session, contest_id: int) -> set[int]:
    return set(session.exec(select(ContestTeam.team_id).where(ContestTeam.contest_id == contest_id)))


def can_edit(session: Session, principal: Principal, contest: Contest) -> bool:
    """Admins edit every contest; a manager only a contest of chosen teams that are all theirs."""
    if principal.role == "admin":
        return True
    if principal.role != "manager" or contest.scope != "teams":
        return False
    teams = contest_team_ids(session, stored_id(contest))
    return bool(teams) and teams <= manager_team_ids(session, principal)


def viewer_team_id(session: Session, principal: Principal) -> int | None:
    if principal.person_id is None:
        return None
    return session.exec(select(Person.team_id).where(Person.id == principal.person_id)).first()


def can_see(session: Session, principal: Principal, contest: Contest) -> bool:
    """Company-wide contests: everyone; team contests: their teams, their managers, admins and finance."""
    if principal.role in ("admin", "finance") or contest.scope == "everyone":
        return True
    teams = contest_team_ids(session, stored_id(contest))
    if viewer_team_id(session, principal) in teams:
        return True
    return principal.role == "manager" and bool(teams & manager_team_ids(session, principal))


def visible_contests(session: Session, principal: Principal) -> list[Contest]:
    """Every contest the caller may see, newest start first."""
    contests = session.exec(select(Contest).order_by(col(Contest.starts_on).desc(), col(Contest.id).desc())).all()
    if principal.role in ("admin", "finance"):
        return list(contests)
    by_contest: dict[int, set[int]] = defaultdict(set)
    for cid, tid in session.exec(select(ContestTeam.contest_id, ContestTeam.team_id)):
        by_contest[cid].add(tid)
    mine = {viewer_team_id(session, principal)} - {None}
    if principal.role == "manager":
        mine |= manager_team_ids(session, principal)
    return [c for c in contests if c.scope == "everyone" or by_contest.get(stored_id(c), set()) & mine]


def visible_contest(session: Session, principal: Principal, contest_id: int) -> Contest | None:
    """The contest, or None if it does not exist or the caller may not see it (the same answer: 404)."""
    contest = session.get(Contest, contest_id)
    if contest is None or not can_see(session, principal, contest):
        return None
    return contest


def editable_contest(session: Session, principal: Principal, contest_id: int) -> Contest | None:
    """None when not visible (404); Forbidden when visible but not the caller's to edit (403)."""
    contest = visible_contest(session, principal, contest_id)
    if contest is None:
        return None
    if not can_edit(session, principal, contest):
        raise Forbidden("Only admins, and managers of every team taking part, edit this contest.")
    return contest
