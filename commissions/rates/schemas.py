"""Request and response shapes of ``/api/v1/rates``: keys ``from``/``to`` as in rates.csv (cli.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from commissions.rates.queries import RateRow


class RateIn(BaseModel):
    """One unit of ``from`` is ``rate`` units of ``to`` from ``effective_from`` on (plans.md 3)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: Annotated[str, Field(alias="from", max_length=10, description="currency converted from, e.g. EUR")]
    target: Annotated[str, Field(alias="to", max_length=10, description="currency converted to, e.g. USD")]
    rate: Annotated[Decimal, Field(description='units of `to` per unit of `from`, > 0, e.g. "1.0850"')]
    effective_from: Annotated[date, Field(description="the first day the rate applies (YYYY-MM-DD)")]


# a TypedDict: its keys are what the JSON (and the OpenAPI document) say, ``from`` and ``to`` included
RateOut = TypedDict("RateOut", {"from": str, "to": str, "rate": str, "effective_from": date})


def rate_out(row: RateRow) -> RateOut:
    """A stored rate as the API shows it (``rate``: a decimal string with at least 4 decimals)."""
    return {"from": row.source, "to": row.target, "rate": str(row.rate), "effective_from": row.effective_from}


class RateList(BaseModel):
    items: list[RateOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")
