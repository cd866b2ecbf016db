"""The worker's side of the recompute queue: bring every pending statement up to date.

A deal recomputes the people it credits at once, in its own transaction. Their
managers' statements span the whole team's deals, so the change only marks them pending
(``state.touch``, same transaction) and `commissions worker` (started by `commissions
run`) computes them here, a period at a time.

Each round reads the pending statements and their inputs in **one consistent snapshot**,
runs the engine without holding any lock (a sales VP's statement never holds up a rep's
request), then stores the results in a short write transaction that keeps only the people
whose input version did not move meanwhile (``state.claim``). Nothing is removed from the
queue before its result is stored: a worker killed at any instant leaves the statements
pending, and the next run computes them.

During a burst of deliveries the managers at the top are touched by nearly every deal: a
round computing them finds their inputs moved meanwhile and stores nothing for them, and the
next round starts over. `commissions worker --once` (``yield_to_writers``) then pauses as long as the
round took before the next one: the requests that make the changes get the machine first, the
changes pile up and are computed once, and the queue drains at full speed once they stop.

It also waits before a round while deliveries keep coming (``Pace``): a statement of its part was
marked pending less than ``Pace.quiet`` ago. Its rounds ran on a core the requests needed even so
(its PostgreSQL backend runs at normal priority), a deal's POST -> statement p95 on PostgreSQL was
50-54 ms with it and 40-43 ms when it waited (docs/benchmarks.md, session 14). A burst does not stop
it for good: while deliveries keep coming it runs a round every ``Pace.max_lag`` seconds, on the
statements left alone meanwhile (one touched by every deal, like the CRO's, waits for the burst to end:
computed during it, it would come back changed and not be stored anyway).

The served worker does not pause after a round some of whose people moved: ``Pace`` already holds the next
round while deliveries keep coming, and once they have stopped a pause only delays the catch-up. A 20,000-deal
import committing during a round (started on the managers the deals just before it touched) made that round
stale; the blind pause after it (5 s) was a quarter of the worker's catch-up (docs/benchmarks.md, session 16).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, not_, or_
from sqlmodel import Session, col

from commissions.calculation import state
from commissions.calculation.loader import people_directory
from commissions.calculation.service import RecomputeReport, compute, store
from commissions.calculation.state import pending_select
from commissions.core.db import among, snapshot, transaction
from commissions.models import StatementState
from commissions.models.base import utcnow

log = logging.getLogger("quotaboard.queue")
# People per round: a 20,000-deal import's 4,835 statements in one round, which reads the period's deals once
# (in rounds of 2,000 two of the three read all of them: 40 s -> 37 s for the round's computing and storing).
BATCH = 5000
MAX_PAUSE = 5.0  # seconds

#: Which statements a worker process takes: (k, n) takes the managers ``PeopleDirectory.balanced_parts`` gives
#: part k and everyone else whose id is k modulo n. ``commissions worker --processes n`` runs n processes, one per
#: part, so a big catch-up uses every core (a 20,000-deal import's: 48 s -> 32 s with two on this machine); their
#: parts never overlap, so they never compute the same statement, and two stores of different people go on side
#: by side (``store`` takes the period lock shared). By id alone, the part holding the CRO (whose statement
#: covers every deal) took half as long again as the other.
WHOLE = (0, 1)


@dataclass
class Pace:
    """How the served worker shares the machine with the deliveries that give it work (``drain``)."""

    quiet: float = 0.3  # seconds: a statement marked pending more recently than this means deliveries keep coming
    max_lag: float = 30.0  # seconds: while they keep coming, a round at least this often
    busy_since: float | None = None  # time.monotonic() when it began waiting for them (or last ran a round anyway)

    def settled(self, session: Session, part: tuple[int, int]) -> list[Any] | None:
        """Which pending statements to compute now: more conditions for ``pending_select`` (none: all of them),
        or None to leave the queue for now (deliveries keep coming, and have for less than ``max_lag``). When
        they have kept coming that long, a round takes the statements left alone for ``quiet`` seconds: the
        ones still being touched (a CRO's, by every deal) would come back changed meanwhile and not be stored."""
        now = utcnow()
        newest = session.exec(
            pending_select(func.max(col(StatementState.changed_at))).where(*_waiting(session, part))
        ).one()
        if newest is not None and newest.tzinfo is None:  # SQLite keeps no zone; every writer stores UTC
            newest = newest.replace(tzinfo=UTC)
        calm = now - timedelta(seconds=self.quiet)
        if newest is None or newest <= calm:
            self.busy_since = None
            return []
        clock = time.monotonic()
        if self.busy_since is None:
            self.busy_since = clock
        if clock - self.busy_since < self.max_lag:
            return None
        self.busy_since = clock  # a round now, the next one max_lag later if they still keep coming
        return [col(StatementState.changed_at) <= calm]


def _waiting(session: Session, part: tuple[int, int]) -> list[Any]:
    """The conditions of a pending statement (``state.pending_select``) of this part: the managers the people
    directory gives it (``PeopleDirectory.balanced_parts``), and everyone else whose id is k modulo n."""
    k, n = part
    if n == 1:
        return []
    person = col(StatementState.person_id)
    parts = people_directory(session).balanced_parts(n)
    mine = [pid for pid, p in parts.items() if p == k]
    by_id = person % n == k
    if parts:
        by_id = and_(by_id, not_(among(session, person, list(parts))))
    return [or_(by_id, among(session, person, mine))] if mine else [by_id]


def next_pending_period(session: Session, part: tuple[int, int] = WHOLE, where: list[Any] | None = None) -> str | None:
    """The period whose oldest pending statement (of this part, meeting ``where``) waits longest."""
    key: str | None = session.exec(
        pending_select(StatementState.period_key)
        .where(*_waiting(session, part), *(where or ()))
        .order_by(col(StatementState.changed_at), col(StatementState.id))
        .limit(1)
    ).first()
    return key


def pending_in(
    session: Session, key: str, *, limit: int, part: tuple[int, int] = WHOLE, where: list[Any] | None = None
) -> dict[int, int]:
    """The period's pending statements of this part (meeting ``where``), the longest waiting first: person id ->
    input version."""
    return state.pending_in(session, key, limit=limit, where=[*_waiting(session, part), *(where or ())])


def drain(
    engine: Engine,
    *,
    trigger: str = "queued recompute",
    rounds: int | None = None,
    yield_to_writers: bool = False,
    part: tuple[int, int] = WHOLE,
    pace: Pace | None = None,
) -> list[RecomputeReport]:
    """Compute pending statements until none is left (or ``rounds`` rounds ran); returns what changed.

    A statement whose inputs changed while it was being computed stays pending and is
    simply taken again by a later round; with ``yield_to_writers`` after a pause as long as
    the round (at most ``MAX_PAUSE`` seconds). ``part``: only the statements of that part (``WHOLE``).
    ``pace`` (the served worker's): no round while deliveries keep coming, but one every ``pace.max_lag``
    seconds; returns early then, and the caller polls again.
    """
    reports: list[RecomputeReport] = []
    done = 0
    while rounds is None or done < rounds:
        done += 1
        started = time.monotonic()
        with snapshot(engine) as session:
            key = next_pending_period(session)  # first: an idle worker's poll stays one query, whatever its part
            if key is not None and part != WHOLE:
                key = next_pending_period(session, part)
            if key is None:
                if pace is not None:
                    pace.busy_since = None  # nothing waits: a burst starting later waits max_lag from its start
                return reports
            where = [] if pace is None else pace.settled(session, part)
            if where is None:
                return reports
            if where:
                key = next_pending_period(session, part, where)
                if key is None:
                    return reports
            waiting = pending_in(session, key, limit=BATCH, part=part, where=where)
            computation = compute(session, key, person_ids=set(waiting))
        with transaction(engine) as session:
            report = store(session, computation, trigger=trigger, recomputable=True)
        reports.append(report)
        if yield_to_writers and report.stale and pace is None:  # a pace waits for the writers itself (``settled``)
            time.sleep(min(time.monotonic() - started, MAX_PAUSE))
    return reports
