"""The general-ledger export of a period: CSV, and XLSX with one sheet per entry type.

Two rows per entry (its debit and its credit), formula-safe text cells and no clock in the file, as the
payroll export (``payroll.service``): the same figures always give the same bytes, so a locked period's
export is byte-identical on every download (its figures are read as of the lock: ``accounting.queries``).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from commissions.accounting.entries import ENTRY_TYPES, JournalEntry
from commissions.core.money import from_minor
from commissions.engine.money import minor_digits
from commissions.models import Period
from commissions.payroll.service import fixed_timestamp, neutralise, plain_amount

COLUMNS = ("entry", "type", "date", "account", "account_name", "debit", "credit", "currency", "memo", "deal", "person")
MONEY_COLUMNS = ("debit", "credit")
SHEET_NAMES = {
    "accrual": "Accruals",
    "capitalisation": "Capitalised costs",
    "amortisation": "Amortisation",
    "reversal": "Clawback reversals",
    "payment": "Payments",
}


def journal_rows(entries: list[JournalEntry]) -> list[dict[str, Any]]:
    """Each entry's postings as rows (money in minor units under ``debit``/``credit``)."""
    return [
        {
            "entry": e.number,
            "type": e.kind,
            "date": e.on.isoformat(),
            "account": p.account,
            "account_name": p.account_name,
            "debit": p.debit,
            "credit": p.credit,
            "currency": e.currency,
            "memo": e.memo,
            "deal": e.deal,
            "person": e.person,
        }
        for e in entries
        for p in e.postings
    ]


def to_csv(entries: list[JournalEntry]) -> bytes:
    """UTF-8 without BOM, header row, ``\\r\\n`` line ends, text cells neutralised, amounts like ``1234.50``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in journal_rows(entries):
        writer.writerow(
            [
                plain_amount(from_minor(row[c], row["currency"]), row["currency"])
                if c in MONEY_COLUMNS
                else neutralise(str(row[c]))
                for c in COLUMNS
            ]
        )
    return buffer.getvalue().encode("utf-8")


def to_xlsx(period: Period, entries: list[JournalEntry]) -> bytes:
    """One sheet per entry type (always all five, in order), money as numbers; fixed dates, no clock."""
    import xlsxwriter  # type: ignore[import-untyped]  # no stubs; imported here: only the export needs it

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    workbook.set_properties(
        {"title": f"Journal {period.key}", "author": "Quotaboard", "company": "", "created": fixed_timestamp(period)}
    )
    bold = workbook.add_format({"bold": True})
    formats: dict[int, Any] = {}
    rows = journal_rows(entries)
    for kind in ENTRY_TYPES:
        sheet = workbook.add_worksheet(SHEET_NAMES[kind])
        for c, name in enumerate(COLUMNS):
            sheet.write_string(0, c, name, bold)
        for r, row in enumerate((row for row in rows if row["type"] == kind), start=1):
            digits = minor_digits(row["currency"])
            fmt = formats.get(digits) or formats.setdefault(
                digits, workbook.add_format({"num_format": "0." + "0" * digits if digits else "0"})
            )
            for c, name in enumerate(COLUMNS):
                if name in MONEY_COLUMNS:
                    sheet.write_number(r, c, from_minor(row[name], row["currency"]), fmt)
                else:
                    sheet.write_string(r, c, neutralise(str(row[name])))
        sheet.set_column(0, 0, 16)
        sheet.set_column(4, 4, 30)
        sheet.set_column(8, 8, 60)
        sheet.set_column(10, 10, 28)
        sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()


def export_filename(period: Period, extension: str) -> str:
    return f"journal-{period.key}.{extension}"
