"""People and teams. Keyword-only functions; the caller owns the transaction."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from commissions.auth.middleware import forget_person
from commissions.auth.passwords import check_strength, hash_password
from commissions.auth.tokens import revoke_person_tokens
from commissions.calculation.rows import id_col, stored_id
from commissions.core.audit import record_event
from commissions.core.db import transaction
from commissions.core.errors import InputProblem
from commissions.core.i18n import SUPPORTED_LOCALES
from commissions.core.money import currency_problem
from commissions.core.principal import Principal
from commissions.models import Person, Quota, Team
from commissions.models.base import ROLES, TEAM_KINDS
from commissions.people.queries import normalise_email, person_by_email, teams_by_name

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class PersonError(InputProblem):
    pass


def printable(text: str) -> bool:
    """No control characters (names, ids and team names are shown on pages and written to exports)."""
    return not any(ord(c) < 32 or ord(c) == 127 for c in text)


#: The one rule for a team's name, wherever one is typed or sent (forms, PUT /api/v1/people and /teams).
TEAM_NAME_RULE = "a team name is up to 120 printable characters"


def team_name_ok(name: str) -> bool:
    return len(name) <= 120 and printable(name)


def get_or_create_team(session: Session, name: str, *, kind: str = "sales") -> Team:
    name = name.strip()
    if not team_name_ok(name):
        raise PersonError("team", TEAM_NAME_RULE)
    # "sales east" typed in a form is the existing Sales East, not a second team beside it
    team = teams_by_name(session, [name]).get(name)
    if team is None:
        if kind not in TEAM_KINDS:
            raise PersonError("team", f"unknown team kind {kind!r}")
        team = Team(name=name, kind=kind)
        session.add(team)
        session.flush()
    return team


def create_person(
    session: Session,
    *,
    email: str,
    role: str,
    name: str = "",
    manager_email: str | None = None,
    team_name: str | None = None,
    employee_id: str | None = None,
    password: str | None = None,
    by: Principal | None = None,
) -> Person:
    email = normalise_email(email)
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise PersonError("email", f"{email!r} is not an email address")
    if role not in ROLES:
        raise PersonError("role", f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    if person_by_email(session, email) is not None:
        raise PersonError("email", f"{email} already exists")
    manager = None
    if manager_email:
        manager = person_by_email(session, manager_email)
        if manager is None:
            raise PersonError("manager", f"no person with email {normalise_email(manager_email)}")
    employee_id = (employee_id or "").strip() or None
    if employee_id and session.exec(select(Person.id).where(Person.employee_id == employee_id)).first():
        raise PersonError("employee_id", f"employee id {employee_id} is already used")
    team = get_or_create_team(session, team_name) if team_name and team_name.strip() else None
    person = Person(
        email=email,
        name=(name.strip() or email.split("@")[0])[:200],
        role=role,
        manager_id=manager.id if manager else None,
        team_id=team.id if team else None,
        employee_id=employee_id,
        password_hash=hash_password(password) if password else None,
    )
    session.add(person)
    session.flush()
    record_event(session, by, "person.create", "person", person.id, {"email": email, "role": role})
    return person


def set_password(
    session: Session,
    person: Person,
    password: str,
    *,
    by: Principal | None,
    how: str = "",
    ip: str = "",
    password_hash: str | None = None,
) -> None:
    """A new password (audited as ``person.password`` with ``how``: "own", "reset link", "command line").
    Every session of the person ends (the caller may sign the current one in again). ``password_hash``
    lets a caller hash it beforehand, outside its write transaction (Argon2 takes ~0.5 s)."""
    if password_hash:
        check_strength(password)
    person.password_hash = password_hash or hash_password(password)
    person.session_version += 1  # a new password ends every other session
    session.add(person)
    forget_person(stored_id(person))
    record_event(session, by, "person.password", "person", person.id, {"how": how} if how else {}, ip=ip)


def end_all_sessions(
    session: Session, person: Person, *, by: Principal | None, ip: str = "", action: str = "auth.sign_out_everywhere"
) -> None:
    """Sign the person out on every device: each session carries the old version and stops working."""
    person.session_version += 1
    session.add(person)
    forget_person(stored_id(person))
    record_event(session, by, action, "person", person.id, {}, ip=ip)


def set_active(session: Session, person: Person, active: bool, *, by: Principal | None) -> None:
    if apply_active(session, person, active, by=by):
        touch_statements(session, {stored_id(person)})


def apply_active(session: Session, person: Person, active: bool, *, by: Principal | None) -> bool:
    """``set_active`` without marking statements (a caller changing many people marks them once);
    returns whether anything changed. Deactivation ends every session and revokes the person's tokens;
    pay history stays (nothing is deleted)."""
    if person.active == active:
        return False
    person.active = active
    person.session_version += 1
    session.add(person)
    forget_person(stored_id(person))
    record_event(session, by, "person.activate" if active else "person.deactivate", "person", person.id, {})
    if not active:
        revoke_person_tokens(session, person, by=by)  # for good: reactivation revives none
    return True


def set_payment_currency(session: Session, person: Person, currency: str, *, by: Principal | None) -> bool:
    """Pay the person in ``currency`` (three letters), or in their plan's currency when empty; whether it changed.

    Only the payroll export reads it (docs/finance.md, "Payment currency"): no statement changes."""
    code = currency.strip().upper() or None
    if code is not None and (problem := currency_problem(code)) is not None:
        raise PersonError("payment_currency", problem)
    if person.payment_currency == code:
        return False
    record_event(
        session, by, "person.payment_currency", "person", person.id, {"before": person.payment_currency, "after": code}
    )
    person.payment_currency = code
    session.add(person)
    return True


def set_payment_currency_by_id(engine: Engine, person_id: int, currency: str, *, by: Principal | None) -> bool | None:
    """``set_payment_currency`` in a transaction of its own; None if there is no such person."""
    with transaction(engine) as session:
        person = session.get(Person, person_id)
        if person is None:
            return None
        return set_payment_currency(session, person, currency, by=by)


def set_locale(session: Session, person: Person, locale: str, *, by: Principal | None, ip: str = "") -> bool:
    """The person's interface language: one we ship, or "" to follow their browser's Accept-Language; whether it
    changed. Chosen by the person (their account page) or for them by an admin (the people page).

    The caller forgets the person's cached principal once the transaction has committed (``forget_person``), so
    their next page reads the new setting."""
    chosen = locale.strip() or None
    if chosen is not None and chosen not in SUPPORTED_LOCALES:
        raise PersonError("locale", f"{locale!r} is not a language we ship ({', '.join(SUPPORTED_LOCALES)})")
    if person.locale == chosen:
        return False
    detail = {"from": person.locale, "to": chosen}
    record_event(session, by, "person.locale_changed", "person", person.id, detail, ip=ip)
    person.locale = chosen
    session.add(person)
    return True


def set_locale_by_id(engine: Engine, person_id: int, locale: str, *, by: Principal | None) -> bool | None:
    """``set_locale`` in a transaction of its own; None if there is no such person."""
    with transaction(engine) as session:
        person = session.get(Person, person_id)
        if person is None:
            return None
        changed = set_locale(session, person, locale, by=by)
    if changed:
        forget_person(person_id)  # committed: their next page, in this process, reads the new setting
    return changed


def move_person(
    session: Session, person: Person, *, manager_email: str | None, team_name: str | None, by: Principal | None
) -> bool:
    """Give the person another manager and/or team; returns whether anything changed.

    Team credit and overrides follow the manager chain, so the statements of everyone above
    the person, before and after the move, are marked for recomputation in every open period.
    """
    manager = None
    if manager_email and manager_email.strip():
        manager = person_by_email(session, manager_email)
        if manager is None:
            raise PersonError("manager", f"no person with email {normalise_email(manager_email)}")
        if manager.id == person.id or manager.id in report_ids(session, stored_id(person)):
            raise PersonError("manager", f"{manager.email} reports to {person.email}: a manager chain cannot loop")
    team = get_or_create_team(session, team_name) if team_name and team_name.strip() else None
    before = {"manager_id": person.manager_id, "team_id": person.team_id}
    after = {"manager_id": manager.id if manager else None, "team_id": team.id if team else None}
    if before == after:
        return False
    touched = {stored_id(person), *(p for p in (person.manager_id,) if p is not None)}
    person.manager_id, person.team_id = after["manager_id"], after["team_id"]
    session.add(person)
    session.flush()
    record_event(session, by, "person.move", "person", person.id, {"before": before, "after": after})
    touch_statements(session, touched)
    return True


def touch_statements(session: Session, people: set[int]) -> None:
    """The statements of these people and everyone above them (now), in every open period."""
    from commissions.calculation.state import all_open_period_keys, touch_chain

    touch_chain(session, people, all_open_period_keys(session))


def report_ids(session: Session, manager_id: int) -> set[int]:
    """Everyone whose manager chain leads to ``manager_id`` (not the manager), cycle-safe."""
    children: dict[int, list[int]] = {}
    for pid, mid in session.exec(
        select(id_col(Person.id), Person.manager_id).where(col(Person.manager_id).is_not(None))
    ):
        if mid is not None:  # the query leaves out people without a manager
            children.setdefault(mid, []).append(pid)
    found: set[int] = set()
    stack = list(children.get(manager_id, ()))
    while stack:
        pid = stack.pop()
        if pid in found or pid == manager_id:
            continue
        found.add(pid)
        stack.extend(children.get(pid, ()))
    return found


def visible_person_ids(session: Session, principal: Principal) -> set[int] | None:
    """Whose data the caller may read: None means everyone (finance, admin)."""
    if principal.role in ("finance", "admin"):
        return None
    if principal.person_id is None:
        return set()
    ids = {principal.person_id}
    if principal.role == "manager":
        ids |= report_ids(session, principal.person_id)
    return ids


# ---- the admin pages' writes, each in its own transaction -----------------------------------------


def create_person_in(engine: Engine, **fields: Any) -> Person:
    """``create_person`` in a write transaction of its own (the admin's "add a person" form)."""
    with transaction(engine) as session:
        return create_person(session, **fields)


def set_active_by_id(engine: Engine, person_id: int, active: bool, *, by: Principal | None) -> bool:
    """``set_active`` for the person with this id in a transaction of its own; False if there is no such person."""
    with transaction(engine) as session:
        person = session.get(Person, person_id)
        if person is None:
            return False
        set_active(session, person, active, by=by)
        return True


def move_person_by_id(
    engine: Engine, person_id: int, *, manager_email: str | None, team_name: str | None, by: Principal | None
) -> bool | None:
    """``move_person`` for the person with this id in a transaction of its own: whether anything changed,
    None if there is no such person."""
    with transaction(engine) as session:
        person = session.get(Person, person_id)
        if person is None:
            return None
        return move_person(session, person, manager_email=manager_email, team_name=team_name, by=by)


# ---- teams (the admin's team pages; PUT /api/v1/teams is people/sync.py) -----------------------------


def _team_name(session: Session, name: str, *, other_than: int | None = None) -> str:
    """A team name as typed, checked: printable, at most 120 characters, no other team's (case aside: "sales east"
    beside Sales East would be two teams nobody can tell apart in a form)."""
    name = " ".join(name.split())
    if not name:
        raise PersonError("name", "a team needs a name")
    if not team_name_ok(name):
        raise PersonError("name", TEAM_NAME_RULE)
    clash = teams_by_name(session, [name]).get(name)
    if clash is not None and clash.id != other_than:
        raise PersonError("name", f"there is already a team named {clash.name}")
    return name


def _team_manager(session: Session, email: str) -> Person | None:
    if not email.strip():
        return None
    manager = person_by_email(session, email)
    if manager is None:
        raise PersonError("manager", f"no person with email {normalise_email(email)}")
    return manager


def _team_kind(kind: str) -> str:
    if kind not in TEAM_KINDS:
        raise PersonError("kind", f"unknown kind {kind!r}: expected one of {', '.join(TEAM_KINDS)}")
    return kind


def create_team(engine: Engine, *, name: str, kind: str, manager_email: str, by: Principal | None) -> int:
    """A new team (the admin's form), audited as ``PUT /api/v1/teams`` audits one; returns its id."""
    with transaction(engine) as session:
        checked_name, checked_kind = _team_name(session, name), _team_kind(kind)
        manager = _team_manager(session, manager_email)
        team = Team(name=checked_name, kind=checked_kind, manager_id=manager.id if manager else None)
        session.add(team)
        session.flush()
        record_event(session, by, "team.create", "team", team.id, {"name": team.name, "kind": team.kind})
        return stored_id(team)


def edit_team(
    engine: Engine, team_id: int, *, name: str, kind: str, manager_email: str, by: Principal | None
) -> bool | None:
    """Rename a team, change its kind or manager: whether anything changed, None if there is no such team.

    Neither moves pay (team credit and overrides follow people's manager chains, and a team quota is the
    team's whatever its name), so no statement is marked; the change is audited as ``team.update`` with what
    each field was and became, as the API's upsert records it.
    """
    with transaction(engine) as session:
        team = session.get(Team, team_id)
        if team is None:
            return None
        after_name, after_kind = _team_name(session, name, other_than=team_id), _team_kind(kind)
        manager = _team_manager(session, manager_email)
        before_manager = session.get(Person, team.manager_id) if team.manager_id is not None else None
        diff: dict[str, dict[str, Any]] = {}
        if after_name != team.name:
            diff["name"] = {"before": team.name, "after": after_name}
        if after_kind != team.kind:
            diff["kind"] = {"before": team.kind, "after": after_kind}
        if (manager.id if manager else None) != team.manager_id:
            diff["manager"] = {
                "before": before_manager.email if before_manager else None,
                "after": manager.email if manager else None,
            }
        if not diff:
            return False
        team.name, team.kind, team.manager_id = after_name, after_kind, manager.id if manager else None
        session.add(team)
        record_event(session, by, "team.update", "team", team.id, diff)
        return True


def delete_team(engine: Engine, team_id: int, *, by: Principal | None) -> str | None:
    """Remove a team nobody is on (a typo in a Move form makes one); returns its name, None if there is no such
    team. A team with members, team quotas or teams under it is refused, naming what still holds it."""
    with transaction(engine) as session:
        team = session.get(Team, team_id)
        if team is None:
            return None
        members = session.exec(select(func.count()).select_from(Person).where(Person.team_id == team_id)).one()
        if members:
            raise PersonError("team", f"{team.name} still has {members} member(s): move them to another team first")
        quotas = session.exec(select(func.count()).select_from(Quota).where(Quota.team_id == team_id)).one()
        if quotas:
            raise PersonError("team", f"{team.name} has {quotas} team quota(s): a team with targets is kept")
        if session.exec(select(Team.id).where(Team.parent_id == team_id)).first() is not None:
            raise PersonError("team", f"other teams are under {team.name}: a team with teams under it is kept")
        name = team.name
        session.delete(team)
        record_event(session, by, "team.delete", "team", team_id, {"name": name})
        return name
