"""Route guards: every handler declares who may call it (see docs/security.md)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from commissions.core.principal import Principal

Connection = ASGIConnection[Any, Any, Any, Any]
Guard = Callable[[Connection, BaseRouteHandler], Coroutine[Any, Any, None]]


def current_principal(connection: Connection) -> Principal:
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("Sign in to continue.")
    return principal


# Guards are coroutines: Litestar runs a plain function guard in a worker thread, a
# hop that cost the live leaderboard a tenth of its throughput.


def requires_role(*roles: str) -> Guard:
    allowed = frozenset(roles)

    async def guard(connection: Connection, _: BaseRouteHandler) -> None:
        principal = current_principal(connection)
        if principal.role not in allowed:
            raise PermissionDeniedException(f"This needs the role {' or '.join(sorted(allowed))}.")

    guard.__name__ = f"requires_role_{'_'.join(sorted(allowed))}"
    guard.allowed_roles = allowed  # type: ignore[attr-defined]
    return guard


async def requires_person(connection: Connection, _: BaseRouteHandler) -> None:
    """For routes about "my" data: a token without a person cannot use them."""
    if current_principal(connection).person_id is None:
        raise PermissionDeniedException("This token is not bound to a person (create it with --as EMAIL).")


any_role = requires_role("rep", "manager", "finance", "admin")
managers = requires_role("manager", "admin")
finance_only = requires_role("finance")
finance_or_admin = requires_role("finance", "admin")
admins = requires_role("admin")
