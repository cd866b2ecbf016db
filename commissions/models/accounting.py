"""Accounting settings: the general-ledger account codes and the contract-cost benefit periods (one row)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from commissions.models.base import created_at_field

DEFAULT_ACCOUNTS = {
    "commission_expense_account": "6100",
    "accrued_commissions_account": "2150",
    "contract_cost_asset_account": "1450",
    "amortisation_expense_account": "6150",
    "cash_account": "1000",
}


class AccountingSettings(SQLModel, table=True):
    """Finance's choices for the journal and ASC 340-40 (docs/finance.md); the row with id 1 is the one in use."""

    __tablename__ = "accounting_settings"
    __table_args__ = (
        CheckConstraint("default_benefit_months >= 1", name="benefit_positive"),
        CheckConstraint("capitalisation_threshold_months >= 1", name="threshold_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    commission_expense_account: str = Field(default="6100", max_length=40)
    accrued_commissions_account: str = Field(default="2150", max_length=40)
    contract_cost_asset_account: str = Field(default="1450", max_length=40)
    amortisation_expense_account: str = Field(default="6150", max_length=40)
    cash_account: str = Field(default="1000", max_length=40)
    # the benefit period of a deal without term_months; 12 or less: its commission is expensed at once
    default_benefit_months: int = Field(default=12)
    capitalisation_threshold_months: int = Field(default=12)
    updated_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    updated_at: datetime = created_at_field()


class ContractTerm(SQLModel, table=True):
    """A deal's close date and term as they stood when the first period paying commission on it was locked.

    Written by the lock (``periods.workflow``), never updated: the contract-cost schedules of locked
    periods read these, so a later edit of the deal cannot change a locked period's journal.
    """

    __tablename__ = "contract_term"

    deal_id: int = Field(primary_key=True, foreign_key="deal.id", ondelete="RESTRICT")
    closed_on: date
    term_months: int | None = None
    period_id: int = Field(foreign_key="period.id", ondelete="RESTRICT")
    recorded_at: datetime = created_at_field()
