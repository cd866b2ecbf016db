"""Shared pieces of the tables: naming convention, vocabularies, UTC timestamps.

Vocabularies are plain strings guarded by CHECK constraints (not database ENUM
types) so that adding a value later is a one-line migration on both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CheckConstraint, DateTime, Dialect, MetaData
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata

ROLES = ("rep", "manager", "finance", "admin")
TEAM_KINDS = ("sales", "marketing", "other")
PERIOD_KINDS = ("month", "quarter", "year")
PERIOD_STATES = ("open", "approved", "locked", "paid")
METRICS = ("bookings", "sourced_revenue", "deals", "mqls", "sqls", "pipeline")
MONEY_METRICS = ("bookings", "sourced_revenue", "pipeline")
DEAL_TYPES = ("new", "expansion", "renewal")
DEAL_STATUSES = ("won", "cancelled")
LINE_KINDS = ("earning", "cap", "draw", "adjustment", "clawback", "reversal")
FIELD_TYPES = ("text", "number", "date", "boolean")


def utcnow() -> datetime:
    return datetime.now(UTC)


def in_check(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name)


class UtcDateTime(TypeDecorator[datetime]):
    """A UTC timestamp that reads back as one on every database.

    PostgreSQL's ``timestamptz`` returns aware datetimes; SQLite keeps no zone, so the same column read
    there came back naive and the API wrote ``2026-12-07T10:00:00`` beside ``...Z`` (a time that means
    something else in every other zone). Naive values read are UTC (that is all we write) and get the zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return cast(datetime | None, value)


def created_at_field() -> datetime:
    return cast(datetime, Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False))


def timestamp_field(nullable: bool = True) -> datetime | None:
    return cast(datetime | None, Field(default=None, sa_type=UtcDateTime, nullable=nullable))


__all__ = ["SQLModel", "metadata"]
