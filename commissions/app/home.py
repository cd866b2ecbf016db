"""The home page: what matters today for the signed-in role."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, get
from litestar.params import FromQuery
from litestar.response import Template

from commissions.accounts.queries import active_token_count
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import any_role
from commissions.core.periods import quarter_of
from commissions.core.rendering import page
from commissions.deals.approvals import held_for
from commissions.deals.queries import deal_count
from commissions.people.progress import plan_progress
from commissions.people.queries import active_people_by_role
from commissions.people.service import report_ids
from commissions.periods.queries import periods_newest_first
from commissions.plans.queries import plan_version_count


class HomeController(Controller):
    guards = [any_role]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def home(
        self,
        db: DbSession,
        principal: CurrentPrincipal,
        approved: FromQuery[str | None] = None,
        rejected: FromQuery[str | None] = None,
    ) -> Template:
        period = quarter_of(date.today())
        context: dict[str, Any] = {
            "period": period,
            "approved": approved,
            "rejected": rejected,
        }  # after a queue decision
        if principal.role in ("rep", "manager") and principal.person_id is not None:
            context["mine"] = plan_progress(db, [principal.person_id], period)  # one row per plan, as the statement
        if principal.role == "manager" and principal.person_id is not None:
            context["team"] = plan_progress(db, sorted(report_ids(db, principal.person_id)), period)
        if principal.role in ("rep", "manager", "finance") and principal.person_id is not None:
            context["held"] = held_for(db, principal)  # what waits for their decision (or, for a rep, their own)
        if principal.role == "finance":
            context["periods"] = periods_newest_first(db, limit=6)
            context["deal_count"] = deal_count(db)
        if principal.role == "admin":
            context["people_by_role"] = active_people_by_role(db)
            context["active_tokens"] = active_token_count(db)
            context["plan_versions"] = plan_version_count(db)
        return page("pages/home.html", context)
