"""Exchange rates: one unit of ``source`` is ``rate`` units of ``target`` from ``effective_from`` on (plans.md 3).

A rate is kept per (source, target, effective_from); correcting one rewrites the row and records the old and
new value in the audit log (``rate.set``), which is the pair's history (docs/finance.md, "Exchange rates").
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from commissions.models.base import created_at_field

RATE_PRECISION = 20  # digits in all
RATE_SCALE = 10  # digits after the point


class ExchangeRate(SQLModel, table=True):
    __tablename__ = "exchange_rate"
    __table_args__ = (
        UniqueConstraint("source", "target", "effective_from"),
        CheckConstraint("rate > 0", name="rate_positive"),
        CheckConstraint("source <> target", name="distinct_currencies"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=3)
    target: str = Field(max_length=3)
    rate: Decimal = Field(sa_type=Numeric(RATE_PRECISION, RATE_SCALE))
    effective_from: date
    created_at: datetime = created_at_field()
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")


def plain_rate(value: Decimal) -> Decimal:
    """A stored rate as written (``1.0850``, not ``1.0850000000``): trailing zeros dropped down to 4 decimals."""
    digits = max(4, -value.normalize().as_tuple().exponent)  # type: ignore[operator]
    return value.quantize(Decimal(1).scaleb(-digits))
