"""Disputes: a question about a statement (one payout line, or the statement as a whole) and its thread.

A dispute belongs to the person whose statement it is about and to one period; it
points at the payout line it questions (``payout_line_id``, empty for the whole
statement). Its messages are the thread. Disputes block nothing: approving, locking
and paying a period ignore them (docs/payroll-and-disputes.md).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from commissions.models.base import created_at_field, in_check, timestamp_field

DISPUTE_STATES = ("open", "answered", "resolved")
MESSAGE_KINDS = ("question", "reply", "answer", "resolution")


class Dispute(SQLModel, table=True):
    __tablename__ = "dispute"
    __table_args__ = (
        in_check("state", DISPUTE_STATES, "state"),
        Index("ix_dispute_person_period", "person_id", "period_id"),
        Index("ix_dispute_state", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="RESTRICT")
    period_id: int = Field(foreign_key="period.id", ondelete="RESTRICT")
    payout_line_id: int | None = Field(default=None, foreign_key="payout_line.id", ondelete="RESTRICT")
    line_text: str = Field(default="", max_length=500)  # what the line said when it was questioned
    opened_by_id: int = Field(foreign_key="person.id", ondelete="RESTRICT")
    state: str = Field(default="open", max_length=10)
    resolution: str = Field(default="", max_length=2000)
    adjustment_id: int | None = Field(default=None, foreign_key="adjustment.id", ondelete="RESTRICT")
    resolved_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="RESTRICT")
    resolved_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class DisputeMessage(SQLModel, table=True):
    """One message of a dispute's thread: the question, replies, finance's answers, the resolution."""

    __tablename__ = "dispute_message"
    __table_args__ = (in_check("kind", MESSAGE_KINDS, "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="dispute.id", ondelete="CASCADE", index=True)
    author_id: int = Field(foreign_key="person.id", ondelete="RESTRICT")
    kind: str = Field(max_length=12)
    body: str = Field(sa_type=Text)
    created_at: datetime = created_at_field()
