"""TV mode: a full-screen board for a sales floor screen, rotating between views with htmx alone.

``/leaderboard/tv`` renders a standalone page (no nav chrome) with the first panel. Each panel
is a container with ``hx-get="/leaderboard/tv/panel?index=<next>" hx-trigger="every <rotate>s"
hx-swap="outerHTML"``: its response is the next panel, which carries the index after it, so the
rotation needs no script of our own (the CSP allows none inline). Inside it, the board refreshes
itself on the SSE ``payouts`` event (same index, only the board is swapped, so the rotation timer
is not reset). One template, ``pages/leaderboard/tv.html``, renders both the page and (with
``panel_only``) a panel. Same privacy as the leaderboard: entries never carry earnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.params import FromQuery
from litestar.response import Template
from sqlmodel import Session, select

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import any_role
from commissions.core.rendering import page
from commissions.models import Person, Team
from leaderboard.controller import _board
from leaderboard.ranking import METRICS

DEFAULT_ROTATE = 15  # seconds per panel
MIN_ROTATE = 5
MAX_ROTATE = 3600
DEFAULT_TOP = 10
MAX_TOP = 30


@dataclass(frozen=True, slots=True)
class Panel:
    view: str
    metric: str
    team_id: int | None
    title: str


def panels(session: Session) -> list[Panel]:
    """What the screen rotates through: the company by attainment, each sales team with reps, marketing.

    Teams without an active rep (a parent team of managers, operations) would only show an
    empty board, so they are left out; so is marketing when no marketing team has a rep.
    """
    staffed = (
        select(Team.id, Team.name, Team.kind)
        .join(Person, Person.team_id == Team.id)
        .where(Person.active, Person.role == "rep")
        .distinct()
        .order_by(Team.name, Team.id)
    )
    rows = session.exec(staffed).all()
    out = [Panel("company", "attainment", None, "Company")]
    out += [Panel("team", "attainment", team_id, name) for team_id, name, kind in rows if kind == "sales"]
    if any(kind == "marketing" for _id, _name, kind in rows):
        out.append(Panel("marketing", "sourced_revenue", None, "Marketing"))
    return out


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _panel_context(
    request: Request, db: Session, principal: CurrentPrincipal, *, index: int, rotate: int, top: int, period: str | None
) -> dict[str, object]:
    rotate = _clamp(rotate, MIN_ROTATE, MAX_ROTATE)
    top = _clamp(top, 1, MAX_TOP)
    shown = panels(db)
    index %= len(shown)  # wraps around (and a negative index counts from the end)
    panel = shown[index]
    result = _board(
        request,
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


class LeaderboardTvController(Controller):
    guards = [any_role]
    tags = ["leaderboard"]

    @get("/leaderboard/tv", include_in_schema=False, sync_to_thread=True)
    def tv_page(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
        rotate: FromQuery[int] = DEFAULT_ROTATE,
        top: FromQuery[int] = DEFAULT_TOP,
        period: FromQuery[str | None] = None,
    ) -> Template:
        context = _panel_context(request, db, principal, index=0, rotate=rotate, top=top, period=period)
        return page("pages/leaderboard/tv.html", context)

    @get("/leaderboard/tv/panel", include_in_schema=False, sync_to_thread=True)
    def tv_panel(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
        index: FromQuery[int] = 0,
        rotate: FromQuery[int] = DEFAULT_ROTATE,
        top: FromQuery[int] = DEFAULT_TOP,
        period: FromQuery[str | None] = None,
    ) -> Template:
        context = _panel_context(request, db, principal, index=index, rotate=rotate, top=top, period=period)
        return page("pages/leaderboard/tv.html", {**context, "panel_only": True})
