"""Outbound webhooks: subscriptions, the durable outbox, deliveries and every attempt (docs/integrations-outbound.md).

An event is written to ``outbox_event`` in the transaction of the change it announces (``core/outbox.py``),
so a rolled-back change sends nothing and a committed one is never lost. The dispatcher fans each event out
to the active subscriptions that want its type (a ``delivery`` row each) and sends the due deliveries.
Pay figures of an event are kept apart (``pay``) and merged into ``data`` only for ``include_pay``
subscriptions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from commissions.models.base import created_at_field, in_check, timestamp_field

DELIVERY_STATES = ("pending", "delivered", "failed", "dead")
SUBSCRIPTION_KINDS = ("webhook", "slack", "teams")  # slack and teams: chat channels (commissions/outbound/chat.py)


class Subscription(SQLModel, table=True):
    """A receiver of outbound events: a URL, the event types it wants, its secret (stored encrypted).

    A chat channel (``kind`` slack or teams) is a subscription too, so it shares the outbox, the fan-out, the
    retries and the delivery log: its incoming-webhook URL is a credential, stored encrypted in
    ``url_encrypted``; ``url`` then shows only its host and ``secret_encrypted`` is unused (no signature).
    """

    __tablename__ = "subscription"
    __table_args__ = (in_check("kind", SUBSCRIPTION_KINDS, "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="webhook", max_length=10, sa_column_kwargs={"server_default": "webhook"})
    name: str = Field(default="", max_length=120)
    url: str = Field(max_length=2000)
    url_encrypted: str | None = Field(default=None, sa_type=Text)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    secret_encrypted: str = Field(max_length=512)
    prefix: str = Field(max_length=16)
    include_pay: bool = Field(default=False)
    active: bool = Field(default=True)
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_by_label: str = Field(default="", max_length=254)
    created_at: datetime = created_at_field()
    deactivated_at: datetime | None = timestamp_field()


class OutboxEvent(SQLModel, table=True):
    """One thing that happened, written in the transaction of the change. ``pay`` holds its pay figures apart."""

    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_event_fanned_out", "fanned_out", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=40, unique=True)
    type: str = Field(max_length=40)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    pay: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = created_at_field()
    fanned_out: bool = Field(default=False)


class Delivery(SQLModel, table=True):
    """One event for one subscription: pending until a 2xx, retried with backoff, dead after the last attempt."""

    __tablename__ = "delivery"
    __table_args__ = (
        in_check("status", DELIVERY_STATES, "status"),
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="subscription.id", ondelete="CASCADE")
    event_id: int = Field(foreign_key="outbox_event.id", ondelete="CASCADE", index=True)
    status: str = Field(default="pending", max_length=10)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = timestamp_field()
    claimed_until: datetime | None = timestamp_field()
    last_status_code: int | None = Field(default=None)
    last_error: str = Field(default="", max_length=500)
    delivered_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()


class DeliveryAttempt(SQLModel, table=True):
    """Every try of a delivery: when, the receiver's status code or the error, how long it took."""

    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="delivery.id", ondelete="CASCADE", index=True)
    at: datetime = created_at_field()
    status_code: int | None = Field(default=None)
    error: str = Field(default="", max_length=500)
    duration_ms: int = Field(default=0)
