"""What ``POST /api/v1/adjustments`` (and the finance page's form) take, and what the API answers."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AdjustmentIn(BaseModel):
    person: str = Field(description="email of the person whose statement it changes")
    period: str = Field(description="an open period, e.g. 2026-Q2")
    amount: str = Field(description='signed decimal amount in the person\'s pay currency, e.g. "250.00" or "-120.00"')
    reason: str = Field(description="shown on the statement")
    deal: str | None = Field(default=None, description="external_id of the deal it concerns, if any")


class ReverseIn(BaseModel):
    reason: str = ""


class AdjustmentOut(BaseModel):
    id: int
    person: str
    period: str
    amount: str
    currency: str
    reason: str
    deal: str | None
    line: int | None
