"""Error responses: JSON for the API (``{"status_code", "detail", "extra"}``), pages for people."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.background_tasks import BackgroundTask
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from commissions.core.errors import Forbidden, InputProblem
from commissions.core.i18n import N_
from commissions.core.i18n import gettext as _

TITLES = {
    400: N_("That request could not be read"),
    401: N_("Please sign in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not allowed here"),
    413: N_("Too large"),
    429: N_("Too many attempts"),
}


def _is_api(request: Request[Any, Any, Any]) -> bool:
    # the scope's path, not request.url: building the URL parses the Host header, which may be invalid
    path = request.scope.get("path", "")
    return path.startswith(("/api/", "/schema", "/scim/"))


def _json(exc: HTTPException) -> Response[Any]:
    detail = exc.detail
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        # Litestar's "Validation failed for POST /api/v1/deals" names no field: say each one in the detail too
        # (``extra`` keeps its list of key and message for programs)
        said = [
            f"{e.get('key') or 'body'}: {e.get('message')}" if isinstance(e, dict) else str(e) for e in exc.extra[:5]
        ]
        detail = f"{detail}: {'; '.join(said)}"
    body = {"status_code": exc.status_code, "detail": detail, "extra": exc.extra or {}}
    return Response(content=body, status_code=exc.status_code, headers=getattr(exc, "headers", None) or None)


def _audit_forbidden(request: Request[Any, Any, Any], exc: HTTPException) -> BackgroundTask | None:
    """Every refused authorisation (403) goes to the audit log, after the response is sent."""
    if exc.status_code != 403:
        return None
    from anyio import to_thread

    from commissions.core.audit import record_forbidden

    ip = request.client.host if request.client else ""
    args = (request.app.state["engine"], request.scope.get("user"), request.method, request.url.path, exc.detail, ip)
    return BackgroundTask(to_thread.run_sync, record_forbidden, *args)


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if _is_api(request):
        response = _json(exc)
        response.background = _audit_forbidden(request, exc)
        return response
    if isinstance(exc, NotAuthorizedException):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        login = f"/login?next={quote(target, safe='')}"
        reason = request.scope.get("quotaboard.session_ended")  # see commissions.auth.sessions.END_REASON_KEY
        if reason:
            login += f"&reason={reason}"
        if request.headers.get("hx-request"):
            return Response(content="", status_code=401, headers={"HX-Redirect": login})
        return Redirect(login)
    status = exc.status_code
    return Template(
        template_name="errors/error.html",
        context={"status": status, "title": _(TITLES.get(status, "Something went wrong")), "detail": exc.detail},
        status_code=status,
        headers={"Cache-Control": "no-store"},
        background=_audit_forbidden(request, exc),
    )


def domain_error_handler(request: Request[Any, Any, Any], exc: InputProblem | Forbidden) -> Response[Any]:
    """Service errors become 400/403/409 with the offending field in ``extra``."""
    field = getattr(exc, "field", None)
    detail = getattr(exc, "message", None) or str(exc)
    http = HTTPException(status_code=exc.status_code, detail=detail, extra={"field": field} if field else None)
    return http_exception_handler(request, http)


def out_of_range_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A value the database cannot hold (an id beyond 64 bits, a text longer than its column): the
    request's fault, not the server's. Raised inside a transaction, so nothing was written."""
    request.logger.info("out-of-range value on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return domain_error_handler(
        request,
        InputProblem(
            "request", "a number or text in the request is out of range (an id or amount too large, or a text too long)"
        ),
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    request.logger.exception("unhandled error on %s %s", request.method, request.url.path)
    if _is_api(request):
        return Response(
            content={"status_code": 500, "detail": "Internal Server Error", "extra": {}},
            status_code=HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return Template(
        template_name="errors/error.html",
        context={"status": 500, "title": _("Something went wrong"), "detail": _("The error was logged.")},
        status_code=500,
    )
