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
``statement_state`` rows (``touch``, sorted by period, then person), then ``statement_result`` rows
(``claim``, sorted by person). A period's lock has two modes (PostgreSQL advisory locks; SQLite
writes are serial anyway). Changes to its inputs (``touch``) and stores of results take it
*shared*: deal deliveries do not wait for each other, nor for stores (they write input rows,
stores lock result rows), and two stores of one person wait for each other on that person's
``statement_result`` row (``claim`` locks it). The period workflow (approve, lock) and the
periods' own writers take it *exclusive*: such a transaction sees every committed change to
the period's inputs, and no other change to them can commit until it ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, literal, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from commissions.calculation.loader import periods_touching
from commissions.calculation.rows import table_of
from commissions.core.periods import CLOSED_STATES, LIVE_STATES, key_of_day, lock_period
from commissions.models import Period, Person, PlanAssignment, StatementResult, StatementState
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


def touch(
    session: Session,
    people: Iterable[int],
    keys: Iterable[str],
    *,
    locked: frozenset[str] = frozenset(),
    closed_under_locks: set[str] | None = None,
) -> int:
    """Mark the statements of ``people`` in the periods ``keys`` as changed (locked and paid periods are
    skipped: changes to them are prior-period adjustments). Returns how many statements were marked.
    ``locked``: periods whose locks the transaction already holds (a deal delivery's ``take_period_locks``: a
    round trip fewer). Their states are read here all the same, under the locks (what was read before taking
    them may be stale), unless the caller read them under those locks too: ``closed_under_locks``, the closed
    periods it found then (a delivery's window check reads every period's row: a round trip fewer again)."""
    people = {p for p in people if p is not None}
    keys = set(keys)
    if not people or not keys:
        return 0
    if not keys <= locked:
        for key in sorted(keys):
            lock_period(session, key, shared=True)
    if closed_under_locks is not None and keys <= locked:
        closed = keys & closed_under_locks
    else:
        closed = set(
            session.exec(
                select(Period.key).where(col(Period.key).in_(keys), col(Period.state).in_(CLOSED_STATES))
            ).all()
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


def pending_select(*columns: Any) -> Any:
    """``SELECT columns`` over the statements waiting for a computation: their input version is newer than
    what the last stored result was computed from (none stored: 0)."""
    return (
        select(*columns)
        .select_from(StatementState)
        .join(StatementResult, _result_join(), isouter=True)
        .where(col(StatementState.input_version) > func.coalesce(col(StatementResult.computed_version), 0))
    )


def _result_join() -> Any:
    return and_(
        col(StatementResult.person_id) == col(StatementState.person_id),
        col(StatementResult.period_key) == col(StatementState.period_key),
    )


def freshness(session: Session, person_id: int, key: str) -> Freshness:
    """One round trip: the input version and the stored result, either of which may be missing."""
    state_here = and_(col(StatementState.person_id) == person_id, col(StatementState.period_key) == key)
    result_columns = (
        col(StatementResult.computed_version),
        col(StatementResult.computed_at),
        col(StatementResult.error),
    )
    with_state = (
        select(StatementState.input_version, *result_columns)
        .select_from(StatementState)
        .join(StatementResult, _result_join(), isouter=True)
        .where(state_here)
    )
    result_alone = select(literal(0), *result_columns).where(
        StatementResult.person_id == person_id,
        StatementResult.period_key == key,
        ~exists(select(StatementState.id).where(state_here)),
    )
    row = session.exec(union_all(with_state, result_alone)).first()  # type: ignore[call-overload]
    if row is None:
        return Freshness(None, False, "")
    input_version, computed_version, computed_at, error = row
    return Freshness(computed_at, input_version > (computed_version or 0), error or "")


def pending_count(session: Session, key: str | None = None) -> int:
    query = pending_select(func.count())
    if key is not None:
        query = query.where(StatementState.period_key == key)
    return int(session.exec(query).one())


def failed_people(session: Session, key: str) -> dict[int, str]:
    """People of the period whose last calculation failed, with the reason."""
    return dict(
        session.exec(
            select(StatementResult.person_id, StatementResult.error).where(
                StatementResult.period_key == key, StatementResult.error != ""
            )
        ).all()
    )


def pending_in(session: Session, key: str, *, limit: int | None = None, where: Iterable[Any] = ()) -> dict[int, int]:
    """The period's pending statements, the longest waiting first: person id → the input version a computation
    now would answer. ``where``: more conditions (the worker's part of the people)."""
    query = (
        pending_select(StatementState.person_id, StatementState.input_version)
        .where(StatementState.period_key == key, *where)
        .order_by(col(StatementState.changed_at), col(StatementState.id))
    )
    if limit is not None:
        query = query.limit(limit)
    return dict(session.exec(query).all())


def versions_of(session: Session, key: str, people: Iterable[int]) -> dict[int, int]:
    """Current input versions (0 for people never touched): the latest committed, and this transaction's own."""
    people = sorted(set(people))
    out = dict.fromkeys(people, 0)
    for start in range(0, len(people), 900):
        out.update(
            session.exec(
                select(StatementState.person_id, StatementState.input_version).where(
                    StatementState.period_key == key, col(StatementState.person_id).in_(people[start : start + 900])
                )
            ).all()
        )
    return out


def _lock_results(session: Session, key: str, people: list[int]) -> dict[int, tuple[int, int]]:
    """Lock the result rows of ``people`` that exist (in person order: two stores never wait in a cycle);
    person id -> (the version its stored result was computed from, its input version now)."""
    found: dict[int, tuple[int, int]] = {}
    for start in range(0, len(people), 900):
        rows = session.exec(
            select(
                col(StatementResult.person_id),
                col(StatementResult.computed_version),
                func.coalesce(col(StatementState.input_version), 0),
            )
            .select_from(StatementResult)
            .join(StatementState, _result_join(), isouter=True)
            .where(StatementResult.period_key == key, col(StatementResult.person_id).in_(people[start : start + 900]))
            .order_by(col(StatementResult.person_id))
            .with_for_update(of=StatementResult)
        ).all()
        found.update((pid, (computed, version)) for pid, computed, version in rows)
    return found


def claim(session: Session, key: str, seen: Mapping[int, int], errors: Mapping[int, str]) -> set[int]:
    """The people whose inputs did not change since ``seen`` was read; marks them computed at that
    version (with their calculation error, or none). The others stay pending.

    Their result rows are locked first and stay locked until the transaction ends, so two stores of
    one person never interleave: the second waits, then finds the first one's lines in place (a store
    writes only differences) and keeps a person only if the first one stored an older version, never
    a newer one. The input versions are read in the same statement, without a lock: a deal marking a
    statement pending never waits for a store of it. On PostgreSQL a read that waited for the lock may
    see an input version older than the latest (read from before the wait), never a newer one: at
    worst the result is stored at that older version and the statement stays pending."""
    people = sorted(seen)
    if not people:
        return set()
    found = _lock_results(session, key, people)
    missing = [pid for pid in people if pid not in found]
    if missing:  # a first result: the row is made (or found made by a concurrent store), then locked
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        rows = [{"person_id": pid, "period_key": key, "computed_version": 0, "error": ""} for pid in missing]
        statement = insert(table_of(StatementResult)).on_conflict_do_nothing(index_elements=["person_id", "period_key"])
        session.connection().execute(statement, rows)
        found.update(_lock_results(session, key, missing))
    fresh = {pid for pid in people if found[pid][1] == seen[pid] and found[pid][0] <= seen[pid]}
    if not fresh:
        return set()
    table = table_of(StatementResult)
    session.connection().execute(
        table.update()
        .where(table.c.person_id == bindparam("_pid"), table.c.period_key == key)
        .values(computed_version=bindparam("_version"), computed_at=utcnow(), error=bindparam("_error")),
        [{"_pid": pid, "_version": seen[pid], "_error": errors.get(pid, "")[:2000]} for pid in sorted(fresh)],
    )
    return fresh
