"""People and teams kept in sync by another system: ``PUT /api/v1/people`` and ``PUT /api/v1/teams`` (api.md,
"Integration resources"; docs/integrations.md).

Each call takes a list and upserts it by natural key (a person's email, a team's name) in one write
transaction: every item is checked first and any problem refuses them all (``UpsertRefused``, a report per
item). Fields work like a PATCH: a field left out keeps what is stored, an explicit ``null`` clears an
optional one (team, manager, employee_id, locale). What changed is written in bulk (one statement per kind
of row, not one per person), audited per person, and the statements a change can move are marked for
recalculation once: people who changed manager, team or active state and everyone above them, before
and after (``service.touch_statements``, as the admin's people page does). The same list twice writes
nothing at all: no row, no audit entry, no recalculation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Engine, bindparam, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from commissions.auth.middleware import forget_person
from commissions.calculation.rows import id_col, stored_id, table_of
from commissions.core.audit import log_on_commit, record_event
from commissions.core.db import snapshot, write
from commissions.core.errors import Conflict
from commissions.core.money import currency_problem
from commissions.core.principal import Principal
from commissions.core.upserts import ItemProblem, Outcome, UpsertRefused, UpsertReport
from commissions.models import AuditEvent, Person, Team
from commissions.models.base import ROLES, TEAM_KINDS, utcnow
from commissions.people.queries import normalise_email, people_by_email, teams_by_name
from commissions.people.service import (
    EMAIL_RE,
    TEAM_NAME_RULE,
    apply_active,
    printable,
    team_name_ok,
    touch_statements,
)

PERSON_FIELDS = ("email", "name", "role", "team", "manager", "employee_id", "active", "locale", "payment_currency")
TEAM_FIELDS = ("name", "kind", "manager")

# BCP 47 language tags as HR systems send them: a language (en, ms, fil), an optional script (zh-Hant) and an
# optional region (en-GB, es-419), in any case; stored in the canonical case (en-GB, zh-Hant-TW).
_LOCALE = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{4}))?(?:[-_]([A-Za-z]{2}|[0-9]{3}))?$")


def normalise_locale(text: str) -> str | None:
    """``text`` as a canonical language tag (``en-gb`` → ``en-GB``), or None when it is not one."""
    found = _LOCALE.match(text.strip())
    if found is None:
        return None
    language, script, region = found.groups()
    return "-".join(
        part for part in (language.lower(), script.title() if script else "", region.upper() if region else "") if part
    )


# ---- people --------------------------------------------------------------------------------------------


@dataclass
class _PersonItem:
    """One item of the list, checked and normalised: only the fields it gave are in ``given``."""

    index: int
    email: str
    given: dict[str, Any] = field(default_factory=dict)


def check_people(items: Sequence[Mapping[str, Any] | None], refused: Iterable[ItemProblem] = ()) -> list[_PersonItem]:
    """What can be checked without the database; ``UpsertRefused`` naming every problem, with ``refused``
    (the problems of the items that could not be read at all: None in ``items``)."""
    checked, problems = _read_people(items, refused)
    if problems:
        raise UpsertRefused(problems)
    return checked


def _read_people(
    items: Sequence[Mapping[str, Any] | None], refused: Iterable[ItemProblem]
) -> tuple[list[_PersonItem], list[ItemProblem]]:
    """The items as far as they read, and the problems found without the database."""
    problems: list[ItemProblem] = list(refused)
    seen: dict[str, int] = {}
    employee_ids: dict[str, int] = {}
    checked: list[_PersonItem] = []
    for index, item in enumerate(items):
        if item is None:
            continue

        def problem(name: str, message: str, index: int = index) -> None:
            problems.append(ItemProblem(index, name, message))

        unknown = sorted(set(item) - set(PERSON_FIELDS))
        for name in unknown:
            problem(name, f"unknown field {name!r}: a person has {', '.join(PERSON_FIELDS)}")
        raw_email = item.get("email")
        if not isinstance(raw_email, str):
            problem("email", "every person needs an email (their key)")
            continue
        email = normalise_email(raw_email)
        if not EMAIL_RE.match(email) or len(email) > 254:
            problem("email", f"{raw_email!r} is not an email address")
        elif email in seen:
            problem("email", f"{email} is also item {seen[email]}: each person once per request")
        else:
            seen[email] = index
        person = _PersonItem(index, email)
        for name in ("name", "role", "active"):
            if name in item and item[name] is None:
                problem(name, f"{name} may not be null: leave it out to keep the stored value")
        if isinstance(item.get("name"), str):
            name_text = item["name"].strip()
            if not name_text or len(name_text) > 200 or not printable(name_text):
                problem("name", "a name is 1 to 200 printable characters")
            person.given["name"] = name_text
        if isinstance(item.get("role"), str):
            if item["role"] not in ROLES:
                problem("role", f"unknown role {item['role']!r}: expected one of {', '.join(ROLES)}")
            person.given["role"] = item["role"]
        if isinstance(item.get("active"), bool):
            person.given["active"] = item["active"]
        if "team" in item:
            team = (item["team"] or "").strip()
            if not team_name_ok(team):
                problem("team", TEAM_NAME_RULE)
            person.given["team"] = team or None
        if "manager" in item:
            manager = normalise_email(item["manager"] or "")
            if manager and not EMAIL_RE.match(manager):
                problem("manager", f"{item['manager']!r} is not an email address")
            elif manager and manager == email:
                problem("manager", f"{email} cannot be their own manager")
            person.given["manager"] = manager or None
        if "employee_id" in item:
            employee_id = (item["employee_id"] or "").strip()
            if len(employee_id) > 64 or not printable(employee_id):
                problem("employee_id", "an employee id is up to 64 printable characters")
            elif employee_id and employee_id in employee_ids:
                problem(
                    "employee_id",
                    f"employee id {employee_id} is also item {employee_ids[employee_id]}'s: ids are unique",
                )
            elif employee_id:
                employee_ids[employee_id] = index
            person.given["employee_id"] = employee_id or None
        if "locale" in item:
            locale = None
            if item["locale"]:
                locale = normalise_locale(item["locale"])
                if locale is None or len(locale) > 35:
                    problem("locale", f"{item['locale']!r} is not a language tag such as en, ms, th or en-GB")
            person.given["locale"] = locale
        if "payment_currency" in item:
            currency = (item["payment_currency"] or "").strip().upper() or None
            if currency is not None and (currency_issue := currency_problem(currency)) is not None:
                problem("payment_currency", currency_issue)
            person.given["payment_currency"] = currency
        checked.append(person)
    return checked, problems


def _besides(problems: list[ItemProblem], more: list[ItemProblem]) -> list[ItemProblem]:
    """``problems`` and those of ``more`` about a field of an item not already named (one problem per field)."""
    named = {(p.index, p.field) for p in problems}
    return problems + [p for p in more if (p.index, p.field) not in named]


def put_people(
    engine: Engine,
    items: Sequence[Mapping[str, Any] | None],
    *,
    by: Principal | None,
    refused: Iterable[ItemProblem] = (),
) -> UpsertReport:
    """Upsert ``items`` (dicts with the fields given, ``email`` always) all or nothing; what happened to each.
    ``refused``: problems the caller found already (``check_people``). A refusal names every wrong item at once:
    when some items are malformed, the others are still checked against the stored data (read only)."""
    checked, problems = _read_people(items, refused)
    if problems:
        with snapshot(engine) as session:
            raise UpsertRefused(_besides(problems, _PeopleCheck.read(session, checked, by).problems))
    try:
        # two requests creating the same new person at once: the loser's insert fails on the unique email,
        # and run again it finds the person stored (created becomes unchanged or updated)
        return write(engine, lambda session: upsert_people(session, checked, by=by), attempts=4, pause=0.05)
    except (IntegrityError, OperationalError) as exc:
        raise Conflict(
            "body", "other changes to these people were being written at the same time: send it again"
        ) from exc


@dataclass
class _Directory:
    """What the checks need of the stored people: everyone's email and manager (one query)."""

    email_of: dict[int, str]
    manager_of: dict[str, str | None]
    employee_holder: dict[str, str]

    @classmethod
    def read(cls, session: Session) -> _Directory:
        email_of: dict[int, str] = {}
        manager_ids: dict[str, int | None] = {}
        holders: dict[str, str] = {}
        query = select(id_col(Person.id), Person.email, Person.manager_id, Person.employee_id)
        for pid, email, manager_id, employee_id in session.exec(query):
            email_of[pid] = email
            manager_ids[email] = manager_id
            if employee_id:
                holders[employee_id] = email
        managers = {email: email_of.get(mid) if mid is not None else None for email, mid in manager_ids.items()}
        return cls(email_of, managers, holders)


def _chain_loops(items: list[_PersonItem], manager_of: dict[str, str | None]) -> list[ItemProblem]:
    """Items whose manager chain, as it will be, comes back to them."""
    reaches_top: set[str] = set()
    problems: list[ItemProblem] = []
    for item in items:
        if item.given.get("manager") is None:
            continue
        path, current = [item.email], manager_of.get(item.email)
        while current is not None and current not in reaches_top and current != item.email and current not in path:
            path.append(current)
            current = manager_of.get(current)
        if current == item.email:
            loop = " → ".join([*path, item.email])
            problems.append(ItemProblem(item.index, "manager", f"the manager chain would loop: {loop}"))
        elif current is None or current in reaches_top:
            reaches_top.update(path)
    return problems


@dataclass
class _PeopleCheck:
    """The stored data the items meet, and what it refuses of them."""

    directory: _Directory
    stored: dict[str, Person]
    teams: dict[str, Team]
    problems: list[ItemProblem]

    @classmethod
    def read(cls, session: Session, items: list[_PersonItem], by: Principal | None) -> _PeopleCheck:
        directory = _Directory.read(session)
        in_list = {item.email for item in items}
        wanted = in_list | {item.given["manager"] for item in items if item.given.get("manager")}
        stored = people_by_email(session, wanted & set(directory.manager_of))
        teams = teams_by_name(session, {item.given["team"] for item in items if item.given.get("team")})
        problems = _problems(items, directory, teams, stored, by)
        final_manager = dict(directory.manager_of)
        for item in items:
            if "manager" in item.given:
                final_manager[item.email] = item.given["manager"]
            elif item.email not in stored:
                final_manager[item.email] = None
        problems += _chain_loops(items, final_manager)
        return cls(directory, stored, teams, problems)


def upsert_people(session: Session, items: list[_PersonItem], *, by: Principal | None) -> UpsertReport:
    """``put_people`` inside the caller's write transaction."""
    check = _PeopleCheck.read(session, items, by)
    if check.problems:
        raise UpsertRefused(check.problems)
    directory, stored, teams = check.directory, check.stored, check.teams

    outcomes: list[tuple[str, Outcome]] = []
    created: list[_PersonItem] = []
    changes: list[tuple[_PersonItem, Person, dict[str, tuple[Any, Any]]]] = []
    for item in items:
        person = stored.get(item.email)
        if person is None:
            created.append(item)
            outcomes.append((item.email, "created"))
            continue
        diff = _differences(item, person, teams, directory)
        outcomes.append((item.email, "updated" if diff else "unchanged"))
        if diff:
            changes.append((item, person, diff))
    if not created and not changes:
        return UpsertReport.of(outcomes)  # nothing written: no row, no audit entry, no recalculation
    _Writer(session, by).write(created, changes, teams, stored)
    return UpsertReport.of(outcomes)


class _Writer:
    """The changes of one request, written with one statement per kind of row (an ``executemany``), not one
    per person: new people, their managers, the changed columns of stored people, the audit events."""

    def __init__(self, session: Session, by: Principal | None) -> None:
        self.session, self.by = session, by
        self.connection = session.connection()
        self.table = table_of(Person)
        self.events: list[dict[str, Any]] = []
        self.now = utcnow()

    def write(
        self,
        created: list[_PersonItem],
        changes: list[tuple[_PersonItem, Person, dict[str, tuple[Any, Any]]]],
        teams: Mapping[str, Team],
        stored: Mapping[str, Person],
    ) -> None:
        # an employee id may move from one person to another in the same list: free every id that moves first
        self._update(
            [{"id": stored_id(p), "employee_id": None} for _, p, diff in changes if diff.get("employee_id", (None,))[0]]
        )
        ids = {email: stored_id(person) for email, person in stored.items()}
        self._insert(created, teams, ids)
        touched: set[int] = set()
        columns: list[dict[str, Any]] = []
        for _, person, diff in changes:
            touched |= self._change(person, diff, teams, ids, columns)
        self._update(columns)
        if self.events:
            self.connection.execute(table_of(AuditEvent).insert(), self.events)
            # the log lines read these attributes only: building 2,000 mapped rows to read them took half the request
            log_on_commit(self.session, [cast(AuditEvent, SimpleNamespace(**event)) for event in self.events])
        for _, person, diff in changes:  # rare: each ends sessions and revokes tokens as the people page does
            if "active" in diff and apply_active(self.session, person, diff["active"][1], by=self.by):
                touched.add(stored_id(person))
        if touched:
            touch_statements(self.session, touched)

    def _insert(self, created: list[_PersonItem], teams: Mapping[str, Team], ids: dict[str, int]) -> None:
        """New people, a level of the manager tree at a time (a manager new in the list before their reports),
        each level one ``INSERT ... RETURNING`` (multi-row: a few statements for thousands of people); their ids
        are added to ``ids``. The list has no loop (checked), so every new person gets a level."""
        new = {item.email: item for item in created}
        level: dict[str, int] = {}
        for item in created:
            chain = [item.email]
            while (manager := new[chain[-1]].given.get("manager")) in new and manager not in level:
                chain.append(manager)
            depth = level[manager] + 1 if manager in level else 0
            for email in reversed(chain):
                level[email] = depth
                depth += 1
        returning = self.table.insert().returning(self.table.c.email, self.table.c.id)
        for depth in sorted(set(level.values())):
            rows = [self._row(item, teams, ids) for item in created if level[item.email] == depth]
            ids.update((email, pid) for email, pid in self.connection.execute(returning, rows).all())
            for row in rows:
                self._audit("person.create", ids[row["email"]], {"email": row["email"], "role": row["role"]})

    def _row(self, item: _PersonItem, teams: Mapping[str, Team], ids: Mapping[str, int]) -> dict[str, Any]:
        given, team, manager = item.given, item.given.get("team"), item.given.get("manager")
        return {
            "email": item.email,
            "name": given.get("name") or item.email.split("@")[0][:200],
            "role": given.get("role", "rep"),
            "manager_id": ids[manager] if manager else None,
            "team_id": stored_id(teams[team]) if team else None,
            "employee_id": given.get("employee_id"),
            "password_hash": None,  # they set one through a reset link from the people page
            "active": given.get("active", True),
            "session_version": 1,
            "locale": given.get("locale"),
            "payment_currency": given.get("payment_currency"),
            "created_at": self.now,
        }

    def _change(
        self,
        person: Person,
        diff: dict[str, tuple[Any, Any]],
        teams: Mapping[str, Team],
        ids: Mapping[str, int],
        columns: list[dict[str, Any]],
    ) -> set[int]:
        """One stored person's changed columns (added to ``columns``) and audit events; whose statements move."""
        pid = stored_id(person)
        values: dict[str, Any] = {"id": pid}
        plain = {
            name: diff[name] for name in ("name", "role", "employee_id", "locale", "payment_currency") if name in diff
        }
        values |= {name: after for name, (_, after) in plain.items()}
        if plain:
            self._audit("person.update", pid, {k: {"before": b, "after": a} for k, (b, a) in plain.items()})
        if "role" in plain:
            forget_person(pid)  # the new role applies from the next request, in this process at once
        touched: set[int] = set()
        if "manager" in diff or "team" in diff:
            before = {"manager_id": person.manager_id, "team_id": person.team_id}
            after = dict(before)
            if "manager" in diff:
                manager = diff["manager"][1]
                after["manager_id"] = ids[manager] if manager else None
            if "team" in diff:
                after["team_id"] = diff["team"][1]
            values |= after
            self._audit("person.move", pid, {"before": before, "after": after})
            touched = {pid, *(m for m in (before["manager_id"],) if m is not None)}
        if len(values) > 1:
            columns.append(values)
        return touched

    def _update(self, rows: list[dict[str, Any]]) -> None:
        """``UPDATE person SET ... WHERE id = ...`` for these rows: one executemany per set of columns."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(sorted(set(row) - {"id"})), []).append(row)
        for names, group in groups.items():
            statement = (
                update(self.table)
                .where(self.table.c.id == bindparam("row_id"))
                .values({name: bindparam(f"new_{name}") for name in names})
            )
            params = [{"row_id": row["id"], **{f"new_{name}": row[name] for name in names}} for row in group]
            self.connection.execute(statement, params)

    def _audit(self, action: str, person_id: int, detail: dict[str, Any]) -> None:
        actor_id, label = (self.by.person_id, self.by.label[:254]) if self.by else (None, "system")
        self.events.append(
            {
                "at": self.now,
                "actor_id": actor_id,
                "actor_label": label,
                "action": action,
                "object_type": "person",
                "object_id": str(person_id),
                "detail": detail,
                "ip": "",
            }
        )


def _problems(
    items: list[_PersonItem],
    directory: _Directory,
    teams: Mapping[str, Team],
    stored: Mapping[str, Person],
    by: Principal | None,
) -> list[ItemProblem]:
    """What the stored data refuses: unknown teams and managers, employee ids in use, changing oneself."""
    problems: list[ItemProblem] = []
    in_list = {item.email: item for item in items}
    for item in items:
        team, manager, employee_id = (item.given.get(k) for k in ("team", "manager", "employee_id"))
        if team and team not in teams:
            problems.append(
                ItemProblem(item.index, "team", f"no team named {team!r}: create it with PUT /api/v1/teams first")
            )
        if manager and manager not in stored and manager not in in_list:
            problems.append(
                ItemProblem(item.index, "manager", f"no person with email {manager}, stored or in this list")
            )
        holder = directory.employee_holder.get(employee_id) if employee_id else None
        if holder and holder != item.email and not _gives_up(in_list.get(holder), employee_id):
            problems.append(ItemProblem(item.index, "employee_id", f"employee id {employee_id} is {holder}'s"))
        person = stored.get(item.email)
        if by is not None and person is not None and person.id == by.person_id:
            if item.given.get("active") is False and person.active:
                problems.append(ItemProblem(item.index, "active", "you cannot deactivate yourself"))
            if item.given.get("role", person.role) != person.role:
                problems.append(ItemProblem(item.index, "role", "you cannot change your own role"))
    return problems


def _gives_up(item: _PersonItem | None, employee_id: str | None) -> bool:
    """Whether the list moves this employee id away from its holder (their item gives another or none)."""
    return item is not None and "employee_id" in item.given and item.given["employee_id"] != employee_id


def _differences(
    item: _PersonItem, person: Person, teams: Mapping[str, Team], directory: _Directory
) -> dict[str, tuple[Any, Any]]:
    """The given fields whose value differs from the stored one: field → (stored, given)."""
    current: dict[str, Any] = {
        "name": person.name,
        "role": person.role,
        "team": person.team_id,
        "manager": directory.email_of.get(person.manager_id) if person.manager_id is not None else None,
        "employee_id": person.employee_id,
        "active": person.active,
        "locale": person.locale,
        "payment_currency": person.payment_currency,
    }
    wanted = dict(item.given)
    if "team" in wanted:
        wanted["team"] = stored_id(teams[wanted["team"]]) if wanted["team"] else None
    return {name: (current[name], value) for name, value in wanted.items() if current[name] != value}


# ---- teams ---------------------------------------------------------------------------------------------


@dataclass
class _TeamItem:
    index: int
    name: str
    given: dict[str, Any] = field(default_factory=dict)


def check_teams(items: Sequence[Mapping[str, Any] | None], refused: Iterable[ItemProblem] = ()) -> list[_TeamItem]:
    """What can be checked without the database; ``UpsertRefused`` naming every problem (``check_people``)."""
    checked, problems = _read_teams(items, refused)
    if problems:
        raise UpsertRefused(problems)
    return checked


def _read_teams(
    items: Sequence[Mapping[str, Any] | None], refused: Iterable[ItemProblem]
) -> tuple[list[_TeamItem], list[ItemProblem]]:
    """The items as far as they read, and the problems found without the database."""
    problems: list[ItemProblem] = list(refused)
    seen: dict[str, int] = {}
    checked: list[_TeamItem] = []
    for index, item in enumerate(items):
        if item is None:
            continue
        for name in sorted(set(item) - set(TEAM_FIELDS)):
            problems.append(ItemProblem(index, name, f"unknown field {name!r}: a team has {', '.join(TEAM_FIELDS)}"))
        raw = item.get("name")
        if not isinstance(raw, str) or not raw.strip():
            problems.append(ItemProblem(index, "name", "every team needs a name (its key)"))
            continue
        name = raw.strip()
        if not team_name_ok(name):
            problems.append(ItemProblem(index, "name", TEAM_NAME_RULE))
        elif name.casefold() in seen:  # "Sales East" and "sales east" are one team
            earlier = seen[name.casefold()]
            problems.append(ItemProblem(index, "name", f"team {name!r} is also item {earlier}: each team once"))
        else:
            seen[name.casefold()] = index
        team = _TeamItem(index, name)
        if "kind" in item:
            if item["kind"] is None:
                problems.append(
                    ItemProblem(index, "kind", "kind may not be null: leave it out to keep the stored kind")
                )
            elif item["kind"] not in TEAM_KINDS:
                problems.append(
                    ItemProblem(
                        index, "kind", f"unknown kind {item['kind']!r}: expected one of {', '.join(TEAM_KINDS)}"
                    )
                )
            team.given["kind"] = item["kind"]
        if "manager" in item:
            manager = normalise_email(item["manager"] or "")
            if manager and not EMAIL_RE.match(manager):
                problems.append(ItemProblem(index, "manager", f"{item['manager']!r} is not an email address"))
            team.given["manager"] = manager or None
        checked.append(team)
    return checked, problems


def put_teams(
    engine: Engine,
    items: Sequence[Mapping[str, Any] | None],
    *,
    by: Principal | None,
    refused: Iterable[ItemProblem] = (),
) -> UpsertReport:
    """Upsert teams by name, all or nothing. A team's kind and manager do not move pay (team credit and
    overrides follow people's manager chain), so no statement is marked. A refusal names every wrong item at
    once (``put_people``)."""
    checked, problems = _read_teams(items, refused)
    if problems:
        with snapshot(engine) as session:
            raise UpsertRefused(_besides(problems, _unknown_managers(session, checked)[1]))
    try:
        return write(engine, lambda session: upsert_teams(session, checked, by=by), attempts=4, pause=0.05)
    except (IntegrityError, OperationalError) as exc:
        raise Conflict(
            "body", "other changes to these teams were being written at the same time: send it again"
        ) from exc


def _unknown_managers(session: Session, items: list[_TeamItem]) -> tuple[dict[str, Person], list[ItemProblem]]:
    """The managers the items name who are stored, by email, and a problem for each item naming someone else."""
    managers = people_by_email(session, {item.given["manager"] for item in items if item.given.get("manager")})
    problems = [
        ItemProblem(
            item.index, "manager", f"no person with email {item.given['manager']}: add them with PUT /api/v1/people"
        )
        for item in items
        if item.given.get("manager") and item.given["manager"] not in managers
    ]
    return managers, problems


def upsert_teams(session: Session, items: list[_TeamItem], *, by: Principal | None) -> UpsertReport:
    """``put_teams`` inside the caller's write transaction."""
    stored = teams_by_name(session, (item.name for item in items))
    managers, problems = _unknown_managers(session, items)
    if problems:
        raise UpsertRefused(problems)
    email_of = {stored_id(p): email for email, p in managers.items()}
    current_managers = {t.manager_id for t in stored.values() if t.manager_id is not None} - set(email_of)
    if current_managers:
        query = select(id_col(Person.id), Person.email).where(col(Person.id).in_(current_managers))
        email_of.update((pid, email) for pid, email in session.exec(query).all())
    outcomes: list[tuple[str, Outcome]] = []
    created: list[Team] = []
    for item in items:
        manager = item.given.get("manager")
        manager_id = stored_id(managers[manager]) if manager else None
        team = stored.get(item.name)
        if team is None:
            created.append(Team(name=item.name, kind=item.given.get("kind", "sales"), manager_id=manager_id))
            outcomes.append((item.name, "created"))
            continue
        diff: dict[str, dict[str, Any]] = {}
        if "kind" in item.given and item.given["kind"] != team.kind:
            diff["kind"] = {"before": team.kind, "after": item.given["kind"]}
            team.kind = item.given["kind"]
        if "manager" in item.given and manager_id != team.manager_id:
            before = email_of.get(team.manager_id) if team.manager_id is not None else None
            diff["manager"] = {"before": before, "after": manager}
            team.manager_id = manager_id
        if diff:
            session.add(team)
            record_event(session, by, "team.update", "team", team.id, diff)
        outcomes.append((item.name, "updated" if diff else "unchanged"))
    if created:
        session.add_all(created)
        session.flush()
        for team in created:
            record_event(session, by, "team.create", "team", team.id, {"name": team.name, "kind": team.kind})
    return UpsertReport.of(outcomes)
