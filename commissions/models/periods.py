"""When and how much: commission periods and quota targets."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from commissions.models.base import (
    METRICS,
    PERIOD_KINDS,
    PERIOD_STATES,
    created_at_field,
    in_check,
    timestamp_field,
)


class Period(SQLModel, table=True):
    """A commission period, keyed like the CLI writes it: ``2026-01``, ``2026-Q1``, ``2026``.

    State only moves forward: open → approved → locked → paid.
    """

    __tablename__ = "period"
    __table_args__ = (
        in_check("kind", PERIOD_KINDS, "kind"),
        in_check("state", PERIOD_STATES, "state"),
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=10, unique=True)
    kind: str = Field(max_length=10)
    starts_on: date
    ends_on: date
    state: str = Field(default="open", max_length=10)
    approved_at: datetime | None = timestamp_field()
    approved_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="RESTRICT")
    locked_at: datetime | None = timestamp_field()
    locked_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="RESTRICT")
    paid_at: datetime | None = timestamp_field()
    paid_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="RESTRICT")


class Quota(SQLModel, table=True):
    """A target for one person or one team, on one metric, in one period.

    ``target_minor`` is in minor currency units (cents) for money metrics and in
    hundredths for count metrics (deals, MQLs, SQLs), so both are exact integers.
    ``version`` guards against lost updates when two managers edit one quota.
    """

    __tablename__ = "quota"
    __table_args__ = (
        in_check("metric", METRICS, "metric"),
        CheckConstraint("target_minor > 0", name="target_positive"),
        CheckConstraint("(person_id IS NULL) <> (team_id IS NULL)", name="person_xor_team"),
        UniqueConstraint("person_id", "metric", "period_id"),
        UniqueConstraint("team_id", "metric", "period_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="CASCADE")
    team_id: int | None = Field(default=None, foreign_key="team.id", ondelete="CASCADE")
    metric: str = Field(max_length=20)
    period_id: int = Field(foreign_key="period.id", ondelete="RESTRICT", index=True)
    target_minor: int = Field(sa_type=BigInteger)
    version: int = Field(default=1)
    updated_at: datetime = created_at_field()
