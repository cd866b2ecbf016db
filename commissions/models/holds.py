"""Cash and holds: invoice payments that release commission, and finance's holds on a deal or a person."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Index
from sqlmodel import Field, SQLModel

from commissions.models.base import created_at_field, in_check, timestamp_field

HOLD_STATES = ("held", "released")


class InvoicePayment(SQLModel, table=True):
    """A payment of a deal's invoice (``invoice`` is the natural key): it releases commission of plans that
    release on payment. ``created_at`` decides whether its period was already locked when it came in."""

    __tablename__ = "invoice_payment"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    invoice: str = Field(max_length=128, unique=True)
    deal_id: int = Field(foreign_key="deal.id", ondelete="RESTRICT", index=True)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(min_length=3, max_length=3)
    paid_at: date
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()


class CommissionHold(SQLModel, table=True):
    """Finance holding one deal's or one person's commission of a period, with a reason, until released.

    ``payable_period_key``: where the held amount is paid once released (the original period when it was
    still open at the release, else the earliest period after it that was not locked)."""

    __tablename__ = "commission_hold"
    __table_args__ = (
        in_check("state", HOLD_STATES, "state"),
        CheckConstraint("(person_id IS NULL) <> (deal_id IS NULL)", name="person_xor_deal"),
        Index("ix_commission_hold_period_state", "period_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="period.id", ondelete="RESTRICT")
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="RESTRICT", index=True)
    deal_id: int | None = Field(default=None, foreign_key="deal.id", ondelete="RESTRICT", index=True)
    reason: str = Field(max_length=1000)
    state: str = Field(default="held", max_length=10)
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    release_note: str = Field(default="", max_length=1000)
    released_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    released_at: datetime | None = timestamp_field()
    payable_period_key: str | None = Field(default=None, max_length=10)
