"""``GET``/``PUT /api/v1/rates``: exchange rates, for finance and admins (api.md, "Integration resources")."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, put
from litestar.exceptions import ValidationException
from litestar.params import JSONBody, QueryParameter

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import finance_or_admin
from commissions.core.paging import MAX_PAGE, BadCursor, id_cursor, next_link, paging_headers, read_id_cursor
from commissions.core.upserts import UpsertRefused, UpsertReport, check_size
from commissions.rates.queries import list_rates
from commissions.rates.schemas import RateIn, RateList, rate_out
from commissions.rates.service import RateInput, set_rates_in

CURSOR_TAG = "rates"


class RatesApiController(Controller):
    path = "/api/v1/rates"
    guards = [finance_or_admin]
    tags = ["exchange rates"]

    @get(
        "/",
        sync_to_thread=True,
        summary="Exchange rates in the order they were first set (paged; ?from=&to= filter)",
        response_headers=paging_headers("rates"),
    )
    def list_api(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        source: Annotated[str | None, QueryParameter(name="from", description="only rates from this currency")] = None,
        target: Annotated[str | None, QueryParameter(name="to", description="only rates to this currency")] = None,
        limit: Annotated[
            int, QueryParameter(ge=1, le=MAX_PAGE, description=f"rates per page (at most {MAX_PAGE})")
        ] = 100,
        cursor: Annotated[str | None, QueryParameter(description="from the previous page's next_cursor")] = None,
    ) -> Response[RateList]:
        try:
            after = read_id_cursor(CURSOR_TAG, cursor) if cursor else None
        except BadCursor as exc:
            raise ValidationException(str(exc), extra={"field": "cursor"}) from exc
        rows = list_rates(db, source=source, target=target, after_id=after, limit=limit + 1)
        page = rows[:limit]
        following = id_cursor(CURSOR_TAG, page[-1].id) if len(rows) > limit else None
        headers = {}
        if following:
            query = {"from": source, "to": target, "limit": str(limit)}
            headers = {"Link": next_link(request.url.path, query, following), "X-Next-Cursor": following}
        return Response(RateList(items=[rate_out(r) for r in page], next_cursor=following), headers=headers)

    @put("/", sync_to_thread=True, summary="Set exchange rates by (from, to, effective_from), all or nothing")
    def put_rates(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: JSONBody[list[RateIn]]
    ) -> UpsertReport:
        """Idempotent: the same body again changes nothing and says so. A different rate for a stored
        (from, to, effective_from) corrects it; the old value stays in the pair's history (audit log).
        Any bad item refuses the whole request with 400 and a per-item report (index, field, message).
        A change queues the statements it alters; locked periods get prior-period adjustments instead."""
        check_size(list(data))
        items = [RateInput(r.source, r.target, r.rate, r.effective_from) for r in data]
        try:
            done = set_rates_in(request.app.state["engine"], items, actor=principal)
        except UpsertRefused as exc:
            raise exc.as_http() from None
        return UpsertReport.of(done.outcomes)
