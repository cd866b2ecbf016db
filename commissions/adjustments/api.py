"""``POST /api/v1/adjustments`` and ``POST /api/v1/adjustments/{id}/reverse``: finance's manual adjustments."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, post
from litestar.params import FromPath, HeaderParameter, JSONBody

from commissions.adjustments.schemas import AdjustmentIn, AdjustmentOut, ReverseIn
from commissions.adjustments.service import book_and_describe, checked_request_key, reverse_and_describe
from commissions.core.dependencies import CurrentPrincipal
from commissions.core.errors import InputProblem
from commissions.core.guards import finance_only


class AdjustmentsApiController(Controller):
    path = "/api/v1/adjustments"
    guards = [finance_only]
    tags = ["adjustments"]

    @post(
        "/",
        sync_to_thread=True,
        status_code=201,
        summary="Book a manual adjustment on a person's statement in an open period (finance)",
    )
    def post_adjustment(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: JSONBody[AdjustmentIn],
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name="Idempotency-Key",
                description="Optional, up to 64 visible ASCII characters (a UUID): the same request with the same key "
                "books once and answers 200 with what it booked; the key with other values is refused (409).",
            ),
        ] = None,
    ) -> Response[AdjustmentOut]:
        key = checked_request_key(idempotency_key, "Idempotency-Key")
        out, booked = book_and_describe(request.app.state["engine"], principal, data, request_key=key)
        return Response(out, status_code=201 if booked else 200)

    @post(
        "/{adjustment_id:int}/reverse",
        sync_to_thread=True,
        status_code=201,
        summary="Reverse a manual adjustment with a new reversing line (never an edit)",
    )
    def reverse(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        adjustment_id: FromPath[int],
        data: JSONBody[ReverseIn],
    ) -> AdjustmentOut:
        if principal.person_id is None:
            raise InputProblem("token", "a reversal names who made it: use a token bound to a finance person")
        return reverse_and_describe(
            request.app.state["engine"], adjustment_id=adjustment_id, reason=data.reason, actor_id=principal.person_id
        )
