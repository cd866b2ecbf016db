"""The leaderboard's live stream: server-sent events an open board (and a contest board) listens to.

``payouts`` tells the page to refetch its table; ``deal`` carries the celebration banner of a new deal.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from litestar import Request
from litestar.channels import ChannelsPlugin
from litestar.exceptions import NotAuthorizedException
from litestar.response import ServerSentEventMessage
from sqlmodel import Session

from commissions.core.guards import current_principal
from commissions.core.metrics import SSE_CONNECTIONS
from commissions.deals.events import DEALS_CHANNEL, PAYOUTS_CHANNEL
from leaderboard.service import Celebration, celebration
from leaderboard.table_cache import TABLES

# A stream ends after this long and the browser reconnects at once (``retry``): an open
# leaderboard (a TV on the wall) holds no response open for long, so a stopping server
# (and the proxies in front of it) never waits on one.
STREAM_SECONDS = 25
RETRY_MS = 1000
_last_event_ms = 0  # when this process last saw a channel event (any stream)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _seen_event() -> None:
    global _last_event_ms
    _last_event_ms = _now_ms()


def missed_something(last_event_id: str | None) -> bool:
    """A reconnecting browser refreshes its table if an event came while it was away.

    Its Last-Event-ID is the time of the last message it got; an event seen since (by any
    stream of this process) may have been missed in the gap.
    """
    if not last_event_id:
        return False  # a first connection: the page it came with is current
    try:
        return _last_event_ms > int(last_event_id)
    except ValueError:
        return True


async def events(request: Request[Any, Any, Any], channels: ChannelsPlugin) -> AsyncIterator[ServerSentEventMessage]:
    """One connection's messages, for at most ``STREAM_SECONDS``."""
    engine = request.app.state["engine"]
    template_engine = request.app.template_engine
    if template_engine is None:
        raise RuntimeError("the app has no template engine")
    template = template_engine.get_template("partials/leaderboard/celebration.html")

    def lookup(external_id: str) -> Celebration | None:
        with Session(engine) as session:
            return celebration(session, external_id=external_id)

    viewer_id = _viewer_id(request)

    def render(cheer: Celebration) -> str:  # the viewer's own deal gets its own moment (leaderboard/static/cheer.js)
        html: str = template.render(cheer=cheer, mine=cheer.is_for(viewer_id))
        return html

    SSE_CONNECTIONS.inc()
    try:
        async for message in _stream(request, channels, lookup, render):
            yield message
    finally:
        SSE_CONNECTIONS.dec()


def _viewer_id(request: Request[Any, Any, Any]) -> int | None:
    try:
        return current_principal(request).person_id
    except NotAuthorizedException:  # no one signed in (the guard refuses such a request before it gets here)
        return None


async def _stream(
    request: Request[Any, Any, Any],
    channels: ChannelsPlugin,
    lookup: Callable[[str], Celebration | None],
    render: Callable[..., str],
) -> AsyncIterator[ServerSentEventMessage]:
    async with channels.start_subscription([DEALS_CHANNEL, PAYOUTS_CHANNEL]) as subscriber:
        # the id makes a reconnecting browser send Last-Event-ID; retry: reconnect after a second
        yield ServerSentEventMessage(data=None, comment="subscribed", id=_now_ms(), retry=RETRY_MS)
        if missed_something(request.headers.get("last-event-id")):
            yield ServerSentEventMessage(event="payouts", data="catch-up", id=_now_ms())
        stream = subscriber.iter_events()
        deadline = anyio.current_time() + STREAM_SECONDS
        while (remaining := deadline - anyio.current_time()) > 0:
            raw = None
            with anyio.move_on_after(remaining):
                raw = await anext(stream, None)
            if raw is None:  # time is up (or the channel closed): end; the browser reconnects
                return
            _seen_event()
            TABLES.figures_changed()  # before the browser hears of it and refetches its table
            for message in await messages_for(json.loads(raw), lookup, render):
                message.id = _now_ms()
                yield message


async def messages_for(
    event: dict[str, Any], lookup: Callable[[str], Celebration | None], render: Callable[..., str]
) -> list[ServerSentEventMessage]:
    """What one channel event becomes on the wire.

    ``payouts``: the table should refresh: statements were recomputed, or deals were imported
    (an import announces no recompute). A single deal's ``deal.*`` event needs no refresh of its
    own: ``payouts.recomputed`` for its people comes first whenever a figure changed.
    ``deal``: the celebration banner's HTML, for a newly created deal only.
    """
    kind = str(event.get("event", ""))
    out: list[ServerSentEventMessage] = []
    if kind in ("payouts.recomputed", "deals.imported"):
        out.append(ServerSentEventMessage(event="payouts", data=kind))
    if kind == "deal.created" and event.get("external_id"):
        cheer = await anyio.to_thread.run_sync(lookup, str(event["external_id"]))
        if cheer is not None:
            out.append(ServerSentEventMessage(event="deal", data=render(cheer=cheer)))
    return out
