"""Who: teams and people (sales reps, marketers, managers, finance, admins)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from commissions.models.base import ROLES, TEAM_KINDS, created_at_field, in_check


class Team(SQLModel, table=True):
    __tablename__ = "team"
    __table_args__ = (in_check("kind", TEAM_KINDS, "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    kind: str = Field(default="sales", max_length=20)
    parent_id: int | None = Field(default=None, foreign_key="team.id", ondelete="RESTRICT")
    # person -> team -> person is a cycle of foreign keys: this one is created after both tables (use_alter)
    manager_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("person.id", ondelete="RESTRICT", use_alter=True), nullable=True),
    )
    created_at: datetime = created_at_field()


class Person(SQLModel, table=True):
    """A person who signs in, is paid, or both.

    ``email`` is stored lower-cased and is the identity used by CSV files and the API.
    ``session_version`` is bumped to end every session of the person at once
    (sign-out everywhere, deactivation, password change).
    """

    __tablename__ = "person"
    __table_args__ = (
        in_check("role", ROLES, "role"),
        CheckConstraint("manager_id IS NULL OR manager_id <> id", name="not_own_manager"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        Index("ix_person_manager_id", "manager_id"),
        Index("ix_person_team_id", "team_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    name: str = Field(max_length=200)
    role: str = Field(default="rep", max_length=20)
    manager_id: int | None = Field(default=None, foreign_key="person.id", ondelete="RESTRICT")
    team_id: int | None = Field(default=None, foreign_key="team.id", ondelete="RESTRICT")
    employee_id: str | None = Field(default=None, max_length=64, unique=True)
    password_hash: str | None = Field(default=None, max_length=255)
    active: bool = Field(default=True)
    session_version: int = Field(default=1)
    payment_currency: str | None = Field(default=None, max_length=3)  # paid in another currency than the plan's
    locale: str | None = Field(default=None, max_length=35)  # a BCP 47 language tag: en, ms, th, en-GB
    created_at: datetime = created_at_field()
