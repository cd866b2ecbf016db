"""The quota pages: the grid, inline cell edits, copy from the previous period, CSV upload with preview."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlmodel import Session

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import Conflict, InputProblem
from commissions.core.formatting import metric_name
from commissions.core.guards import managers
from commissions.core.i18n import gettext as _
from commissions.core.i18n import ngettext
from commissions.core.periods import PeriodKey, PeriodOutOfWindow, check_creatable, parse_or_current
from commissions.core.rendering import page
from commissions.quotas.batches import PreviewRow, fingerprint, preview, resolve_rows
from commissions.quotas.csv import MAX_BYTES, TEMPLATE, read_quota_csv
from commissions.quotas.grid import Cell, load_cell
from commissions.quotas.queries import fresh_cell, grid_context
from commissions.quotas.service import CellNotFound, PreviewStale, confirm_upload, copy_previous, save_cell
from commissions.quotas.targets import QuotaConflict, RowProblem, RowsForbidden, RowsProblem


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


def _saved_cell(context: dict[str, Any], saved: str) -> Cell | None:
    """The grid's cell named by ``saved`` ("<person id>-<metric>"), if it is on the page."""
    person, _dash, metric = saved.partition("-")
    for _team, rows in context["grid"].groups:
        for row in rows:
            if str(row.person.id) == person and metric in row.cells:
                found: Cell = row.cells[metric]
                return found
    return None


def _engine(request: Request[Any, Any, Any]) -> Any:
    return request.app.state["engine"]


def _is_htmx(request: Request[Any, Any, Any]) -> bool:
    return bool(getattr(request, "htmx", False))


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
        saved: FromQuery[str | None] = None,
    ) -> Template:
        key = check_creatable(db, parse_or_current(period))
        notice = None
        if copied is not None:
            source = parse_or_current(copied_from).key if copied_from else _("the last period")
            if copied:
                notice = ngettext(
                    "Copied %(n)s quota from %(source)s.", "Copied %(n)s quotas from %(source)s.", copied
                ) % {"n": copied, "source": source}
            else:
                notice = _("Nothing to copy: everyone already has a quota here, or there were none in %(source)s.") % {
                    "source": source
                }
        elif imported is not None:
            notice = ngettext("Imported: %(n)s quota changed.", "Imported: %(n)s quotas changed.", imported) % {
                "n": imported
            }
        context = grid_context(db, principal, key, notice=notice)
        if saved and (cell := _saved_cell(context, saved)) is not None:  # a save without JavaScript came back here
            cell.saved = True
            what = {"metric": metric_name(cell.metric).lower(), "name": cell.person_name, "period": key.key}
            context["notice"] = (
                _("Saved: the %(metric)s quota of %(name)s for %(period)s is now %(value)s.")
                % (what | {"value": cell.display})
                if cell.minor is not None
                else _("Saved: the %(metric)s quota of %(name)s for %(period)s is now empty.") % what
            )
        return page("pages/quotas/grid.html", context)

    @post("/cell", sync_to_thread=True, status_code=200)
    def save_cell(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[CellForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        key = parse_or_current(data.period)
        cell = load_cell(db, principal, data.person_id, data.metric, key)
        if cell is None:
            raise NotFoundException("No such quota cell.")
        try:
            check_creatable(db, key)  # 9999-Q4 is a typing mistake, not a period: 400
        except PeriodOutOfWindow as exc:
            if not _is_htmx(request):
                raise
            cell.error, cell.attempted, cell.editable = exc.message, data.target, False
            return page("partials/quotas/cell.html", {"cell": cell})  # htmx swaps only 2xx

        status = 200
        try:
            cell = save_cell(
                _engine(request),
                principal,
                person_id=data.person_id,
                metric=data.metric,
                key=key,
                target=data.target,
                version=data.version,
            )
        except CellNotFound:
            raise NotFoundException("No such quota cell.") from None
        except QuotaConflict as exc:
            cell = self._fresh_cell(db, principal, data, key)
            cell.error = f"{exc.message}. Your value {data.target.strip() or '(empty)'} was not saved."
            status = 409
        except Conflict as exc:
            cell = self._fresh_cell(db, principal, data, key)
            cell.error, cell.editable = exc.message, False
            status = 409
        except InputProblem as exc:
            cell = self._fresh_cell(db, principal, data, key)
            cell.error, cell.attempted, cell.version = exc.message, data.target, data.version
            status = 400
        if _is_htmx(request):  # htmx 2 swaps only 2xx: the cell carries its own error
            return page("partials/quotas/cell.html", {"cell": cell})
        if status == 200:
            saved = f"{cell.person_id}-{cell.metric}"
            return Redirect(f"/quotas?period={key.key}&saved={saved}#{cell.dom_id}", status_code=303)
        context = grid_context(db, principal, key)
        for _team, rows in context["grid"].groups:
            for row in rows:
                if row.person.id == cell.person_id:
                    row.cells[cell.metric] = cell
        return page("pages/quotas/grid.html", context, status_code=status)

    @staticmethod
    def _fresh_cell(db: Session, principal: CurrentPrincipal, data: CellForm, key: PeriodKey) -> Cell:
        cell = fresh_cell(db, principal, data.person_id, data.metric, key)
        if cell is None:  # the person left the caller's team in the meantime
            raise NotFoundException("No such quota cell.")
        return cell

    @post("/copy", sync_to_thread=True)
    def copy_previous(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[PeriodForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        key = parse_or_current(data.period)
        check_creatable(db, key)
        result = copy_previous(_engine(request), principal, key)
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
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: Annotated[ConfirmForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        try:
            content = base64.b64decode(data.content.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise ValidationException("The upload could not be read: upload the file again.") from None
        try:
            changed, first_period = confirm_upload(
                _engine(request), principal, read_quota_csv(content), data.fingerprint
            )
        except (RowsProblem, RowsForbidden) as exc:
            return self._upload_errors(exc)
        except PreviewStale as exc:
            return self._preview_page(exc.rows, content, error=exc.message, status_code=409)
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
