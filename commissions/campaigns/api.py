"""``GET``/``PUT /api/v1/campaigns``: marketing tools keep campaigns in sync (admin and finance tokens)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, put
from litestar.params import Parameter
from litestar.response import Response

from commissions.campaigns.queries import campaign_page
from commissions.campaigns.schemas import EXAMPLE, CampaignIn, CampaignList, CampaignOut
from commissions.campaigns.service import upsert_campaigns_in
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import requires_role
from commissions.core.integration_api import after_id, items_body, next_page, read_items
from commissions.core.paging import MAX_PAGE, paging_headers
from commissions.core.upserts import UpsertRefused, UpsertReport

CURSOR_TAG = "campaigns"
integrators = requires_role("admin", "finance")


class CampaignsApiController(Controller):
    path = "/api/v1/campaigns"
    guards = [integrators]
    tags = ["campaigns"]

    @get(
        "/",
        sync_to_thread=True,
        summary="Campaigns, by when they were created (paged)",
        description="Each item is in the shape `PUT` takes, so a page sent back changes nothing. `next_cursor` "
        '(also in a `Link: <...>; rel="next"` header and `X-Next-Cursor`) gives the next page until it is null.',
        response_headers=paging_headers("campaigns"),
    )
    def list_api(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        cursor: Annotated[str | None, Parameter(description="`next_cursor` of the previous page (opaque)")] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE, description=f"campaigns per page (1-{MAX_PAGE})")] = 100,
    ) -> Response[CampaignList]:
        rows = campaign_page(db, after_id=after_id(CURSOR_TAG, cursor), limit=limit + 1)
        next_cursor, headers = next_page(CURSOR_TAG, request.url.path, limit, [c.id or 0 for c, _ in rows])
        items = [CampaignOut.of(campaign, email) for campaign, email in rows[:limit]]
        return Response(CampaignList(items=items, next_cursor=next_cursor), headers=headers)

    @put(
        "/",
        sync_to_thread=True,
        summary="Create or update campaigns by code (all or nothing)",
        description="Each item is upserted by `code` (case-insensitive; the stored spelling stays) with the same "
        "rules as the campaigns page: the owner is an active person's email, `cost` a non-negative decimal in "
        "`currency`, `end` not before `start`; a field left out takes its default (`channel` empty, `cost` 0, "
        "`start`/`end` none, `currency` the stored one or USD). Campaigns not in the list are left alone. Any "
        "bad item refuses the whole request with 400 and `extra.errors` naming each item's index, field and "
        "problem (unknown keys and a code twice in the list included); nothing is written. The same body "
        "twice reports every item `unchanged` with `changed: false` and writes and recomputes nothing. A new "
        "owner moves the credit of the deals the campaign sourced: the statements of the old and new owner "
        "(and their managers) are recomputed in every open period holding such a deal, and locked periods get "
        "prior-period adjustments.",
    )
    def put_api(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: Annotated[
            list[dict[str, Any]],
            items_body(CampaignIn, description="the campaigns to create or update, by `code`", example=[EXAMPLE]),
        ],
    ) -> UpsertReport:
        try:
            items = [item.as_input() for item in read_items(CampaignIn, data)]
            return upsert_campaigns_in(request.app.state["engine"], principal, items)
        except UpsertRefused as exc:
            raise exc.as_http() from None
