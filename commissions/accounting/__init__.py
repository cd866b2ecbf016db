"""Accounting: ASC 340-40 / IFRS 15 contract costs, accruals, general-ledger journal entries (docs/finance.md)."""
