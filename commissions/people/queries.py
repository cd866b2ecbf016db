"""Reads about people: the one place that looks a person up by email, and the lists pages show.

Emails are stored in lower case without surrounding spaces (``normalise_email``), so a
look-up is an exact match on the normalised text. Active or not: whoever needs only
active people checks ``person.active`` and says so in its own message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from commissions.calculation.rows import id_col, stored_id
from commissions.core.db import among
from commissions.models import AuditEvent, Person, Plan, PlanAssignment, Team

_CHUNK = 500  # emails per IN (...) query: well under every database's parameter limit


def normalise_email(email: str) -> str:
    return email.strip().lower()


def person_by_email(session: Session, email: str) -> Person | None:
    return session.exec(select(Person).where(Person.email == normalise_email(email))).first()


def person_by_id(session: Session, person_id: int) -> Person | None:
    return session.get(Person, person_id)


def people_by_email(session: Session, emails: Iterable[str]) -> dict[str, Person]:
    """The people of ``emails`` (normalised) who exist, by their email; unknown ones are left out."""
    wanted = sorted({normalise_email(email) for email in emails})
    found: dict[str, Person] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update(
            (p.email, p) for p in session.exec(select(Person).where(among(session, col(Person.email), chunk))).all()
        )
    return found


@dataclass(frozen=True)
class PeopleSearch:
    """The admin list's search: words in a name, email or employee id (every word, any case); a role; a team
    (its name, any case). Case is ignored as the database lowers text: PostgreSQL for every script, SQLite for
    ASCII letters only."""

    q: str = ""
    role: str = ""
    team: str = ""


@dataclass(frozen=True)
class PeopleListing:
    shown: list[Person]  # active first, then by name; at most the limit asked for
    matched: int  # everyone the search matches
    total: int  # everyone
    teams: dict[int, str]  # every team's name by id (a few hundred at most)
    by_id: dict[int, Person]  # the shown, their managers and the people asked about, by id


def team_names(session: Session) -> dict[int, str]:
    """Every team's name by id (a few hundred at most)."""
    return {stored_id(t): t.name for t in session.exec(select(Team)).all()}


def people_listing(session: Session, search: PeopleSearch, *, limit: int, named: Iterable[int] = ()) -> PeopleListing:
    """The people the admin list shows: filtered, counted and cut in SQL, so the page costs what it shows and
    not the size of the organisation; ``named`` are people a notice on the page speaks of."""
    teams = team_names(session)
    where: list[Any] = []
    if search.role:
        where.append(col(Person.role) == search.role)
    if search.team:
        wanted = search.team.casefold()
        where.append(col(Person.team_id).in_([tid for tid, name in teams.items() if name.casefold() == wanted]))
    for word in search.q.split():
        where.append(
            or_(
                col(Person.name).icontains(word, autoescape=True),
                col(Person.email).icontains(word, autoescape=True),
                col(Person.employee_id).icontains(word, autoescape=True),
            )
        )
    shown = list(
        session.exec(
            select(Person).where(*where).order_by(col(Person.active).desc(), Person.name, col(Person.id)).limit(limit)
        ).all()
    )
    matched = session.exec(select(func.count()).select_from(Person).where(*where)).one()
    total = matched if not where else session.exec(select(func.count()).select_from(Person)).one()
    by_id = {stored_id(p): p for p in shown}
    wanted_ids = ({p.manager_id for p in shown if p.manager_id is not None} | set(named)) - by_id.keys()
    if wanted_ids:
        others = session.exec(select(Person).where(among(session, col(Person.id), sorted(wanted_ids)))).all()
        by_id.update((stored_id(p), p) for p in others)
    return PeopleListing(shown, matched, total, teams, by_id)


def active_people_by_role(session: Session) -> dict[str, int]:
    """How many active people hold each role."""
    return dict(session.exec(select(Person.role, func.count()).where(Person.active).group_by(Person.role)).all())


# ---- the integration API's lists (GET /api/v1/people, /api/v1/teams): by id, a page at a time -------------

PERSON_CURSOR = "person"  # the tags of their cursors (commissions.core.paging)
TEAM_CURSOR = "team"


@dataclass(frozen=True, slots=True)
class PersonRow:
    """A person as the people API shows them: exactly the fields ``PUT /api/v1/people`` takes."""

    id: int
    email: str
    name: str
    role: str
    team: str | None
    manager: str | None
    employee_id: str | None
    active: bool
    locale: str | None
    payment_currency: str | None


@dataclass(frozen=True, slots=True)
class TeamRow:
    id: int
    name: str
    kind: str
    manager: str | None


def people_page(
    session: Session,
    *,
    after: int | None,
    limit: int,
    team: str | None = None,
    active: bool | None = None,
    q: str | None = None,
) -> list[PersonRow]:
    """Up to ``limit`` people after the id ``after``, by id; ``team`` (a name), ``active`` and ``q`` (part of the
    name or email, any case) narrow it."""
    manager = aliased(Person)
    columns: tuple[Any, ...] = (
        id_col(Person.id),
        Person.email,
        Person.name,
        Person.role,
        Team.name,
        manager.email,
        Person.employee_id,
        Person.active,
        Person.locale,
        Person.payment_currency,
    )
    query = (
        select(*columns)
        .outerjoin(Team, col(Team.id) == Person.team_id)
        .outerjoin(manager, col(manager.id) == Person.manager_id)
        .order_by(col(Person.id))
        .limit(limit)
    )
    if after is not None:
        query = query.where(col(Person.id) > after)
    if team is not None:
        query = query.where(Team.name == team.strip())
    if active is not None:
        query = query.where(Person.active == active)
    if q and q.strip():
        needle = q.strip()
        query = query.where(
            or_(
                col(Person.name).icontains(needle, autoescape=True),
                col(Person.email).icontains(needle, autoescape=True),
            )
        )
    return [PersonRow(*row) for row in session.exec(query).all()]


def teams_page(session: Session, *, after: int | None, limit: int) -> list[TeamRow]:
    """Up to ``limit`` teams after the id ``after``, by id, with their manager's email."""
    query = (
        select(id_col(Team.id), Team.name, Team.kind, Person.email)
        .outerjoin(Person, col(Person.id) == Team.manager_id)
        .order_by(col(Team.id))
        .limit(limit)
    )
    if after is not None:
        query = query.where(col(Team.id) > after)
    return [TeamRow(*row) for row in session.exec(query).all()]


@dataclass(frozen=True)
class AssignedPlan:
    plan_id: int
    plan: str
    starts_on: date
    ends_on: date | None
    prorate: bool


@dataclass(frozen=True)
class PersonFacts:
    """What the admin's page of one person shows beside the person: their manager, team, direct reports
    (at most ``limit``, with the count) and plan assignments, newest first."""

    person: Person
    manager: Person | None
    team: str
    reports: list[Person]
    report_count: int
    plans: list[AssignedPlan]


def _first_people(session: Session, where: Any, limit: int) -> tuple[list[Person], int]:
    """The first ``limit`` people matching ``where`` (active first, then by name) and how many match in all."""
    shown = session.exec(
        select(Person).where(where).order_by(col(Person.active).desc(), Person.name, col(Person.id)).limit(limit)
    ).all()
    return list(shown), session.exec(select(func.count()).select_from(Person).where(where)).one()


def person_facts(session: Session, person_id: int, *, limit: int) -> PersonFacts | None:
    person = session.get(Person, person_id)
    if person is None:
        return None
    manager = session.get(Person, person.manager_id) if person.manager_id is not None else None
    team = session.get(Team, person.team_id) if person.team_id is not None else None
    reports, report_count = _first_people(session, col(Person.manager_id) == person_id, limit)
    columns: tuple[Any, ...] = (
        id_col(Plan.id),
        col(Plan.name),
        col(PlanAssignment.starts_on),
        col(PlanAssignment.ends_on),
        col(PlanAssignment.prorate),
    )
    plans = [
        AssignedPlan(*row)
        for row in session.exec(
            select(*columns)
            .join(Plan, col(Plan.id) == PlanAssignment.plan_id)
            .where(PlanAssignment.person_id == person_id)
            .order_by(col(PlanAssignment.starts_on).desc(), col(PlanAssignment.id).desc())
        ).all()
    ]
    return PersonFacts(person, manager, team.name if team else "", reports, report_count, plans)


@dataclass(frozen=True, slots=True)
class TeamSummary:
    """A row of the admin's teams list."""

    id: int
    name: str
    kind: str
    manager_id: int | None
    manager_name: str | None
    manager_email: str | None
    members: int  # active people on the team
    inactive: int  # deactivated people still on it


def team_summaries(session: Session) -> list[TeamSummary]:
    """Every team (a few hundred at most) by name, with its manager and its member counts from one GROUP BY."""
    counts: dict[int, tuple[int, int]] = {}
    for team_id, active, count in session.exec(
        select(col(Person.team_id), col(Person.active), func.count())
        .where(col(Person.team_id).is_not(None))
        .group_by(col(Person.team_id), col(Person.active))
    ).all():
        on, off = counts.get(int(team_id or 0), (0, 0))
        counts[int(team_id or 0)] = (on + count, off) if active else (on, off + count)
    columns: tuple[Any, ...] = (id_col(Team.id), Team.name, Team.kind, Team.manager_id, Person.name, Person.email)
    query = (
        select(*columns)
        .outerjoin(Person, col(Person.id) == Team.manager_id)
        .order_by(func.lower(Team.name), col(Team.id))
    )
    return [
        TeamSummary(team_id, name, kind, manager_id, manager_name, manager_email, *counts.get(team_id, (0, 0)))
        for team_id, name, kind, manager_id, manager_name, manager_email in session.exec(query).all()
    ]


@dataclass(frozen=True)
class TeamFacts:
    """What the admin's team page shows."""

    team: Team
    manager: Person | None
    members: list[Person]  # active first, then by name; at most the limit asked for
    member_count: int


def team_facts(session: Session, team_id: int, *, limit: int) -> TeamFacts | None:
    team = session.get(Team, team_id)
    if team is None:
        return None
    manager = session.get(Person, team.manager_id) if team.manager_id is not None else None
    members, member_count = _first_people(session, col(Person.team_id) == team_id, limit)
    return TeamFacts(team, manager, members, member_count)


def deleted_team_name(session: Session, team_id: int) -> str | None:
    """The name of a team deleted on its admin page, from the audit log (a notice must not echo a link's text)."""
    detail = session.exec(
        select(AuditEvent.detail)
        .where(
            AuditEvent.action == "team.delete", AuditEvent.object_type == "team", AuditEvent.object_id == str(team_id)
        )
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    ).first()
    name = (detail or {}).get("name")
    return name if isinstance(name, str) else None


def teams_by_name(session: Session, names: Iterable[str]) -> dict[str, Team]:
    """The stored team each name means: the team of that exact name, else the one whose name differs only in
    case ("sales east" is Sales East), by the name given. The one rule for the forms, the API and the sync.

    Compared in Python (casefold): SQLite's lower() folds ASCII only, so "équipe nord" found Équipe Nord on
    PostgreSQL and made a second team on SQLite. A company has tens or hundreds of teams, read at once.
    """
    wanted = sorted(set(names))
    if not wanted:
        return {}
    exact: dict[str, Team] = {}
    folded: dict[str, Team] = {}
    for team in session.exec(select(Team).order_by(col(Team.id))).all():
        exact[team.name] = team
        folded.setdefault(team.name.casefold(), team)
    found = {name: exact.get(name) or folded.get(name.casefold()) for name in wanted}
    return {name: team for name, team in found.items() if team is not None}
