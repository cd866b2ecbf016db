"""Leaderboard tables: the daily rank snapshots that movement is measured against.

Badge and contest tables below; a table added here is picked up by
``alembic revision --autogenerate`` because the migration environment imports this module.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

import commissions.models  # noqa: F401  (the tables referenced below)
from commissions.models.base import created_at_field, in_check, timestamp_field


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


# --- badges (issue 5): rules as data, grants as facts; evaluated by leaderboard/badges.py ----------------

BADGE_KINDS = ("first_deal", "deals_in_window", "attainment_at_least", "biggest_deal", "weekly_streak", "most_improved")


class BadgeRule(SQLModel, table=True):
    """A named, parameterised rule of one fixed ``kind`` (no code in the database).

    ``version`` goes up whenever ``params`` change; a grant records the version it was earned under.
    """

    __tablename__ = "badge_rule"
    __table_args__ = (
        in_check("kind", BADGE_KINDS, "kind"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=500)
    kind: str = Field(max_length=32)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = Field(default=1)
    active: bool = Field(default=True)
    updated_at: datetime = created_at_field()


class BadgeGrant(SQLModel, table=True):
    """One person's badge in one period: at most one row per rule, person and period.

    Revoking sets ``revoked_at`` and ``revoke_reason``; qualifying again restores the same row.
    ``evidence`` lists the external ids of the deals that earned it.
    """

    __tablename__ = "badge_grant"
    __table_args__ = (
        UniqueConstraint("rule_id", "person_id", "period_id"),
        Index("ix_badge_grant_period_person", "period_id", "person_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rule_id: int = Field(foreign_key="badge_rule.id", ondelete="CASCADE")
    rule_version: int
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    period_id: int = Field(foreign_key="period.id", ondelete="CASCADE")
    granted_at: datetime = created_at_field()
    evidence: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    revoked_at: datetime | None = timestamp_field()
    revoke_reason: str = Field(default="", max_length=300)


# --- contests (issue 5): time-boxed competitions; rules in leaderboard/contests/ -----------------------------

CONTEST_METRICS = ("bookings", "deals", "sourced_revenue")
CONTEST_MODES = ("individual", "team")
CONTEST_SCOPES = ("everyone", "teams")
CONTEST_STATUSES = ("active", "cancelled")


class Contest(SQLModel, table=True):
    """A competition on one metric over whole UTC days ``starts_on``..``ends_on`` (both included).

    Its state (scheduled, running, ended, final) is derived from the dates, ``status`` and
    ``closed_at`` (set once, when the final standings were stored in ``contest_result``).
    """

    __tablename__ = "contest"
    __table_args__ = (
        in_check("metric", CONTEST_METRICS, "metric"),
        in_check("mode", CONTEST_MODES, "mode"),
        in_check("scope", CONTEST_SCOPES, "scope"),
        in_check("status", CONTEST_STATUSES, "status"),
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        Index("ix_contest_ends_on", "ends_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=2000)
    prize: str = Field(default="", max_length=300)
    metric: str = Field(max_length=20)
    mode: str = Field(default="individual", max_length=20)
    scope: str = Field(default="everyone", max_length=20)
    currency: str = Field(default="USD", min_length=3, max_length=3)
    starts_on: date
    ends_on: date
    status: str = Field(default="active", max_length=20)
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    closed_at: datetime | None = timestamp_field()


class ContestTeam(SQLModel, table=True):
    """A team taking part in a contest whose scope is ``teams``."""

    __tablename__ = "contest_team"
    __table_args__ = (UniqueConstraint("contest_id", "team_id"),)

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = Field(foreign_key="contest.id", ondelete="CASCADE")
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE", index=True)


class ContestResult(SQLModel, table=True):
    """One row of a contest's final standings, stored once when it ended (a person or a team).

    Names are kept as they were, so the record reads the same after a rename.
    ``value`` is minor units (bookings, sourced revenue) or hundredths of a deal.
    """

    __tablename__ = "contest_result"
    __table_args__ = (
        UniqueConstraint("contest_id", "position"),
        CheckConstraint("rank >= 1", name="rank_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = Field(foreign_key="contest.id", ondelete="CASCADE")
    position: int
    rank: int
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    team_id: int | None = Field(default=None, foreign_key="team.id", ondelete="SET NULL")
    name: str = Field(max_length=200)
    team_name: str = Field(default="", max_length=120)
    value: int = Field(sa_type=BigInteger)
    winner: bool = Field(default=False)
