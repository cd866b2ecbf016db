"""``PUT /api/v1/quotas``: set quota targets, all or nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, put
from litestar.exceptions import ValidationException
from litestar.params import JSONBody
from pydantic import BaseModel, ConfigDict, Field

from commissions.core.dependencies import CurrentPrincipal
from commissions.core.guards import managers
from commissions.quotas.batches import RawRow
from commissions.quotas.service import set_quotas
from commissions.quotas.targets import RowsProblem

MAX_API_ITEMS = 5000


class QuotaIn(BaseModel):
    """One target: money in the person's plan currency for bookings and sourced_revenue, a count for deals."""

    model_config = ConfigDict(extra="forbid")

    person: Annotated[str, Field(max_length=254, description="the person's email")]
    metric: Annotated[str, Field(max_length=20, description="bookings | sourced_revenue | deals")]
    period: Annotated[str, Field(max_length=10, description="2026-01, 2026-Q1 or 2026")]
    target: Annotated[Decimal | None, Field(description='decimal string, e.g. "250000.00"; null removes the quota')]
    version: Annotated[
        int | None,
        Field(
            default=None,
            ge=0,
            description="optional: the version this edit is based on (0: none existed); a different stored version is refused with 409",
        ),
    ]


class QuotaOut(BaseModel):
    person: str
    metric: str
    period: str
    target: str | None
    unit: str
    version: int


class QuotasApiController(Controller):
    path = "/api/v1/quotas"
    guards = [managers]
    tags = ["quotas"]

    @put("/", sync_to_thread=True, summary="Set quota targets (all or nothing)")
    def put_quotas(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: JSONBody[list[QuotaIn]]
    ) -> list[QuotaOut]:
        """A manager sets their reports' targets (recursively), an admin anyone's. Anyone outside the
        caller's team refuses the whole request with 403; any bad item refuses it with 400, naming
        the item (its index in the list) and the field. Returns the stored quotas in request order."""
        if len(data) > MAX_API_ITEMS:
            raise ValidationException(f"at most {MAX_API_ITEMS} quotas per request", extra={"field": "body"})
        rows = [RawRow(f"[{i}]", q.person, q.metric, q.period, q.target, q.version, i) for i, q in enumerate(data)]
        try:
            stored = set_quotas(request.app.state["engine"], principal, rows)
        except RowsProblem as exc:
            errors = [{"index": p.index, "field": p.field, "message": p.message} for p in exc.problems]
            raise ValidationException(exc.message, extra={"field": exc.field, "errors": errors}) from None
        return [
            QuotaOut(person=q.person, metric=q.metric, period=q.period, target=q.target, unit=q.unit, version=q.version)
            for q in stored
        ]
