"""The accounting API's answers (amounts as decimal strings in their currency)."""

from __future__ import annotations

from pydantic import BaseModel


class PersonAccrualOut(BaseModel):
    person: str
    name: str
    team: str
    plan: str
    currency: str
    earned: str
    paid: str
    held: str
    accrued: str
    capitalised: str
    expensed: str


class GroupAccrualOut(BaseModel):
    label: str
    currency: str
    earned: str
    paid: str
    held: str
    accrued: str


class AccountAccrualOut(BaseModel):
    account: str
    name: str
    currency: str
    amount: str


class AccrualsOut(BaseModel):
    period: str
    state: str
    people: list[PersonAccrualOut]
    by_team: list[GroupAccrualOut]
    by_plan: list[GroupAccrualOut]
    by_account: list[AccountAccrualOut]
    totals: list[GroupAccrualOut]  # one per currency


class MovementsOut(BaseModel):
    currency: str
    opening: str
    capitalised: str
    amortised: str
    reversed: str
    closing: str


class MonthOut(BaseModel):
    month: str  # YYYY-MM
    opening: str
    capitalised: str
    amortised: str
    reversed: str
    closing: str


class DealScheduleOut(BaseModel):
    deal: str
    person: str
    currency: str
    closed_on: str
    benefit_months: int
    amount: str
    clawback_on: str | None
    period: MovementsOut  # this period's totals for the deal
    months: list[MonthOut]  # the whole schedule


class AmortisationOut(BaseModel):
    period: str
    state: str
    capitalisation_threshold_months: int
    default_benefit_months: int
    totals: list[MovementsOut]  # one per currency
    deals: list[DealScheduleOut]
