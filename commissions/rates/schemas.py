"""Request and response shapes of ``/api/v1/rates``: keys ``from``/``to`` as in rates.csv (cli.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from commissions.rates.queries import RateRow


class RateIn(BaseModel):
    """One unit of ``from`` is ``rate`` units of ``to`` from ``effective_from`` on (plans.md 3)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: Annotated[str, Field(alias="from", max_length=10, description="currency converted from, e.g. EUR")]
    target: Annotated[str, Field(alias="to", max_length=10, description="currency converted to, e.g. USD")]
    rate: Annotated[Decimal, Field(description='units of `to` per unit of `from`, > 0, e.g. "1.0850"')]
    effective_from: Annotated[date, Field(description="the first day the rate applies (YYYY-MM-DD)")]


class RateOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    rate: str = Field(description="decimal string, at least 4 decimals")
    effective_from: date

    @classmethod
    def of(cls, row: RateRow) -> RateOut:
        return cls(source=row.source, target=row.target, rate=str(row.rate), effective_from=row.effective_from)


class RateList(BaseModel):
    items: list[RateOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")
