"""The campaigns page: everyone signed in reads it; admins and marketing managers create and edit."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from commissions.campaigns.queries import email_of
from commissions.campaigns.service import (
    CampaignInput,
    campaign_rows,
    can_edit_campaigns,
    create_campaign_in,
    editable_campaign,
    require_editor,
    update_campaign_by_id,
)
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import any_role
from commissions.core.periods import parse_or_current
from commissions.core.rendering import page, page_or_partial


def _list_context(session: Session, principal: CurrentPrincipal, period: str | None, **extra: Any) -> dict[str, Any]:
    key = parse_or_current(period)
    return {
        "rows": campaign_rows(session, principal, key),
        "period": key,
        "can_edit": can_edit_campaigns(session, principal),
        "form": CampaignInput(),
        "error": None,
        **extra,
    }


def _is_htmx(request: Request[Any, Any, Any]) -> bool:
    return bool(getattr(request, "htmx", False))


class CampaignsController(Controller):
    path = "/campaigns"
    guards = [any_role]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def list_page(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        period: FromQuery[str | None] = None,
        saved: FromQuery[str | None] = None,
    ) -> Template:
        context = _list_context(db, principal, period)
        # after an add or an edit: the campaign by its code, if there is one (a link's text is not echoed)
        context["saved"] = next((r.campaign for r in context["rows"] if saved and r.campaign.code == saved), None)
        return page_or_partial(request, "pages/campaigns/list.html", "partials/campaigns/table.html", context)

    @post("/", sync_to_thread=True, status_code=200)
    def create(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[CampaignInput, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect | ClientRedirect:
        require_editor(db, principal)
        try:
            created = create_campaign_in(request.app.state["engine"], principal, data)
        except (InputProblem, IntegrityError) as exc:
            error = _error(exc)
            context = _list_context(db, principal, None, form=data, error=error)
            if _is_htmx(request):  # htmx 2 swaps only 2xx: the form comes back with its error
                return page("partials/campaigns/form.html", context)
            return page("pages/campaigns/list.html", context, status_code=400)
        return _saved(request, created.code)

    @get("/{campaign_id:int}/edit", sync_to_thread=True)
    def edit_page(self, db: DbSession, principal: CurrentPrincipal, campaign_id: FromPath[int]) -> Template:
        campaign = editable_campaign(db, principal, campaign_id)
        if campaign is None:
            raise NotFoundException("No such campaign.")
        form = CampaignInput.from_campaign(campaign, email_of(db, campaign.owner_id))
        return page("pages/campaigns/edit.html", {"campaign": campaign, "form": form, "error": None})

    @post("/{campaign_id:int}", sync_to_thread=True, status_code=200)
    def update(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        campaign_id: FromPath[int],
        data: Annotated[CampaignInput, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect | ClientRedirect:
        try:
            updated = update_campaign_by_id(request.app.state["engine"], principal, campaign_id, data)
            if updated is None:
                raise NotFoundException("No such campaign.")
        except InputProblem as exc:
            campaign = editable_campaign(db, principal, campaign_id)
            if campaign is None:  # the update found it: only a row deleted outside the app since gets here
                raise NotFoundException("No such campaign.") from exc
            context = {
                "campaign": campaign,
                "form": data.model_copy(update={"code": campaign.code}),
                "error": _error(exc),
            }
            if _is_htmx(request):
                return page("partials/campaigns/form.html", context)
            return page("pages/campaigns/edit.html", context, status_code=400)
        return _saved(request, updated.code)


def _saved(request: Request[Any, Any, Any], code: str) -> Redirect | ClientRedirect:
    """Back to the list, which says the campaign was saved."""
    target = f"/campaigns?saved={quote(code)}#campaign-{quote(code)}"
    return ClientRedirect(target) if _is_htmx(request) else Redirect(target, status_code=303)


def _error(exc: Exception) -> dict[str, str]:
    if isinstance(exc, InputProblem):
        return {"field": exc.field, "message": exc.message}
    return {"field": "code", "message": "already exists"}  # a concurrent create of the same code won the race
