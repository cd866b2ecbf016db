"""The background worker that drains the recompute queue inside the app process.

It sleeps until woken (a deal queued managers' statements) or for a few seconds,
then drains the queue in a thread and announces what changed. Several app
processes may each run one: a period's recompute is serialised by the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from anyio import to_thread
from sqlalchemy import Engine

from commissions.calculation.queue import drain
from commissions.calculation.service import RecomputeReport

log = logging.getLogger("quotaboard.worker")


class RecomputeWorker:
    def __init__(self, engine: Engine, on_reports: Callable[[list[RecomputeReport]], None], *, idle_seconds: float = 5.0):
        self.engine = engine
        self.on_reports = on_reports
        self.idle_seconds = idle_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Safe from any thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="recompute-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.idle_seconds)
            except TimeoutError:
                pass
            self._wake.clear()
            await asyncio.sleep(0.05)  # coalesce a burst of deliveries into one drain
            try:
                reports = await to_thread.run_sync(drain, self.engine)
                if reports:
                    self.on_reports(reports)
            except Exception:  # keep the worker alive; the rows stay queued for the next attempt
                log.exception("recompute queue drain failed")
