"""What the holds and payments API take and answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deal: str | None = Field(default=None, description="external_id of the deal to hold (or give a person)")
    person: str | None = Field(default=None, description="email of the person to hold (or give a deal)")
    period: str = Field(description="an open period, e.g. 2026-Q1")
    reason: str = Field(description='shown on the statement as "held by finance: <reason>"')


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = ""


class HeldAmountOut(BaseModel):
    person: str
    currency: str
    amount: str


class HoldOut(BaseModel):
    id: int
    period: str
    deal: str | None
    person: str | None
    reason: str
    state: str = Field(description="held | released")
    created_at: datetime
    release_note: str
    released_at: datetime | None
    payable_period: str | None = Field(description="where the released amount is paid")
    amounts: list[HeldAmountOut] = Field(description="what the hold keeps back in its period, per person")


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invoice: str = Field(max_length=128, description="the invoice id: the natural key (idempotent)")
    deal: str = Field(max_length=128, description="the deal's external_id")
    amount: str = Field(max_length=40, description='decimal in the deal\'s currency, e.g. "20000.00"')
    paid_at: str = Field(max_length=10, description="2026-03-10")
    currency: str | None = Field(default=None, max_length=3, description="optional: must be the deal's currency")
