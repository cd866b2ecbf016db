"""Reads of the outbound webhooks: subscriptions (paged by id) and the delivery log (latest first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, or_, select

from commissions.models.outbound import DELIVERY_STATES, Delivery, OutboxEvent, Subscription
from commissions.outbound.chat import CHAT_KINDS

LOG_PAGE = 50


def subscriptions(
    session: Session, *, after: int | None = None, limit: int | None = None, kind: str = "webhook"
) -> list[Subscription]:
    """Subscriptions of ``kind`` by id (active and deactivated), after the id ``after``."""
    query = select(Subscription).where(Subscription.kind == kind).order_by(col(Subscription.id))
    if after is not None:
        query = query.where(col(Subscription.id) > after)
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def chat_channels(session: Session) -> list[Subscription]:
    """The Slack and Teams channels by id (active and deactivated)."""
    return list(
        session.exec(
            select(Subscription).where(col(Subscription.kind).in_(CHAT_KINDS)).order_by(col(Subscription.id))
        ).all()
    )


def active_chat_channel(session: Session, channel_id: int) -> Subscription | None:
    """The active Slack or Teams channel of that id (None for a plain webhook or a deactivated channel)."""
    row = session.get(Subscription, channel_id)
    return row if row is not None and row.kind in CHAT_KINDS and row.active else None


@dataclass
class LogRow:
    id: int
    subscription_id: int
    url: str
    active: bool
    event_id: str
    type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime


def delivery_log(
    session: Session, *, status: str = "", search: str = "", page: int = 1, per_page: int = LOG_PAGE
) -> tuple[list[LogRow], bool]:
    """A page of deliveries, latest first, filtered by status and by a text in the event type, id or URL;
    and whether an older page follows."""
    query = (
        sa_select(
            Delivery,
            col(OutboxEvent.event_id),
            col(OutboxEvent.type),
            col(Subscription.url),
            col(Subscription.active),
        )
        .join(OutboxEvent, col(OutboxEvent.id) == Delivery.event_id)
        .join(Subscription, col(Subscription.id) == Delivery.subscription_id)
        .order_by(col(Delivery.id).desc())
    )
    if status in DELIVERY_STATES:
        query = query.where(col(Delivery.status) == status)
    text = search.strip().lower()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                func.lower(OutboxEvent.type).like(pattern, escape="\\"),
                func.lower(OutboxEvent.event_id).like(pattern, escape="\\"),
                func.lower(Subscription.url).like(pattern, escape="\\"),
            )
        )
    rows = session.execute(query.offset((max(page, 1) - 1) * per_page).limit(per_page + 1)).all()
    found = [
        LogRow(
            id=d.id or 0,
            subscription_id=d.subscription_id,
            url=url,
            active=active,
            event_id=event_id,
            type=kind,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            delivered_at=d.delivered_at,
            created_at=d.created_at,
        )
        for d, event_id, kind, url, active in rows[:per_page]
    ]
    return found, len(rows) > per_page
