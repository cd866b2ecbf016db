"""The board a request asks for, shared by the leaderboard page, TV mode and the JSON API: its period and team
parsed from the query (a 400 on nonsense), today's snapshot taken (for tomorrow's movement), the board read.
Then the page's table: rendered, gzipped and kept in memory while the figures behind it are unchanged
(``leaderboard.table_cache``), since every open board refetches it after every deal. And TV mode's panels."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

import anyio
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.response import Response
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from commissions.core.db import snapshot
from commissions.core.periods import PeriodKey, PeriodKeyError, parse_period_key, quarter_of
from commissions.core.principal import Principal
from commissions.core.rendering import NO_STORE
from commissions.models import Person, Team
from leaderboard.queries import panels, team_id_named, team_id_of, tier_hints
from leaderboard.ranking import METRICS, around, top_and_viewer
from leaderboard.service import VIEWS, Board, LeaderboardError, board, ensure_snapshot, figures_version, teams
from leaderboard.table_cache import FLIGHTS, TABLES


def period_of(text: str | None) -> PeriodKey:
    """The period asked for; the current quarter without one."""
    if not text:
        return quarter_of(date.today())
    try:
        return parse_period_key(text)
    except PeriodKeyError as exc:
        raise ValidationException(str(exc), extra={"period": text}) from exc


def team_given(text: str | None) -> bool:
    """The team selector sends an empty value for "my team"."""
    return text is not None and bool(text.strip())


def team_id_from(engine: Engine, text: str | None) -> int | None:
    """The team asked for by id or by name (exact, else case-insensitive when only one team matches);
    None for "my team"; a 400 naming ``team`` for one that does not exist. Read in a transaction of its
    own, so the request's session still sees the badges evaluated before its first read (``board``)."""
    if text is None or not text.strip():
        return None
    with snapshot(engine) as lookup:
        found = team_id_named(lookup, text.strip())
    if found is None:
        raise ValidationException(f"team: {text!r} is not a team's id or name", extra={"team": text})
    return found


# A page waits this long for a badge evaluation before it shows the grants as they are (a small company's
# takes milliseconds and is always waited for; a quarter of 300,000 deals took 11 s of the first page read).
BADGE_WAIT_SECONDS = 0.5


def read_board(
    engine: Engine,
    db: Session,
    principal: Principal,
    *,
    period: str | PeriodKey | None,
    view: str,
    metric: str,
    team_text: str | None,
) -> Board:
    key = period if isinstance(period, PeriodKey) else period_of(period)
    team = team_id_from(engine, team_text)
    today = date.today()
    if view == "team" and team is None and principal.person_id is not None:
        team = team_id_of(db, principal.person_id)
    ensure_snapshot(engine, period=key, today=today)
    try:
        return board(
            db,
            period=key,
            view=view,
            metric=metric,
            team_id=team,
            viewer_id=principal.person_id,
            today=today,
            badge_wait=BADGE_WAIT_SECONDS,
        )
    except LeaderboardError as exc:
        raise ValidationException(str(exc)) from exc


AROUND_SIZE = 3
TOP_ROWS = 50  # the page shows the top of the board and the viewer's window; `everyone=true` lists all


@dataclass(frozen=True)
class BoardChoice:
    period: PeriodKey
    view: str | None  # None: the viewer's own board (``own_view``), found when the table is rendered
    metric: str
    team: str | None
    around_me: bool
    everyone: bool


def table_context(
    request: Request[Any, Any, Any], db: Session, principal: Principal, choice: BoardChoice
) -> dict[str, Any]:
    result = read_board(
        request.app.state["engine"],
        db,
        principal,
        period=choice.period,
        view=choice.view or own_view(request.app.state["engine"], principal),
        metric=choice.metric,
        team_text=choice.team,
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


def own_view(engine: Engine, principal: Principal) -> str:
    """The board a plain ``/leaderboard`` opens: the marketing view for someone on a marketing team (a marketer is
    not on the company's board of sales reps), else the company's. Read when a table is rendered, so a table
    served from memory (``cached_table``: keyed by the query and the viewer) costs no query for it; in a session
    of its own, so the board's session starts reading after the badge evaluation it waits for (on SQLite a read
    begun before would not see the grants)."""
    if principal.person_id is None:
        return "company"
    with Session(engine) as db:
        kind = db.exec(
            select(Team.kind).join(Person, col(Person.team_id) == Team.id).where(Person.id == principal.person_id)
        ).first()
    return "marketing" if kind == "marketing" else "company"


def page_context(request: Request[Any, Any, Any], principal: Principal, choice: BoardChoice) -> dict[str, Any]:
    with Session(request.app.state["engine"]) as db:
        context = table_context(request, db, principal, choice)
        context["teams"] = teams(db)
        # the hint needs an engine run: only on the full page, not on every live refresh of the table
        context["hints"] = tier_hints(db, principal, context["board"].period.key)
        return context


def _render_table(request: Request[Any, Any, Any], principal: Principal, choice: BoardChoice) -> str:
    with Session(request.app.state["engine"]) as db:
        context = table_context(request, db, principal, choice)
    engine = request.app.template_engine
    if engine is None:
        raise RuntimeError("the app has no template engine")
    html: str = engine.get_template("partials/leaderboard/table.html").render(**context)
    return html


def _read_figures_version(engine: Any, period: PeriodKey) -> tuple[Any, ...] | None:
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


def _accepts_gzip(request: Request[Any, Any, Any]) -> bool:
    return any(part.split(";")[0].strip() == "gzip" for part in request.headers.get("accept-encoding", "").split(","))


def table_response(request: Request[Any, Any, Any], table: RenderedTable) -> Response[bytes]:
    if _accepts_gzip(request):
        return Response(
            table.gzipped,
            media_type="text/html",
            headers={**NO_STORE, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
        )
    return Response(table.plain, media_type="text/html", headers={**NO_STORE, "Vary": "Accept-Encoding"})


async def cached_table(request: Request[Any, Any, Any], principal: Principal, choice: BoardChoice) -> RenderedTable:
    """The rendered table, from memory while the period's figures are unchanged (leaderboard/table_cache.py)."""
    engine = request.app.state["engine"]
    slot = (id(engine), choice.period.key)

    async def read_version() -> tuple[Any, ...] | None:
        found = await anyio.to_thread.run_sync(_read_figures_version, engine, choice.period)
        TABLES.remember_version(slot, found)
        return found

    state, version = TABLES.known_version(slot, request.app.state["settings"].leaderboard_max_staleness_seconds)
    if state == "unknown":
        version = await FLIGHTS.run(("version", slot), read_version)
    elif state == "stale":
        FLIGHTS.refresh(("version", slot), read_version)
    key = (slot, request.scope["query_string"], principal.person_id, principal.role, date.today())
    html: RenderedTable | None = TABLES.get(key, version) if version is not None else None
    if html is not None:
        return html

    async def render() -> RenderedTable:
        rendered = RenderedTable.of(await anyio.to_thread.run_sync(_render_table, request, principal, choice))
        if version is not None:
            TABLES.put(key, version, rendered)
        return rendered

    return await FLIGHTS.run(("table", key, version), render)


# --- TV mode: the panel a screen shows --------------------------------------------------------------------------------
# ``/leaderboard/tv`` renders a standalone page (no nav chrome) with the first panel. Each panel is a container with
# ``hx-get="/leaderboard/tv/panel?index=<next>" hx-trigger="every <rotate>s" hx-swap="outerHTML"``: its response is
# the next panel, which carries the index after it, so the rotation needs no script of our own (the CSP allows none
# inline). Inside it, the board refreshes itself on the SSE ``payouts`` event (same index, only the board is swapped,
# so the rotation timer is not reset). One template, ``pages/leaderboard/tv.html``, renders both the page and (with
# ``panel_only``) a panel. Same privacy as the leaderboard: entries never carry earnings.

DEFAULT_ROTATE = 15  # seconds per panel
MIN_ROTATE = 5
MAX_ROTATE = 3600
DEFAULT_TOP = 10
MAX_TOP = 30


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def tv_panel_context(
    engine: Engine, db: Session, principal: Principal, *, index: int, rotate: int, top: int, period: str | None
) -> dict[str, object]:
    """The panel ``index`` of the rotation (wrapping around), its board cut to ``top`` rows, and the URLs of itself and
    of the next panel."""
    rotate = _clamp(rotate, MIN_ROTATE, MAX_ROTATE)
    top = _clamp(top, 1, MAX_TOP)
    shown = panels(db)
    index %= len(shown)  # wraps around (and a negative index counts from the end)
    panel = shown[index]
    result = read_board(
        engine,
        db,
        principal,
        period=period,
        view=panel.view,
        metric=panel.metric,
        team_text=None if panel.team_id is None else str(panel.team_id),
    )

    def url(i: int) -> str:
        query: dict[str, object] = {"index": i, "rotate": rotate, "top": top}
        if period:  # without one, a screen left on over a quarter's end moves to the new quarter
            query["period"] = period
        return "/leaderboard/tv/panel?" + urlencode(query)

    return {
        "board": result,
        "rows": result.rows[:top],
        "panel": panel,
        "index": index,
        "count": len(shown),
        "rotate": rotate,
        "top": top,
        "metrics": METRICS,
        "next_url": url((index + 1) % len(shown)),
        "self_url": url(index),
    }
