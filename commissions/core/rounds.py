"""Work that many threads ask for at once, done in rounds: one caller runs a round for all who joined it.

Under a burst, a hundred deal deliveries each opening their own transaction and running the
engine for their own rep would pay a hundred times for what one pass can do for all of them
(a transaction's commit, the plans and periods read, the engine's set-up). Here callers of
one slot (a database, a period) join the round that starts next; when the running round
ends, one of the callers that waited runs the next round for everyone in it. A caller only
joins a round that has not started, so a round always sees what its callers did before
they joined. With no contention a round holds one caller and costs nothing extra.

Under a steady burst the callers of a round all come back together a moment after it ends
(each client sends its next request once answered). Started at once, the next round would
hold the first of them alone and the rest would wait for it: rounds of 1 and 49 in turn, each
paying a round's fixed cost. So a round that follows closely on a crowded one waits for as many
callers as were out when the last one ended (those in it and those that waited for the next),
as long as they keep coming: ``gather_gap`` at most between two once they do, ``gather_limit`` in
all (the first answers take a moment to go out and the next requests to come in).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Round(Generic[T]):
    items: list[T] = field(default_factory=list)
    done: bool = False
    joined: float = 0.0  # when the last caller joined (``time.monotonic``)


@dataclass
class _Last:
    """How many callers were out when the slot's last round ended (in it, or waiting for the next), and
    when that was (``time.monotonic``)."""

    size: int
    ended: float


class Rounds(Generic[T]):
    """Rounds per slot; ``join`` returns once the round holding ``item`` has run."""

    def __init__(self, *, gather_gap: float = 0.04, gather_limit: float = 0.15) -> None:
        self._lock = threading.Condition()
        self._gathering: dict[Hashable, _Round[T]] = {}  # slot → the round that starts next
        self._running: set[Hashable] = set()
        self._last: dict[Hashable, _Last] = {}
        self._gather_gap = gather_gap
        self._gather_limit = gather_limit

    def join(self, slot: Hashable, item: T, run: Callable[[list[T]], R]) -> tuple[bool, R | None]:
        """Add ``item`` to the next round of ``slot``; returns (True, what ``run`` returned) to the caller
        that ran the round, (False, None) to the others. ``run`` reports per item through the items
        themselves; an exception it raises reaches the caller that ran it only."""
        with self._lock:
            round_ = self._gathering.get(slot)
            if round_ is None:
                round_ = self._gathering[slot] = _Round()
            round_.items.append(item)
            round_.joined = time.monotonic()
            self._lock.notify_all()  # a round gathering its callers counts them
            while not round_.done:
                if slot not in self._running and self._gathering.get(slot) is round_:
                    self._running.add(slot)
                    self._gather(slot, round_)
                    del self._gathering[slot]
                    break
                self._lock.wait()
            else:
                return False, None
        try:
            return True, run(round_.items)
        finally:
            with self._lock:
                round_.done = True
                self._running.discard(slot)
                waiting = self._gathering.get(slot)  # callers that came while it ran: they were out too
                demand = len(round_.items) + (len(waiting.items) if waiting is not None else 0)
                self._last[slot] = _Last(demand, time.monotonic())
                self._lock.notify_all()

    def _gather(self, slot: Hashable, round_: _Round[T]) -> None:
        """Right after a crowded round, wait for as many callers as were out when it ended, as long as they
        keep coming (``gather_gap`` at most between two) and for ``gather_limit`` at most in all (called
        holding the lock, which ``wait`` releases meanwhile)."""
        last = self._last.get(slot)
        start = time.monotonic()
        if last is None or last.size < 2 or start - last.ended > self._gather_limit:
            return
        while len(round_.items) < last.size:
            until = start + self._gather_limit
            if round_.joined > start:  # they are coming back: wait while they keep coming
                until = min(until, round_.joined + self._gather_gap)
            left = until - time.monotonic()
            if left <= 0:
                return
            self._lock.wait(left)
