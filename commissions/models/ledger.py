"""What is owed: calculation runs, the append-only ledger of payout lines, manual adjustments.

Payout lines are never updated or deleted: a correction is a new line that
reverses the old one (``reverses_id``), so every paid cent keeps its history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from commissions.models.base import (
    LINE_KINDS,
    created_at_field,
    in_check,
    timestamp_field,
)


class CalculationRun(SQLModel, table=True):
    """One recomputation of (part of) a period: what triggered it and for whom."""

    __tablename__ = "calculation_run"

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="period.id", ondelete="RESTRICT", index=True)
    trigger: str = Field(max_length=200)
    people_count: int = Field(default=0)
    started_at: datetime = created_at_field()
    finished_at: datetime | None = timestamp_field()


class PayoutLine(SQLModel, table=True):
    __tablename__ = "payout_line"
    __table_args__ = (
        in_check("kind", LINE_KINDS, "kind"),
        Index("ix_payout_line_person_period", "person_id", "period_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, foreign_key="calculation_run.id", ondelete="RESTRICT", index=True)
    person_id: int = Field(foreign_key="person.id", ondelete="RESTRICT")
    period_id: int = Field(foreign_key="period.id", ondelete="RESTRICT")
    plan_version_id: int | None = Field(default=None, foreign_key="plan_version.id", ondelete="RESTRICT")
    component: str = Field(max_length=200)
    kind: str = Field(default="earning", max_length=20)
    deal_id: int | None = Field(default=None, foreign_key="deal.id", ondelete="RESTRICT", index=True)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(min_length=3, max_length=3)
    text: str = Field(sa_type=Text)
    basis: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    original_period_id: int | None = Field(default=None, foreign_key="period.id", ondelete="RESTRICT")
    reverses_id: int | None = Field(default=None, foreign_key="payout_line.id", ondelete="RESTRICT", unique=True)
    created_at: datetime = created_at_field()


class Adjustment(SQLModel, table=True):
    """A manual correction by finance, with its reason; shows on the person's statement."""

    __tablename__ = "adjustment"
    __table_args__ = (CheckConstraint("amount_minor <> 0", name="amount_not_zero"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="RESTRICT", index=True)
    period_id: int = Field(foreign_key="period.id", ondelete="RESTRICT", index=True)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(min_length=3, max_length=3)
    reason: str = Field(max_length=1000)
    deal_id: int | None = Field(default=None, foreign_key="deal.id", ondelete="RESTRICT")
    original_period_id: int | None = Field(default=None, foreign_key="period.id", ondelete="RESTRICT")
    created_by_id: int = Field(foreign_key="person.id", ondelete="RESTRICT")
    created_at: datetime = created_at_field()
