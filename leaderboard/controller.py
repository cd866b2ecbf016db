"""The leaderboard page, its JSON API and its live stream of server-sent events."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import anyio
from litestar import Controller, Request, get
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromQuery
from litestar.response import Response, ServerSentEvent, ServerSentEventMessage, Template
from pydantic import BaseModel
from sqlmodel import Session, select

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import any_role
from commissions.core.periods import (
    PeriodKey,
    PeriodKeyError,
    parse_period_key,
    quarter_of,
)
from commissions.core.principal import Principal
from commissions.core.rendering import NO_STORE, page
from commissions.deals.events import DEALS_CHANNEL, PAYOUTS_CHANNEL
from commissions.models import Person
from commissions.statements.whatif import next_tier_hints
from leaderboard.ranking import DEFAULT_METRIC, METRICS, around, top_and_viewer
from leaderboard.service import (
    VIEWS,
    Board,
    Celebration,
    LeaderboardError,
    board,
    celebration,
    ensure_snapshot,
    figures_version,
    teams,
)
from leaderboard.table_cache import FLIGHTS, TABLES

AROUND_SIZE = 3
TOP_ROWS = 50  # the page shows the top of the board and the viewer's window; `everyone=true` lists all
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


class EntryOut(BaseModel):
    person: str  # email
    name: str
    team: str
    rank: int
    attainment: str | None  # ratio, four places: "1.0500" is 105 %
    credited: str  # plan-credited bookings / sourced revenue (currency units) or deals
    badges: list[str]
    movement: int | None  # places climbed since yesterday (company and marketing views by attainment)


class LeaderboardOut(BaseModel):
    period: str
    view: str
    metric: str
    team: int | None
    entries: list[EntryOut]


def _period(text: str | None) -> PeriodKey:
    if not text:
        return quarter_of(date.today())
    try:
        return parse_period_key(text)
    except PeriodKeyError as exc:
        raise ValidationException(str(exc), extra={"period": text}) from exc


def _team_id(text: str | None) -> int | None:
    """The team selector sends an empty value for "my team"."""
    if text is None or not text.strip():
        return None
    try:
        return int(text)
    except ValueError as exc:
        raise ValidationException(f"{text!r} is not a team id", extra={"team": text}) from exc


def _board(
    request: Request,
    db: Session,
    principal: Principal,
    *,
    period: str | PeriodKey | None,
    view: str,
    metric: str,
    team_text: str | None,
) -> Board:
    key = period if isinstance(period, PeriodKey) else _period(period)
    team = _team_id(team_text)
    today = date.today()
    if view == "team" and team is None and principal.person_id is not None:
        team = db.exec(select(Person.team_id).where(Person.id == principal.person_id)).first()
    ensure_snapshot(request.app.state["engine"], period=key, today=today)
    try:
        return board(db, period=key, view=view, metric=metric, team_id=team, viewer_id=principal.person_id, today=today)
    except LeaderboardError as exc:
        raise ValidationException(str(exc)) from exc


def _motivation(db: Session, principal: Principal, period_key: str) -> list[str]:
    """The viewer's own distance to their next commission tier (never anyone else's)."""
    if principal.person_id is None or principal.role not in ("rep", "manager"):
        return []
    person = db.get(Person, principal.person_id)
    return next_tier_hints(db, person, period_key) if person else []


@dataclass(frozen=True)
class BoardChoice:
    period: PeriodKey
    view: str
    metric: str
    team: str | None
    around_me: bool
    everyone: bool


def _table_context(request: Request, db: Session, principal: Principal, choice: BoardChoice) -> dict[str, Any]:
    result = _board(
        request, db, principal, period=choice.period, view=choice.view, metric=choice.metric, team_text=choice.team
    )
    gap = None
    if choice.around_me:
        rows = around(result.rows, result.is_viewer, size=AROUND_SIZE)
    elif choice.everyone:
        rows = list(result.rows)
    else:
        rows, gap = top_and_viewer(result.rows, result.is_viewer, top=TOP_ROWS, size=AROUND_SIZE)
    return {
        "board": result,
        "rows": rows,
        "gap": gap,
        "around_me": choice.around_me,
        "everyone": choice.everyone,
        "views": VIEWS,
        "metrics": METRICS,
        "request": request,
    }


def _page_context(request: Request, principal: Principal, choice: BoardChoice) -> dict[str, Any]:
    with Session(request.app.state["engine"]) as db:
        context = _table_context(request, db, principal, choice)
        context["teams"] = teams(db)
        # the hint needs an engine run: only on the full page, not on every live refresh of the table
        context["hints"] = _motivation(db, principal, context["board"].period.key)
        return context


def _render_table(request: Request, principal: Principal, choice: BoardChoice) -> str:
    with Session(request.app.state["engine"]) as db:
        context = _table_context(request, db, principal, choice)
    return request.app.template_engine.get_template("partials/leaderboard/table.html").render(**context)


def _read_figures_version(engine: Any, period: PeriodKey) -> tuple | None:
    with Session(engine) as db:
        return figures_version(db, period)


@dataclass(frozen=True, slots=True)
class RenderedTable:
    """A table as UTF-8 and gzipped once (browsers accept gzip: a tenth of the bytes on every refetch)."""

    plain: bytes
    gzipped: bytes

    @classmethod
    def of(cls, html: str) -> RenderedTable:
        plain = html.encode()
        return cls(plain, gzip.compress(plain, compresslevel=6, mtime=0))


def _accepts_gzip(request: Request) -> bool:
    return any(part.split(";")[0].strip() == "gzip" for part in request.headers.get("accept-encoding", "").split(","))


def _table_response(request: Request, table: RenderedTable) -> Response[bytes]:
    if _accepts_gzip(request):
        return Response(
            table.gzipped,
            media_type="text/html",
            headers={**NO_STORE, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
        )
    return Response(table.plain, media_type="text/html", headers={**NO_STORE, "Vary": "Accept-Encoding"})


async def _cached_table(request: Request, principal: Principal, choice: BoardChoice) -> RenderedTable:
    """The rendered table, from memory while the period's figures are unchanged (leaderboard/table_cache.py)."""
    engine = request.app.state["engine"]
    slot = (id(engine), choice.period.key)

    async def read_version() -> tuple | None:
        found = await anyio.to_thread.run_sync(_read_figures_version, engine, choice.period)
        TABLES.remember_version(slot, found)
        return found

    state, version = TABLES.known_version(slot, request.app.state["settings"].leaderboard_max_staleness_seconds)
    if state == "unknown":
        version = await FLIGHTS.run(("version", slot), read_version)
    elif state == "stale":
        FLIGHTS.refresh(("version", slot), read_version)
    key = (slot, request.scope["query_string"], principal.person_id, principal.role, date.today())
    html = TABLES.get(key, version) if version is not None else None
    if html is not None:
        return html

    async def render() -> RenderedTable:
        rendered = RenderedTable.of(await anyio.to_thread.run_sync(_render_table, request, principal, choice))
        if version is not None:
            TABLES.put(key, version, rendered)
        return rendered

    return await FLIGHTS.run(("table", key, version), render)


class LeaderboardController(Controller):
    guards = [any_role]
    tags = ["leaderboard"]

    @get("/leaderboard", include_in_schema=False)
    async def leaderboard_page(
        self,
        request: Request,
        principal: CurrentPrincipal,
        period: FromQuery[str | None] = None,
        view: FromQuery[str] = "company",
        metric: FromQuery[str] = DEFAULT_METRIC,
        team: FromQuery[str | None] = None,
        around_me: FromQuery[bool] = False,
        everyone: FromQuery[bool] = False,
    ) -> Response[bytes] | Template:
        choice = BoardChoice(_period(period), view, metric, team, around_me, everyone)
        if getattr(request, "htmx", False):  # the table alone: what every open board refetches after each deal
            return _table_response(request, await _cached_table(request, principal, choice))
        context = await anyio.to_thread.run_sync(_page_context, request, principal, choice)
        return page("pages/leaderboard/index.html", context)

    @get("/api/v1/leaderboard", sync_to_thread=True, summary="Ranked entries of a period (any signed-in role)")
    def leaderboard_api(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
        period: FromQuery[str | None] = None,
        metric: FromQuery[str] = DEFAULT_METRIC,
        team: FromQuery[str | None] = None,
        view: FromQuery[str | None] = None,
    ) -> LeaderboardOut:
        chosen = view or ("team" if _team_id(team) is not None else "company")
        result = _board(request, db, principal, period=period, view=chosen, metric=metric, team_text=team)
        return LeaderboardOut(
            period=result.period.key,
            view=result.view,
            metric=result.metric,
            team=result.team.id if result.team else None,
            entries=[
                EntryOut(
                    person=e.email,
                    name=e.name,
                    team=e.team_name,
                    rank=e.rank,
                    attainment=None if e.attainment is None else str(e.attainment),
                    credited=str(e.credited),
                    badges=list(e.badges),
                    movement=e.movement,
                )
                for e in result.rows
            ],
        )

    @get("/leaderboard/stream", include_in_schema=False)
    async def leaderboard_stream(self, request: Request, channels: NamedDependency[ChannelsPlugin]) -> ServerSentEvent:
        engine = request.app.state["engine"]
        template = request.app.template_engine.get_template("partials/leaderboard/celebration.html")

        def lookup(external_id: str) -> Celebration | None:
            with Session(engine) as session:
                return celebration(session, external_id=external_id)

        async def events() -> AsyncIterator[ServerSentEventMessage]:
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
                    for message in await messages_for(json.loads(raw), lookup, template.render):
                        message.id = _now_ms()
                        yield message

        return ServerSentEvent(events(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


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
