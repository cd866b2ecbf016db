"""The periods API's answers (``GET``/``POST /api/v1/periods/...``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class PersonTotalsOut(BaseModel):
    person: str
    name: str
    currency: str
    total: str
    components: dict[str, str]


class FailedOut(BaseModel):
    person: str
    error: str


class LastCheckOut(BaseModel):
    at: datetime
    checked: bool  # False: a locked or paid period (not recomputed), or the period could not be recomputed
    differences: int
    statements: int
    pending: int  # statements pending when it ran
    note: str


class PeriodOut(BaseModel):
    period: str
    state: str
    approved_at: datetime | None
    approved_by: str | None
    locked_at: datetime | None
    locked_by: str | None
    paid_at: datetime | None
    paid_by: str | None
    totals: dict[str, str]  # grand total per currency
    components: dict[str, str]
    people: list[PersonTotalsOut]
    pending: int = 0  # statements waiting for a recompute
    failed: list[FailedOut] = []  # people whose last calculation failed, with why
    last_check: LastCheckOut | None = None  # the latest self-audit (`commissions recalc --check`)
    next_cursor: str | None = None  # paged (``limit``/``cursor``): the next page of people, None on the last
