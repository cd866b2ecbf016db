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

from sqlalchemy import Engine

from commissions.calculation.service import RecomputeReport, compute, store
from commissions.calculation.state import next_pending_period, pending_in
from commissions.core.db import snapshot, transaction

log = logging.getLogger("quotaboard.queue")
BATCH = 2000
MAX_PAUSE = 5.0  # seconds


def drain(
    engine: Engine,
    *,
    trigger: str = "queued recompute",
    rounds: int | None = None,
    yield_to_writers: bool = False,
) -> list[RecomputeReport]:
    """Compute pending statements until none is left (or ``rounds`` rounds ran); returns what changed.

    A statement whose inputs changed while it was being computed stays pending and is
    simply taken again by a later round; with ``yield_to_writers`` after a pause as long as
    the round (at most ``MAX_PAUSE`` seconds).
    """
    reports: list[RecomputeReport] = []
    done = 0
    while rounds is None or done < rounds:
        done += 1
        started = time.monotonic()
        with snapshot(engine) as session:
            key = next_pending_period(session)
            if key is None:
                return reports
            waiting = pending_in(session, key, limit=BATCH)
            computation = compute(session, key, person_ids=set(waiting))
        with transaction(engine) as session:
            report = store(session, computation, trigger=trigger, recomputable=True)
        reports.append(report)
        if yield_to_writers and report.stale:
            time.sleep(min(time.monotonic() - started, MAX_PAUSE))
    return reports
