"""``/scim/v2``: SCIM 2.0 (RFC 7644) for Okta, Microsoft Entra ID and authentik: discovery, Users and Groups.
An admin's API token as bearer; answers and errors in ``application/scim+json`` (docs/integrations-scim.md)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from anyio import to_thread
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.background_tasks import BackgroundTask
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Body, FromPath, QueryParameter

from commissions.core.audit import record_forbidden
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import Forbidden, InputProblem
from commissions.core.principal import Principal
from commissions.scim import queries, schemas, service
from commissions.scim.schemas import MAX_RESULTS, MEDIA_TYPE, ScimError

JSON_TYPES = ("application/scim+json", "application/json")
ScimBody = Annotated[Any, Body(description="a SCIM resource or PatchOp (application/scim+json or application/json)")]
StartIndex = Annotated[
    int, QueryParameter(name="startIndex", description="the first result, from 1 (less counts as 1)")
]
Count = Annotated[
    int, QueryParameter(name="count", description=f"results per page (at most {MAX_RESULTS}; negative: 0)")
]
Filter = Annotated[
    str | None, QueryParameter(name="filter", max_length=500, description='attribute eq "value" (RFC 7644 §3.4.2.2)')
]


async def scim_admins(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """An admin's API token, as bearer: a signed-in browser session is not accepted (no CSRF check here)."""
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal) or not principal.via_token:
        raise NotAuthorizedException("SCIM takes an admin's API token: Authorization: Bearer <token>")
    if principal.role != "admin":
        raise PermissionDeniedException("SCIM needs an API token of an admin")


def _scim(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(json.dumps(body).encode(), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def scim_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """Every refusal in SCIM's error form (RFC 7644 §3.12)."""
    if isinstance(exc, ScimError):
        status, detail, scim_type = exc.status, exc.detail, exc.scim_type
    elif isinstance(exc, HTTPException):
        status, detail, scim_type = exc.status_code, str(exc.detail), None
        if status == 400:
            scim_type = "invalidSyntax" if "JSON" in detail or "body" in detail.lower() else "invalidValue"
    elif isinstance(exc, InputProblem | Forbidden):
        status, detail = exc.status_code, str(getattr(exc, "message", None) or exc)
        scim_type = "invalidValue" if status == 400 else "uniqueness" if status == 409 else None
    else:
        raise exc
    headers = {"WWW-Authenticate": 'Bearer realm="scim"'} if status == 401 else None
    response = _scim(schemas.error(status, detail, scim_type), status, headers)
    if status == 403:  # every refused authorisation goes to the audit log, after the response is sent
        ip = request.client.host if request.client else ""
        user, engine = request.scope.get("user"), request.app.state["engine"]
        args = (engine, user, request.method, request.url.path, detail, ip)
        response.background = BackgroundTask(to_thread.run_sync, record_forbidden, *args)
    return response


def _base(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/")


async def json_only(request: Request[Any, Any, Any]) -> None:
    """A body (POST, PUT, PATCH) must be ``application/scim+json`` or ``application/json``: 415 before it is read."""
    if request.method in ("POST", "PUT", "PATCH"):
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in JSON_TYPES:
            raise ScimError(415, f"send the body as application/scim+json or application/json, not {media or 'none'}")


def _json_body(request: Request[Any, Any, Any], data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ScimError(400, "the body must be a JSON object", "invalidSyntax")
    return data


def _id(text: str, kind: str) -> int:
    if not text.isdigit() or len(text) > 18:
        raise ScimError(404, f"no {kind} with id {text!r}")
    return int(text)


def _page(start: int, count: int) -> tuple[int, int]:
    """RFC 7644 §3.4.2.4: a startIndex below 1 is 1, a negative count is 0; at most ``MAX_RESULTS``."""
    return max(start, 1), min(max(count, 0), MAX_RESULTS)


SCIM_ERRORS = {HTTPException: scim_error, ScimError: scim_error, InputProblem: scim_error, Forbidden: scim_error}


class ScimDiscoveryController(Controller):
    path = "/scim/v2"
    guards = [scim_admins]
    tags = ["scim"]
    exception_handlers = SCIM_ERRORS  # type: ignore[assignment]
    before_request = staticmethod(json_only)

    @get("/ServiceProviderConfig", summary="What this SCIM service supports (admin token)")
    async def service_provider_config(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        return _scim(schemas.service_provider_config(_base(request)))

    @get("/ResourceTypes", summary="User and Group (admin token)")
    async def resource_types(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        types = schemas.resource_types(_base(request))
        return _scim(schemas.list_response(types, len(types), 1))

    @get("/Schemas", summary="The User, Group and EnterpriseUser attributes kept (admin token)")
    async def schemas_list(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        documents = schemas.schemas(_base(request))
        return _scim(schemas.list_response(documents, len(documents), 1))


class ScimUsersController(Controller):
    path = "/scim/v2/Users"
    guards = [scim_admins]
    tags = ["scim"]
    exception_handlers = SCIM_ERRORS  # type: ignore[assignment]
    before_request = staticmethod(json_only)

    @get("/", sync_to_thread=True, summary="People as SCIM Users, filtered and paged (admin token)")
    def list_users(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        filter_: Filter = None,
        start_index: StartIndex = 1,
        count: Count = 100,
    ) -> Response[bytes]:
        found = queries.parse_filter(filter_, queries.USER_FILTERS)
        start, size = _page(start_index, count)
        total, rows = queries.users(db, found, start, size)
        base = _base(request)
        return _scim(schemas.list_response([schemas.user(row, base) for row in rows], total, start))

    @post("/", sync_to_thread=True, summary="Provision a person (admin token)")
    def create_user(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: ScimBody
    ) -> Response[bytes]:
        person_id = service.create_user(request.app.state["engine"], _json_body(request, data), by=principal)
        return self._answer(request, person_id, 201)

    @get("/{person_id:str}", sync_to_thread=True, summary="One person as a SCIM User (admin token)")
    def get_user(self, request: Request[Any, Any, Any], db: DbSession, person_id: FromPath[str]) -> Response[bytes]:
        row = queries.user(db, _id(person_id, "User"))
        if row is None:
            raise ScimError(404, f"no User with id {person_id}")
        return _scim(schemas.user(row, _base(request)))

    @put("/{person_id:str}", sync_to_thread=True, summary="Replace a person's attributes (admin token)")
    def replace_user(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, person_id: FromPath[str], data: ScimBody
    ) -> Response[bytes]:
        pid = _id(person_id, "User")
        service.replace_user(request.app.state["engine"], pid, _json_body(request, data), by=principal)
        return self._answer(request, pid)

    @patch("/{person_id:str}", sync_to_thread=True, summary="Change a person (PatchOp; admin token)")
    def patch_user(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, person_id: FromPath[str], data: ScimBody
    ) -> Response[bytes]:
        pid = _id(person_id, "User")
        body = _json_body(request, data)
        service.patch_user(request.app.state["engine"], pid, body.get("Operations"), by=principal)  # type: ignore[arg-type]
        return self._answer(request, pid)

    @delete("/{person_id:str}", sync_to_thread=True, status_code=204, summary="Deprovision: deactivate (admin token)")
    def delete_user(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, person_id: FromPath[str]
    ) -> None:
        service.deactivate_user(request.app.state["engine"], _id(person_id, "User"), by=principal)

    @staticmethod
    def _answer(request: Request[Any, Any, Any], person_id: int, status: int = 200) -> Response[bytes]:
        row = queries.read_user(request.app.state["engine"], person_id)
        base = _base(request)
        body = schemas.user(row, base)
        return _scim(body, status, {"Location": body["meta"]["location"]} if status == 201 else None)


class ScimGroupsController(Controller):
    path = "/scim/v2/Groups"
    guards = [scim_admins]
    tags = ["scim"]
    exception_handlers = SCIM_ERRORS  # type: ignore[assignment]
    before_request = staticmethod(json_only)

    @get("/", sync_to_thread=True, summary="Teams as SCIM Groups, filtered and paged (admin token)")
    def list_groups(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        filter_: Filter = None,
        start_index: StartIndex = 1,
        count: Count = 100,
        excluded_attributes: Annotated[str | None, QueryParameter(name="excludedAttributes", max_length=200)] = None,
    ) -> Response[bytes]:
        found = queries.parse_filter(filter_, queries.GROUP_FILTERS)
        start, size = _page(start_index, count)
        total, rows = queries.groups(db, found, start, size)
        members = "members" not in (excluded_attributes or "").lower()
        base = _base(request)
        return _scim(schemas.list_response([schemas.group(r, base, members=members) for r in rows], total, start))

    @post("/", sync_to_thread=True, summary="Provision a team and its members (admin token)")
    def create_group(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: ScimBody
    ) -> Response[bytes]:
        team_id = service.create_group(request.app.state["engine"], _json_body(request, data), by=principal)
        return self._answer(request, team_id, 201)

    @get("/{team_id:str}", sync_to_thread=True, summary="One team as a SCIM Group (admin token)")
    def get_group(self, request: Request[Any, Any, Any], db: DbSession, team_id: FromPath[str]) -> Response[bytes]:
        row = queries.group(db, _id(team_id, "Group"))
        if row is None:
            raise ScimError(404, f"no Group with id {team_id}")
        return _scim(schemas.group(row, _base(request)))

    @put("/{team_id:str}", sync_to_thread=True, summary="Replace a team's name and members (admin token)")
    def replace_group(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, team_id: FromPath[str], data: ScimBody
    ) -> Response[bytes]:
        tid = _id(team_id, "Group")
        service.replace_group(request.app.state["engine"], tid, _json_body(request, data), by=principal)
        return self._answer(request, tid)

    @patch("/{team_id:str}", sync_to_thread=True, summary="Add or remove members, rename (PatchOp; admin token)")
    def patch_group(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, team_id: FromPath[str], data: ScimBody
    ) -> Response[bytes]:
        tid = _id(team_id, "Group")
        body = _json_body(request, data)
        service.patch_group(request.app.state["engine"], tid, body.get("Operations"), by=principal)  # type: ignore[arg-type]
        return self._answer(request, tid)

    @delete("/{team_id:str}", sync_to_thread=True, status_code=204, summary="Deprovision: empty the team (admin token)")
    def delete_group(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, team_id: FromPath[str]
    ) -> None:
        service.delete_group(request.app.state["engine"], _id(team_id, "Group"), by=principal)

    @staticmethod
    def _answer(request: Request[Any, Any, Any], team_id: int, status: int = 200) -> Response[bytes]:
        row = queries.read_group(request.app.state["engine"], team_id)
        body = schemas.group(row, _base(request))
        return _scim(body, status, {"Location": body["meta"]["location"]} if status == 201 else None)
