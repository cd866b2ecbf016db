"""``GET``/``POST /api/v1/custom-fields``: the declared custom deal fields, for admins."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict, Field

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import admins
from commissions.custom_fields.service import declare_field_in, list_fields
from commissions.models import CustomField

MAX_LIMIT = 1000


class CustomFieldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="how conditions, `custom_fields` keys and CSV columns spell it, e.g. region")
    type: str = Field(description="text, number, date or boolean")
    label: str = Field(default="", description="optional: the deal form's label for it")


class CustomFieldOut(BaseModel):
    name: str
    type: str
    label: str

    @classmethod
    def of(cls, field: CustomField) -> CustomFieldOut:
        return cls(name=field.name, type=field.type, label=field.label)


class CustomFieldList(BaseModel):
    items: list[CustomFieldOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


class CustomFieldsApiController(Controller):
    path = "/api/v1/custom-fields"
    guards = [admins]
    tags = ["custom fields"]

    @get("/", sync_to_thread=True, summary="Declared custom deal fields, by name (paged)")
    def list_api(
        self,
        db: DbSession,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = 100,
    ) -> CustomFieldList:
        rows = list_fields(db, after=cursor, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return CustomFieldList(items=[CustomFieldOut.of(f) for f in rows], next_cursor=rows[-1].name if more else None)

    @post(
        "/",
        sync_to_thread=True,
        status_code=201,
        summary="Declare a custom deal field (plan conditions can use it by name)",
    )
    def declare_api(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: JSONBody[CustomFieldIn]
    ) -> Response[CustomFieldOut]:
        """400 naming the field for a bad name or type; 409 if the name is already declared (in any case)."""
        done = declare_field_in(
            request.app.state["engine"], name=data.name, type=data.type, label=data.label, by=principal
        )
        out = CustomFieldOut.of(done.field)
        return Response(out, status_code=201)
