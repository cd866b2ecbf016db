"""One-time password reset links an admin issues for a person (who forgot their password).

The link carries a random 256-bit token shown once to the admin; only its SHA-256 is stored
(table ``password_reset``), like API tokens. A link works once, for ``RESET_LINK_SECONDS``
(24 h), for an active person; issuing a new one for the same person cancels the older ones.
Using it sets the password through ``people.service.set_password``, which ends every session
of the person. Both steps are audited (``person.password_reset_link``, ``person.password``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core.audit import record_event
from commissions.core.principal import Principal
from commissions.models import PasswordReset, Person
from commissions.models.base import utcnow
from commissions.people.service import set_password

RESET_LINK_SECONDS = 24 * 3600
RESET_PATH = "/password-reset/"


class ResetLinkError(ValueError):
    pass


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_reset_link(session: Session, person: Person, *, by: Principal, ip: str = "") -> str:
    """A new link's token (shown once; only its digest is stored); the person's older links stop working."""
    if not person.active:
        raise ResetLinkError(f"{person.email} is deactivated: reactivate them first")
    now = utcnow()
    session.execute(
        update(PasswordReset)
        .where(col(PasswordReset.person_id) == person.id, col(PasswordReset.used_at).is_(None))
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(32)
    row = PasswordReset(
        person_id=stored_id(person),
        token_hash=_digest(token),
        created_by_id=by.person_id,
        created_at=now,
        expires_at=now + timedelta(seconds=RESET_LINK_SECONDS),
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        by,
        "person.password_reset_link",
        "person",
        person.id,
        {"expires_at": row.expires_at.isoformat(timespec="seconds")},
        ip=ip,
    )
    return token


def person_for_link(session: Session, token: str) -> Person | None:
    """The active person a usable (unused, unexpired) link is for, or None."""
    if not token or len(token) > 200:
        return None
    row = session.exec(
        select(PasswordReset, Person)
        .join(Person, col(PasswordReset.person_id) == col(Person.id))
        .where(PasswordReset.token_hash == _digest(token))
    ).first()
    if row is None:
        return None
    link, person = row
    expires = link.expires_at if link.expires_at.tzinfo else link.expires_at.replace(tzinfo=utcnow().tzinfo)
    if link.used_at is not None or expires <= utcnow() or not person.active:
        return None
    return person


def use_reset_link(session: Session, token: str, password: str, *, password_hash: str, ip: str = "") -> Person:
    """Spend the link (once, atomically: of two concurrent uses exactly one wins) and set the password."""
    person = person_for_link(session, token)
    if person is None:
        raise ResetLinkError(
            "This reset link is not valid any more (used, expired or replaced): ask an admin for a new one."
        )
    now = utcnow()
    result = session.execute(
        update(PasswordReset)
        .where(
            col(PasswordReset.token_hash) == _digest(token),
            col(PasswordReset.used_at).is_(None),
            col(PasswordReset.expires_at) > now,
        )
        .values(used_at=now)
    )
    claimed = cast("CursorResult[Any]", result).rowcount
    if claimed != 1:
        raise ResetLinkError(
            "This reset link is not valid any more (used, expired or replaced): ask an admin for a new one."
        )
    actor = Principal(role=person.role, person_id=person.id, email=person.email, name=person.name)
    set_password(session, person, password, by=actor, how="reset link", ip=ip, password_hash=password_hash)
    return person
