"""Deal CSV import: the API for scripts and a preview-then-confirm page for finance and admins."""

from __future__ import annotations

import secrets
from typing import Any

from anyio import to_thread
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException
from litestar.params import FromQuery
from litestar.response import Template

from commissions.core.dependencies import CurrentPrincipal
from commissions.core.errors import InputProblem
from commissions.core.guards import requires_role
from commissions.core.rendering import page
from commissions.deals.csv_import import MAX_BYTES, ImportReport, import_deals
from commissions.deals.events import after_deals_imported

importers = requires_role("finance", "admin")
STASH_SECONDS = 15 * 60
BODY_LIMIT = MAX_BYTES + 64 * 1024


def report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "committed": report.committed,
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "statements_queued": report.queued,
        "errors": [{"line": e.line, "field": e.field, "message": e.message} for e in report.errors],
    }


async def _uploaded_bytes(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InputProblem("file", "attach the CSV file in the form field 'file'")
        return await upload.read()
    return await request.body()


async def _run(request: Request, content: bytes, principal: CurrentPrincipal, commit: bool) -> ImportReport:
    app = request.app

    def work() -> ImportReport:
        report = import_deals(app.state["engine"], content, by=principal, commit=commit)
        if report.committed:
            after_deals_imported(app, report)
        return report

    return await to_thread.run_sync(work)


class DealImportController(Controller):
    guards = [importers]

    @post(
        "/api/v1/deals/import",
        tags=["deals"],
        request_max_body_size=BODY_LIMIT,
        status_code=200,
        summary="Import deals from CSV (cli.md format): all rows or none",
    )
    async def import_api(
        self, request: Request, principal: CurrentPrincipal, dry_run: FromQuery[bool] = False
    ) -> dict[str, Any]:
        """Send the CSV as the body (text/csv) or as the multipart field ``file``. ``dry_run=true`` previews."""
        report = await _run(request, await _uploaded_bytes(request), principal, commit=not dry_run)
        if report.errors:
            raise HTTPException(
                status_code=400,
                detail=f"{len({e.line for e in report.errors})} row(s) have errors: nothing was imported",
                extra=report_json(report),
            )
        return report_json(report)

    @get("/deals/import", include_in_schema=False)
    async def import_page(self) -> Template:
        return page("pages/deals/import.html", {"report": None, "stash": None, "max_mb": MAX_BYTES // (1024 * 1024)})

    @post("/deals/import", include_in_schema=False, request_max_body_size=BODY_LIMIT, status_code=200)
    async def preview_or_commit(self, request: Request, principal: CurrentPrincipal) -> Template:
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
            report = await _run(request, content, principal, commit=True)
            await store.delete(f"{principal.person_id}:{stash_key}")
            context.update(report=report, confirmed=report.committed)
            return page("pages/deals/import.html", context, status_code=200 if report.ok else 400)

        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            context.update(report=None, error="Choose a CSV file to upload.")
            return page("pages/deals/import.html", context, status_code=400)
        content = await upload.read()
        try:
            report = await _run(request, content, principal, commit=False)
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
