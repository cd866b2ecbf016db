"""API tokens for machines: shown once, stored as a SHA-256 digest, bound to a role, revocable.

A random 256-bit token needs no slow hash: a digest lookup is safe and keeps
every API call a single indexed query.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import Session, select

from commissions.audit import record_event
from commissions.auth.principal import Principal
from commissions.models import ApiToken, Person
from commissions.models.base import ROLES, utcnow

TOKEN_PREFIX = "qb_"


class TokenError(ValueError):
    pass


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, *, name: str, role: str, person: Person | None, created_by: Principal | None
) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the clear token, which is never stored."""
    name = name.strip()
    if not name:
        raise TokenError("a token needs a name")
    if role not in ROLES:
        raise TokenError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    if person is not None and not person.active:
        raise TokenError(f"{person.email} is deactivated")
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        prefix=clear[:10],
        token_hash=digest(clear),
        role=role,
        person_id=person.id if person else None,
        created_by_id=created_by.person_id if created_by else None,
    )
    session.add(token)
    session.flush()
    record_event(session, created_by, "token.create", "api_token", token.id, {"name": name, "role": role})
    return token, clear


def revoke_token(session: Session, token: ApiToken, *, by: Principal | None) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        record_event(session, by, "token.revoke", "api_token", token.id, {"name": token.name})


def principal_for_token(session: Session, clear: str) -> Principal | None:
    if not clear.startswith(TOKEN_PREFIX):
        return None
    row = session.exec(
        select(ApiToken, Person).join(Person, ApiToken.person_id == Person.id, isouter=True).where(
            ApiToken.token_hash == digest(clear)
        )
    ).first()
    if row is None:
        return None
    token, person = row
    if token.revoked_at is not None or (person is not None and not person.active):
        return None
    return Principal(
        role=token.role,
        person_id=person.id if person else None,
        email=person.email if person else None,
        name=person.name if person else f"token {token.name}",
        via_token=True,
        token_id=token.id,
    )
