"""Concurrent callers of the same key share one call, in the foreground or in the background.

Hot routes keep short-lived memories (the signed-in person, a leaderboard's figures
version). When such a memory runs out under load, a hundred requests miss it at the same
moment; without this they would make a hundred identical reads (a thread and a database
connection each) and every one of them would wait behind the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class SingleFlight:
    """A burst of misses for one key makes one call; the others await its result (or its error)."""

    def __init__(self) -> None:
        self._calls: dict[Hashable, asyncio.Future[Any]] = {}
        self._background: set[asyncio.Task[Any]] = set()  # strong references: the loop keeps only weak ones

    async def run(self, key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
        pending = self._calls.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._calls[key] = future
        try:
            result = await call()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._calls[key]

    def refresh(self, key: Hashable, call: Callable[[], Awaitable[Any]]) -> None:
        """Start ``call`` in the background unless a call for ``key`` is already running.

        For refresh-ahead: the request that notices a memory is getting old goes on with it,
        and the next ones find it renewed. A failure is logged; the next request tries again.
        """
        if key in self._calls:
            return
        task = asyncio.get_running_loop().create_task(self.run(key, call))
        self._background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("a background refresh failed", exc_info=task.exception())
