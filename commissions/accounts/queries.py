"""Reads for the accounts' admin pages and the home page: API tokens, a person's pending reset link."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from commissions.models import ApiToken, PasswordReset, Person


def tokens_with_emails(session: Session) -> list[tuple[ApiToken, str | None]]:
    """Every token with the email of the person it acts as: live ones first, newest first."""
    return list(
        session.exec(
            select(ApiToken, Person.email)
            .join(Person, col(ApiToken.person_id) == col(Person.id), isouter=True)
            .order_by(col(ApiToken.revoked_at).is_not(None), col(ApiToken.created_at).desc())
        ).all()
    )


def active_token_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(ApiToken).where(col(ApiToken.revoked_at).is_(None))).one()


def latest_unused_reset(session: Session, person_id: int) -> PasswordReset | None:
    """The person's newest reset link not used yet (it may have expired)."""
    return session.exec(
        select(PasswordReset)
        .where(PasswordReset.person_id == person_id, col(PasswordReset.used_at).is_(None))
        .order_by(col(PasswordReset.created_at).desc())
    ).first()


def own_tokens(session: Session, person_id: int) -> list[ApiToken]:
    """The tokens acting for the person: live ones first, newest first."""
    return list(
        session.exec(
            select(ApiToken)
            .where(ApiToken.person_id == person_id)
            .order_by(col(ApiToken.revoked_at).is_not(None), col(ApiToken.created_at).desc())
        ).all()
    )
