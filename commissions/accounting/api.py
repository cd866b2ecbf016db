"""Finance's accounting API: a period's journal (CSV, XLSX), accruals and amortisation schedule (JSON)."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.params import FromPath

from commissions.accounting.amortisation import Movements
from commissions.accounting.journal import export_filename, to_csv, to_xlsx
from commissions.accounting.schemas import (
    AccountAccrualOut,
    AccrualsOut,
    AmortisationOut,
    DealScheduleOut,
    GroupAccrualOut,
    MonthOut,
    MovementsOut,
    PersonAccrualOut,
)
from commissions.accounting.service import PeriodAccounting, period_accounting
from commissions.core.dependencies import DbSession
from commissions.core.guards import finance_only
from commissions.core.money import from_minor
from commissions.payroll.service import find_period

MEDIA_TYPES = {
    "csv": "text/csv",  # Litestar adds "; charset=utf-8" to every text/ type
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
JOURNAL_DESCRIPTION = (
    "The period's general-ledger journal: columns entry,type,date,account,account_name,debit,credit,currency,memo,"
    "deal,person; two rows (debit, credit) per entry, every entry balanced. Types: accrual (Dr commission expense / "
    "Cr accrued commissions), capitalisation (Dr contract cost asset / Cr accrued commissions), amortisation "
    "(Dr amortisation expense / Cr contract cost asset), reversal (a clawback of a capitalised deal: Dr accrued "
    "commissions / Cr contract cost asset), payment (a paid period: Dr accrued commissions / Cr cash). A locked "
    "period is read as of its lock: byte-identical on every download, whatever arrives later."
)


def _money(minor: int, currency: str) -> str:
    return str(from_minor(minor, currency))


def _movements(m: Movements, currency: str) -> MovementsOut:
    return MovementsOut(
        currency=currency,
        opening=_money(m.opening, currency),
        capitalised=_money(m.capitalised, currency),
        amortised=_money(m.amortised, currency),
        reversed=_money(m.reversed, currency),
        closing=_money(m.closing, currency),
    )


def accruals_out(figures: PeriodAccounting) -> AccrualsOut:
    def group(g: list) -> list[GroupAccrualOut]:  # type: ignore[type-arg]
        return [
            GroupAccrualOut(
                label=x.label,
                currency=x.currency,
                earned=_money(x.earned, x.currency),
                paid=_money(x.paid, x.currency),
                held=_money(x.held, x.currency),
                accrued=_money(x.accrued, x.currency),
            )
            for x in g
        ]

    return AccrualsOut(
        period=figures.period.key,
        state=figures.period.state,
        people=[
            PersonAccrualOut(
                person=p.person,
                name=p.name,
                team=p.team,
                plan=p.plan,
                currency=p.currency,
                earned=_money(p.earned, p.currency),
                paid=_money(p.paid, p.currency),
                held=_money(p.held, p.currency),
                accrued=_money(p.accrued, p.currency),
                capitalised=_money(p.capitalised, p.currency),
                expensed=_money(p.expensed, p.currency),
            )
            for p in figures.people
        ],
        by_team=group(figures.by_team),
        by_plan=group(figures.by_plan),
        by_account=[
            AccountAccrualOut(account=a.account, name=a.name, currency=a.currency, amount=_money(a.amount, a.currency))
            for a in figures.by_account
        ],
        totals=group(figures.totals),
    )


def amortisation_out(figures: PeriodAccounting) -> AmortisationOut:
    deals = []
    for d in figures.deals:
        c = d.cost
        deals.append(
            DealScheduleOut(
                deal=c.deal,
                person=c.person,
                currency=c.currency,
                closed_on=c.closed_on.isoformat(),
                benefit_months=c.benefit_months,
                amount=_money(c.amount_minor, c.currency),
                clawback_on=c.clawback_on.isoformat() if c.clawback_on else None,
                period=_movements(d.in_period(figures.period), c.currency),
                months=[
                    MonthOut(
                        month=f"{r.month:%Y-%m}",
                        opening=_money(r.opening, c.currency),
                        capitalised=_money(r.capitalised, c.currency),
                        amortised=_money(r.amortised, c.currency),
                        reversed=_money(r.reversed, c.currency),
                        closing=_money(r.closing, c.currency),
                    )
                    for r in d.rows
                ],
            )
        )
    return AmortisationOut(
        period=figures.period.key,
        state=figures.period.state,
        capitalisation_threshold_months=figures.settings.capitalisation_threshold_months,
        default_benefit_months=figures.settings.default_benefit_months,
        totals=[_movements(m, cur) for cur, m in figures.amortisation.items()],
        deals=deals,
    )


class AccountingApiController(Controller):
    path = "/api/v1/periods"
    guards = [finance_only]
    tags = ["accounting"]

    def _journal(self, db: DbSession, period: str, extension: str) -> Response[bytes]:
        row = find_period(db, period)
        entries = period_accounting(db, row).entries
        content = to_csv(entries) if extension == "csv" else to_xlsx(row, entries)
        return Response(
            content=content,
            media_type=MEDIA_TYPES[extension],
            headers={
                "Content-Disposition": f'attachment; filename="{export_filename(row, extension)}"',
                "Cache-Control": "no-store",
            },
        )

    @get(
        "/{period:str}/journal.csv",
        sync_to_thread=True,
        summary="The period's journal entries as CSV (finance)",
        description=JOURNAL_DESCRIPTION,
    )
    def journal_csv(self, db: DbSession, period: FromPath[str]) -> Response[bytes]:
        return self._journal(db, period, "csv")

    @get(
        "/{period:str}/journal.xlsx",
        sync_to_thread=True,
        summary="The period's journal entries as XLSX, one sheet per entry type (finance)",
        description=JOURNAL_DESCRIPTION,
    )
    def journal_xlsx(self, db: DbSession, period: FromPath[str]) -> Response[bytes]:
        return self._journal(db, period, "xlsx")

    @get(
        "/{period:str}/accruals",
        sync_to_thread=True,
        summary="Accruals: earned commission not yet paid, per person, team, plan and GL account (finance)",
        description=(
            "Per person and currency: earned (the statement's total = the payroll export's net_payable), paid (what "
            "the export of a paid period paid; 0 before), held, accrued = earned - paid - held, and the part of "
            "earned capitalised as a contract cost (ASC 340-40). Totals by team, plan, GL account and currency."
        ),
    )
    def accruals(self, db: DbSession, period: FromPath[str]) -> AccrualsOut:
        return accruals_out(period_accounting(db, find_period(db, period)))

    @get(
        "/{period:str}/amortisation",
        sync_to_thread=True,
        summary="ASC 340-40 contract costs: the period's amortisation totals and each deal's schedule (finance)",
        description=(
            "Commission on contracts whose benefit period (term_months, else the configured default) is longer than "
            "the threshold (12 months) is capitalised at the close date and amortised straight-line, monthly, the "
            "first month prorated by days; a clawback reverses the remaining asset. `totals` per currency: opening, "
            "capitalised, amortised, reversed, closing (= opening + capitalised - amortised - reversed); `deals`: "
            "each capitalised deal with a balance or a movement in the period, with its whole schedule."
        ),
    )
    def amortisation(self, db: DbSession, period: FromPath[str]) -> AmortisationOut:
        return amortisation_out(period_accounting(db, find_period(db, period)))
