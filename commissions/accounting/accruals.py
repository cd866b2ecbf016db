"""Accruals: earned commission not yet paid, per person, team, plan and GL account. Pure: no I/O.

accrued = earned - paid - held, per person and currency, to the cent (integer minor units): earned is
the statement's total in force, paid what the payroll export of a paid period paid (0 before), held
what holds keep back (``holds.cash.held_by_person``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PersonAccrual:
    person: str  # email
    name: str
    team: str
    plan: str
    currency: str
    earned: int
    paid: int
    held: int
    capitalised: int  # the part of earned booked to the contract cost asset instead of expense

    @property
    def accrued(self) -> int:
        return self.earned - self.paid - self.held

    @property
    def expensed(self) -> int:
        return self.earned - self.capitalised


@dataclass(frozen=True, slots=True)
class GroupAccrual:
    label: str
    currency: str
    earned: int
    paid: int
    held: int

    @property
    def accrued(self) -> int:
        return self.earned - self.paid - self.held


@dataclass(frozen=True, slots=True)
class AccountAccrual:
    """The period's earned commission by the account it is debited to, and the liability credited."""

    account: str
    name: str
    currency: str
    amount: int


def group(people: Iterable[PersonAccrual], by: str) -> list[GroupAccrual]:
    """Totals per ``by`` (``team``, ``plan`` or ``total``) and currency, sorted."""
    sums: dict[tuple[str, str], list[int]] = {}
    for p in people:
        label = "Total" if by == "total" else str(getattr(p, by))
        entry = sums.setdefault((label, p.currency), [0, 0, 0])
        entry[0] += p.earned
        entry[1] += p.paid
        entry[2] += p.held
    return [
        GroupAccrual(label, cur, *values)
        for (label, cur), values in sorted(sums.items(), key=lambda i: (i[0][1], i[0][0]))
    ]


def by_account(
    people: Iterable[PersonAccrual], accounts: dict[str, str], names: dict[str, str]
) -> list[AccountAccrual]:
    """Earned by debit account (commission expense, contract cost asset) and the liability balance: everything
    earned and not yet paid, **held commission included** (a hold delays a payment, it does not cancel what is
    owed; the journal credits the liability with all of earned and debits it only with what is paid, so the two
    agree). Finance forfeits held commission with an adjustment, which lowers earned."""
    sums: dict[tuple[str, str], int] = {}
    for p in people:
        for role, amount in (
            ("commission_expense_account", p.expensed),
            ("contract_cost_asset_account", p.capitalised),
            ("accrued_commissions_account", p.earned - p.paid),
        ):
            key = (role, p.currency)
            sums[key] = sums.get(key, 0) + amount
    order = ("commission_expense_account", "contract_cost_asset_account", "accrued_commissions_account")
    return [
        AccountAccrual(accounts[role], names[role], cur, amount)
        for (role, cur), amount in sorted(sums.items(), key=lambda i: (i[0][1], order.index(i[0][0])))
    ]
