"""The shape of a lead lifecycle event as machines send it (API body, CSV row), validated once here."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from commissions.calculator.deals_csv import EARLIEST, LATEST, MAX_AMOUNT

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=3, max_length=254)]
Stage = Literal["mql", "sql", "opportunity", "won", "lost"]


class LeadEventIn(BaseModel):
    """One stage a lead reached. The same (lead, stage) again updates that event; the same body is a no-op."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    lead: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)] = Field(
        description="the lead's id in the CRM or marketing automation tool"
    )
    stage: Stage
    occurred_at: date
    owner: Email = Field(description="email of the marketer who owns the lead")
    campaign: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    name: Text = ""
    account: Text = ""
    amount: Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT)] | None = Field(
        default=None, description="required for opportunity and won, optional for lost, not allowed before"
    )
    currency: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z]{3}$")] = "USD"

    @field_validator("amount")
    @classmethod
    def _finite(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and not value.is_finite():
            raise ValueError("amount must be a number")
        return value

    @field_validator("occurred_at")
    @classmethod
    def _plausible(cls, value: date) -> date:
        if not EARLIEST <= value <= LATEST:
            raise ValueError(f"date must lie between {EARLIEST} and {LATEST}")
        return value

    @field_validator("campaign")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _amount_fits_stage(self) -> LeadEventIn:
        if self.stage in ("opportunity", "won") and self.amount is None:
            raise ValueError(
                f"amount: an {self.stage} event needs an amount"
                if self.stage == "opportunity"
                else "amount: a won event needs an amount"
            )
        if self.stage in ("mql", "sql") and self.amount is not None:
            raise ValueError(f"amount: an {self.stage} event has no amount (amounts start at the opportunity)")
        return self


class LeadEventOut(BaseModel):
    lead: str
    stage: str
    occurred_at: date
    owner: str
    campaign: str | None
    amount: str | None
    currency: str | None
    in_order: bool
    flag: str = Field(description="why the event is not counted as a conversion; empty when in order")
