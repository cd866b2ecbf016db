"""What the SCIM tests share: an admin's token and a client speaking application/scim+json."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from commissions.models import Person, Team
from tests.conftest import read
from tests.deals.test_deals_api import token_for

SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
def scim(engine: Engine, make_person) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """An admin's API token, as an identity provider is given it, and the SCIM content type."""
    make_person("admin@example.com", "admin")
    return token_for(engine, "admin", "admin@example.com") | {"Content-Type": SCIM, "Accept": SCIM}


def patch_op(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def person(engine: Engine, email: str) -> dict[str, Any] | None:
    """The stored person of ``email``: name, active, team name, manager email, employee id."""

    def load(s: Session) -> dict[str, Any] | None:
        p = s.exec(select(Person).where(Person.email == email)).first()
        if p is None:
            return None
        team = s.get(Team, p.team_id) if p.team_id else None
        manager = s.get(Person, p.manager_id) if p.manager_id else None
        return {
            "id": p.id,
            "name": p.name,
            "active": p.active,
            "team": team.name if team else None,
            "manager": manager.email if manager else None,
            "employee_id": p.employee_id,
            "role": p.role,
        }

    return read(engine, load)  # type: ignore[no-any-return]


def scim_error(response: Any, status: int, scim_type: str | None = None) -> dict[str, Any]:
    """Checks a SCIM error answer (RFC 7644 §3.12) and returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(SCIM)
    body: dict[str, Any] = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status) and body["detail"]
    if scim_type is not None:
        assert body["scimType"] == scim_type
    return body
