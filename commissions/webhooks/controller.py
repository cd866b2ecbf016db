"""``POST /api/v1/webhooks/crm/{name}/deals``: a CRM delivers a deal, signed (Standard Webhooks).

Authenticated by the signature alone (no token, no session): unsigned, wrongly signed,
stale or replayed deliveries are refused with a JSON error and nothing is stored. The
body is the deal JSON of ``POST /api/v1/deals``, recorded by the same service.
"""

from __future__ import annotations

import logging
import time

from anyio import to_thread
from litestar import Controller, Request, Response, post
from litestar.exceptions import HTTPException, NotAuthorizedException, TooManyRequestsException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath
from pydantic import ValidationError
from sqlmodel import Session

from commissions.core.audit import record_event
from commissions.core.db import transaction
from commissions.core.principal import Principal
from commissions.deals.events import after_deal_recorded
from commissions.deals.schemas import DealIn, DealOut
from commissions.deals.service import record_one
from commissions.webhooks import service
from commissions.webhooks.junk import WEBHOOK_JUNK_WINDOW_SECONDS, JunkCounter
from commissions.webhooks.signing import SignatureError, verify

MAX_BODY = 1_000_000
log = logging.getLogger("quotaboard.webhooks")


def clock() -> float:
    return time.time()


def _refuse(engine, name: str, message: str, status: int, ip: str) -> HTTPException:  # type: ignore[no-untyped-def]
    """A delivery whose signature was valid but is refused anyway (a replay): audited."""
    with transaction(engine) as session:
        record_event(session, None, "webhook.refused", "webhook_integration", name[:128], {"reason": message}, ip=ip)
    return HTTPException(status_code=status, detail=message)


def _junk_throttled(engine, name: str, count: int, ip: str) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        record_event(
            session,
            None,
            "webhook.junk_throttled",
            "webhook_integration",
            name[:128],
            {"refusals": count, "window_seconds": WEBHOOK_JUNK_WINDOW_SECONDS},
            ip=ip,
        )


class Replayed(SignatureError):
    """Refused although the signature is valid: the sender holds the secret, so it is audited."""


class WebhooksController(Controller):
    tags = ["webhooks"]

    @post(
        "/api/v1/webhooks/crm/{name:str}/deals",
        summary="A signed deal delivery from a CRM (Standard Webhooks)",
        security=[],
        request_max_body_size=MAX_BODY,
        responses={
            200: ResponseSpec(DealOut, description="the same deal again, or an update of it"),
            201: ResponseSpec(DealOut, description="a new deal"),
        },
    )
    async def deliver(self, request: Request, name: FromPath[str]) -> Response[DealOut]:
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

        def check() -> tuple[object, str]:
            with Session(engine) as session:
                found = service.active_secret(session, name, settings.secret_key)
                if found is None:
                    raise SignatureError("no active webhook integration with this name")
                integration, secret = found
                webhook_id, _ = verify(secret, headers, body, now=clock())
                if service.seen(session, integration.id, webhook_id):  # type: ignore[arg-type]
                    raise Replayed("replayed delivery: this webhook-id was received already", 400)
                return integration, webhook_id

        try:
            integration, webhook_id = await to_thread.run_sync(check)
        except Replayed as exc:
            raise await to_thread.run_sync(_refuse, engine, name, str(exc), exc.status, ip) from None
        except SignatureError as exc:  # unauthenticated: counted per address and logged, not audited
            log.info("webhook %r refused from %s: %s", name[:64], ip, exc)
            if await junk.count(ip):
                await to_thread.run_sync(_junk_throttled, engine, name, junk.limit, ip)
            if exc.status == 401:
                raise NotAuthorizedException(str(exc)) from None
            raise HTTPException(status_code=exc.status, detail=str(exc)) from None
        try:
            deal = DealIn.model_validate_json(body)
        except ValidationError as exc:
            raise ValidationException(
                "the deal is not valid",
                extra=[{"key": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()],
            ) from None
        by = Principal(role="finance", person_id=None, email=None, name=f"webhook {integration.name}", via_token=True)  # type: ignore[attr-defined]

        def record():  # type: ignore[no-untyped-def]
            result, out = record_one(engine, deal, by=by)
            with transaction(engine) as session:
                row = session.get(type(integration), integration.id)  # type: ignore[attr-defined]
                service.remember(session, row, webhook_id)
            return result, out

        result, out = await to_thread.run_sync(record)
        after_deal_recorded(request.app, result)
        return Response(
            out, status_code=201 if result.outcome == "created" else 200, headers={"Cache-Control": "no-store"}
        )
