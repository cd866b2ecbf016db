"""The outbound webhooks page (``/admin/webhooks/outbound``), for admins and finance: subscriptions (create, with
the secret shown once; deactivate), chat channels (Slack, Teams: add, send a test message, deactivate) and the
delivery log (filter by status, search, replay)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from pydantic import BaseModel, field_validator
from sqlmodel import Session

from commissions.core import shown_once
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import Forbidden, InputProblem
from commissions.core.i18n import N_
from commissions.core.i18n import gettext as _
from commissions.core.outbox import EVENT_TYPES
from commissions.core.principal import Principal
from commissions.core.rendering import page, page_or_partial
from commissions.models.outbound import DELIVERY_STATES
from commissions.outbound import service
from commissions.outbound.api import admins_and_finance
from commissions.outbound.chat import CHAT_EVENTS
from commissions.outbound.dispatcher import send_hello
from commissions.outbound.queries import active_chat_channel, chat_channels, delivery_log, subscriptions

PAGE = "/admin/webhooks/outbound"
TEMPLATE = "pages/outbound/webhooks.html"
LOG_PARTIAL = "partials/outbound/log.html"
DONE = {
    "deactivated": N_("Subscription deactivated: nothing more is sent to it (its delivery log stays)."),
    "replayed": N_("Delivery queued: the worker sends it again within a few seconds."),
    "chat_added": N_("Chat channel added: its events are posted there from now on. Send a test message to check it."),
    "test_sent": N_("Test message sent: it should be in the channel now."),
}


class SubscriptionForm(BaseModel):
    """The page's form, as typed (the CSRF field comes along)."""

    url: str = ""
    events: list[str] = []
    include_pay: bool = False

    @field_validator("events", mode="before")
    @classmethod
    def _one_box_is_a_list(cls, value: object) -> object:
        """One ticked box arrives as a plain string."""
        return [value] if isinstance(value, str) else value


class ChatChannelForm(BaseModel):
    """The "Chat channels" form, as typed."""

    kind: str = "slack"
    name: str = ""
    url: str = ""
    events: list[str] = []

    @field_validator("events", mode="before")
    @classmethod
    def _one_box_is_a_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


def _context(
    session: Session,
    principal: Principal,
    *,
    status: str = "",
    q: str = "",
    page_number: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    rows, has_next = delivery_log(session, status=status, search=q, page=page_number)
    filters = {k: v for k, v in (("status", status), ("q", q)) if v}
    return {
        "subscriptions": subscriptions(session),
        "deliveries": rows,
        "has_next": has_next,
        "page": page_number,
        "filters": {"status": status, "q": q},
        "query": urlencode(filters),
        "states": DELIVERY_STATES,
        "event_types": EVENT_TYPES,
        "may_include_pay": principal.role == "finance",
        "show_crm_link": principal.role == "admin",  # the CRM webhooks page is the admins'
        "form": SubscriptionForm(),
        "error": None,
        "chat_channels": chat_channels(session),
        "chat_events": CHAT_EVENTS,
        "chat_form": ChatChannelForm(),
        "chat_error": None,
        "chat_failed": None,
        "created": None,
        "done": None,
        **extra,
    }


NEW_SUBSCRIPTION = "new_subscription"  # the session key of a subscription just created, until its page shows it


class OutboundWebhooksController(Controller):
    path = PAGE
    guards = [admins_and_finance]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def outbound_page(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        status: FromQuery[str] = "",
        q: FromQuery[str] = "",
        page: FromQuery[int] = 1,
        done: FromQuery[str] = "",
    ) -> Template:
        context = _context(
            db, principal, status=status if status in DELIVERY_STATES else "", q=q[:200], page_number=max(page, 1)
        )
        context["done"] = _(DONE[done]) if done in DONE else None
        created = shown_once.take(request, NEW_SUBSCRIPTION)
        if created is not None:
            context["created"] = {"subscription": {"url": created["url"]}, "secret": created["secret"]}
        return page_or_partial(request, TEMPLATE, LOG_PARTIAL, context)

    @post("/", sync_to_thread=True, status_code=200)
    def create(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[SubscriptionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        settings = request.app.state["settings"]
        try:
            row, secret = service.add_subscription(
                request.app.state["engine"],
                url=data.url,
                events=data.events,
                include_pay=data.include_pay,
                by=principal,
                secret_key=settings.secret_key,
                allow_http=settings.outbound_allow_http,
            )
        except InputProblem as exc:
            context = _context(db, principal, form=data, error={"field": exc.field, "message": exc.message})
            return page(TEMPLATE, context, status_code=exc.status_code)
        except Forbidden as exc:
            context = _context(db, principal, form=data, error={"field": "include_pay", "message": str(exc)})
            return page(TEMPLATE, context, status_code=403)
        shown_once.keep_for_next_page(request, NEW_SUBSCRIPTION, {"url": row.url, "secret": secret})
        return Redirect(PAGE, status_code=303)  # a reload shows the page, it creates no second subscription

    @post("/{subscription_id:int}/deactivate", sync_to_thread=True)
    def deactivate(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, subscription_id: FromPath[int]
    ) -> Redirect:
        if service.deactivate(request.app.state["engine"], subscription_id, by=principal) is None:
            raise NotFoundException("No such subscription.")
        return Redirect(f"{PAGE}?done=deactivated", status_code=303)

    @post("/deliveries/{delivery_id:int}/replay", sync_to_thread=True)
    def replay(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, delivery_id: FromPath[int]
    ) -> Redirect:
        if service.replay(request.app.state["engine"], delivery_id, by=principal) is None:
            raise NotFoundException("No such delivery.")
        return Redirect(f"{PAGE}?done=replayed", status_code=303)

    @post("/chat", sync_to_thread=True, status_code=200)
    def add_chat_channel(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[ChatChannelForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        settings = request.app.state["settings"]
        try:
            service.add_chat_channel(
                request.app.state["engine"],
                kind=data.kind,
                name=data.name,
                url=data.url,
                events=data.events,
                by=principal,
                secret_key=settings.secret_key,
                allow_http=settings.outbound_allow_http,
            )
        except InputProblem as exc:
            data.url = ""  # a credential: not written back into the page
            context = _context(db, principal, chat_form=data, chat_error={"field": exc.field, "message": exc.message})
            return page(TEMPLATE, context, status_code=exc.status_code)
        return Redirect(f"{PAGE}?done=chat_added", status_code=303)

    @post("/chat/{channel_id:int}/test", sync_to_thread=True, status_code=200)
    def test_chat_channel(
        self, request: Request[Any, Any, Any], db: DbSession, principal: CurrentPrincipal, channel_id: FromPath[int]
    ) -> Template | Redirect:
        engine = request.app.state["engine"]
        channel = active_chat_channel(db, channel_id)
        if channel is None:
            raise NotFoundException("No such chat channel.")
        error = send_hello(engine, channel_id, secret_key=request.app.state["settings"].secret_key)
        service.audit_test_message(engine, channel, by=principal, outcome=error or "sent")
        if error:
            failed = _("The test message to %(channel)s did not arrive: %(error)s.") % {
                "channel": channel.name,
                "error": error,
            }
            return page(TEMPLATE, _context(db, principal, chat_failed=failed), status_code=200)
        return Redirect(f"{PAGE}?done=test_sent", status_code=303)
