"""Each app process listens to what ``commissions`` announces, so its cached boards follow.

With ``REDIS_URL`` the channels span every process: a deal recorded by one process
marks the boards of all of them for a re-check (leaderboard/table_cache.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from litestar import Litestar
from litestar.channels import ChannelsPlugin

from commissions.deals.events import DEALS_CHANNEL, PAYOUTS_CHANNEL
from leaderboard.table_cache import TABLES

log = logging.getLogger(__name__)
_TASK_KEY = "leaderboard_listener"


async def _listen(channels: ChannelsPlugin) -> None:
    try:
        async with channels.start_subscription([DEALS_CHANNEL, PAYOUTS_CHANNEL]) as subscriber:
            async for _event in subscriber.iter_events():
                TABLES.figures_changed()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.warning("leaderboard listener stopped; boards re-check their figures on their own", exc_info=True)


def start_listening(app: Litestar) -> None:
    app.state[_TASK_KEY] = asyncio.get_running_loop().create_task(_listen(app.plugins.get(ChannelsPlugin)))


async def stop_listening(app: Litestar) -> None:
    task = app.state.get(_TASK_KEY)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
