"""The custom deal fields page (``/admin/custom-fields``) and ``GET``/``POST /api/v1/custom-fields``: admins only."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery, JSONBody, QueryParameter
from litestar.plugins.htmx import HTMXTemplate
from litestar.response import Redirect, Template
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from commissions.core.db import transaction
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import admins
from commissions.core.rendering import NO_STORE, page
from commissions.custom_fields.service import (
    declare_field,
    example_condition,
    list_fields,
)
from commissions.models import CustomField
from commissions.models.base import FIELD_TYPES

PAGE = "/admin/custom-fields"
MAX_LIMIT = 1000


class FieldForm(BaseModel):
    """The page's form, as typed (the CSRF field comes along)."""

    name: str = ""
    type: str = "text"
    label: str = ""


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


def _context(session: Session, **extra: Any) -> dict[str, Any]:
    fields = list_fields(session)
    return {
        "fields": fields,
        "examples": {f.name: example_condition(f) for f in fields},
        "types": FIELD_TYPES,
        "form": FieldForm(),
        "error": None,
        "declared": None,
        **extra,
    }


class CustomFieldsController(Controller):
    path = PAGE
    guards = [admins]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def fields_page(self, db: DbSession, declared: FromQuery[str | None] = None) -> Template:
        context = _context(db)
        context["declared"] = next((f for f in context["fields"] if f.name == declared), None) if declared else None
        return page("pages/custom_fields/list.html", context)

    @post("/", sync_to_thread=True, status_code=200)
    def declare(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[FieldForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        htmx = bool(getattr(request, "htmx", False))
        try:
            with transaction(request.app.state["engine"]) as session:
                done = declare_field(session, name=data.name, type=data.type, label=data.label, by=principal)
        except InputProblem as exc:
            context = _context(db, form=data, error={"field": exc.field, "message": exc.message})
            if htmx:  # htmx 2 swaps only 2xx answers: the panel comes back with the error in it
                return HTMXTemplate(
                    template_name="partials/custom_fields/panel.html", context=context, headers=NO_STORE
                )
            return page("pages/custom_fields/list.html", context, status_code=exc.status_code)
        if htmx:
            context = _context(db, declared=done.field, statements=done.statements)
            return HTMXTemplate(
                template_name="partials/custom_fields/panel.html",
                context=context,
                headers=NO_STORE,
                push_url=f"{PAGE}?declared={done.field.name}",
            )
        return Redirect(f"{PAGE}?declared={done.field.name}", status_code=303)


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
        self, request: Request, principal: CurrentPrincipal, data: JSONBody[CustomFieldIn]
    ) -> Response[CustomFieldOut]:
        """400 naming the field for a bad name or type; 409 if the name is already declared (in any case)."""
        with transaction(request.app.state["engine"]) as session:
            done = declare_field(session, name=data.name, type=data.type, label=data.label, by=principal)
            out = CustomFieldOut.of(done.field)
        return Response(out, status_code=201)
