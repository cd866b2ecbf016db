"""General-ledger journal entries of a period, built from its figures. Pure: no I/O.

| entry | debit | credit |
| --- | --- | --- |
| accrual | commission expense | accrued commissions (liability) |
| capitalisation | contract cost asset | accrued commissions |
| amortisation | amortisation expense | contract cost asset |
| reversal (clawback of a capitalised deal) | accrued commissions | contract cost asset |
| payment (a paid period) | accrued commissions | cash |

A negative amount swaps the sides (a clawback larger than the period's earnings: Dr liability, Cr
expense). Every entry is balanced by construction; amounts are integer minor units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

ENTRY_TYPES = ("accrual", "capitalisation", "amortisation", "reversal", "payment")
ACCOUNT_NAMES = {
    "commission_expense_account": "Commission expense",
    "accrued_commissions_account": "Accrued commissions",
    "contract_cost_asset_account": "Capitalised contract costs",
    "amortisation_expense_account": "Amortisation of contract costs",
    "cash_account": "Cash / payroll clearing",
}
#: entry type: (debit account, credit account) by setting name
SIDES = {
    "accrual": ("commission_expense_account", "accrued_commissions_account"),
    "capitalisation": ("contract_cost_asset_account", "accrued_commissions_account"),
    "amortisation": ("amortisation_expense_account", "contract_cost_asset_account"),
    "reversal": ("accrued_commissions_account", "contract_cost_asset_account"),
    "payment": ("accrued_commissions_account", "cash_account"),
}


@dataclass(frozen=True, slots=True)
class Posting:
    account: str
    account_name: str
    debit: int
    credit: int


@dataclass(frozen=True, slots=True)
class Movement:
    """One amount to journal: what kind, when, in which currency, for whom and which deal."""

    kind: str
    on: date
    currency: str
    amount: int
    person: str
    deal: str
    memo: str


@dataclass(frozen=True, slots=True)
class JournalEntry:
    number: str
    kind: str
    on: date
    currency: str
    memo: str
    deal: str
    person: str
    postings: tuple[Posting, Posting]

    @property
    def balanced(self) -> bool:
        return sum(p.debit for p in self.postings) == sum(p.credit for p in self.postings)


def journal(period_key: str, movements: list[Movement], accounts: dict[str, str]) -> list[JournalEntry]:
    """The entries, numbered ``{period}-00001`` on, by type, date, person, deal; zero amounts left out."""
    chosen = sorted(
        (m for m in movements if m.amount),
        key=lambda m: (ENTRY_TYPES.index(m.kind), m.on, m.person, m.deal, m.currency, m.memo),
    )
    entries = []
    for n, m in enumerate(chosen, start=1):
        debit_role, credit_role = SIDES[m.kind]
        if m.amount < 0:
            debit_role, credit_role = credit_role, debit_role
        value = abs(m.amount)
        postings = (
            Posting(accounts[debit_role], ACCOUNT_NAMES[debit_role], value, 0),
            Posting(accounts[credit_role], ACCOUNT_NAMES[credit_role], 0, value),
        )
        entries.append(
            JournalEntry(f"{period_key}-{n:05d}", m.kind, m.on, m.currency, m.memo, m.deal, m.person, postings)
        )
    return entries
