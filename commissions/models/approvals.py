"""Deal changes held for approval: a rep's deal that credits other people pays nobody until approved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from commissions.models.base import created_at_field, in_check, timestamp_field

APPROVAL_STATES = ("pending", "approved", "rejected")


class DealApproval(SQLModel, table=True):
    """One held change of a deal (``body`` is the DealIn as submitted, money as decimal strings).

    The held change is not a deal: nothing reads this table for pay, so it credits nobody
    until approved. ``base_hash`` is the ``body_hash`` of the deal as it was when the change
    was submitted ('' for a new deal): an approval is refused if the deal changed since.
    At most one pending change per ``external_id`` (checked by the service, under the period lock);
    decided rows stay as the record of who approved or rejected what (and answer 409 if decided again).
    """

    __tablename__ = "deal_approval"
    __table_args__ = (in_check("state", APPROVAL_STATES, "state"),)

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=128, index=True)
    body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    base_hash: str = Field(default="", max_length=64)
    requested_by_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    created_at: datetime = created_at_field()
    state: str = Field(default="pending", max_length=10, index=True)
    decided_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    decided_at: datetime | None = timestamp_field()
