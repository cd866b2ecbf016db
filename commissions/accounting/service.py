"""A period's accounting figures in one read, and saving the accounting settings (audited)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from commissions.accounting import accruals as accrual_groups
from commissions.accounting.accruals import AccountAccrual, GroupAccrual, PersonAccrual
from commissions.accounting.amortisation import Movements
from commissions.accounting.entries import ACCOUNT_NAMES, JournalEntry, journal
from commissions.accounting.queries import (
    DealCost,
    accounting_settings,
    accounts_of,
    accruals,
    deal_costs,
    journal_movements,
    period_movements,
    touching,
)
from commissions.core.audit import record_event
from commissions.core.db import transaction
from commissions.core.errors import InputProblem
from commissions.core.principal import Principal
from commissions.models import AccountingSettings, Period
from commissions.models.accounting import DEFAULT_ACCOUNTS
from commissions.models.base import utcnow

ACCOUNT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_/]{0,39}$")


@dataclass
class PeriodAccounting:
    period: Period
    settings: AccountingSettings
    accounts: dict[str, str]
    people: list[PersonAccrual]
    by_team: list[GroupAccrual]
    by_plan: list[GroupAccrual]
    totals: list[GroupAccrual]
    by_account: list[AccountAccrual]
    deals: list[DealCost]  # capitalised deal costs with a balance or a movement in the period
    amortisation: dict[str, Movements]  # per currency
    entries: list[JournalEntry]


def period_accounting(session: Session, period: Period) -> PeriodAccounting:
    """Accruals, the amortisation schedule and the journal of one period (all read, nothing written)."""
    settings = accounting_settings(session)
    accounts = accounts_of(settings)
    costs = deal_costs(session, period, settings)
    people = accruals(session, period, costs)
    in_period = touching(costs, period)
    return PeriodAccounting(
        period=period,
        settings=settings,
        accounts=accounts,
        people=people,
        by_team=accrual_groups.group(people, "team"),
        by_plan=accrual_groups.group(people, "plan"),
        totals=accrual_groups.group(people, "total"),
        by_account=accrual_groups.by_account(people, accounts, ACCOUNT_NAMES),
        deals=in_period,
        amortisation=period_movements(in_period, period),
        entries=journal(period.key, journal_movements(period, people, in_period), accounts),
    )


def save_settings(session: Session, *, values: dict[str, Any], actor: Principal) -> AccountingSettings:
    """Validate and store the account codes and benefit periods, in the caller's transaction; audited."""
    row = session.get(AccountingSettings, 1) or AccountingSettings(id=1)
    before = {
        name: getattr(row, name)
        for name in (*DEFAULT_ACCOUNTS, "default_benefit_months", "capitalisation_threshold_months")
    }
    for name in DEFAULT_ACCOUNTS:
        code = str(values.get(name, getattr(row, name)) or "").strip()
        if not ACCOUNT_CODE.match(code):
            raise InputProblem(name, f"{code!r} is not an account code (1-40 letters, digits, . - _ /)")
        setattr(row, name, code)
    for name in ("default_benefit_months", "capitalisation_threshold_months"):
        text = str(values.get(name, getattr(row, name))).strip()
        if not text.isdigit() or not 1 <= int(text) <= 600:
            raise InputProblem(name, f"{text!r} is not a number of months from 1 to 600")
        setattr(row, name, int(text))
    row.updated_by_id = actor.person_id
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    after = {name: getattr(row, name) for name in before}
    record_event(
        session, actor, "accounting.settings_changed", "accounting_settings", 1, {"before": before, "after": after}
    )
    return row


def update_settings(engine: Engine, *, values: dict[str, Any], actor: Principal) -> None:
    """``save_settings`` in a transaction of its own: all saved, or nothing (the error names the field)."""
    with transaction(engine) as session:
        save_settings(session, values=values, actor=actor)
