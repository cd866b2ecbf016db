"""CSV uploads, shared by the deal import's page and API and by the lead-event import (marketing): the body
limit, reading the file from the request, running the import off the event loop, and the report as JSON."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from litestar import Request
from litestar.datastructures import UploadFile

from commissions.core.errors import InputProblem
from commissions.core.guards import requires_role
from commissions.core.principal import Principal
from commissions.deals.csv_import import MAX_BYTES, ImportReport, import_deals
from commissions.deals.events import after_deals_imported

importers = requires_role("finance", "admin")
BODY_LIMIT = MAX_BYTES + 64 * 1024


def report_json(report: ImportReport) -> dict[str, Any]:
    """An import's report as the import APIs answer it (the lead-event import uses the same report).

    A dry run counts what the import would do; a refused one did nothing and counts nothing ("created": 1 beside
    "committed": false and a row's error read as if a row had been stored)."""
    done = not report.errors
    return {
        "committed": report.committed,
        "rows": report.rows,
        "created": report.created if done else 0,
        "updated": report.updated if done else 0,
        "unchanged": report.unchanged if done else 0,
        "statements_queued": report.queued,
        "errors": [{"line": e.line, "field": e.field, "message": e.message} for e in report.errors],
    }


async def uploaded_bytes(request: Request[Any, Any, Any]) -> bytes:
    """The CSV sent as the body (text/csv) or as the multipart field ``file``."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InputProblem("file", "attach the CSV file in the form field 'file'")
        return await upload.read()
    return await request.body()


async def run_deal_import(
    request: Request[Any, Any, Any], content: bytes, principal: Principal, commit: bool
) -> ImportReport:
    """``import_deals`` in a worker thread; a committed import is announced (deals.events)."""
    app = request.app

    def work() -> ImportReport:
        report = import_deals(app.state["engine"], content, by=principal, commit=commit)
        if report.committed:
            after_deals_imported(app, report)
        return report

    return await to_thread.run_sync(work)
