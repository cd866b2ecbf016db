"""Reads for SCIM: people as Users and teams as Groups, the ``eq`` filters identity providers send, and
SCIM's 1-based ``startIndex``/``count`` paging."""

from __future__ import annotations

import re

from sqlalchemy import Engine, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from commissions.calculation.rows import id_col
from commissions.models import Person, Team
from commissions.people.queries import normalise_email
from commissions.scim.schemas import GroupRow, ScimError, UserRow

# attr eq "value": the one operator Okta, Entra ID and authentik send when they look a resource up
_FILTER = re.compile(r'^\s*([A-Za-z0-9:._\[\]" ]+?)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
USER_FILTERS = {
    "username": "email",
    "emails.value": "email",
    'emails[type eq "work"].value': "email",
    "externalid": "external",
    "id": "id",
}
GROUP_FILTERS = {"displayname": "name", "externalid": "external", "id": "id"}


def parse_filter(text: str | None, known: dict[str, str]) -> tuple[str, str] | None:
    """``(field, value)`` of ``attribute eq "value"`` for an attribute in ``known``; None without a filter."""
    if not text or not text.strip():
        return None
    found = _FILTER.match(text)
    attribute = found.group(1).strip().lower() if found else ""
    if found is None or attribute not in known:
        names = ", ".join(sorted({k for k in known if "[" not in k}))
        raise ScimError(400, f'unsupported filter {text!r}: only attribute eq "value" on {names}', "invalidFilter")
    value = found.group(2).replace('\\"', '"').replace("\\\\", "\\")
    return known[attribute], value


def _numeric(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 18 else None


def users(session: Session, found: tuple[str, str] | None, start: int, count: int) -> tuple[int, list[UserRow]]:
    """The total matching and one page of it (``start`` from 1), by id."""
    manager = aliased(Person)
    query = select(Person, manager.name).outerjoin(manager, col(manager.id) == col(Person.manager_id))
    counted = select(func.count()).select_from(Person)
    if found is not None:
        field, value = found
        if field == "email":
            query = query.where(Person.email == normalise_email(value))
            counted = counted.where(Person.email == normalise_email(value))
        elif field == "id" and _numeric(value) is not None:
            query = query.where(Person.id == _numeric(value))
            counted = counted.where(Person.id == _numeric(value))
        else:  # externalId is not stored (docs/integrations-scim.md): it matches no one
            return 0, []
    total = session.exec(counted).one()
    if count == 0:
        return total, []
    rows = session.exec(query.order_by(id_col(Person.id)).offset(start - 1).limit(count)).all()
    return total, [_user(person, manager_name) for person, manager_name in rows]


def user(session: Session, person_id: int) -> UserRow | None:
    manager = aliased(Person)
    query = (
        select(Person, manager.name)
        .outerjoin(manager, col(manager.id) == col(Person.manager_id))
        .where(Person.id == person_id)
    )
    row = session.exec(query).first()
    return _user(*row) if row is not None else None


def _user(person: Person, manager_name: str | None) -> UserRow:
    assert person.id is not None
    return UserRow(
        id=person.id,
        email=person.email,
        name=person.name,
        active=person.active,
        employee_id=person.employee_id,
        manager_id=person.manager_id,
        manager_name=manager_name,
        created_at=person.created_at,
    )


def groups(session: Session, found: tuple[str, str] | None, start: int, count: int) -> tuple[int, list[GroupRow]]:
    """The total matching and one page of it (``start`` from 1), by id, with members."""
    query = select(Team)
    counted = select(func.count()).select_from(Team)
    if found is not None:
        field, value = found
        if field == "name":
            query = query.where(Team.name == value.strip())
            counted = counted.where(Team.name == value.strip())
        elif field == "id" and _numeric(value) is not None:
            query = query.where(Team.id == _numeric(value))
            counted = counted.where(Team.id == _numeric(value))
        else:
            return 0, []
    total = session.exec(counted).one()
    if count == 0:
        return total, []
    teams = list(session.exec(query.order_by(id_col(Team.id)).offset(start - 1).limit(count)).all())
    return total, _with_members(session, teams)


def group(session: Session, team_id: int) -> GroupRow | None:
    team = session.get(Team, team_id)
    return _with_members(session, [team])[0] if team is not None else None


def _with_members(session: Session, teams: list[Team]) -> list[GroupRow]:
    ids = [team.id for team in teams if team.id is not None]
    members: dict[int, list[tuple[int, str]]] = {tid: [] for tid in ids}
    if ids:
        query = (
            select(id_col(Person.id), Person.name, Person.team_id)
            .where(col(Person.team_id).in_(ids))
            .order_by(id_col(Person.id))
        )
        for pid, name, tid in session.exec(query).all():
            if tid is not None:
                members[tid].append((pid, name))
    return [
        GroupRow(id=team.id, name=team.name, created_at=team.created_at, members=members[team.id])
        for team in teams
        if team.id is not None
    ]


def person_ids(session: Session, ids: set[int]) -> dict[int, Person]:
    """The stored people of ``ids``, by id."""
    if not ids:
        return {}
    return {p.id: p for p in session.exec(select(Person).where(col(Person.id).in_(ids))).all() if p.id is not None}


def read_user(engine: Engine, person_id: int) -> UserRow:
    """A User just written (its own read, after the write's transaction)."""
    with Session(engine) as session:
        row = user(session, person_id)
    if row is None:
        raise ScimError(404, f"no User with id {person_id}")
    return row


def read_group(engine: Engine, team_id: int) -> GroupRow:
    with Session(engine) as session:
        row = group(session, team_id)
    if row is None:
        raise ScimError(404, f"no Group with id {team_id}")
    return row
