"""The deal form for reps and managers: inline validation with htmx, splits included."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session, select

from commissions.core.db import write_session
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import Forbidden, InputProblem
from commissions.core.guards import requires_person, requires_role
from commissions.core.principal import Principal
from commissions.core.rendering import page, page_or_partial
from commissions.custom_fields.service import check_deal, list_fields
from commissions.deals.events import after_deal_recorded
from commissions.deals.ingest import DealWriter
from commissions.deals.schemas import DealIn, error_field_and_message
from commissions.deals.service import record_one
from commissions.models import Campaign, CustomField, Person
from commissions.people.service import visible_person_ids

SPLIT_ROWS = 3
ERROR_SLOTS = (
    "name",
    "account",
    "owner",
    "amount",
    "currency",
    "closed_at",
    "product",
    "term_months",
    "external_id",
    "splits",
    "type",
    "source_campaign",
)
FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
FIELDS = (
    "external_id",
    "name",
    "account",
    "owner",
    "amount",
    "currency",
    "closed_at",
    "type",
    "product",
    "term_months",
    "source_campaign",
)
CUSTOM = "custom_"  # a declared custom field's input is named custom_<name> (no clash with the fields above)


def _choices(db: Session, principal: Principal) -> dict[str, Any]:
    visible = visible_person_ids(db, principal)
    owners = db.exec(
        select(Person.email, Person.name).where(Person.active, Person.id.in_(visible or set())).order_by(Person.name)
    ).all()
    campaigns = db.exec(select(Campaign.code, Campaign.name).order_by(Campaign.code)).all()
    colleagues = db.exec(
        select(Person.email, Person.name)
        .where(Person.active, Person.role.in_(("rep", "manager")))
        .order_by(Person.name)
    ).all()
    return {
        "owners": owners,
        "campaigns": campaigns,
        "colleagues": colleagues,
        "split_rows": range(SPLIT_ROWS),
        "custom_fields": list_fields(db),
    }


def _slot(field: str) -> str:
    """The form's error slot for a service error's field (``custom_fields.region`` → ``custom_region``)."""
    return CUSTOM + field.removeprefix("custom_fields.") if field.startswith("custom_fields.") else field


def _blank(principal: Principal) -> dict[str, str]:
    values = dict.fromkeys(FIELDS, "")
    values.update(owner=principal.email or "", currency="USD", type="new", closed_at=date.today().isoformat())
    return values


def _to_deal(values: dict[str, str], custom_fields: list[CustomField]) -> tuple[DealIn | None, dict[str, str]]:
    """Form fields → DealIn, or the errors by field name."""
    body: dict[str, Any] = {k: v.strip() for k, v in values.items() if k in FIELDS and v.strip()}
    custom = {f.name: value for f in custom_fields if (value := values.get(CUSTOM + f.name, "").strip())}
    if custom:
        body["custom_fields"] = custom
    body.setdefault("external_id", "QB-" + secrets.token_hex(4).upper())
    splits = []
    for i in range(SPLIT_ROWS):
        person, share = values.get(f"split_person_{i}", "").strip(), values.get(f"split_share_{i}", "").strip()
        if person or share:
            splits.append({"person": person, "share": share or "0"})
    if splits:
        body["splits"] = splits
    try:
        return DealIn.model_validate(body), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            name, message = error_field_and_message(err)
            errors.setdefault(_slot(name) if name != "row" else "form", message)
        return None, errors


def _dry_run(engine: Engine, data: DealIn, principal: Principal) -> dict[str, str]:
    """Everything a save would check (people exist, permission, locked periods), then roll back."""
    with write_session(engine) as session:
        session.begin()
        try:
            check_deal(session, custom_fields=data.custom_fields)
            DealWriter(session, principal).write(data)
        except InputProblem as exc:
            return {_slot(exc.field): exc.message}
        except Forbidden as exc:
            return {"owner": str(exc)}
        finally:
            session.rollback()
    return {}


class DealFormController(Controller):
    path = "/deals/new"
    guards = [requires_role("rep", "manager"), requires_person]
    include_in_schema = False

    def _render(
        self,
        request: Request,
        db: Session,
        principal: Principal,
        values: dict[str, str],
        errors: dict[str, str],
        *,
        status_code: int = 200,
    ) -> Template:
        context = {"values": values, "errors": errors, **_choices(db, principal)}
        return page_or_partial(
            request, "pages/deals/new.html", "partials/deals/form.html", context, status_code=status_code
        )

    @get("/", sync_to_thread=True)
    def form(self, request: Request, db: DbSession, principal: CurrentPrincipal) -> Template:
        return self._render(request, db, principal, _blank(principal), {})

    @post("/validate", sync_to_thread=True, status_code=200)
    def validate(self, request: Request, db: DbSession, principal: CurrentPrincipal, data: FormData) -> Template:
        values = _form_values(data)
        custom_fields = list_fields(db)
        deal, errors = _to_deal(values, custom_fields)
        if deal is not None:
            # checked as a new deal: whether the id names an existing one is not the live check's to say
            # (deals/rules.py, "no existence oracle"); saving answers that, naming nobody
            fresh = deal.model_copy(update={"external_id": "QB-CHECK-" + secrets.token_hex(8)})
            errors = _dry_run(request.app.state["engine"], fresh, principal)
        if getattr(request, "htmx", False):  # only the error slots: never replace what the user is typing
            slots = (*ERROR_SLOTS, *(CUSTOM + f.name for f in custom_fields))
            return page("partials/deals/form_errors.html", {"errors": errors, "error_slots": slots})
        return self._render(request, db, principal, values, errors)

    @post("/", sync_to_thread=True, status_code=200)
    def save(
        self, request: Request, db: DbSession, principal: CurrentPrincipal, data: FormData
    ) -> Template | Redirect | ClientRedirect:
        values = _form_values(data)
        deal, errors = _to_deal(values, list_fields(db))
        if deal is not None:
            try:
                result, _ = record_one(request.app.state["engine"], deal, by=principal)
            except InputProblem as exc:
                errors = {_slot(exc.field): exc.message}
            except Forbidden as exc:
                errors = {"owner": str(exc)}
            else:
                after_deal_recorded(request.app, result)
                if result.outcome == "held":  # credits other people: waits for approval (deals/rules.py)
                    target = f"/deals/approvals?held={deal.external_id}"
                else:
                    target = f"/deals?recorded={result.deal.external_id}"
                return ClientRedirect(target) if getattr(request, "htmx", False) else Redirect(target)
        status = 200 if getattr(request, "htmx", False) else 400
        return self._render(request, db, principal, values, errors, status_code=status)


def _form_values(data: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in data.items() if k != "_csrf_token"}
