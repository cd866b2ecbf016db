"""Work that many threads ask for at once, done in rounds: one caller runs a round for all who joined it.

Under a burst, a hundred deal deliveries each opening their own transaction and running the
engine for their own rep would pay a hundred times for what one pass can do for all of them
(a transaction's commit, the plans and periods read, the engine's set-up). Here callers of
one slot (a database, a period) join the round that starts next; when the running round
ends, one of the callers that waited runs the next round for everyone in it. A caller only
joins a round that has not started, so a round always sees what its callers did before
they joined. With no contention a round holds one caller and costs nothing extra.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Round(Generic[T]):
    items: list[T] = field(default_factory=list)
    done: bool = False


class Rounds(Generic[T]):
    """Rounds per slot; ``join`` returns once the round holding ``item`` has run."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._gathering: dict[Hashable, _Round[T]] = {}  # slot → the round that starts next
        self._running: set[Hashable] = set()

    def join(self, slot: Hashable, item: T, run: Callable[[list[T]], R]) -> tuple[bool, R | None]:
        """Add ``item`` to the next round of ``slot``; returns (True, what ``run`` returned) to the caller
        that ran the round, (False, None) to the others. ``run`` reports per item through the items
        themselves; an exception it raises reaches the caller that ran it only."""
        with self._lock:
            round_ = self._gathering.get(slot)
            if round_ is None:
                round_ = self._gathering[slot] = _Round()
            round_.items.append(item)
            while not round_.done:
                if slot not in self._running and self._gathering.get(slot) is round_:
                    del self._gathering[slot]
                    self._running.add(slot)
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
                self._lock.notify_all()
