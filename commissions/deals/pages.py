"""Deal pages: the deal list, the deal form (inline validation with htmx, splits included), the CSV import's
preview-then-confirm page for finance and admins, and the approval queue of held deal changes."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlmodel import Session

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import Forbidden, InputProblem
from commissions.core.guards import any_role, requires_person, requires_role
from commissions.core.principal import Principal
from commissions.core.rendering import page, page_or_partial
from commissions.custom_fields.service import list_fields
from commissions.deals.approvals import ApprovalNotFound, approve, held_for, reject
from commissions.deals.csv_import import MAX_BYTES
from commissions.deals.events import after_deal_recorded
from commissions.deals.queries import form_choices, period_filter, visible_deals
from commissions.deals.schemas import DealIn, error_field_and_message
from commissions.deals.service import dry_run, record_one
from commissions.deals.uploads import BODY_LIMIT, importers, run_deal_import
from commissions.models import CustomField

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


# --- the deal list ---------------------------------------------------------------------------------------------


class DealsController(Controller):
    guards = [any_role]
    tags = ["deals"]
    include_in_schema = False

    @get("/deals", sync_to_thread=True)
    def deals_page(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        period: FromQuery[str | None] = None,
    ) -> Template:
        key = period_filter(period, default_today=True)
        rows = visible_deals(db, principal, key)
        context = {"rows": rows, "period": key, "scope": _scope_label(principal)}
        return page_or_partial(request, "pages/deals/list.html", "partials/deals/table.html", context)


def _scope_label(principal: CurrentPrincipal) -> str:
    return {"rep": "your deals", "manager": "your team's deals"}.get(principal.role, "all deals")


# --- the deal form ---------------------------------------------------------------------------------------------

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


def _dry_run_errors(request: Request[Any, Any, Any], data: DealIn, principal: Principal) -> dict[str, str]:
    """What a save would refuse, by form slot (nothing is written)."""
    try:
        dry_run(request.app.state["engine"], data, principal)
    except InputProblem as exc:
        return {_slot(exc.field): exc.message}
    except Forbidden as exc:
        return {"owner": str(exc)}
    return {}


def _form_values(data: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in data.items() if k != "_csrf_token"}


class DealFormController(Controller):
    path = "/deals/new"
    guards = [requires_role("rep", "manager"), requires_person]
    include_in_schema = False

    def _render(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        principal: Principal,
        values: dict[str, str],
        errors: dict[str, str],
        *,
        status_code: int = 200,
    ) -> Template:
        context = {"values": values, "errors": errors, "split_rows": range(SPLIT_ROWS), **form_choices(db, principal)}
        return page_or_partial(
            request, "pages/deals/new.html", "partials/deals/form.html", context, status_code=status_code
        )

    @get("/", sync_to_thread=True)
    def form(self, request: Request[Any, Any, Any], db: DbSession, principal: CurrentPrincipal) -> Template:
        return self._render(request, db, principal, _blank(principal), {})

    @post("/validate", sync_to_thread=True, status_code=200)
    def validate(
        self, request: Request[Any, Any, Any], db: DbSession, principal: CurrentPrincipal, data: FormData
    ) -> Template:
        values = _form_values(data)
        custom_fields = list_fields(db)
        deal, errors = _to_deal(values, custom_fields)
        if deal is not None:
            # checked as a new deal: whether the id names an existing one is not the live check's to say
            # (deals/rules.py, "no existence oracle"); saving answers that, naming nobody
            fresh = deal.model_copy(update={"external_id": "QB-CHECK-" + secrets.token_hex(8)})
            errors = _dry_run_errors(request, fresh, principal)
        if getattr(request, "htmx", False):  # only the error slots: never replace what the user is typing
            slots = (*ERROR_SLOTS, *(CUSTOM + f.name for f in custom_fields))
            return page("partials/deals/form_errors.html", {"errors": errors, "error_slots": slots})
        return self._render(request, db, principal, values, errors)

    @post("/", sync_to_thread=True, status_code=200)
    def save(
        self, request: Request[Any, Any, Any], db: DbSession, principal: CurrentPrincipal, data: FormData
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
                    target = f"/deals?recorded={result.stored_deal().external_id}"
                return ClientRedirect(target) if getattr(request, "htmx", False) else Redirect(target)
        status = 200 if getattr(request, "htmx", False) else 400
        return self._render(request, db, principal, values, errors, status_code=status)


# --- the CSV import page ---------------------------------------------------------------------------------------

STASH_SECONDS = 15 * 60


class DealImportController(Controller):
    guards = [importers]
    include_in_schema = False

    @get("/deals/import")
    async def import_page(self) -> Template:
        return page("pages/deals/import.html", {"report": None, "stash": None, "max_mb": MAX_BYTES // (1024 * 1024)})

    @post("/deals/import", request_max_body_size=BODY_LIMIT, status_code=200)
    async def preview_or_commit(self, request: Request[Any, Any, Any], principal: CurrentPrincipal) -> Template:
        """Step 1 uploads and previews (nothing saved); step 2 confirms the stashed file."""
        store = request.app.stores.get("imports")
        form = await request.form()
        stash_key = str(form.get("stash") or "")
        context: dict[str, Any] = {"max_mb": MAX_BYTES // (1024 * 1024), "stash": None, "confirmed": False}
        if stash_key:
            content = await store.get(f"{principal.person_id}:{stash_key}")
            if content is None:
                context["report"] = None
                context["error"] = "That preview has expired: upload the file again."
                return page("pages/deals/import.html", context, status_code=400)
            report = await run_deal_import(request, content, principal, commit=True)
            await store.delete(f"{principal.person_id}:{stash_key}")
            context.update(report=report, confirmed=report.committed)
            return page("pages/deals/import.html", context, status_code=200 if report.ok else 400)

        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            context.update(report=None, error="Choose a CSV file to upload.")
            return page("pages/deals/import.html", context, status_code=400)
        content = await upload.read()
        try:
            report = await run_deal_import(request, content, principal, commit=False)
        except InputProblem as exc:
            context.update(report=None, error=exc.message)
            return page("pages/deals/import.html", context, status_code=exc.status_code)
        if report.ok:
            key = secrets.token_urlsafe(16)
            await store.set(f"{principal.person_id}:{key}", content, expires_in=STASH_SECONDS)
            context["stash"] = key
        context["report"] = report
        context["filename"] = upload.filename
        return page("pages/deals/import.html", context, status_code=200 if report.ok else 400)


# --- the approval queue ----------------------------------------------------------------------------------------

RETURN_TO = {"/", "/deals/approvals"}


def _back(data: dict[str, Any], done: str) -> Redirect:
    target = str(data.get("next") or "/deals/approvals")
    target = target if target in RETURN_TO else "/deals/approvals"
    return Redirect(f"{target}?{done}", status_code=303)


class DealApprovalsController(Controller):
    path = "/deals/approvals"
    guards = [requires_role("rep", "manager", "finance"), requires_person]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def queue(
        self,
        db: DbSession,
        principal: CurrentPrincipal,
        approved: FromQuery[str | None] = None,
        rejected: FromQuery[str | None] = None,
        held: FromQuery[str | None] = None,
    ) -> Template:
        return page(
            "pages/deals/approvals.html",
            {"held": held_for(db, principal), "approved": approved, "rejected": rejected, "held_new": held},
        )

    @post("/{approval_id:int}/approve", guards=[requires_role("manager", "finance")], sync_to_thread=True)
    def approve(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, approval_id: FromPath[int], data: FormData
    ) -> Redirect:
        try:
            result = approve(request.app.state["engine"], approval_id, by=principal)
        except ApprovalNotFound as exc:
            raise NotFoundException() from exc
        after_deal_recorded(request.app, result)
        return _back(data, f"approved={result.deal.external_id if result.deal else ''}")

    @post("/{approval_id:int}/reject", guards=[requires_role("manager", "finance")], sync_to_thread=True)
    def reject(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, approval_id: FromPath[int], data: FormData
    ) -> Redirect:
        try:
            external_id = reject(request.app.state["engine"], approval_id, by=principal)
        except ApprovalNotFound as exc:
            raise NotFoundException() from exc
        return _back(data, f"rejected={external_id}")
