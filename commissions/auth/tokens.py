"""API tokens for machines: shown once, stored as a SHA-256 digest, bound to a role, revocable.

A random 256-bit token needs no slow hash: a digest lookup is safe and keeps
every API call a single indexed query.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import Session, col, select

from commissions.core.audit import record_event
from commissions.core.principal import Principal
from commissions.models import ApiToken, Person
from commissions.models.base import ROLES, utcnow

TOKEN_PREFIX = "qb_"


class TokenError(ValueError):
    pass


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# What an admin may hand out: everything but finance. Roles are not a ladder (docs/architecture.md):
# an admin runs people, plans and tokens, not the books, so a token with finance's powers can only
# act for a finance person, and only an operator (`commissions token create --as`) creates it.
ADMIN_GRANTABLE = ("rep", "manager", "admin")


def create_token(
    session: Session, *, name: str, role: str | None, person: Person | None, created_by: Principal | None
) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the clear token, which is never stored.

    A token for a person acts for that person with *their* role (read at every call, so it follows
    the person's changes); ``role`` may be left empty and, if given, must be theirs. A token for no
    person (an integration) has an explicit role, never finance. An admin (``created_by``) may grant
    only ``ADMIN_GRANTABLE``: no finance token, not even one acting for a finance person.
    ``created_by=None`` is the operator at the command line.
    """
    name = name.strip()
    role = (role or "").strip() or None
    if not name:
        raise TokenError("a token needs a name")
    if role is not None and role not in ROLES:
        raise TokenError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    if person is not None:
        if not person.active:
            raise TokenError(f"{person.email} is deactivated")
        if role is not None and role != person.role:
            raise TokenError(f"a token acts for {person.email} with their role ({person.role}), not {role}")
        role = person.role
    elif role is None:
        raise TokenError("a token for no person (an integration) needs a role")
    elif role == "finance":
        raise TokenError("finance powers need a finance person: create the token to act as one")
    if created_by is not None and created_by.role == "admin" and role not in ADMIN_GRANTABLE:
        raise TokenError(f"an admin cannot grant the {role} role; ask an operator (commissions token create)")
    if created_by is not None and person is not None and person.id != created_by.person_id:
        # a token acting for someone reads what they may read: their pay, and a manager's their team's; admins
        # do not read pay, so only the person (their account page) or an operator makes one for them
        raise TokenError(
            f"a token acting for {person.email} reads their pay: they make it themselves (Account → API tokens), "
            "or an operator does (commissions token create --as)"
        )
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
    record_event(
        session,
        created_by,
        "token.create",
        "api_token",
        token.id,
        {"name": name, "role": role, **({"as": person.email} if person else {})},
    )
    return token, clear


def revoke_person_tokens(session: Session, person: Person, *, by: Principal | None) -> int:
    """Deactivation revokes every token acting for the person, for good: reactivating them revives none."""
    tokens = session.exec(
        select(ApiToken).where(ApiToken.person_id == person.id, col(ApiToken.revoked_at).is_(None))
    ).all()
    for token in tokens:
        revoke_token(session, token, by=by)
    return len(tokens)


def revoke_token(session: Session, token: ApiToken, *, by: Principal | None) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        record_event(session, by, "token.revoke", "api_token", token.id, {"name": token.name})


def principal_for_token(session: Session, clear: str) -> Principal | None:
    if not clear.startswith(TOKEN_PREFIX):
        return None
    row = session.exec(
        select(ApiToken, Person)
        .join(Person, col(ApiToken.person_id) == Person.id, isouter=True)
        .where(ApiToken.token_hash == digest(clear))
    ).first()
    if row is None:
        return None
    token, person = row
    if token.revoked_at is not None or (person is not None and not person.active):
        return None
    if person is None and token.role == "finance":
        return None  # made before finance powers needed a finance person: no longer honoured
    return Principal(
        role=person.role if person is not None else token.role,  # a token acts with its person's role
        person_id=person.id if person else None,
        email=person.email if person else None,
        name=person.name if person else f"token {token.name}",
        via_token=True,
        token_id=token.id,
    )
