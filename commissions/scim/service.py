"""SCIM ↔ people and teams: every write goes through ``people.sync`` (``upsert_people``, ``upsert_teams``) in
one write transaction per request, so a deactivation ends sessions and revokes tokens, pay history stays,
and a change of manager or team queues the statements it moves (docs/integrations-scim.md).

A User's ``userName`` is the person's email (``emails`` only when ``userName`` is not an address; a PATCH of
``emails`` changes nothing: the email is the person's key and sign-in); ``name``/``displayName`` their name; ``active``;
``employeeNumber`` their employee id and ``manager.value`` their manager's id (the enterprise extension).
A Group is a team and its members the people whose team it is. Attributes Quotaboard does not keep
(phone numbers, titles, addresses, ``externalId``) are accepted and ignored, so an identity provider's
default mappings work unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from commissions.auth.middleware import forget_person
from commissions.core.audit import record_event
from commissions.core.db import write
from commissions.core.principal import Principal
from commissions.core.upserts import UpsertRefused
from commissions.models import Person, Team
from commissions.people.queries import normalise_email, person_by_email
from commissions.people.service import EMAIL_RE
from commissions.people.sync import check_people, check_teams, upsert_people, upsert_teams
from commissions.scim.queries import person_ids
from commissions.scim.schemas import ENTERPRISE, ScimError, split_name

T = TypeVar("T")
_ENTERPRISE = ENTERPRISE.lower()


def _run(engine: Engine, work: Callable[[Session], T]) -> T:
    """``work`` in one write transaction; a refusal of ``people.sync`` becomes SCIM's 400 invalidValue."""
    try:
        return write(engine, work, attempts=4, pause=0.05)
    except UpsertRefused as exc:
        detail = "; ".join(f"{p.field}: {p.message}" for p in exc.problems) or exc.message
        raise ScimError(400, detail, "invalidValue") from None
    except (IntegrityError, OperationalError) as exc:
        raise ScimError(409, "another change to the same people or teams was written at once: send it again") from exc


def _bool(value: Any, name: str) -> bool:
    """Entra ID sends booleans as the strings "True" and "False"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ScimError(400, f"{name} must be true or false, not {value!r}", "invalidValue")


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ScimError(400, f"{name} must be a string, not {value!r}", "invalidValue")
    return str(value).strip() or None


# ---- users ------------------------------------------------------------------------------------------------


@dataclass
class _UserState:
    """The SCIM-kept fields of one person, as stored and then as the request leaves them."""

    email: str
    given: str
    family: str
    formatted: str | None
    active: bool
    employee_id: str | None
    manager_id: int | None
    touched: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, person: Person) -> _UserState:
        given, family = split_name(person.name)
        return cls(person.email, given, family, person.name, person.active, person.employee_id, person.manager_id)

    @property
    def name(self) -> str:
        if self.formatted:
            return self.formatted
        return " ".join(part for part in (self.given, self.family) if part)

    def set(self, path: str, value: Any, *, remove: bool = False) -> None:
        """One attribute by its SCIM path (any case), as PATCH and PUT name them; others are ignored."""
        key = path.strip().lower()
        if key.startswith(_ENTERPRISE + ":"):
            self._enterprise(key[len(_ENTERPRISE) + 1 :], value, remove=remove)
            return
        if key == _ENTERPRISE:
            for name, part in (value or {}).items() if isinstance(value, Mapping) else ():
                self._enterprise(name.lower(), part, remove=remove)
            return
        if remove:
            return  # userName, name and active cannot be removed: left as they are
        if key == "active":
            self.active = _bool(value, "active")
        elif key == "username":
            self.email = normalise_email(_text(value, path) or "")
        elif key in ("displayname", "name.formatted"):
            self.formatted = _text(value, path)
        elif key == "name.givenname":
            self.given, self.formatted = _text(value, path) or "", None
        elif key == "name.familyname":
            self.family, self.formatted = _text(value, path) or "", None
        elif key == "name" and isinstance(value, Mapping):
            for name, part in sorted(value.items(), key=lambda kv: kv[0].lower() == "formatted"):
                self.set(f"name.{name}", part)  # formatted last: it wins over its parts
        else:
            return
        self.touched.add(key)

    def _enterprise(self, key: str, value: Any, *, remove: bool) -> None:
        if key == "employeenumber":
            self.employee_id = None if remove else _text(value, "employeeNumber")
        elif key in ("manager", "manager.value"):
            if isinstance(value, Mapping):
                value = value.get("value")
            manager = None if remove else _text(value, "manager")
            if manager is not None and not manager.isdigit():
                raise ScimError(400, f"manager {manager!r} is not a User id of this service", "invalidValue")
            self.manager_id = int(manager) if manager is not None else None
        else:
            return
        self.touched.add(key)


def _work_email(emails: list[Any]) -> str | None:
    """The primary email of a SCIM ``emails`` list, else the work one, else the first."""
    found = [e for e in emails if isinstance(e, Mapping) and isinstance(e.get("value"), str)]
    for test in (lambda e: e.get("primary") in (True, "true", "True"), lambda e: e.get("type") == "work"):
        for email in found:
            if test(email):
                return normalise_email(email["value"])
    return normalise_email(found[0]["value"]) if found else None


def _apply_resource(state: _UserState, body: Mapping[str, Any]) -> None:
    """A whole User resource (POST, PUT) onto ``state``: the attributes it names; the ones it leaves out stay.
    The email is ``userName``, or the primary email when ``userName`` is not an address."""
    user_name = _text(body.get("userName"), "userName")
    if user_name and EMAIL_RE.match(normalise_email(user_name)):
        state.set("userName", user_name)
    elif isinstance(body.get("emails"), list) and (email := _work_email(body["emails"])):
        state.email = email
    elif user_name:
        raise ScimError(400, f"userName {user_name!r} is not an email address and no email was given", "invalidValue")
    if isinstance(body.get("name"), Mapping):
        state.formatted = None
        state.set("name", body["name"])
    if body.get("displayName"):
        state.set("displayName", body["displayName"])
    if "active" in body:
        state.set("active", body["active"])
    if isinstance(body.get(ENTERPRISE), Mapping):
        state.set(ENTERPRISE, body[ENTERPRISE])


def _save(session: Session, person: Person | None, state: _UserState, *, by: Principal) -> int:
    """``state`` written through ``people.sync``: a new email first (the key of the upsert), then the rest."""
    if not state.email:
        raise ScimError(400, "userName (the person's email) is required", "invalidValue")
    holder = person_by_email(session, state.email)
    if holder is not None and (person is None or holder.id != person.id):
        raise ScimError(409, f"a User with userName {state.email} exists already (id {holder.id})", "uniqueness")
    if person is not None and person.email != state.email:
        check_people([{"email": state.email}])  # the new address is one
        record_event(
            session, by, "person.update", "person", person.id, {"email": {"before": person.email, "after": state.email}}
        )
        person.email = state.email
        session.add(person)
        session.flush()
        forget_person(person.id or 0)
    manager_email = None
    if state.manager_id is not None:
        manager = person_ids(session, {state.manager_id}).get(state.manager_id)
        if manager is None:
            raise ScimError(400, f"manager: no User with id {state.manager_id}", "invalidValue")
        manager_email = manager.email
    item: dict[str, Any] = {
        "email": state.email,
        "name": state.name or state.email.split("@")[0],
        "active": state.active,
        "employee_id": state.employee_id,
        "manager": manager_email,
    }
    upsert_people(session, check_people([item]), by=by)
    stored = person_by_email(session, state.email)
    assert stored is not None and stored.id is not None
    return stored.id


def create_user(engine: Engine, body: Mapping[str, Any], *, by: Principal) -> int:
    """A new person (role rep, no password: they sign in with SSO or a reset link); 409 if the email exists."""

    def work(session: Session) -> int:
        state = _UserState("", "", "", None, True, None, None)
        _apply_resource(state, body)
        return _save(session, None, state, by=by)

    return _run(engine, work)


def _stored(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise ScimError(404, f"no User with id {person_id}")
    return person


def replace_user(engine: Engine, person_id: int, body: Mapping[str, Any], *, by: Principal) -> None:
    """PUT: the attributes the resource names replace the stored ones."""

    def work(session: Session) -> None:
        person = _stored(session, person_id)
        state = _UserState.of(person)
        _apply_resource(state, body)
        _save(session, person, state, by=by)

    _run(engine, work)


def patch_user(engine: Engine, person_id: int, operations: list[Mapping[str, Any]], *, by: Principal) -> None:
    """PATCH (RFC 7644 §3.5.2): add, replace and remove, with a path or with a value naming the attributes."""

    def work(session: Session) -> None:
        person = _stored(session, person_id)
        state = _UserState.of(person)
        for op, path, value in _operations(operations):
            if path is None:
                if not isinstance(value, Mapping):
                    raise ScimError(400, "an operation without a path needs an object value", "invalidValue")
                for name, part in value.items():
                    state.set(name, part, remove=op == "remove")
            else:
                state.set(path, value, remove=op == "remove")
        _save(session, person, state, by=by)

    _run(engine, work)


def deactivate_user(engine: Engine, person_id: int, *, by: Principal) -> None:
    """DELETE: the person is deactivated (sessions end, tokens are revoked), never deleted: pay history stays."""

    def work(session: Session) -> None:
        person = _stored(session, person_id)
        upsert_people(session, check_people([{"email": person.email, "active": False}]), by=by)

    _run(engine, work)


def _operations(operations: list[Mapping[str, Any]]) -> list[tuple[str, str | None, Any]]:
    """``(op, path, value)`` of each PatchOp operation, op in lower case (Entra ID sends "Replace")."""
    out: list[tuple[str, str | None, Any]] = []
    if not isinstance(operations, list) or not operations:
        raise ScimError(400, "Operations must be a non-empty list", "invalidValue")
    for operation in operations:
        if not isinstance(operation, Mapping):
            raise ScimError(400, "each operation is an object with op, path and value", "invalidSyntax")
        op = str(operation.get("op", "")).lower()
        if op not in ("add", "replace", "remove"):
            raise ScimError(400, f"unknown op {operation.get('op')!r}: add, replace or remove", "invalidSyntax")
        path = operation.get("path")
        if path is not None and not isinstance(path, str):
            raise ScimError(400, "path must be a string", "invalidPath")
        if op == "remove" and not path:
            raise ScimError(400, "remove needs a path", "noTarget")
        out.append((op, path or None, operation.get("value")))
    return out


# ---- groups -----------------------------------------------------------------------------------------------


def _member_ids(value: Any) -> set[int]:
    """Person ids of a ``members`` value: ``[{"value": "12"}, ...]`` (or one such object)."""
    items = value if isinstance(value, list) else [value] if value is not None else []
    ids: set[int] = set()
    for item in items:
        raw = item.get("value") if isinstance(item, Mapping) else item
        text = _text(raw, "members.value")
        if text is None or not text.isdigit():
            raise ScimError(400, f"member {raw!r} is not a User id of this service", "invalidValue")
        ids.add(int(text))
    return ids


def _set_members(session: Session, team: Team, add: set[int], remove: set[int], *, by: Principal) -> None:
    """People of ``add`` join the team, people of ``remove`` who are in it leave it (through ``people.sync``)."""
    people = person_ids(session, add | remove)
    unknown = sorted((add | remove) - set(people))
    if unknown:
        raise ScimError(400, f"members: no User with id {', '.join(map(str, unknown))}", "invalidValue")
    items: list[dict[str, Any]] = [{"email": people[pid].email, "team": team.name} for pid in sorted(add)]
    items += [
        {"email": people[pid].email, "team": None} for pid in sorted(remove - add) if people[pid].team_id == team.id
    ]
    if items:
        upsert_people(session, check_people(items), by=by)


def _members_of(session: Session, team: Team) -> set[int]:
    return {pid for pid in session.exec(select(col(Person.id)).where(Person.team_id == team.id)).all() if pid}


def _team(session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise ScimError(404, f"no Group with id {team_id}")
    return team


def _rename(session: Session, team: Team, name: Any, *, by: Principal) -> None:
    new = _text(name, "displayName")
    if new is None:
        raise ScimError(400, "displayName (the team's name) is required", "invalidValue")
    check_teams([{"name": new}])
    if new == team.name:
        return
    taken = session.exec(select(Team).where(Team.name == new)).first()
    if taken is not None:
        raise ScimError(409, f"a Group with displayName {new!r} exists already (id {taken.id})", "uniqueness")
    record_event(session, by, "team.update", "team", team.id, {"name": {"before": team.name, "after": new}})
    team.name = new
    session.add(team)
    session.flush()


def create_group(engine: Engine, body: Mapping[str, Any], *, by: Principal) -> int:
    """A new team (kind sales) and its members; 409 if a team has the name."""

    def work(session: Session) -> int:
        name = _text(body.get("displayName"), "displayName")
        if name is None:
            raise ScimError(400, "displayName (the team's name) is required", "invalidValue")
        taken = session.exec(select(Team).where(Team.name == name)).first()
        if taken is not None:
            raise ScimError(409, f"a Group with displayName {name!r} exists already (id {taken.id})", "uniqueness")
        upsert_teams(session, check_teams([{"name": name}]), by=by)
        team = session.exec(select(Team).where(Team.name == name)).one()
        _set_members(session, team, _member_ids(body.get("members")), set(), by=by)
        assert team.id is not None
        return team.id

    return _run(engine, work)


def replace_group(engine: Engine, team_id: int, body: Mapping[str, Any], *, by: Principal) -> None:
    """PUT: the name, and the members exactly (people left out leave the team)."""

    def work(session: Session) -> None:
        team = _team(session, team_id)
        if "displayName" in body:
            _rename(session, team, body["displayName"], by=by)
        wanted = _member_ids(body.get("members"))
        _set_members(session, team, wanted, _members_of(session, team) - wanted, by=by)

    _run(engine, work)


def patch_group(engine: Engine, team_id: int, operations: list[Mapping[str, Any]], *, by: Principal) -> None:
    """PATCH: add and remove members (``members[value eq "12"]`` or a ``members`` list), replace them or the
    name (with a path, or a value naming the attributes as Okta sends it)."""

    def work(session: Session) -> None:
        team = _team(session, team_id)
        for op, path, value in _operations(operations):
            changes: list[tuple[str, Any]] = (
                [(path, value)] if path else list(value.items()) if isinstance(value, Mapping) else []
            )
            if not changes:
                raise ScimError(400, "an operation without a path needs an object value", "invalidValue")
            for target, part in changes:
                _group_change(session, team, op, target, part, by=by)

    _run(engine, work)


def _group_change(session: Session, team: Team, op: str, path: str, value: Any, *, by: Principal) -> None:
    key = path.strip()
    lowered = key.lower()
    if lowered == "displayname":
        if op != "remove":
            _rename(session, team, value, by=by)
    elif lowered == "members":
        if op == "add":
            _set_members(session, team, _member_ids(value), set(), by=by)
        elif op == "remove":
            current = _members_of(session, team)
            _set_members(session, team, set(), _member_ids(value) if value is not None else current, by=by)
        else:
            wanted = _member_ids(value)
            _set_members(session, team, wanted, _members_of(session, team) - wanted, by=by)
    elif lowered.startswith("members[value eq "):
        found = key[len("members[value eq ") :].rstrip("]").strip().strip('"')
        if op != "remove":
            raise ScimError(400, f"{op} with a member filter path: only remove", "invalidPath")
        _set_members(session, team, set(), _member_ids(found), by=by)
    # externalId, id and attributes a team does not keep are ignored


def delete_group(engine: Engine, team_id: int, *, by: Principal) -> None:
    """DELETE: every member leaves the team; the team row stays (team quotas and history name it), empty."""

    def work(session: Session) -> None:
        team = _team(session, team_id)
        _set_members(session, team, set(), _members_of(session, team), by=by)
        record_event(session, by, "team.deprovision", "team", team.id, {"name": team.name})

    _run(engine, work)
