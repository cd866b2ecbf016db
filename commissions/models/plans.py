"""How people are paid: plans, their versions, and who is on which plan when."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from commissions.models.base import PERIOD_KINDS, created_at_field, in_check


class Plan(SQLModel, table=True):
    """A plan by name (``AE 2026``); its rules live in versions."""

    __tablename__ = "plan"
    __table_args__ = (in_check("period_kind", PERIOD_KINDS, "period_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    currency: str = Field(min_length=3, max_length=3)
    period_kind: str = Field(max_length=10)
    created_at: datetime = created_at_field()


class PlanVersion(SQLModel, table=True):
    """One immutable version of a plan document (YAML as written, so authors get back what they wrote).

    The version in force for a period is the one with the latest ``effective_from``
    on or before the period's start, the highest ``version`` among those sharing that day (a
    correction of a version already in force); payout lines record which version they used.
    """

    __tablename__ = "plan_version"
    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        UniqueConstraint("plan_id", "version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", ondelete="RESTRICT", index=True)
    version: int
    document: str = Field(sa_type=Text)
    effective_from: date
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()


class PlanAssignment(SQLModel, table=True):
    """A person on a plan from ``starts_on`` to ``ends_on`` (inclusive, open-ended when empty)."""

    __tablename__ = "plan_assignment"
    __table_args__ = (CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_ordered"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    plan_id: int = Field(foreign_key="plan.id", ondelete="RESTRICT", index=True)
    starts_on: date
    ends_on: date | None = None
    prorate: bool = Field(default=False)
    created_at: datetime = created_at_field()
