"""``GET``/``POST /api/v1/custom-fields``: the declared custom deal fields, for admins."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, QueryParameter
from pydantic import BaseModel, ConfigDict, Field

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import admins
from commissions.core.paging import MAX_PAGE, BadCursor, cursor_parts, make_cursor, next_link, paging_headers
from commissions.custom_fields.service import declare_field_in, list_fields
from commissions.models import CustomField

EXAMPLE = {"name": "region", "type": "text", "label": "Sales region"}


class CustomFieldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="how conditions, `custom_fields` keys and CSV columns spell it, e.g. region")
    type: str = Field(description="text, number, date or boolean")
    label: str = Field(default="", description="optional: the deal form's label for it")


class CustomFieldOut(BaseModel):
    name: str = Field(examples=[EXAMPLE["name"]])
    type: str = Field(examples=[EXAMPLE["type"]])
    label: str = Field(examples=[EXAMPLE["label"]])

    @classmethod
    def of(cls, field: CustomField) -> CustomFieldOut:
        return cls(name=field.name, type=field.type, label=field.label)


class CustomFieldList(BaseModel):
    items: list[CustomFieldOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


CURSOR_TAG = "custom-field"


def _after_name(cursor: str | None) -> str | None:
    """The field name a ``cursor`` points after (None: the first page); 400 naming ``cursor`` for one this list
    did not hand out (the list is by name, so its cursor is the last name, made opaque like every other)."""
    if not cursor:
        return None
    try:
        tag, name = cursor_parts(cursor, 2)
    except BadCursor as exc:
        raise InputProblem("cursor", str(exc)) from exc
    if tag != CURSOR_TAG or not name:
        raise InputProblem("cursor", str(BadCursor()))
    return name


class CustomFieldsApiController(Controller):
    path = "/api/v1/custom-fields"
    guards = [admins]
    tags = ["custom fields"]

    @get(
        "/",
        sync_to_thread=True,
        summary="Declared custom deal fields, by name (paged)",
        description='`next_cursor` (also in a `Link: <...>; rel="next"` header and `X-Next-Cursor`) gives the next '
        "page until it is null.",
        response_headers=paging_headers("fields"),
    )
    def list_api(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        cursor: Annotated[str | None, QueryParameter(description="`next_cursor` of the previous page")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description=f"fields per page (1-{MAX_PAGE})")] = 100,
    ) -> Response[CustomFieldList]:
        rows = list_fields(db, after=_after_name(cursor), limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = make_cursor(CURSOR_TAG, rows[-1].name) if more else None
        headers = (
            {"Link": next_link(request.url.path, {"limit": str(limit)}, next_cursor), "X-Next-Cursor": next_cursor}
            if next_cursor
            else {}
        )
        return Response(
            CustomFieldList(items=[CustomFieldOut.of(f) for f in rows], next_cursor=next_cursor), headers=headers
        )

    @post(
        "/",
        sync_to_thread=True,
        status_code=201,
        summary="Declare a custom deal field (plan conditions can use it by name)",
        description="Idempotent by `name`: declaring a field again exactly as it is (same name and type; the "
        "same label or none) answers 200 with the stored field and changes nothing. 201 for a new field. 400 "
        "naming the field for a bad name, type or label; 409 for a name declared with another type, label or "
        "spelling of its case (a declared field's type never changes).",
        responses={200: ResponseSpec(CustomFieldOut, description="already declared exactly so: nothing changed")},
    )
    def declare_api(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: Annotated[CustomFieldIn, Body(examples=[Example(summary="a text field", value=EXAMPLE)])],
    ) -> Response[CustomFieldOut]:
        done = declare_field_in(
            request.app.state["engine"], name=data.name, type=data.type, label=data.label, by=principal, idempotent=True
        )
        return Response(CustomFieldOut.of(done.field), status_code=201 if done.created else 200)
