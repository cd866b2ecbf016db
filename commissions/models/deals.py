"""What was sold: campaigns, closed deals and their splits, admin-declared custom fields."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from commissions.models.base import (
    DEAL_STATUSES,
    DEAL_TYPES,
    FIELD_TYPES,
    created_at_field,
    in_check,
)


class Campaign(SQLModel, table=True):
    """A marketing campaign; deals it sourced credit its owner's sourced revenue."""

    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint("cost_minor >= 0", name="cost_not_negative"),
        CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates_ordered"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    owner_id: int = Field(foreign_key="person.id", ondelete="RESTRICT", index=True)
    channel: str = Field(default="", max_length=64)
    cost_minor: int = Field(default=0, sa_type=BigInteger)
    currency: str = Field(default="USD", min_length=3, max_length=3)
    starts_on: date | None = None
    ends_on: date | None = None
    created_at: datetime = created_at_field()


class Deal(SQLModel, table=True):
    """A closed deal as the CRM reported it; ``external_id`` makes deliveries idempotent.

    ``source_campaign`` keeps the code as delivered (an unknown code credits no
    marketer but is not lost). Cancellation is a status change, never a delete.
    ``body_hash`` is a digest of the last accepted body: the same delivery again is a no-op.
    """

    __tablename__ = "deal"
    __table_args__ = (
        in_check("type", DEAL_TYPES, "type"),
        in_check("status", DEAL_STATUSES, "status"),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        CheckConstraint("term_months IS NULL OR term_months >= 0", name="term_not_negative"),
        CheckConstraint("status <> 'cancelled' OR cancelled_at IS NOT NULL", name="cancelled_has_date"),
        CheckConstraint("cancelled_at IS NULL OR cancelled_at >= closed_at", name="cancelled_after_close"),
        Index("ix_deal_owner_closed", "owner_id", "closed_at"),
        Index("ix_deal_closed_at", "closed_at"),
        Index("ix_deal_source_campaign", "source_campaign"),
        Index("ix_deal_amount_id", "amount_minor", "id"),  # the deal list sorted by amount (keyset, ties by id)
        Index("ix_deal_name_id", "name", "id"),  # ... and by name
    )

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=128, unique=True)
    name: str = Field(max_length=200)
    account: str = Field(default="", max_length=200)
    owner_id: int = Field(foreign_key="person.id", ondelete="RESTRICT")
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(min_length=3, max_length=3)
    closed_at: date
    type: str = Field(default="new", max_length=20)
    product: str = Field(default="", max_length=120)
    term_months: int | None = None
    source_campaign: str | None = Field(default=None, max_length=64)
    status: str = Field(default="won", max_length=20)
    cancelled_at: date | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    body_hash: str = Field(default="", max_length=64)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class DealSplit(SQLModel, table=True):
    """A share of a deal's credit; a deal's shares sum to 100 % (checked by the service)."""

    __tablename__ = "deal_split"
    __table_args__ = (
        CheckConstraint("share_bp > 0 AND share_bp <= 10000", name="share_range"),
        UniqueConstraint("deal_id", "person_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id", ondelete="CASCADE", index=True)
    person_id: int = Field(foreign_key="person.id", ondelete="RESTRICT", index=True)
    share_bp: int = Field(description="share in basis points: 10000 = 100 %")


class DealRevision(SQLModel, table=True):
    """A deal as it stood in a locked or paid period, kept when a later change replaced it (api.md: deals of a
    locked period are never edited in place). The deal row holds the latest truth, which open periods pay and
    prior-period adjustments are computed from; the locked period paid on the version kept here."""

    __tablename__ = "deal_revision"

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id", ondelete="CASCADE", index=True)
    period_key: str = Field(max_length=16, description="the locked or paid period the kept version closed in")
    period_state: str = Field(max_length=16, description="that period's state when the version was replaced")
    deal: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False), description="the deal as the API shows it")
    replaced_by: str = Field(default="", max_length=320)
    replaced_at: datetime = created_at_field()


class CustomField(SQLModel, table=True):
    """A deal field an admin declared, usable in plan conditions by name."""

    __tablename__ = "custom_field"
    __table_args__ = (in_check("type", FIELD_TYPES, "type"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    type: str = Field(default="text", max_length=10)
    label: str = Field(default="", max_length=120)
