"""Revenue marketing: leads and their lifecycle events, and the team pulse (eNPS).

A ``lead`` is keyed by the CRM's ``external_id``; each ``lead_event`` is one stage it
reached (mql, sql, opportunity, won, lost), at most one per stage, so a delivery is
idempotent on (lead, stage). ``flag`` says why an event is out of order (an SQL with no
MQL before it); flagged events are stored and reported, never counted as conversions.

Pulse answers are stored as counts per score (``pulse_tally``), never per person;
``pulse_response`` only records *that* someone answered, so each answers once.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from commissions.models.base import created_at_field, in_check, timestamp_field

LEAD_STAGES = ("mql", "sql", "opportunity", "won", "lost")


class Lead(SQLModel, table=True):
    """A lead as the CRM or marketing automation tool knows it; campaign and owner as last delivered."""

    __tablename__ = "lead"
    __table_args__ = (Index("ix_lead_campaign", "campaign"),)

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=128, unique=True)
    name: str = Field(default="", max_length=200)
    account: str = Field(default="", max_length=200)
    campaign: str | None = Field(default=None, max_length=64)
    owner_id: int = Field(foreign_key="person.id", ondelete="RESTRICT", index=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class LeadEvent(SQLModel, table=True):
    """One stage a lead reached; ``amount_minor`` for opportunity and won (and optionally lost)."""

    __tablename__ = "lead_event"
    __table_args__ = (
        in_check("stage", LEAD_STAGES, "stage"),
        CheckConstraint("amount_minor IS NULL OR amount_minor >= 0", name="amount_not_negative"),
        CheckConstraint("(amount_minor IS NULL) = (currency IS NULL)", name="amount_has_currency"),
        UniqueConstraint("lead_id", "stage"),
        Index("ix_lead_event_occurred_on", "occurred_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", ondelete="CASCADE")
    stage: str = Field(max_length=12)
    occurred_on: date
    amount_minor: int | None = Field(default=None, sa_type=BigInteger)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    flag: str = Field(default="", max_length=120)  # empty when in order; else why it is not counted
    body_hash: str = Field(default="", max_length=64)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


PULSE_QUESTION = "How likely are you to recommend working here?"


class Pulse(SQLModel, table=True):
    """A one-question eNPS survey a manager runs for their team (their reports, recursively)."""

    __tablename__ = "pulse"

    id: int | None = Field(default=None, primary_key=True)
    manager_id: int = Field(foreign_key="person.id", ondelete="RESTRICT", index=True)
    question: str = Field(default=PULSE_QUESTION, max_length=200)
    opened_on: date
    closed_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()


class PulseTally(SQLModel, table=True):
    """How many answers gave ``score`` (0-10): no person, no time, so no answer can be traced back."""

    __tablename__ = "pulse_tally"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 10", name="score_range"),
        CheckConstraint("answers > 0", name="answers_positive"),
        UniqueConstraint("pulse_id", "score"),
    )

    id: int | None = Field(default=None, primary_key=True)
    pulse_id: int = Field(foreign_key="pulse.id", ondelete="CASCADE")
    score: int
    answers: int = Field(default=1)


class PulseResponse(SQLModel, table=True):
    """That ``person_id`` answered ``pulse_id`` (not what): enforces one answer each."""

    __tablename__ = "pulse_response"
    __table_args__ = (UniqueConstraint("pulse_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    pulse_id: int = Field(foreign_key="pulse.id", ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
