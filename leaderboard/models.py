"""Leaderboard tables: the daily rank snapshots that movement is measured against.

Badge and contest tables come later (issue 5); a table added here is picked up by
``alembic revision --autogenerate`` because the migration environment imports this module.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

import commissions.models  # noqa: F401  (the tables referenced below)


class LeaderboardSnapshot(SQLModel, table=True):
    """One person's rank in one period's company ranking by attainment, as first seen on one day.

    Taken lazily by the first leaderboard read of a day; movement is yesterday's rank
    minus today's (positive = climbed).
    """

    __tablename__ = "leaderboard_snapshot"
    __table_args__ = (
        UniqueConstraint("period_id", "person_id", "taken_on"),
        Index("ix_leaderboard_snapshot_period_taken_on", "period_id", "taken_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="period.id", ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    rank: int
    taken_on: date
