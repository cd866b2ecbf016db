"""Deal pages and the deals API (reading; recording comes with ingestion)."""

from __future__ import annotations

from datetime import date

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, JSONBody
from litestar.response import Template

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import any_role
from commissions.core.money import from_minor
from commissions.core.periods import (
    PeriodKey,
    PeriodKeyError,
    parse_period_key,
    quarter_of,
)
from commissions.core.rendering import page_or_partial
from commissions.deals.events import after_deal_recorded
from commissions.deals.queries import visible_deals
from commissions.deals.schemas import DealIn, DealOut, DealSummary
from commissions.deals.service import record_one


def _period(text: str | None, *, default_today: bool) -> PeriodKey | None:
    if not text:
        return quarter_of(date.today()) if default_today else None
    try:
        return parse_period_key(text)
    except PeriodKeyError as exc:
        raise ValidationException(str(exc), extra={"period": text}) from exc


class DealsController(Controller):
    guards = [any_role]
    tags = ["deals"]

    @get("/deals", include_in_schema=False, sync_to_thread=True)
    def deals_page(
        self, request: Request, db: DbSession, principal: CurrentPrincipal, period: FromQuery[str | None] = None
    ) -> Template:
        key = _period(period, default_today=True)
        rows = visible_deals(db, principal, key)
        context = {"rows": rows, "period": key, "scope": _scope_label(principal)}
        return page_or_partial(request, "pages/deals/list.html", "partials/deals/table.html", context)

    @post(
        "/api/v1/deals",
        sync_to_thread=True,
        summary="Record a closed deal (idempotent on external_id)",
        responses={
            200: ResponseSpec(DealOut, description="the same deal again, or an update of it"),
            202: ResponseSpec(
                DealOut,
                description="held: the change credits other people and waits for "
                "approval (see /deals/approvals); it pays nobody until then",
            ),
        },
    )
    def post_deal(self, request: Request, principal: CurrentPrincipal, data: JSONBody[DealIn]) -> Response[DealOut]:
        result, out = record_one(request.app.state["engine"], data, by=principal)
        after_deal_recorded(request.app, result)
        return Response(out, status_code={"created": 201, "held": 202}.get(result.outcome, 200))

    @get("/api/v1/deals", sync_to_thread=True, summary="Deals the caller may see (own / team / all by role)")
    def list_deals(
        self, db: DbSession, principal: CurrentPrincipal, period: FromQuery[str | None] = None
    ) -> list[DealSummary]:
        key = _period(period, default_today=False)
        return [
            DealSummary(
                external_id=row.external_id,
                name=row.name,
                account=row.account,
                owner=row.owner_email,
                amount=str(from_minor(row.amount_minor, row.currency)),
                currency=row.currency,
                closed_at=row.closed_at,
                type=row.type,
                product=row.product,
                status=row.status,
            )
            for row in visible_deals(db, principal, key, limit=10_000)
        ]


def _scope_label(principal: CurrentPrincipal) -> str:
    return {"rep": "your deals", "manager": "your team's deals"}.get(principal.role, "all deals")
