"""Finance's list of periods and their workflow state."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template
from sqlalchemy import and_, func
from sqlmodel import select

from commissions.auth.guards import finance_only
from commissions.models import Deal, Period
from commissions.web.dependencies import DbSession
from commissions.web.rendering import page


class PeriodsController(Controller):
    guards = [finance_only]
    include_in_schema = False

    @get("/finance/periods", sync_to_thread=True)
    def periods_page(self, db: DbSession) -> Template:
        periods = db.exec(select(Period).order_by(Period.starts_on.desc())).all()
        counts = dict(db.exec(  # one query for every period, not one per period
            select(Period.id, func.count(Deal.id))
            .join(Deal, and_(Deal.closed_at >= Period.starts_on, Deal.closed_at <= Period.ends_on), isouter=True)
            .group_by(Period.id)
        ).all())
        return page("pages/periods/list.html", {"periods": periods, "deal_counts": counts})
