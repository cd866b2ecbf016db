"""``kind: override`` (plans.md section 5): a rate on the credited shares of the payee's
reports (recursively), whoever else shares those deals, never on the payee's own share."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from commissions.engine.components.base import Calculation, PayeeCredit, PlanComponent
from commissions.engine.components.registry import register
from commissions.engine.credit import ReportRow
from commissions.engine.inputs import Deal
from commissions.engine.lines import Builder, ComponentContext, Line, LineSource, Row, RowsBuilder, label_of
from commissions.engine.money import ONE, ZERO, amount_texts, format_amount, format_percent
from commissions.engine.plan_schema import Rate

#: One line's deal, the reports' credited money on it, and their rows.
DealGroup = tuple[Deal, Decimal, tuple[ReportRow, ...]]


@register
class OverrideComponent(PlanComponent):
    kind: Literal["override"]
    rate: Rate

    listing_order = 50
    pays_on_reports = True

    def compute(self, payee: PayeeCredit, calculation: Calculation) -> LineSource:
        """The total is rate × the reports' credited sums; the per-deal lines (the reports'
        shares merged in deal order) are only built when read."""
        rate = self.rate
        ctx = OverrideContext(self, calculation.digits, payee)
        credits, person = payee.credits, payee.person
        reports = credits.reports.get(person, ())
        credited = sum((calculation.report_totals.get(r, ZERO) for r in reports), ZERO)

        def make() -> tuple[list[Decimal], Builder]:
            groups = _by_deal(credits.reports_detail(person))
            exact = [money * rate for _, money, _ in groups]

            def build(amounts: list[Decimal]) -> list[Line]:
                return [
                    OverrideLine(deal, amount, ctx, money, rows)
                    for (deal, money, rows), amount in zip(groups, amounts, strict=False)
                ]

            return exact, build

        def make_rows() -> tuple[list[Decimal], RowsBuilder]:
            groups = _by_deal(credits.reports_detail(person))
            exact = [money * rate for _, money, _ in groups]
            return exact, lambda amounts: _rows(ctx, groups, amounts)

        return LineSource(credited * rate, make, make_rows)


def _rows(ctx: OverrideContext, groups: list[DealGroup], amounts: list[Decimal]) -> list[Row]:
    """``OverrideLine``'s rows without the objects: the common sentence (one report, the whole
    deal) from one template, the others from ``override_sentence``."""
    digits, tail = ctx.digits, f" at {ctx.rate_text} = "
    plain, texts = amount_texts(amounts, digits)
    out: list[Row] = []
    append = out.append
    for (deal, credited, rows), amount, json_amount, text_amount in zip(groups, amounts, plain, texts, strict=True):
        deal_id = deal.external_id
        if len(rows) == 1 and rows[0][2] is ONE:
            name = deal.name
            head = f"{deal_id} {name}" if name else deal_id
            append(
                (
                    deal_id,
                    json_amount,
                    f"{head}: {format_amount(credited, digits)} credited to {rows[0][3]}{tail}{text_amount}",
                )
            )
        else:
            append((deal_id, json_amount, override_sentence(ctx, deal, credited, rows, amount)))
    return out


def override_sentence(
    ctx: OverrideContext, deal: Deal, credited: Decimal, rows: tuple[ReportRow, ...], amount: Decimal
) -> str:
    """The sentence of an override line (``OverrideLine.text``)."""
    rate = ctx.rate_text
    if len(rows) == 1 and rows[0][2] is ONE:  # the common case: one report, the whole deal
        return f"{label_of(deal)}: {ctx.money(credited)} credited to {rows[0][3]} at {rate} = {ctx.money(amount)}"
    who = ", ".join(f"{row[3]} {format_percent(row[2])}" for row in rows)
    of = f" of {ctx.money(deal.amount)}" if credited != deal.amount else ""
    return f"{label_of(deal)}: {ctx.money(credited)}{of} credited to {who} at {rate} = {ctx.money(amount)}"


def _by_deal(detail: list[ReportRow]) -> list[DealGroup]:
    """The reports' shares (in deal order) grouped per deal: one line per deal."""
    positions = [row[0] for row in detail]
    if len(set(positions)) == len(positions):  # no deal shared by two reports: one row per line
        moneys = [row[1].amount if row[2] is ONE else row[1].amount * row[2] for row in detail]
        return [(row[1], money, (row,)) for row, money in zip(detail, moneys, strict=False)]
    groups: list[DealGroup] = []
    for row in detail:
        money = row[1].amount if row[2] is ONE else row[1].amount * row[2]
        if groups and groups[-1][2][0][0] == row[0]:
            deal, credited, rows = groups[-1]
            groups[-1] = (deal, credited + money, (*rows, row))
        else:
            groups.append((row[1], money, (row,)))
    return groups


class OverrideContext(ComponentContext):
    __slots__ = ("rate", "rate_text")

    def __init__(self, component: OverrideComponent, digits: int, payee: PayeeCredit) -> None:
        super().__init__(component.name, component.kind, digits, attainment=payee.attainment, quota=payee.quota)
        self.rate = component.rate
        self.rate_text = format_percent(component.rate)


class OverrideLine(Line):
    """An override on one deal: ``rows`` are the reports' shares of it."""

    __slots__ = ("credited", "rows")
    deal: Deal
    ctx: OverrideContext

    def __init__(
        self, deal: Deal, amount: Decimal, ctx: OverrideContext, credited: Decimal, rows: tuple[ReportRow, ...]
    ) -> None:
        super().__init__(deal, amount, ctx)
        self.credited = credited
        self.rows = rows

    @property
    def reports(self) -> tuple[tuple[str, Decimal], ...]:
        """((email, share), ...) of the reports credited with this deal."""
        return tuple((row[3], row[2]) for row in self.rows)

    @property
    def text(self) -> str:
        return override_sentence(self.ctx, self.deal, self.credited, self.rows, self.amount)

    @property
    def basis(self) -> dict[str, Any]:
        return {
            "credited": str(self.credited),
            "rate": str(self.ctx.rate),
            "reports": [{"person": email, "share": str(share)} for email, share in self.reports],
        }
