"""Reads the leaderboard's pages and API make beyond the board itself (``leaderboard.service.board``): the
viewer's team and tier hints, the TV panels, badge rules for their admin pages, contest winners and team names.

Each takes the caller's session and only reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from commissions.core.principal import Principal
from commissions.models import Person, Team
from commissions.statements.whatif import next_tier_hints
from leaderboard.contests.rules import manager_team_ids
from leaderboard.models import BadgeGrant, BadgeRule, ContestResult

# --- the board --------------------------------------------------------------------------------------------------


def team_id_of(session: Session, person_id: int) -> int | None:
    """The person's team: the board's "my team" when no team is chosen."""
    return session.exec(select(Person.team_id).where(Person.id == person_id)).first()


def team_id_named(session: Session, text: str) -> int | None:
    """A team by id (digits), by exact name, or by name in any case when only one team has it; None otherwise."""
    if text.isascii() and text.isdigit() and len(text) <= 9 and session.get(Team, int(text)) is not None:
        return int(text)
    exact = session.exec(select(Team.id).where(Team.name == text)).first()
    if exact is not None:
        return exact
    folded = text.casefold()  # in Python: SQLite's lower() only folds ASCII
    matches = [team_id for team_id, name in session.exec(select(Team.id, Team.name)).all() if name.casefold() == folded]
    return matches[0] if len(matches) == 1 else None


def tier_hints(session: Session, principal: Principal, period_key: str) -> list[str]:
    """The viewer's own distance to their next commission tier (never anyone else's)."""
    if principal.person_id is None or principal.role not in ("rep", "manager"):
        return []
    person = session.get(Person, principal.person_id)
    return next_tier_hints(session, person, period_key) if person else []


# --- TV mode ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Panel:
    view: str
    metric: str
    team_id: int | None
    title: str


def panels(session: Session) -> list[Panel]:
    """What the screen rotates through: the company by attainment, each sales team with reps, marketing.

    Teams without an active rep (a parent team of managers, operations) would only show an
    empty board, so they are left out; so is marketing when no marketing team has a rep.
    """
    staffed = (
        select(Team.id, Team.name, Team.kind)
        .join(Person, col(Person.team_id) == Team.id)
        .where(Person.active, Person.role == "rep")
        .distinct()
        .order_by(col(Team.name), col(Team.id))
    )
    rows = session.exec(staffed).all()
    out = [Panel("company", "attainment", None, "Company")]
    out += [Panel("team", "attainment", team_id, name) for team_id, name, kind in rows if kind == "sales"]
    if any(kind == "marketing" for _id, _name, kind in rows):
        out.append(Panel("marketing", "sourced_revenue", None, "Marketing"))
    return out


# --- badge rules ------------------------------------------------------------------------------------------------


def has_badge_rules(session: Session) -> bool:
    return session.exec(select(BadgeRule.id).limit(1)).first() is not None


def badge_rules_with_counts(session: Session) -> list[tuple[BadgeRule, int, int]]:
    """Each rule with its active and revoked grant counts (all periods)."""
    revoked = func.count(col(BadgeGrant.revoked_at))
    active = func.count(col(BadgeGrant.id)) - revoked
    rows = session.exec(
        select(BadgeRule, active, revoked)
        .outerjoin(BadgeGrant, col(BadgeGrant.rule_id) == BadgeRule.id)
        .group_by(col(BadgeRule.id))
        .order_by(col(BadgeRule.id))
    ).all()
    return [(rule, int(n or 0), int(r or 0)) for rule, n, r in rows]


def badge_rule(session: Session, rule_id: int) -> BadgeRule | None:
    return session.get(BadgeRule, rule_id)


def badge_key_taken(session: Session, key: str) -> bool:
    return session.exec(select(BadgeRule.id).where(BadgeRule.key == key)).first() is not None


# --- contests ---------------------------------------------------------------------------------------------------


def contest_winners(session: Session, contest_ids: list[int]) -> dict[int, list[ContestResult]]:
    """The recorded winners of each of the contests, in board order."""
    winners: dict[int, list[ContestResult]] = {}
    if contest_ids:
        for row in session.exec(
            select(ContestResult)
            .where(col(ContestResult.contest_id).in_(contest_ids), ContestResult.winner)
            .order_by(col(ContestResult.contest_id), col(ContestResult.position))
        ):
            winners.setdefault(row.contest_id, []).append(row)
    return winners


def team_choices(session: Session, principal: Principal) -> list[Team]:
    """The teams the contest form offers: every team to an admin, a manager's own teams to a manager."""
    query = select(Team).order_by(col(Team.name))
    if principal.role != "admin":
        query = query.where(col(Team.id).in_(manager_team_ids(session, principal) or {-1}))
    return list(session.exec(query))


def default_contest_teams(session: Session, principal: Principal) -> list[int]:
    """The teams ticked on a new contest's form: a manager's own team, or (a manager above teams, like a VP, who
    belongs to none) every team under them. An admin's contest is company-wide by default: none ticked."""
    if principal.role != "manager" or principal.person_id is None:
        return []
    own = team_id_of(session, principal.person_id)
    if own is not None:
        return [own]
    return sorted(manager_team_ids(session, principal))


def team_names(session: Session, team_ids: set[int]) -> list[str]:
    if not team_ids:
        return []
    return list(session.exec(select(Team.name).where(col(Team.id).in_(team_ids)).order_by(col(Team.name))))
