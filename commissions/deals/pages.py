"""Deal pages: the deal list, the deal form (inline validation with htmx, splits included), the CSV import's
preview-then-confirm page for finance and admins, and the approval queue of held deal changes."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Body, FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlmodel import Session

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import Forbidden, InputProblem
from commissions.core.formatting import shown_word
from commissions.core.guards import any_role, requires_person, requires_role
from commissions.core.i18n import gettext as _
from commissions.core.money import MoneyError, typed_number
from commissions.core.paging import BadCursor
from commissions.core.periods import quarter_of
from commissions.core.principal import Principal
from commissions.core.rendering import page, page_or_partial
from commissions.custom_fields.service import list_fields
from commissions.deals.approvals import ApprovalNotFound, approve, confirmed_notices, held_for, reject
from commissions.deals.csv_import import MAX_BYTES
from commissions.deals.detail import DealNotFound, deal_view, editable_deal, find_recorded, may_change
from commissions.deals.events import after_deal_recorded
from commissions.deals.ingest import closed_period_state
from commissions.deals.listing import PARAMETERS, deal_page, list_choices, read_filter
from commissions.deals.queries import form_choices
from commissions.deals.schemas import DealIn, DealOut, error_field_and_message
from commissions.deals.service import dry_run, record_one
from commissions.deals.uploads import BODY_LIMIT, importers, run_deal_import
from commissions.models import CustomField
from commissions.models.base import DEAL_TYPES

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


# --- the deal list and the deal page ---------------------------------------------------------------------------


def _wants_partial(request: Request[Any, Any, Any]) -> bool:
    """An htmx swap gets the table alone; a history restore (back button, cache miss) needs the whole page."""
    return bool(getattr(request, "htmx", False)) and not request.headers.get("hx-history-restore-request")


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
        recorded: FromQuery[str | None] = None,
    ) -> Template:
        """Search, filters, sort and paging, each a query parameter (``deals/listing.py``); a bad one is answered
        with its name and what it takes (400, or 200 to an htmx swap, which does not show 4xx answers)."""
        params = {k: request.query_params.get(k) for k in PARAMETERS}
        context: dict[str, Any] = {
            "params": {k: v or "" for k, v in params.items()},
            "scope": _scope_label(principal),
            "recorded": recorded,
            "recorded_deal": find_recorded(db, principal, recorded) if recorded else None,
            "problem": None,
            **list_choices(db, principal),
        }
        status = 200
        try:
            deal_filter = read_filter(params)
            listed = deal_page(db, principal, deal_filter, params["cursor"] or None)
        except BadCursor as exc:
            problem: InputProblem | None = InputProblem("cursor", str(exc).removeprefix("cursor: "))
        except InputProblem as exc:
            problem = exc
        else:
            problem = None
            context.update(filter=deal_filter, listed=listed, query=deal_filter.query())
        if problem is not None:
            context.update(problem=problem, filter=None, listed=None, query={})
            status = 200 if _wants_partial(request) else 400
        template = "partials/deals/table.html" if _wants_partial(request) else "pages/deals/list.html"
        return page(template, context, status_code=status)

    @get("/deals/{deal_id:int}", sync_to_thread=True)
    def deal_detail(
        self,
        db: DbSession,
        principal: CurrentPrincipal,
        deal_id: FromPath[int],
        saved: FromQuery[str | None] = None,
    ) -> Template:
        return self._deal(db, principal, deal_id, saved=saved)

    def _deal(
        self,
        db: Session,
        principal: Principal,
        deal_id: int,
        *,
        saved: str | None = None,
        errors: dict[str, str] | None = None,
        cancel_on: str = "",
        status_code: int = 200,
    ) -> Template:
        try:
            view = deal_view(db, principal, deal_id)
        except DealNotFound as exc:
            raise NotFoundException(exc.message) from exc
        context = {
            "view": view,
            "saved": saved if saved in SAVED else None,
            "errors": errors or {},
            "cancel_on": cancel_on or date.today().isoformat(),
        }
        return page("pages/deals/detail.html", context, status_code=status_code)

    @get("/deals/{deal_id:int}/edit", sync_to_thread=True)
    def edit_form(self, db: DbSession, principal: CurrentPrincipal, deal_id: FromPath[int]) -> Template:
        current = _changeable(db, principal, deal_id)
        values = {k: "" if v is None else str(v) for k, v in current.model_dump().items() if k in EDITABLE}
        return self._edit(deal_id, current, values, {})

    def _edit(
        self, deal_id: int, current: DealOut, values: dict[str, str], errors: dict[str, str], *, status_code: int = 200
    ) -> Template:
        context = {"deal_id": deal_id, "deal": current, "values": values, "errors": errors, "types": DEAL_TYPES}
        return page("pages/deals/edit.html", context, status_code=status_code)

    @post("/deals/{deal_id:int}/edit", sync_to_thread=True, status_code=200)
    def save_edit(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        deal_id: FromPath[int],
        data: FormData,
    ) -> Template | Redirect:
        current = _changeable(db, principal, deal_id)
        stored = current.model_dump()
        values = {k: str(data[k] if k in data else stored[k] or "").strip() for k in EDITABLE}
        body = current.model_dump(mode="json", exclude={"approval"}) | {
            k: (v or None) if k in ("term_months", "source_campaign") else v for k, v in values.items()
        }
        outcome, errors = _save(request, body, principal)
        if outcome is not None:
            return _after_save(deal_id, current.external_id, outcome, done="updated")
        errors = {k if k in EDITABLE else "form": v if k in EDITABLE else f"{k}: {v}" for k, v in errors.items()}
        return self._edit(deal_id, current, values, errors, status_code=400)

    @post("/deals/{deal_id:int}/cancel", sync_to_thread=True, status_code=200)
    def cancel(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        deal_id: FromPath[int],
        data: FormData,
    ) -> Template | Redirect:
        current = _changeable(db, principal, deal_id)
        day = str(data.get("cancelled_at", "")).strip()
        if current.status == "cancelled":
            errors = {"cancelled_at": "this deal is already cancelled"}
        elif not day:
            errors = {"cancelled_at": "choose the day the deal was cancelled"}
        else:
            body = current.model_dump(mode="json", exclude={"approval"}) | {"status": "cancelled", "cancelled_at": day}
            outcome, errors = _save(request, body, principal)
            if outcome is not None:
                return _after_save(deal_id, current.external_id, outcome, done="cancelled")
        return self._deal(db, principal, deal_id, errors=errors, cancel_on=day, status_code=400)


EDITABLE = ("name", "account", "amount", "currency", "closed_at", "type", "product", "term_months", "source_campaign")
SAVED = {"updated": "Saved.", "unchanged": "Nothing changed.", "cancelled": "Cancelled."}


def _changeable(db: Session, principal: Principal, deal_id: int) -> DealOut:
    """The deal as stored, if the caller may see it (else 404) and change it (else 403)."""
    try:
        current, _ = editable_deal(db, principal, deal_id)
        allowed = may_change(db, principal, deal_id)
    except DealNotFound as exc:
        raise NotFoundException(exc.message) from exc
    if not allowed:
        raise PermissionDeniedException("you may not change this deal: ask your manager or finance")
    return current


def _save(
    request: Request[Any, Any, Any], body: dict[str, Any], principal: Principal
) -> tuple[str | None, dict[str, str]]:
    """Record the changed deal through the one service every door uses: (outcome, {}) or (None, errors)."""
    try:
        deal = DealIn.model_validate(body)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            name, message = error_field_and_message(err)
            errors.setdefault(name if name != "row" else "form", message)
        return None, errors
    try:
        result, _ = record_one(request.app.state["engine"], deal, by=principal)
    except InputProblem as exc:
        return None, {exc.field: exc.message}
    except Forbidden as exc:
        return None, {"form": str(exc)}
    after_deal_recorded(request.app, result, door="form")
    return result.outcome, {}


def _after_save(deal_id: int, external_id: str, outcome: str, *, done: str) -> Redirect:
    if outcome == "held":  # credits other people: waits for approval (deals/rules.py)
        return Redirect(f"/deals/approvals?held={quote(external_id)}", status_code=303)
    return Redirect(f"/deals/{deal_id}?saved={done if outcome != 'unchanged' else 'unchanged'}", status_code=303)


def _scope_label(principal: CurrentPrincipal) -> str:
    return {"rep": _("your deals"), "manager": _("your team's deals")}.get(principal.role) or _("all deals")


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
    errors: dict[str, str] = {}
    if "amount" in body:  # as people type it: 40,000.50 (the pages show amounts so)
        try:
            body["amount"] = typed_number(body["amount"])
        except MoneyError as exc:
            errors["amount"] = str(exc)
    try:
        deal = DealIn.model_validate(body)
    except ValidationError as exc:
        for err in exc.errors():
            name, message = error_field_and_message(err)
            errors.setdefault(_slot(name) if name != "row" else "form", message)
        return None, errors
    return (None, errors) if errors else (deal, {})


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

    @staticmethod
    def _notes(db: Session, values: dict[str, str]) -> dict[str, str]:
        """What the form should know before saving, which is not an error: a close date in a locked or paid
        period (the deal then pays as a prior-period adjustment, not in that period), or one still to come (a
        won deal has closed: a typo in the year counts it in a period nobody looks at yet)."""
        try:
            day = date.fromisoformat(values.get("closed_at", "").strip())
        except ValueError:
            return {}
        if day > date.today():
            note = _("%(day)s is after today: a won deal has already closed. It counts in %(period)s, as dated.")
            return {"closed_at": note % {"day": day.isoformat(), "period": quarter_of(day).key}}
        closed = closed_period_state(db, day)
        if closed is None:
            return {}
        message = _(
            "%(period)s is %(state)s: its pay no longer changes, so what this deal earns is booked as a "
            "prior-period adjustment in the next open period."
        )
        return {"closed_at": message % {"period": closed.key, "state": shown_word(closed.state)}}

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
        context = {
            "values": values,
            "errors": errors,
            "notes": self._notes(db, values),
            "split_rows": range(SPLIT_ROWS),
            **form_choices(db, principal),
        }
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
            context = {"errors": errors, "error_slots": slots, "notes": self._notes(db, values)}
            return page("partials/deals/form_errors.html", context)
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
                after_deal_recorded(request.app, result, door="form")
                if result.outcome == "held":  # credits other people: waits for approval (deals/rules.py)
                    target = f"/deals/approvals?held={deal.external_id}"
                else:  # the list shows the deal's quarter (a deal of a past quarter is not in the current one's list)
                    stored = result.stored_deal()
                    target = f"/deals?recorded={quote(stored.external_id)}&period={quarter_of(stored.closed_at).key}"
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
        notices = confirmed_notices(db, principal, approved=approved, rejected=rejected, held=held)
        return page(
            "pages/deals/approvals.html",
            {
                "held": held_for(db, principal),
                "approved": notices["approved"],
                "rejected": notices["rejected"],
                "held_new": notices["held"],
            },
        )

    @post("/{approval_id:int}/approve", guards=[requires_role("manager", "finance")], sync_to_thread=True)
    def approve(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, approval_id: FromPath[int], data: FormData
    ) -> Redirect:
        try:
            result = approve(request.app.state["engine"], approval_id, by=principal)
        except ApprovalNotFound as exc:
            raise NotFoundException() from exc
        after_deal_recorded(request.app, result, door="approval")
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
