"""The recompute queue: statements to refresh soon, written with the change that needs them.

A deal recomputes the people it credits at once. Their managers' statements span
the whole team's deals, so they are queued instead (``enqueue``, same transaction
as the deal) and `commissions worker` (started by `commissions run`) drains it in its own process, one recompute per
period for everyone waiting (``drain``). Nothing is lost if a process dies: the
rows stay until a drain has recomputed them, and `commissions recalc` drains too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from sqlalchemy import Engine, delete, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Session, select

from commissions.calculation.loader import periods_touching
from commissions.calculation.service import RecomputeReport, compute, store
from commissions.db import read_session, transaction
from commissions.models import Period, RecomputeRequest

log = logging.getLogger("quotaboard.queue")
BATCH = 2000


def enqueue(session: Session, people: Iterable[int], days: Iterable[date]) -> int:
    """Queue recomputation of ``people`` in the open periods containing ``days``; returns rows added."""
    return enqueue_keys(session, people, periods_touching(session, set(days)))


def open_period_keys(session: Session, kind: str, starts_on: date, ends_on: date | None) -> set[str]:
    """Open periods of ``kind`` overlapping the dates: those already known, and the current one."""
    from commissions.calculation.loader import period_key

    query = select(Period.key).where(Period.kind == kind, Period.state == "open", Period.ends_on >= starts_on)
    if ends_on is not None:
        query = query.where(Period.starts_on <= ends_on)
    keys = set(session.exec(query).all())
    today = date.today()
    if starts_on <= today and (ends_on is None or today <= ends_on) or starts_on > today:
        keys.add(period_key(kind, max(today, starts_on)))
    return keys


def enqueue_keys(session: Session, people: Iterable[int], keys: Iterable[str]) -> int:
    """Queue recomputation of ``people`` in the given periods (closed ones are skipped); returns rows added."""
    people, keys = set(people), set(keys)
    if not people or not keys:
        return 0
    closed = set(session.exec(select(Period.key).where(Period.key.in_(keys), Period.state.in_(("locked", "paid")))).all())
    wanted = {(pid, key) for pid in people for key in keys - closed}
    if not wanted:
        return 0
    present = set(session.exec(select(RecomputeRequest.person_id, RecomputeRequest.period_key).where(
        RecomputeRequest.period_key.in_({k for _, k in wanted}),
        RecomputeRequest.person_id.in_({p for p, _ in wanted}))).all())
    rows = [{"person_id": pid, "period_key": key} for pid, key in sorted(wanted - present)]
    if rows:
        session.execute(insert(RecomputeRequest), rows)
    return len(rows)


def pending(session: Session) -> int:
    return len(session.exec(select(RecomputeRequest.id)).all())


def drain(engine: Engine, *, trigger: str = "queued recompute") -> list[RecomputeReport]:
    """Recompute everyone waiting, a period at a time; returns what changed.

    The requests are taken (deleted) first, the engine runs on a read-only session so
    writers are not blocked meanwhile, and the result is stored in a short write
    transaction. A change landing in between queues its people again, so the next
    drain catches it; if anything fails, the taken requests are put back.
    """
    reports = []
    while True:
        with transaction(engine) as session:
            first = session.exec(select(RecomputeRequest.period_key).order_by(RecomputeRequest.id)).first()
            if first is None:
                return reports
            requests = session.exec(
                select(RecomputeRequest.id, RecomputeRequest.person_id)
                .where(RecomputeRequest.period_key == first).order_by(RecomputeRequest.id).limit(BATCH)
            ).all()
            session.execute(delete(RecomputeRequest).where(RecomputeRequest.id.in_([rid for rid, _ in requests])))
        people = {pid for _, pid in requests}
        try:
            with read_session(engine) as session:
                computation = compute(session, first, person_ids=people)
            with transaction(engine) as session:
                reports.append(store(session, computation, trigger=trigger))
        except Exception:
            with transaction(engine) as session:
                session.execute(insert(RecomputeRequest).prefix_with("OR IGNORE") if engine.dialect.name == "sqlite"
                                else pg_insert(RecomputeRequest).on_conflict_do_nothing(),
                                [{"person_id": pid, "period_key": first} for pid in sorted(people)])
            raise
