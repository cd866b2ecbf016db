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
next round starts over. The worker (``yield_to_writers``) then pauses as long as the round
took before the next one: the requests that make the changes get the machine first, the
changes pile up and are computed once, and the queue drains at full speed once they stop.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col

from commissions.calculation import state
from commissions.calculation.service import RecomputeReport, compute, store
from commissions.calculation.state import pending_select
from commissions.core.db import snapshot, transaction
from commissions.models import StatementState

log = logging.getLogger("quotaboard.queue")
# People per round: a 20,000-deal import's 4,835 statements in one round, which reads the period's deals once
# (in rounds of 2,000 two of the three read all of them: 40 s -> 37 s for the round's computing and storing).
BATCH = 5000
MAX_PAUSE = 5.0  # seconds

#: Which statements a worker process takes: (k, n) takes the people whose id is k modulo n. ``commissions
#: worker --processes n`` runs n processes, one per part, so a big catch-up uses every core (a 20,000-deal
#: import's: 48 s -> 32 s with two on this machine); their parts never overlap, so they never compute the same
#: statement, and two stores of different people go on side by side (``store`` takes the period lock shared).
WHOLE = (0, 1)


def _waiting(part: tuple[int, int]) -> list[Any]:
    """The conditions of a pending statement (``state.pending_select``) of this part."""
    k, n = part
    return [col(StatementState.person_id) % n == k] if n > 1 else []


def next_pending_period(session: Session, part: tuple[int, int] = WHOLE) -> str | None:
    """The period whose oldest pending statement (of this part) waits longest."""
    key: str | None = session.exec(
        pending_select(StatementState.period_key)
        .where(*_waiting(part))
        .order_by(col(StatementState.changed_at), col(StatementState.id))
        .limit(1)
    ).first()
    return key


def pending_in(session: Session, key: str, *, limit: int, part: tuple[int, int] = WHOLE) -> dict[int, int]:
    """The period's pending statements of this part, the longest waiting first: person id -> input version."""
    return state.pending_in(session, key, limit=limit, where=_waiting(part))


def drain(
    engine: Engine,
    *,
    trigger: str = "queued recompute",
    rounds: int | None = None,
    yield_to_writers: bool = False,
    part: tuple[int, int] = WHOLE,
) -> list[RecomputeReport]:
    """Compute pending statements until none is left (or ``rounds`` rounds ran); returns what changed.

    A statement whose inputs changed while it was being computed stays pending and is
    simply taken again by a later round; with ``yield_to_writers`` after a pause as long as
    the round (at most ``MAX_PAUSE`` seconds). ``part``: only the statements of that part (``WHOLE``).
    """
    reports: list[RecomputeReport] = []
    done = 0
    while rounds is None or done < rounds:
        done += 1
        started = time.monotonic()
        with snapshot(engine) as session:
            key = next_pending_period(session, part)
            if key is None:
                return reports
            waiting = pending_in(session, key, limit=BATCH, part=part)
            computation = compute(session, key, person_ids=set(waiting))
        with transaction(engine) as session:
            report = store(session, computation, trigger=trigger, recomputable=True)
        reports.append(report)
        if yield_to_writers and report.stale:
            time.sleep(min(time.monotonic() - started, MAX_PAUSE))
    return reports
