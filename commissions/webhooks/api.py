"""``POST /api/v1/webhooks/crm/{name}/deals``: a CRM delivers a deal, signed (Standard Webhooks).

Authenticated by the signature alone (no token, no session): unsigned, wrongly signed,
stale or replayed deliveries are refused with a JSON error and nothing is stored. The
body is the deal JSON of ``POST /api/v1/deals``, recorded by the same service, or for an
integration of format hubspot or salesforce that CRM's payload (``adapters``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from anyio import to_thread
from litestar import Controller, Request, Response, post
from litestar.exceptions import HTTPException, NotAuthorizedException, TooManyRequestsException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath
from pydantic import ValidationError

from commissions.core.principal import Principal
from commissions.deals.events import after_deal_recorded
from commissions.deals.schemas import DealIn, DealOut
from commissions.models import WebhookIntegration
from commissions.webhooks import service
from commissions.webhooks.adapters import SOAP_ACK, MappingError, adapt
from commissions.webhooks.junk import JunkCounter
from commissions.webhooks.service import Replayed
from commissions.webhooks.signing import SignatureError

MAX_BODY = 1_000_000
log = logging.getLogger("quotaboard.webhooks")


def clock() -> float:
    return time.time()


class WebhooksController(Controller):
    tags = ["webhooks"]

    @post(
        "/api/v1/webhooks/crm/{name:str}/deals",
        summary="A signed deal delivery from a CRM (Standard Webhooks)",
        description="The body is the deal JSON of `POST /api/v1/deals`, or, for an integration created with "
        "format `hubspot` or `salesforce`, a HubSpot deal webhook / CRM v3 deal, or a Salesforce outbound "
        "message (SOAP, answered by its Ack) / Flow callout JSON, mapped by the integration's mapping "
        "(docs/integrations-crm.md). A deal that is not closed is a 202 that records nothing.",
        security=[],
        request_max_body_size=MAX_BODY,
        responses={
            200: ResponseSpec(DealOut, description="the same deal again, or an update of it"),
            201: ResponseSpec(DealOut, description="a new deal"),
            202: ResponseSpec(dict[str, Any], description="not a closed deal: nothing recorded"),
        },
    )
    async def deliver(self, request: Request[Any, Any, Any], name: FromPath[str]) -> Response[Any]:
        engine = request.app.state["engine"]
        settings = request.app.state["settings"]
        ip = request.client.host if request.client else ""
        junk: JunkCounter = request.app.state["webhook_junk"]
        wait = await junk.blocked(ip)
        if wait is not None:  # too many unauthenticated requests from this address: not even checked
            raise TooManyRequestsException(
                f"too many unauthenticated webhook requests from your address; try again in {wait} seconds",
                headers={"Retry-After": str(wait)},
            )
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items() if k.lower().startswith("webhook-")}
        try:
            integration, webhook_id = await to_thread.run_sync(
                lambda: service.check_delivery(engine, name, settings.secret_key, headers, body, now=clock())
            )
        except Replayed as exc:
            reason = str(exc)
            await to_thread.run_sync(lambda: service.audit_refused(engine, name, reason, ip=ip))
            raise HTTPException(status_code=exc.status, detail=reason) from None
        except SignatureError as exc:  # unauthenticated: counted per address and logged, not audited
            log.info("webhook %r refused from %s: %s", name[:64], ip, exc)
            if await junk.count(ip):
                await to_thread.run_sync(lambda: service.audit_junk_throttled(engine, name, junk.limit, ip=ip))
            if exc.status == 401:
                raise NotAuthorizedException(str(exc)) from None
            raise HTTPException(status_code=exc.status, detail=str(exc)) from None
        by = Principal(role="finance", person_id=None, email=None, name=f"webhook {integration.name}", via_token=True)
        if integration.format != "standard":
            return await self._adapted(request, integration, webhook_id, body, by)
        try:
            deal = DealIn.model_validate_json(body)
        except ValidationError as exc:
            raise ValidationException(
                "the deal is not valid",
                extra=[{"key": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()],
            ) from None

        result, out = await to_thread.run_sync(
            lambda: service.record_delivery(engine, deal, by=by, integration=integration, webhook_id=webhook_id)
        )
        after_deal_recorded(request.app, result, door="webhook")
        return Response(
            out, status_code=201 if result.outcome == "created" else 200, headers={"Cache-Control": "no-store"}
        )

    async def _adapted(
        self,
        request: Request[Any, Any, Any],
        integration: WebhookIntegration,
        webhook_id: str,
        body: bytes,
        by: Principal,
    ) -> Response[Any]:
        """A HubSpot or Salesforce payload: mapped, every deal checked before any is written (400 naming the
        field), recorded like ``POST /api/v1/deals``; "not a closed deal" is a 202; SOAP gets its Ack."""
        engine = request.app.state["engine"]
        try:
            mapped, soap = adapt(integration.format, body, integration.mapping)
            deals, ignored = await to_thread.run_sync(lambda: service.deals_to_record(engine, mapped, by))
        except MappingError as exc:
            raise ValidationException(str(exc), extra=[{"key": exc.field, "message": exc.message}]) from None
        if deals:
            results = await to_thread.run_sync(
                lambda: service.record_deliveries(engine, deals, by=by, integration=integration, webhook_id=webhook_id)
            )
        else:
            results = []
            await to_thread.run_sync(lambda: service.remember_delivery(engine, integration, webhook_id))
        for result, _ in results:
            after_deal_recorded(request.app, result, door="webhook")
        headers = {"Cache-Control": "no-store"}
        if soap:
            return Response(SOAP_ACK, media_type="text/xml", status_code=200, headers=headers)
        if len(mapped) == 1 and results:
            result, out = results[0]
            return Response(out, status_code=201 if result.outcome == "created" else 200, headers=headers)
        if not results:
            return Response({"status": "ignored", "reasons": ignored}, status_code=202, headers=headers)
        return Response(
            {"deals": [out.model_dump(mode="json") for _, out in results], "ignored": ignored},
            status_code=200,
            headers=headers,
        )
