"""The custom deal fields page (``/admin/custom-fields``): admins only (the API is in api.py)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.plugins.htmx import HTMXTemplate
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlmodel import Session

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import admins
from commissions.core.rendering import NO_STORE, page
from commissions.custom_fields.service import (
    declare_field_in,
    example_condition,
    list_fields,
)
from commissions.models.base import FIELD_TYPES

PAGE = "/admin/custom-fields"


class FieldForm(BaseModel):
    """The page's form, as typed (the CSRF field comes along)."""

    name: str = ""
    type: str = "text"
    label: str = ""


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
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[FieldForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        htmx = bool(getattr(request, "htmx", False))
        try:
            done = declare_field_in(
                request.app.state["engine"], name=data.name, type=data.type, label=data.label, by=principal
            )
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
