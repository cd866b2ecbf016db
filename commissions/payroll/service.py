"""The payroll export: one row per person, period and currency, from the ledger's lines in force.

Columns are cli.md's ``employee_id,email,name,period,currency,earned,adjustments,
clawbacks,draw,net_payable,plan,status``. Every figure comes from stored rows (the
ledger, payee summaries, the period), never from a recomputation, and nothing in the
output depends on the clock: the same data always gives the same bytes
(docs/payroll-and-disputes.md).

When someone in the export is paid in another currency than their plan's (``Person.payment_currency``),
four columns follow the spec's: ``payment_currency,net_payable_in_payment_currency,exchange_rate,rate_date``,
``net_payable`` converted with the exchange rate in force on the period's last day (the latest on or before
it, either direction, as the engine's ``RateBook`` picks it), rounded half-up once. Without such a rate the
export is refused, naming the person and the pair (docs/finance.md, "Payment currency").
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from commissions.calculation.ledger import totals_query
from commissions.calculation.loader import plan_catalogue
from commissions.calculation.rows import stored_id
from commissions.core.errors import Conflict, InputProblem
from commissions.core.money import from_minor
from commissions.engine import PeriodError, parse_period
from commissions.engine.money import minor_digits
from commissions.holds.cash import payable_changes
from commissions.models import LedgerTotal, PayeeSummary, Period, Person, Plan

COLUMNS = (
    "employee_id",
    "email",
    "name",
    "period",
    "currency",
    "earned",
    "adjustments",
    "clawbacks",
    "draw",
    "net_payable",
    "plan",
    "status",
)
MONEY_COLUMNS = ("earned", "adjustments", "clawbacks", "draw", "net_payable")
PAYMENT_COLUMNS = ("payment_currency", "net_payable_in_payment_currency", "exchange_rate", "rate_date")
PLAN_SEPARATOR = "; "
#: Which export column each ledger kind adds to (net_payable is the sum of all of them).
KIND_COLUMN = {
    "earning": "earned",
    "cap": "earned",
    "adjustment": "adjustments",
    "clawback": "clawbacks",
    "draw": "draw",
}
FORMULA_TRIGGERS = ("=", "+", "-", "@")


class PeriodNotFound(InputProblem):
    status_code = 404


class MissingPaymentRate(Conflict):
    """Someone is paid in a currency that no stored exchange rate converts their plan's currency into."""


def neutralise(text: str) -> str:
    """A text cell that a spreadsheet would run as a formula gets a leading ``'`` (OWASP CSV injection).

    Triggers: ``= + - @`` as the first character, also after leading whitespace, and a
    leading tab or carriage return. Numbers are never passed here: they stay numbers.
    """
    if text[:1] in ("\t", "\r", "\n") or text.lstrip()[:1] in FORMULA_TRIGGERS:
        return "'" + text
    return text


@dataclass(frozen=True, slots=True)
class PayoutRow:
    employee_id: str
    email: str
    name: str
    period: str
    currency: str
    earned_minor: int
    adjustments_minor: int
    clawbacks_minor: int
    draw_minor: int
    net_minor: int
    plan: str
    status: str
    payment_currency: str = ""  # the person's, when it differs from ``currency``
    payment_net: Decimal | None = None  # net_payable converted into it
    exchange_rate: str = ""  # what one unit of ``currency`` is in ``payment_currency``
    rate_date: str = ""  # the effective_from of the rate used

    @property
    def converted(self) -> bool:
        return bool(self.payment_currency)

    def amount(self, column: str) -> Decimal:
        minor = {
            "earned": self.earned_minor,
            "adjustments": self.adjustments_minor,
            "clawbacks": self.clawbacks_minor,
            "draw": self.draw_minor,
            "net_payable": self.net_minor,
        }[column]
        return from_minor(minor, self.currency)

    def text(self, column: str) -> str:
        return str(getattr(self, column))

    def payment_cells(self) -> tuple[str, Decimal, str, str]:
        """The four payment columns: the conversion, or the row's own currency and net (no rate) when the
        person is paid in their plan's currency."""
        if self.converted:
            assert self.payment_net is not None
            return self.payment_currency, self.payment_net, self.exchange_rate, self.rate_date
        return self.currency, self.amount("net_payable"), "", ""


def find_period(session: Session, key: str) -> Period:
    """The stored period of a key: 400 for a malformed key, 404 for one never computed."""
    try:
        canonical = parse_period(key.strip()).key
    except PeriodError as exc:
        raise InputProblem("period", f"{key!r} is not a period key (2026-01, 2026-Q1 or 2026): {exc}") from exc
    period = session.exec(select(Period).where(Period.key == canonical)).first()
    if period is None:
        raise PeriodNotFound("period", f"no period {canonical} exists")
    return period


def missing_payment_rate(session: Session, period: Period) -> str | None:
    """What the export would refuse with (``MissingPaymentRate``), found before anyone asks for it: someone paid
    in another currency with no rate into it on the period's last day. Reads only the people paid in another
    currency, so the finance page can say it beside the export buttons."""
    paid_elsewhere = (col(Person.payment_currency).is_not(None), col(Person.payment_currency) != LedgerTotal.currency)
    pairs = set(
        session.execute(
            totals_query(stored_id(period), Person.email, Person.payment_currency, LedgerTotal.currency)
            .join(Person, col(Person.id) == LedgerTotal.person_id)
            .where(*paid_elsewhere)
            .distinct()
        ).all()
    )
    pairs |= set(
        session.execute(
            select(Person.email, Person.payment_currency, PayeeSummary.currency)
            .join(Person, col(Person.id) == PayeeSummary.person_id)
            .where(
                PayeeSummary.period_id == period.id,
                col(Person.payment_currency).is_not(None),
                col(Person.payment_currency) != PayeeSummary.currency,
            )
            .distinct()
        ).all()
    )
    if not pairs:
        return None
    book = plan_catalogue(session).rate_book
    for email, target, currency in sorted(pairs):
        if book.lookup(currency, target, period.ends_on) is None:
            return (
                f"{email} is paid in {target}: no exchange rate from {currency} to {target} on or before "
                f"{period.ends_on.isoformat()} (the last day of {period.key}); add one on the rates page"
            )
    return None


def payout_rows(session: Session, period: Period) -> list[PayoutRow]:
    """One row per person and currency: everyone with a payee summary or a line in force, ordered by email."""
    sums: dict[tuple[int, str], dict[str, int]] = {}
    plans: dict[tuple[int, str], set[str]] = {}
    for person_id, currency, kind, plan, total in session.execute(  # the running totals: a few rows per person
        totals_query(
            stored_id(period),
            LedgerTotal.person_id,
            LedgerTotal.currency,
            LedgerTotal.kind,
            Plan.name,
            func.sum(LedgerTotal.amount_minor),
        )
        .join(Plan, col(Plan.id) == LedgerTotal.plan_id, isouter=True)
        .group_by(LedgerTotal.person_id, LedgerTotal.currency, LedgerTotal.kind, Plan.name)
    ).all():
        entry = sums.setdefault((person_id, currency), dict.fromkeys((*MONEY_COLUMNS,), 0))
        entry[KIND_COLUMN.get(kind, "adjustments")] += int(total)
        entry["net_payable"] += int(total)
        if plan is not None:
            plans.setdefault((person_id, currency), set()).add(plan)
    for person_id, currency, name in session.exec(
        select(PayeeSummary.person_id, PayeeSummary.currency, Plan.name)
        .join(Plan, col(Plan.id) == PayeeSummary.plan_id)
        .where(PayeeSummary.period_id == period.id)
    ).all():
        plans.setdefault((person_id, currency), set()).add(name)
        sums.setdefault((person_id, currency), dict.fromkeys(MONEY_COLUMNS, 0))
    for key, change in payable_changes(session, period).items():  # waiting for payment, held, holds released
        sums.setdefault(key, dict.fromkeys(MONEY_COLUMNS, 0))["net_payable"] += change
    people = {p.id: p for p in session.exec(select(Person).where(col(Person.id).in_({pid for pid, _ in sums}))).all()}
    rows = [
        PayoutRow(
            employee_id=people[pid].employee_id or "",
            email=people[pid].email,
            name=people[pid].name,
            period=period.key,
            currency=currency,
            earned_minor=s["earned"],
            adjustments_minor=s["adjustments"],
            clawbacks_minor=s["clawbacks"],
            draw_minor=s["draw"],
            net_minor=s["net_payable"],
            plan=PLAN_SEPARATOR.join(sorted(plans.get((pid, currency), ()))),
            status=period.state,
        )
        for (pid, currency), s in sums.items()
    ]
    rows = _in_payment_currencies(session, period, rows, {p.email: p.payment_currency for p in people.values()})
    return sorted(rows, key=lambda r: (r.email, r.currency))


def _in_payment_currencies(
    session: Session, period: Period, rows: list[PayoutRow], paid_in: dict[str, str | None]
) -> list[PayoutRow]:
    """The rows of people paid in another currency than the row's, with ``net_payable`` converted on the period's
    last day; ``MissingPaymentRate`` naming the first person (by email) without a rate."""
    if not any(paid_in.get(r.email) and paid_in[r.email] != r.currency for r in rows):
        return rows
    book = plan_catalogue(session).rate_book
    out = []
    for row in sorted(rows, key=lambda r: (r.email, r.currency)):
        target = paid_in.get(row.email)
        if not target or target == row.currency:
            out.append(row)
            continue
        applied = book.lookup(row.currency, target, period.ends_on)
        if applied is None:
            raise MissingPaymentRate(
                "payment_currency",
                f"{row.email} is paid in {target}: no exchange rate from {row.currency} to {target} on or before "
                f"{period.ends_on.isoformat()} (the last day of {period.key}); add one on the rates page",
            )
        converted = book.convert(row.amount("net_payable"), row.currency, target, period.ends_on)
        factor = applied.factor.quantize(Decimal("1E-10")).normalize() if applied.inverted else applied.rate
        out.append(
            replace(
                row,
                payment_currency=target,
                payment_net=converted.amount,
                exchange_rate=format(factor, "f"),
                rate_date=applied.effective_from.isoformat(),
            )
        )
    return out


def columns_of(rows: list[PayoutRow]) -> tuple[str, ...]:
    """cli.md's columns, and the payment columns after them when someone is paid in another currency."""
    return (*COLUMNS, *PAYMENT_COLUMNS) if any(r.converted for r in rows) else COLUMNS


def plain_amount(value: Decimal, currency: str) -> str:
    """``1234.50``: the currency's minor digits, no thousands separator, never exponent notation."""
    return f"{value:.{minor_digits(currency)}f}"


def to_csv(rows: list[PayoutRow]) -> bytes:
    """UTF-8 without BOM, header row, RFC 4180 ``\\r\\n`` line ends, minimal quoting, text cells neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = columns_of(rows)
    writer.writerow(columns)
    for row in rows:
        cells = [
            plain_amount(row.amount(c), row.currency) if c in MONEY_COLUMNS else neutralise(row.text(c))
            for c in COLUMNS
        ]
        if len(columns) > len(COLUMNS):
            currency, net, rate, day = row.payment_cells()
            cells += [currency, plain_amount(net, currency), rate, day]
        writer.writerow(cells)
    return buffer.getvalue().encode("utf-8")


def fixed_timestamp(period: Period) -> datetime:
    """The document date written into the XLSX: the period's last day, so it never depends on the clock."""
    return datetime.combine(period.ends_on, time(0, 0), tzinfo=UTC)


def to_xlsx(period: Period, rows: list[PayoutRow]) -> bytes:
    """One sheet, header row, money as numbers (exact decimal text in the file), text cells neutralised.

    XlsxWriter with ``in_memory`` writes every zip member with the fixed date 1980-01-01,
    and the core properties get a fixed creation date, so the same rows give the same bytes.
    Its automatic conversions (strings to formulas, URLs, numbers) are off: text is text.
    """
    import xlsxwriter  # type: ignore[import-untyped]  # no stubs or py.typed; imported here: only the export needs it

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    workbook.set_properties(
        {"title": f"Payouts {period.key}", "author": "Quotaboard", "company": "", "created": fixed_timestamp(period)}
    )
    sheet = workbook.add_worksheet(f"Payouts {period.key}")
    bold = workbook.add_format({"bold": True})
    money_formats: dict[int, Any] = {}

    def money_format(currency: str) -> Any:
        digits = minor_digits(currency)
        return money_formats.get(digits) or money_formats.setdefault(
            digits, workbook.add_format({"num_format": "0." + "0" * digits if digits else "0"})
        )

    columns = columns_of(rows)
    for c, name in enumerate(columns):
        sheet.write_string(0, c, name, bold)
    for r, row in enumerate(rows, start=1):
        fmt = money_format(row.currency)
        for c, name in enumerate(COLUMNS):
            if name in MONEY_COLUMNS:
                sheet.write_number(r, c, row.amount(name), fmt)
            else:
                sheet.write_string(r, c, neutralise(row.text(name)))
        if len(columns) > len(COLUMNS):
            currency, net, rate, day = row.payment_cells()
            c = len(COLUMNS)
            sheet.write_string(r, c, currency)
            sheet.write_number(r, c + 1, net, money_format(currency))
            sheet.write_string(r, c + 2, rate)  # as written: exact, never a float
            sheet.write_string(r, c + 3, day)
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, 2, 28)
    sheet.set_column(5, 9, 14)
    sheet.set_column(10, 10, 24)
    sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()


def export_filename(period: Period, extension: str) -> str:
    return f"payouts-{period.key}.{extension}"  # period keys are [0-9A-Z-] only: safe in a header
