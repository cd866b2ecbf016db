"""Rendered leaderboard tables, shared between requests until the figures behind them change.

Every open board refetches its table after every deal (the live stream says "payouts"),
and a sales floor keeps many boards open: ranking and rendering per request is what
does not scale. A table is rendered once per (query, viewer, day, figures version) and
then served from memory.

The figures version is the period's payee summaries and badge grants (count and latest
change). After a ``payouts``/``deals`` event reaches the process (the live stream and a
background listener call :meth:`TableCache.figures_changed`) the next request reads it
again before answering, so a board is never staler than the event that changed it.
Without an event it is re-read in the background once it is ``max_staleness`` seconds
old, while requests go on with the version they have (stale-while-revalidate): a
re-read under load waits for the interpreter lock behind the request loop, and every
board must not wait with it. A change whose event does not reach this process (the
recompute worker without Redis) therefore shows within about ``max_staleness``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from commissions.core.single_flight import SingleFlight

MAX_TABLES = 512  # about 33 kB each (plus 4 kB gzipped): a bounded 19 MB per process


class TableCache:
    def __init__(self, *, max_tables: int = MAX_TABLES, clock: Callable[[], float] = time.monotonic) -> None:
        self._tables: OrderedDict[Hashable, tuple[Any, Any]] = OrderedDict()
        self._versions: dict[Hashable, tuple[float, Any]] = {}  # period slot -> (read at, version)
        self._lock = threading.Lock()
        self._max_tables = max_tables
        self._clock = clock

    def known_version(self, slot: Hashable, max_staleness: float) -> tuple[str, Any]:
        """("fresh", version) if read within ``max_staleness`` seconds; ("stale", version) if older
        but not invalidated by an event (use it, re-read in the background); ("unknown", None)
        if never read, invalidated, or ``max_staleness`` is 0 (read before answering)."""
        with self._lock:
            seen = self._versions.get(slot)
        if seen is None or max_staleness <= 0:
            return "unknown", None
        return ("fresh" if self._clock() - seen[0] < max_staleness else "stale"), seen[1]

    def remember_version(self, slot: Hashable, version: Any) -> None:
        with self._lock:
            self._versions[slot] = (self._clock(), version)

    def figures_changed(self) -> None:
        """Something was recomputed: every period's version is read again on its next request."""
        with self._lock:
            self._versions.clear()

    def clear(self) -> None:
        with self._lock:
            self._versions.clear()
            self._tables.clear()

    def get(self, key: Hashable, version: Any) -> Any | None:
        with self._lock:
            found = self._tables.get(key)
            if found is None or found[0] != version:
                return None
            self._tables.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, version: Any, html: Any) -> None:
        with self._lock:
            self._tables[key] = (version, html)
            self._tables.move_to_end(key)
            while len(self._tables) > self._max_tables:
                self._tables.popitem(last=False)


TABLES = TableCache()
FLIGHTS = SingleFlight()  # the version reads and renders of every board in this process
