"""The manager's team page: the team's progress to quota (people) and its pulse results (pulse).

It lives at the top because it composes two areas that do not know each other.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, get
from litestar.exceptions import PermissionDeniedException
from litestar.response import Template

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import requires_person, requires_role
from commissions.core.periods import quarter_of
from commissions.core.rendering import page
from commissions.people.progress import plan_progress
from commissions.people.service import report_ids
from commissions.pulse.queries import pulse_context


class TeamController(Controller):
    guards = [requires_role("manager"), requires_person]
    include_in_schema = False

    @get("/team", sync_to_thread=True)
    def team_page(self, request: Request[Any, Any, Any], db: DbSession, principal: CurrentPrincipal) -> Template:
        if principal.person_id is None:  # requires_person guards the page: never true here
            raise PermissionDeniedException("This token is not bound to a person (create it with --as EMAIL).")
        period = quarter_of(date.today())
        rows = plan_progress(db, sorted(report_ids(db, principal.person_id)), period)
        mine = plan_progress(db, [principal.person_id], period)
        return page(
            "pages/people/team.html",
            {
                "rows": rows,
                "mine": mine,
                "period": period,
                **pulse_context(db, principal, request.app.state["settings"]),
            },
        )
