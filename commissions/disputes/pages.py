"""Dispute pages: the list, one dispute with its thread, opening one from a statement, answering, resolving.

Forms work as plain posts (303 back to the dispute); htmx swaps the thread in place.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlmodel import Session

from commissions.calculation.rows import stored_id
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import requires_person, requires_role
from commissions.core.principal import Principal
from commissions.core.rendering import page, page_or_partial
from commissions.disputes.queries import dispute_page, new_dispute_page
from commissions.disputes.service import (
    close_dispute,
    create_dispute,
    find_dispute,
    list_disputes,
    parse_adjustment,
    post_message,
)
from commissions.people.access import find_statement_person

PAGE = "pages/disputes/show.html"
THREAD = "partials/disputes/thread.html"
readers = requires_role("rep", "manager", "finance")


class NewDisputeForm(BaseModel):
    email: str = ""
    period: str = ""
    line: str = ""
    question: str = ""


class MessageForm(BaseModel):
    body: str = ""


class ResolveForm(BaseModel):
    note: str = ""
    amount: str = ""


def _line_id(text: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InputProblem("line", f"{text!r} is not a line number")
    return int(text)


class DisputesController(Controller):
    guards = [readers]
    include_in_schema = False

    @get("/disputes", sync_to_thread=True)
    def index(
        self,
        db: DbSession,
        principal: CurrentPrincipal,
        show: Annotated[str, QueryParameter(name="state")] = "unresolved",
    ) -> Template:
        rows = list_disputes(db, principal, unresolved_only=show != "all")
        return page("pages/disputes/list.html", {"rows": rows, "state": "all" if show == "all" else "unresolved"})

    @get("/disputes/new", sync_to_thread=True)
    def new(
        self,
        db: DbSession,
        principal: CurrentPrincipal,
        email: FromQuery[str],
        period: FromQuery[str],
        line: FromQuery[str] = "",
    ) -> Template:
        person = find_statement_person(db, principal, email)
        return page("pages/disputes/new.html", new_dispute_page(db, person, period, _line_id(line), None, ""))

    @post("/disputes", sync_to_thread=True, status_code=200, guards=[requires_person])
    def create(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[NewDisputeForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        person = find_statement_person(db, principal, data.email)
        line_id = None
        try:
            line_id = _line_id(data.line)
            dispute = create_dispute(
                request.app.state["engine"],
                principal=principal,
                person_id=stored_id(person),
                period_key=data.period.strip(),
                line_id=line_id,
                question=data.question,
            )
        except InputProblem as exc:
            if exc.status_code == 404:
                raise
            context = new_dispute_page(
                db, person, data.period.strip(), line_id, {"field": exc.field, "message": exc.message}, data.question
            )
            return page("pages/disputes/new.html", context, status_code=exc.status_code)
        return Redirect(f"/disputes/{dispute.id}?sent=1", status_code=303)  # the page confirms it went

    @get("/disputes/{dispute_id:int}", sync_to_thread=True)
    def show(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        dispute_id: FromPath[int],
        sent: FromQuery[str] = "",
    ) -> Template:
        find_dispute(db, principal, dispute_id)
        context = dispute_page(db, principal, dispute_id)
        context["sent"] = sent == "1"
        return page_or_partial(request, PAGE, THREAD, context)

    @post("/disputes/{dispute_id:int}/messages", sync_to_thread=True, status_code=200, guards=[requires_person])
    def message(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        dispute_id: FromPath[int],
        data: Annotated[MessageForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        find_dispute(db, principal, dispute_id)
        try:
            post_message(request.app.state["engine"], principal=principal, dispute_id=dispute_id, body=data.body)
        except InputProblem as exc:
            return self._form_error(request, db, principal, dispute_id, exc, {"body": data.body})
        return self._after_write(request, db, principal, dispute_id)

    @post(
        "/disputes/{dispute_id:int}/resolve",
        sync_to_thread=True,
        status_code=200,
        guards=[requires_role("finance"), requires_person],
    )
    def resolve(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        dispute_id: FromPath[int],
        data: Annotated[ResolveForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        find_dispute(db, principal, dispute_id)
        try:
            amount = parse_adjustment(data.amount)
            close_dispute(
                request.app.state["engine"], principal=principal, dispute_id=dispute_id, note=data.note, amount=amount
            )
        except InputProblem as exc:
            return self._form_error(request, db, principal, dispute_id, exc, {"note": data.note, "amount": data.amount})
        return self._after_write(request, db, principal, dispute_id)

    @staticmethod
    def _form_error(
        request: Request[Any, Any, Any],
        db: Session,
        principal: Principal,
        dispute_id: int,
        exc: InputProblem,
        form: dict[str, str],
    ) -> Template:
        error = {"field": exc.field, "message": exc.message}
        context = dispute_page(db, principal, dispute_id, fresh=True, error=error, form=form)
        is_htmx = bool(getattr(request, "htmx", False))
        return page_or_partial(request, PAGE, THREAD, context, status_code=200 if is_htmx else exc.status_code)

    @staticmethod
    def _after_write(
        request: Request[Any, Any, Any], db: Session, principal: Principal, dispute_id: int
    ) -> Template | Redirect:
        if getattr(request, "htmx", False):
            # fresh: end the read snapshot taken before the write, so the thread shows it
            return page(THREAD, dispute_page(db, principal, dispute_id, fresh=True))
        return Redirect(f"/disputes/{dispute_id}", status_code=303)
