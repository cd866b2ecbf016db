"""Reads of the SSO area."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from commissions.models import SsoProvider


def providers(session: Session) -> list[SsoProvider]:
    return list(session.exec(select(SsoProvider).order_by(col(SsoProvider.slug))).all())


def provider_by_slug(session: Session, slug: str) -> SsoProvider | None:
    return session.exec(select(SsoProvider).where(SsoProvider.slug == slug)).first()


def enabled_count(session: Session) -> int:
    return len(session.exec(select(SsoProvider.id).where(col(SsoProvider.enabled))).all())


def provider_by_id(session: Session, provider_id: int) -> SsoProvider | None:
    return session.get(SsoProvider, provider_id)


def enabled_provider(engine: Engine, slug: str) -> SsoProvider | None:
    """The provider named ``slug`` if it is enabled, detached from its session (read in a worker thread)."""
    with Session(engine, expire_on_commit=False) as session:
        row = provider_by_slug(session, slug)
        if row is None or not row.enabled:
            return None
        session.expunge(row)
        return row
