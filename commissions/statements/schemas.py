"""The statement as the API answers it (and as statement.json in the inputs download)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from commissions.core.formatting import format_ratio
from commissions.core.money import from_minor
from commissions.statements.queries import Statement, StatementLine


class LineOut(BaseModel):
    deal: str | None
    amount: str
    kind: str
    text: str
    id: int | None = Field(None, description="the payout line's id (paging follows it; disputes name it)")


class PageLineOut(LineOut):
    component: str


class ComponentOut(BaseModel):
    name: str
    amount: str = Field(description="the component's total, the same on every page")
    lines: list[LineOut] = Field(description="its lines on this page (all of them when the statement is not paged)")
    line_count: int = Field(0, description="how many lines it has in all")


class ReportTotalOut(BaseModel):
    """Lines grouped by who owns their deal (docs/deals-and-statements.md, "By report")."""

    group: str  # report | own | outside | none
    report: str | None  # group "report": the direct report's email (their subtree's deals)
    name: str
    amount: str
    line_count: int


class AdjustmentLineOut(BaseModel):
    kind: str  # adjustment | clawback
    component: str  # Prior-period adjustment | Clawback | Manual adjustment
    original_period: str | None
    deal: str | None
    amount: str
    text: str  # for a manual adjustment: its reason
    manual: bool


class PlanOut(BaseModel):
    plan: str
    version: int
    metric: str
    credited: str
    quota: str | None
    attainment: str | None
    total: str | None
    errors: list[str]
    draw_balance_in: str | None = None
    draw_balance_out: str | None = None


class CashOut(BaseModel):
    """What payroll pays of the statement once release on cash and holds apply (docs/finance.md)."""

    currency: str
    earned: str = Field(description="the statement's total: every line in force")
    waiting: str = Field(description="earned, waiting for payment: carried forward until the invoice is paid")
    released: str = Field(description="earlier or this period's commission released by payments in this period")
    held: str = Field(description="held by finance (not paid until released)")
    holds_released: str = Field(description="holds of earlier, locked periods released into this one")
    payable: str = Field(description="earned − newly waiting + released − held + holds released")
    holds: list[str] = Field(description='"held by finance: <reason>", one per hold')


class StatementOut(BaseModel):
    person: str
    name: str
    period: str
    state: str
    currency: str
    total: str
    plans: list[PlanOut]
    components: list[ComponentOut]
    adjustments: list[AdjustmentLineOut] = []
    # totals by who owns the lines' deals (per direct report for a manager), the same on every page
    reports: list[ReportTotalOut] = Field(
        [],
        description="the lines' totals by who owns their deal: one row per direct report (their subtree), "
        "then own deals, deals owned outside the reporting tree, lines without a deal",
    )
    line_count: int = Field(0, description="lines in all components, adjustments aside")
    # paging (`limit`, `cursor`): the page's lines in id order (null when not paged: see `components`)
    # and the cursor of the next page (null on the last page and when not paged)
    lines: list[PageLineOut] | None = Field(
        None, description="paged (`limit` or `cursor` given): this page's lines in id order; null otherwise"
    )
    next_cursor: str | None = Field(
        None, description="pass it back as `cursor` for the next page; null on the last page and when not paged"
    )
    # freshness: when computed (ISO 8601, UTC), whether changes still wait, why the last calculation failed
    computed_at: str | None = None
    pending: bool = False
    error: str | None = None
    # proof of pay (docs/checking-your-pay.md): the inputs' SHA-256 per file and the fingerprint over them
    engine_version: str = ""
    fingerprint: str = ""
    inputs: dict[str, str] = {}
    reproducible: bool | None = False  # null: not checked (a paged answer; the inputs download checks it)
    offline_notes: list[str] = []
    # release on cash and holds: null when nothing waits, is released or is held
    cash: CashOut | None = None


def _measure(minor: int | None, metric: str, currency: str) -> str | None:
    if minor is None:
        return None
    return str(Decimal(minor).scaleb(-2)) if metric in ("deals", "mqls", "sqls") else str(from_minor(minor, currency))


def _line(line: StatementLine, cur: str) -> LineOut:
    return LineOut(
        deal=line.deal, amount=str(from_minor(line.amount_minor, cur)), kind=line.kind, text=line.text, id=line.line_id
    )


def statement_out(st: Statement, *, next_cursor: str | None = None) -> StatementOut:
    """The API's answer; ``lines`` and ``next_cursor`` only for a paged statement."""
    person, cur = st.person, st.currency
    return StatementOut(
        person=person.email,
        name=person.name,
        period=st.period.key,
        state=st.period.state,
        currency=cur,
        total=str(from_minor(st.total_minor, cur)),
        plans=[
            PlanOut(
                plan=p.plan,
                version=p.version,
                metric=p.metric,
                credited=_measure(p.credited_minor, p.metric, cur) or "0",
                quota=_measure(p.quota_minor, p.metric, cur),
                attainment=format_ratio(p.attainment_ppm),  # half-up, as every page shows it
                total=None if p.total_minor is None else str(from_minor(p.total_minor, cur)),
                errors=p.errors,
                draw_balance_in=None
                if p.draw_balance_in_minor is None
                else str(from_minor(p.draw_balance_in_minor, cur)),
                draw_balance_out=None if p.draw_balance_minor is None else str(from_minor(p.draw_balance_minor, cur)),
            )
            for p in st.plans
        ],
        adjustments=[
            AdjustmentLineOut(
                kind=a.kind,
                component=a.component,
                original_period=a.original_period,
                deal=a.deal,
                amount=str(from_minor(a.amount_minor, cur)),
                text=a.text,
                manual=a.manual,
            )
            for a in st.adjustments
        ],
        components=[
            ComponentOut(
                name=c.name,
                amount=str(from_minor(c.amount_minor, cur)),
                lines=[_line(line, cur) for line in c.lines],
                line_count=c.line_count,
            )
            for c in st.components
        ],
        reports=[
            ReportTotalOut(
                group=r.group,
                report=r.email,
                name=r.name,
                amount=str(from_minor(r.amount_minor, cur)),
                line_count=r.line_count,
            )
            for r in st.reports
        ],
        line_count=st.line_count,
        lines=[PageLineOut(component=line.component, **_line(line, cur).model_dump()) for line in st.lines]
        if st.paged
        else None,
        next_cursor=next_cursor,
    )
