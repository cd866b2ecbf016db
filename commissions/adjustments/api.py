"""``POST /api/v1/adjustments`` and ``POST /api/v1/adjustments/{id}/reverse``: finance's manual adjustments."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.params import FromPath, JSONBody

from commissions.adjustments.schemas import AdjustmentIn, AdjustmentOut, ReverseIn
from commissions.adjustments.service import book_and_describe, reverse_and_describe
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
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: JSONBody[AdjustmentIn]
    ) -> AdjustmentOut:
        return book_and_describe(request.app.state["engine"], principal, data)

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
