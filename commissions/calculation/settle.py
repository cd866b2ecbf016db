"""Bringing the statements a request changed up to date before it answers, many requests at a time.

A deal delivery commits its change and marks the statements it alters pending
(``state.touch``) in a short write transaction. The people it credits are then computed
here, after that commit, so that the rep reading their statement right after the answer
finds the deal in it. On SQLite they are computed in a read transaction and stored in a
write transaction of their own (the one writer's lock is not held while the engine runs);
on PostgreSQL in one transaction that reads, then locks and writes (three round trips
fewer: its begin, commit and version read). Either way the input versions are read
before any input, so a change committed meanwhile makes ``state.claim`` leave the
statement pending rather than store what was computed from older inputs.

Under load, a hundred deliveries of one period arrive together. Each computing its own
people on its own would run the engine, and lock and write the ledger, a hundred times.
Instead the requests of one period wait together: while one round computes, the people
of every request that arrives meanwhile gather in the next round, which starts as soon as
the running one ends and computes them all in one snapshot and one short store. A request
joins only a round that has not started (``commissions/core/rounds.py``), so the round that
answers it always reads its committed change.

A round that fails (the database went away, a lock wait ran out) is logged and leaves its
statements pending: the worker (``calculation/queue.py``) computes them. The delivery
itself has committed and still succeeds. Across processes nothing is shared: each process
gathers its own requests, and ``state.claim`` keeps two stores from writing over each other.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from commissions.calculation.service import RecomputeReport, compute, store
from commissions.core.db import snapshot, transaction
from commissions.core.rounds import Rounds

log = logging.getLogger("quotaboard.settle")
ATTEMPTS = 3
_ROUNDS: Rounds[tuple[set[int], str]] = Rounds()


def settle(engine: Engine, keys: set[str], people: set[int], *, trigger: str) -> list[RecomputeReport]:
    """Bring ``people``'s statements in the periods ``keys`` up to date, with whoever else waits in this
    process; returns the reports of the rounds this caller ran (the others report theirs)."""
    reports: list[RecomputeReport] = []
    if not people:
        return reports
    for key in sorted(keys):

        def run(items: list[tuple[set[int], str]], key: str = key) -> RecomputeReport | None:
            everyone = set().union(*(who for who, _ in items))
            return _run(engine, key, everyone, round_trigger([why for _, why in items]))

        _, report = _ROUNDS.join((str(engine.url), key), (people, trigger), run)
        if report is not None:
            reports.append(report)
    return reports


def round_trigger(triggers: list[str]) -> str:
    """What the calculation run of a round records as its cause: the first request's, and how many more."""
    return triggers[0] if len(triggers) == 1 else f"{triggers[0]} and {len(triggers) - 1} more"


def settle_together(engine: Engine, people: dict[str, set[int]], *, trigger: str) -> list[RecomputeReport]:
    """Bring the statements of ``people`` (per period key) up to date now, in this thread: for a caller that
    already gathered many requests (``deals.service.record_one``'s rounds)."""
    reports = []
    for key in sorted(people):
        report = _run(engine, key, people[key], trigger)
        if report is not None:
            reports.append(report)
    return reports


def _run(engine: Engine, key: str, people: set[int], trigger: str) -> RecomputeReport | None:
    for attempt in range(ATTEMPTS):
        try:
            if engine.dialect.name == "postgresql":  # one transaction: its reads then its writes
                with transaction(engine) as session:
                    return store(session, compute(session, key, person_ids=people), trigger=trigger, recomputable=True)
            with snapshot(engine) as session:  # SQLite: the writer's lock is not held while the engine runs
                computation = compute(session, key, person_ids=people)
            with transaction(engine) as session:
                return store(session, computation, trigger=trigger, recomputable=True)  # nothing else written
        except (IntegrityError, OperationalError) as exc:  # a race with another store, a lock wait: again
            if attempt == ATTEMPTS - 1:
                log.warning("statements of %s left for the worker: %s", key, exc)
        except Exception:  # the change is committed and pending: never fail the request that made it
            log.exception("statements of %s left for the worker", key)
            return None
    return None
