"""Request-scoped dependencies shared by every controller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeAlias

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlmodel import Session

from commissions.core.db import end_read
from commissions.core.guards import current_principal
from commissions.core.principal import Principal


def provide_db(state: State) -> Iterator[Session]:
    """A read session; services open their own write transactions (``commissions.core.db.transaction``)."""
    with Session(state["engine"], expire_on_commit=False) as session:
        yield session
        end_read(session)  # not a rollback: PostgreSQL keeps the prepared statements (core/db.py)


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return current_principal(request)


# Handlers name their dependencies explicitly (Litestar 3 drops inferred ones):
# ``db: DbSession`` and ``principal: CurrentPrincipal``.
DbSession: TypeAlias = NamedDependency[Session]
CurrentPrincipal: TypeAlias = NamedDependency[Principal]
