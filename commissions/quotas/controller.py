"""The quota pages (grid, inline cell edits, copy, CSV upload with preview) and ``PUT /api/v1/quotas``."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Body, FromQuery, JSONBody
from litestar.response import Redirect, Template
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import Conflict, InputProblem
from commissions.core.guards import managers
from commissions.core.periods import PeriodOutOfWindow, check_creatable, parse_or_current, period_window
from commissions.core.rendering import page
from commissions.quotas.csv import MAX_BYTES, TEMPLATE, read_quota_csv
from commissions.quotas.service import (
    Cell,
    PreviewRow,
    QuotaConflict,
    RawRow,
    RowProblem,
    RowsForbidden,
    RowsProblem,
    apply_change,
    apply_changes,
    build_grid,
    cell_change,
    copy_from_previous,
    fingerprint,
    is_money,
    load_cell,
    plain_target,
    preview,
    resolve_rows,
    run_write,
    target_value,
)

MAX_API_ITEMS = 5000


class CellForm(BaseModel):
    person_id: int
    metric: str
    period: str
    version: int = 0
    target: str = ""


class PeriodForm(BaseModel):
    period: str = ""


class ConfirmForm(BaseModel):
    content: str = ""
    fingerprint: str = ""


@dataclass
class UploadForm:
    file: UploadFile | None = None


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


def _engine(request: Request) -> Any:
    return request.app.state["engine"]


def _is_htmx(request: Request) -> bool:
    return bool(getattr(request, "htmx", False))


def _grid_context(session: Session, principal: CurrentPrincipal, key: Any, **extra: Any) -> dict[str, Any]:
    # links to the periods before and after only where a period may exist (the period window)
    return {"grid": build_grid(session, principal, key), "notice": None, "window": period_window(), **extra}


class QuotasController(Controller):
    path = "/quotas"
    guards = [managers]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def grid_page(
        self,
        db: DbSession,
        principal: CurrentPrincipal,
        period: FromQuery[str | None] = None,
        copied: FromQuery[int | None] = None,
        copied_from: FromQuery[str | None] = None,
        imported: FromQuery[int | None] = None,
    ) -> Template:
        key = check_creatable(db, parse_or_current(period))
        notice = None
        if copied is not None:
            source = parse_or_current(copied_from).key if copied_from else "the last period"
            notice = (
                f"Copied {copied} quota{'s' if copied != 1 else ''} from {source}."
                if copied
                else (f"Nothing to copy: everyone already has a quota here, or there were none in {source}.")
            )
        elif imported is not None:
            notice = f"Imported: {imported} quota{'s' if imported != 1 else ''} changed."
        return page("pages/quotas/grid.html", _grid_context(db, principal, key, notice=notice))

    @post("/cell", sync_to_thread=True, status_code=200)
    def save_cell(
        self,
        request: Request,
        principal: CurrentPrincipal,
        data: Annotated[CellForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        engine = _engine(request)
        key = parse_or_current(data.period)
        with Session(engine) as session:
            cell = load_cell(session, principal, data.person_id, data.metric, key)
            if cell is None:
                raise NotFoundException("No such quota cell.")
            try:
                check_creatable(session, key)  # 9999-Q4 is a typing mistake, not a period: 400
            except PeriodOutOfWindow as exc:
                if not _is_htmx(request):
                    raise
                cell.error, cell.attempted, cell.editable = exc.message, data.target, False
                return page("partials/quotas/cell.html", {"cell": cell})  # htmx swaps only 2xx

        def work(session: Session) -> Cell:
            if load_cell(session, principal, data.person_id, data.metric, key) is None:  # checked again, in the write
                raise NotFoundException("No such quota cell.")
            change = cell_change(
                session,
                principal,
                person_id=data.person_id,
                metric=data.metric,
                key=key,
                target=data.target,
                version=data.version,
            )
            apply_change(session, change, by=principal, source="grid")
            cell = load_cell(session, principal, data.person_id, data.metric, key)
            assert cell is not None
            cell.saved = True
            return cell

        status = 200
        try:
            cell = run_write(engine, work)
        except QuotaConflict as exc:
            cell = self._fresh_cell(engine, principal, data, key)
            cell.error = f"{exc.message}. Your value {data.target.strip() or '(empty)'} was not saved."
            status = 409
        except Conflict as exc:
            cell = self._fresh_cell(engine, principal, data, key)
            cell.error, cell.editable = exc.message, False
            status = 409
        except InputProblem as exc:
            cell = self._fresh_cell(engine, principal, data, key)
            cell.error, cell.attempted, cell.version = exc.message, data.target, data.version
            status = 400
        if _is_htmx(request):  # htmx 2 swaps only 2xx: the cell carries its own error
            return page("partials/quotas/cell.html", {"cell": cell})
        if status == 200:
            return Redirect(f"/quotas?period={key.key}#{cell.dom_id}", status_code=303)
        with Session(engine) as session:
            context = _grid_context(session, principal, key)
        for _team, rows in context["grid"].groups:
            for row in rows:
                if row.person.id == cell.person_id:
                    row.cells[cell.metric] = cell
        return page("pages/quotas/grid.html", context, status_code=status)

    @staticmethod
    def _fresh_cell(engine: Any, principal: CurrentPrincipal, data: CellForm, key: Any) -> Cell:
        with Session(engine) as session:
            cell = load_cell(session, principal, data.person_id, data.metric, key)
        if cell is None:  # the person left the caller's team in the meantime
            raise NotFoundException("No such quota cell.")
        return cell

    @post("/copy", sync_to_thread=True)
    def copy_previous(
        self,
        request: Request,
        principal: CurrentPrincipal,
        data: Annotated[PeriodForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        key = parse_or_current(data.period)
        with Session(_engine(request)) as session:
            check_creatable(session, key)
        result = run_write(_engine(request), lambda s: copy_from_previous(s, principal, key, by=principal))
        return Redirect(f"/quotas?period={key.key}&copied={result.copied}&copied_from={result.source}", status_code=303)

    @get("/upload", sync_to_thread=True)
    def upload_page(self) -> Template:
        return page("pages/quotas/upload.html", {"problems": [], "template": TEMPLATE, "max_bytes": MAX_BYTES})

    @post("/upload", sync_to_thread=True, status_code=200, request_max_body_size=MAX_BYTES + 64 * 1024)
    def upload(
        self,
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template:
        content = data.file.file.read(MAX_BYTES + 1) if data.file is not None else b""
        try:
            if not content:
                raise RowsProblem([RowProblem("", "file", "choose a quotas.csv file to upload")])
            changes = resolve_rows(db, principal, read_quota_csv(content))
        except (RowsProblem, RowsForbidden) as exc:
            return self._upload_errors(exc)
        return self._preview_page(preview(db, changes), content)

    @post("/upload/confirm", sync_to_thread=True, status_code=200, request_max_body_size=4 * MAX_BYTES)
    def confirm(
        self,
        request: Request,
        principal: CurrentPrincipal,
        data: Annotated[ConfirmForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        try:
            content = base64.b64decode(data.content.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise ValidationException("The upload could not be read: upload the file again.") from None
        stale: list[PreviewRow] = []

        def work(session: Session) -> tuple[int, str]:
            changes = resolve_rows(session, principal, read_quota_csv(content))
            rows = preview(session, changes)
            if fingerprint(rows) != data.fingerprint:
                stale.extend(rows)
                raise Conflict("file", "some of these quotas changed since the preview: check the new preview")
            outcomes = apply_changes(session, changes, by=principal, source="csv")
            return sum(o.action != "unchanged" for o in outcomes), changes[0].period.key

        try:
            changed, first_period = run_write(_engine(request), work)
        except (RowsProblem, RowsForbidden) as exc:
            return self._upload_errors(exc)
        except Conflict as exc:
            if not stale:
                raise
            return self._preview_page(stale, content, error=exc.message, status_code=409)
        return Redirect(f"/quotas?period={first_period}&imported={changed}", status_code=303)

    @staticmethod
    def _upload_errors(exc: RowsProblem | RowsForbidden) -> Template:
        status = 403 if isinstance(exc, RowsForbidden) else 200
        context = {"problems": exc.problems, "template": TEMPLATE, "max_bytes": MAX_BYTES}
        return page("pages/quotas/upload.html", context, status_code=status)

    @staticmethod
    def _preview_page(
        rows: list[PreviewRow], content: bytes, *, error: str | None = None, status_code: int = 200
    ) -> Template:
        context = {
            "rows": rows,
            "content": base64.b64encode(content).decode("ascii"),
            "fingerprint": fingerprint(rows),
            "changes": sum(r.action != "unchanged" for r in rows),
            "error": error,
        }
        return page("pages/quotas/preview.html", context, status_code=status_code)


class QuotasApiController(Controller):
    path = "/api/v1/quotas"
    guards = [managers]
    tags = ["quotas"]

    @put("/", sync_to_thread=True, summary="Set quota targets (all or nothing)")
    def put_quotas(
        self, request: Request, principal: CurrentPrincipal, data: JSONBody[list[QuotaIn]]
    ) -> list[QuotaOut]:
        """A manager sets their reports' targets (recursively), an admin anyone's. Anyone outside the
        caller's team refuses the whole request with 403; any bad item refuses it with 400, naming
        the item (its index in the list) and the field. Returns the stored quotas in request order."""
        if len(data) > MAX_API_ITEMS:
            raise ValidationException(f"at most {MAX_API_ITEMS} quotas per request", extra={"field": "body"})
        rows = [RawRow(f"[{i}]", q.person, q.metric, q.period, q.target, q.version, i) for i, q in enumerate(data)]

        def work(session: Session) -> list[QuotaOut]:
            outcomes = apply_changes(
                session,
                resolve_rows(session, principal, rows, closed_ok=True),
                by=principal,
                source="api",
                closed_ok=True,
            )
            out = []
            for o in outcomes:
                c = o.change
                stored = (
                    None
                    if o.quota is None
                    else plain_target(target_value(o.quota.target_minor, c.metric, c.currency), c.metric, c.currency)
                )
                out.append(
                    QuotaOut(
                        person=c.email,
                        metric=c.metric,
                        period=c.period.key,
                        target=stored,
                        unit=c.currency if is_money(c.metric) else "count",
                        version=o.version,
                    )
                )
            return out

        try:
            return run_write(_engine(request), work)
        except RowsProblem as exc:
            errors = [{"index": p.index, "field": p.field, "message": p.message} for p in exc.problems]
            raise ValidationException(exc.message, extra={"field": exc.field, "errors": errors}) from None
