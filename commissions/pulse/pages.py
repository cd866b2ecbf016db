"""Pulse pages: team members answer at /pulse; managers open and close pulses from their team page."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import requires_person, requires_role
from commissions.core.principal import Principal
from commissions.core.rendering import page
from commissions.pulse.service import (
    PulseNotFound,
    answer_pulse,
    close_team_pulse,
    open_team_pulse,
    pulses_to_answer,
)


def _person_id(principal: Principal) -> int:
    """The principal's person (``requires_person`` guards these routes, so there is always one)."""
    if principal.person_id is None:
        raise PermissionDeniedException("This token is not bound to a person (create it with --as EMAIL).")
    return principal.person_id


class PulseController(Controller):
    guards = [requires_role("rep", "manager"), requires_person]  # finance and admins are never asked
    include_in_schema = False

    @get("/pulse", sync_to_thread=True)
    def pulse_page(self, db: DbSession, principal: CurrentPrincipal, thanks: FromQuery[bool] = False) -> Template:
        return page(
            "pages/pulse/answer.html",
            {"pulses": pulses_to_answer(db, _person_id(principal)), "thanks": thanks, "error": None},
        )

    @post("/pulse/{pulse_id:int}", sync_to_thread=True, status_code=200)
    def answer_pulse(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        pulse_id: FromPath[int],
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        try:
            answer_pulse(request.app.state["engine"], principal, pulse_id, data.get("score"))
        except PulseNotFound:
            raise NotFoundException("No such pulse.") from None
        except InputProblem as exc:
            context = {
                "pulses": pulses_to_answer(db, _person_id(principal)),
                "thanks": False,
                "error": {"pulse": pulse_id, "message": exc.message},
            }
            return page("pages/pulse/answer.html", context, status_code=exc.status_code)
        return Redirect("/pulse?thanks=true", status_code=303)


class TeamPulseController(Controller):
    path = "/team/pulse"
    guards = [requires_role("manager"), requires_person]
    include_in_schema = False

    @post("/", sync_to_thread=True)
    def open(self, request: Request[Any, Any, Any], principal: CurrentPrincipal) -> Redirect:
        open_team_pulse(request.app.state["engine"], principal)
        return Redirect("/team#pulse", status_code=303)

    @post("/{pulse_id:int}/close", sync_to_thread=True)
    def close(self, request: Request[Any, Any, Any], principal: CurrentPrincipal, pulse_id: FromPath[int]) -> Redirect:
        try:
            close_team_pulse(request.app.state["engine"], principal, pulse_id)
        except PulseNotFound:
            raise NotFoundException("No such pulse.") from None
        return Redirect("/team#pulse", status_code=303)
