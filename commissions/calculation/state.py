"""Which statements are current: every change bumps the input version of the statements it can alter.

The invariant (docs/architecture.md, "Pay you can prove"): when nothing is in flight,
every stored statement equals a fresh calculation of the stored inputs. It is kept by
three rules:

1. **Every change touches what it can alter, in its own transaction.** A deal, quota,
   plan, assignment, campaign or person change calls ``touch`` (or a helper below) for
   the people and open periods whose statements it can change; ``touch`` bumps
   ``statement_state.input_version``. The change and the bump commit together or not at all.
2. **A result is stored only if it is as new as the inputs.** A computation records the
   input versions it saw; ``claim`` (under the period lock) keeps only the people whose
   version has not moved since, and marks them computed at that version. Anyone else
   stays pending and is computed again.
3. **Nothing leaves the queue before its result is stored.** Pending is
   ``input_version > computed_version``; the worker never deletes a row, so a process
   killed at any instant leaves the work visible.

Locking order, everywhere: the period locks (``lock_period``, sorted by key), then
``statement_state`` rows (sorted by period, then person). A period's lock has two modes
(PostgreSQL advisory locks; SQLite writes are serial anyway). Changes to its inputs
(``touch``) and stores of results take it *shared*: deal deliveries do not wait for each
other, and two stores of one person wait for each other on that person's
``statement_state`` row (``claim`` locks it). The period workflow (approve, lock) and the
periods' own writers take it *exclusive*: such a transaction sees every committed change to
the period's inputs, and no other change to them can commit until it ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from commissions.calculation.loader import periods_touching
from commissions.calculation.rows import table_of
from commissions.core.periods import CLOSED_STATES, LIVE_STATES, key_of_day, lock_period
from commissions.models import Period, Person, PlanAssignment, StatementState
from commissions.models.base import utcnow


def open_period_keys(session: Session, kind: str, starts_on: date, ends_on: date | None) -> set[str]:
    """Open periods of ``kind`` overlapping the dates: those already known, and the current one."""
    query = select(Period.key).where(
        Period.kind == kind, col(Period.state).in_(LIVE_STATES), Period.ends_on >= starts_on
    )
    if ends_on is not None:
        query = query.where(Period.starts_on <= ends_on)
    keys = set(session.exec(query).all())
    today = date.today()
    if (starts_on <= today and (ends_on is None or today <= ends_on)) or starts_on > today:
        keys.add(key_of_day(kind, max(today, starts_on)))
    return keys


def all_open_period_keys(session: Session) -> set[str]:
    """Every open or approved period known, and the current period of each kind a plan uses."""
    from commissions.models import Plan

    keys = set(session.exec(select(Period.key).where(col(Period.state).in_(LIVE_STATES))).all())
    for kind in set(session.exec(select(Plan.period_kind)).all()):
        keys.add(key_of_day(kind, date.today()))
    return keys


def touch(session: Session, people: Iterable[int], keys: Iterable[str]) -> int:
    """Mark the statements of ``people`` in the periods ``keys`` as changed (locked and paid periods are
    skipped: changes to them are prior-period adjustments). Returns how many statements were marked."""
    people = {p for p in people if p is not None}
    keys = set(keys)
    if not people or not keys:
        return 0
    for key in sorted(keys):
        lock_period(session, key, shared=True)
    closed = set(
        session.exec(select(Period.key).where(col(Period.key).in_(keys), col(Period.state).in_(CLOSED_STATES))).all()
    )
    rows = [
        {
            "person_id": pid,
            "period_key": key,
            "input_version": 1,
            "computed_version": 0,
            "changed_at": utcnow(),
            "error": "",
        }
        for key in sorted(keys - closed)
        for pid in sorted(people)
    ]
    if not rows:
        return 0
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = table_of(StatementState)
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=["person_id", "period_key"],
        set_={"input_version": table.c.input_version + 1, "changed_at": statement.excluded.changed_at},
    )
    # One statement executed for many rows (compiled once and cached), not one VALUES list per call: a batch's
    # VALUES list of a few hundred rows took SQLAlchemy 20-70 ms to compile on every delivery round.
    session.connection().execute(statement, rows)
    return len(rows)


def touch_days(session: Session, people: Iterable[int], days: Iterable[date]) -> int:
    """``touch`` in every period (of every kind a plan uses) containing one of ``days``."""
    return touch(session, people, periods_touching(session, set(days)))


def with_managers(session: Session, people: Iterable[int]) -> set[int]:
    """``people`` and everyone above them in the manager chain (one recursive query)."""
    people = {p for p in people if p is not None}
    if not people:
        return set()
    chain = select(Person.id, Person.manager_id).where(col(Person.id).in_(people)).cte("chain", recursive=True)
    chain = chain.union(select(Person.id, Person.manager_id).where(Person.id == chain.c.manager_id))
    return set(session.exec(select(chain.c.id)).all())


def touch_chain(session: Session, people: Iterable[int], keys: Iterable[str]) -> int:
    """``touch`` these people and everyone above them (team credit and overrides flow up the chain)."""
    return touch(session, with_managers(session, people), keys)


def touch_plan_people(session: Session, *, plan_ids: Iterable[int] | None = None) -> int:
    """Every statement in an open period of the people assigned to these plans (all plans when None)."""
    query = select(PlanAssignment.person_id)
    if plan_ids is not None:
        query = query.where(col(PlanAssignment.plan_id).in_(set(plan_ids)))
    people = set(session.exec(query).all())
    return touch(session, people, all_open_period_keys(session))


@dataclass(frozen=True)
class Freshness:
    """What a statement page and API say about the figures: when computed, and whether changes wait."""

    computed_at: datetime | None
    pending: bool
    error: str

    def as_json(self) -> dict[str, object]:
        return {
            "computed_at": self.computed_at.isoformat() if self.computed_at else None,
            "pending": self.pending,
            "error": self.error or None,
        }


def freshness(session: Session, person_id: int, key: str) -> Freshness:
    row = session.exec(
        select(StatementState).where(StatementState.person_id == person_id, StatementState.period_key == key)
    ).first()
    if row is None:
        return Freshness(None, False, "")
    return Freshness(row.computed_at, row.input_version > row.computed_version, row.error)


def pending_count(session: Session, key: str | None = None) -> int:
    query = (
        select(func.count())
        .select_from(StatementState)
        .where(StatementState.input_version > StatementState.computed_version)
    )
    if key is not None:
        query = query.where(StatementState.period_key == key)
    return int(session.exec(query).one())


def failed_people(session: Session, key: str) -> dict[int, str]:
    """People of the period whose last calculation failed, with the reason."""
    return dict(
        session.exec(
            select(StatementState.person_id, StatementState.error).where(
                StatementState.period_key == key, StatementState.error != ""
            )
        ).all()
    )


def pending_in(session: Session, key: str, *, limit: int | None = None) -> dict[int, int]:
    """The period's pending statements: person id → the input version a computation now would answer."""
    query = (
        select(StatementState.person_id, StatementState.input_version)
        .where(
            StatementState.period_key == key,
            StatementState.input_version > StatementState.computed_version,
        )
        .order_by(col(StatementState.changed_at), col(StatementState.id))
    )
    if limit is not None:
        query = query.limit(limit)
    return dict(session.exec(query).all())


def next_pending_period(session: Session) -> str | None:
    """The period whose oldest pending statement waits longest."""
    return session.exec(
        select(StatementState.period_key)
        .where(
            StatementState.input_version > StatementState.computed_version,
        )
        .order_by(col(StatementState.changed_at), col(StatementState.id))
        .limit(1)
    ).first()


def versions_of(session: Session, key: str, people: Iterable[int], *, lock: bool = False) -> dict[int, int]:
    """Current input versions (0 for people never touched). ``lock``: and hold their rows until the
    transaction ends (PostgreSQL ``FOR UPDATE``; the latest committed version is read)."""
    people = sorted(set(people))
    out = dict.fromkeys(people, 0)
    for start in range(0, len(people), 900):
        query = select(StatementState.person_id, StatementState.input_version).where(
            StatementState.period_key == key, col(StatementState.person_id).in_(people[start : start + 900])
        )
        if lock:
            query = query.order_by(col(StatementState.person_id)).with_for_update()
        out.update(session.exec(query).all())
    return out


def claim(session: Session, key: str, seen: Mapping[int, int], errors: Mapping[int, str]) -> set[int]:
    """The people whose inputs did not change since ``seen`` was read; marks them computed at that
    version (with their calculation error, or none). The others stay pending.

    Their rows stay locked until the transaction ends, so two stores of one person never
    interleave: the second waits, then finds the first one's lines in place (a store writes
    only differences)."""
    now = versions_of(session, key, seen, lock=True)
    fresh = {pid for pid, version in seen.items() if now.get(pid, 0) == version}
    if not fresh:
        return set()
    table = table_of(StatementState)
    existing = {pid for pid, version in now.items() if pid in fresh and version > 0}
    existing |= (
        set(
            session.exec(
                select(StatementState.person_id).where(
                    StatementState.period_key == key, col(StatementState.person_id).in_(sorted(fresh - existing))
                )
            ).all()
        )
        if fresh - existing
        else set()
    )
    stamp = utcnow()
    updates = [{"_pid": pid, "_version": seen[pid], "_error": errors.get(pid, "")[:2000]} for pid in sorted(existing)]
    if updates:
        session.connection().execute(
            table.update()
            .where(table.c.person_id == bindparam("_pid"), table.c.period_key == key)
            .values(computed_version=bindparam("_version"), computed_at=stamp, error=bindparam("_error")),
            updates,
        )
    inserts = [
        {
            "person_id": pid,
            "period_key": key,
            "input_version": 0,
            "computed_version": 0,
            "changed_at": stamp,
            "computed_at": stamp,
            "error": errors.get(pid, "")[:2000],
        }
        for pid in sorted(fresh - existing)
    ]
    if inserts:
        session.connection().execute(table.insert(), inserts)
    return fresh
