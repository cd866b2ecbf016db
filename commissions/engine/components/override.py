"""``kind: override`` (plans.md section 5): a rate on the credited shares of the payee's
reports (recursively), whoever else shares those deals, never on the payee's own share."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from decimal import Decimal
from itertools import compress, repeat
from operator import attrgetter, eq, is_not, mul
from typing import Any, Literal

from commissions.engine.components.base import Calculation, PayeeCredit, PlanComponent
from commissions.engine.components.registry import register
from commissions.engine.credit import Credits, ReportRow
from commissions.engine.inputs import Deal
from commissions.engine.lines import (
    CHUNK,
    Builder,
    Columns,
    ComponentContext,
    Line,
    LineSource,
    RowsBuilder,
    label_of,
    with_conversions,
)
from commissions.engine.money import ONE, ZERO, amount_texts, format_percent, rounded_texts
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
            deals, credited, emails, special = _line_columns(credits, person)
            exact = list(map(mul, credited, repeat(rate, len(credited))))
            return exact, lambda amounts: _columns(ctx, deals, credited, emails, special, amounts)

        return LineSource(credited * rate, make, make_rows)


_amount = attrgetter("amount")


def _line_columns(
    credits: Credits, person: str
) -> tuple[list[Deal], list[Decimal], list[str], list[tuple[int, tuple[ReportRow, ...]]]]:
    """The override's lines as columns (what ``_by_deal(credits.reports_detail(person))`` gives,
    in the same order): each line's deal, the reports' credited money on it, the first report's
    email, and the lines whose sentence is not the common one (a share, or several reports of one
    deal) with their report rows. C-level loops but for those few lines."""
    own = credits.own
    positions: list[int] = []
    deals: list[Deal] = []
    shares: list[Decimal] = []
    emails: list[str] = []
    runs = 0
    for report in sorted(credits.reports.get(person, ())):
        mine = own.get(report)
        if mine:
            positions += mine.positions
            deals += mine.deals
            shares += mine.shares
            emails += [report] * len(mine)
            runs += 1
    n = len(deals)
    if runs > 1:  # the reports' own lists, each in deal order, merged in deal order (stable)
        order = sorted(range(n), key=positions.__getitem__)
        positions = list(map(positions.__getitem__, order))
        deals = list(map(deals.__getitem__, order))
        shares = list(map(shares.__getitem__, order))
        emails = list(map(emails.__getitem__, order))
        del order
    credited = list(map(_amount, deals))
    shared = list(compress(range(n), map(is_not, shares, repeat(ONE, n))))
    for i in shared:
        credited[i] = credited[i] * shares[i]
    repeated = list(compress(range(1, n), map(eq, positions[1:], positions)))  # a deal of several reports
    special: list[tuple[int, tuple[ReportRow, ...]]]
    if not repeated:
        special = [(i, ((positions[i], deals[i], shares[i], emails[i]),)) for i in shared]
        return deals, credited, emails, special
    keep = [True] * n
    last_of: dict[int, int] = {}  # the first line of each deal of several reports → its last line
    first_of: dict[int, int] = {}
    for i in repeated:
        first = first_of.get(i - 1, i - 1)
        keep[i] = False
        first_of[i] = first
        last_of[first] = i
    merged: dict[int, tuple[ReportRow, ...]] = {}
    for first, last in last_of.items():
        rows = tuple((positions[k], deals[k], shares[k], emails[k]) for k in range(first, last + 1))
        total = credited[first]
        for k in range(first + 1, last + 1):
            total = total + credited[k]
        credited[first] = total
        merged[first] = rows
    for i in shared:
        if keep[i] and i not in merged:
            merged[i] = ((positions[i], deals[i], shares[i], emails[i]),)
    # a kept line's new place: its place less the merged lines before it
    special = sorted((i - bisect_left(repeated, i), rows) for i, rows in merged.items())
    return list(compress(deals, keep)), list(compress(credited, keep)), list(compress(emails, keep)), special


def _columns(
    ctx: OverrideContext,
    deals: list[Deal],
    credited: list[Decimal],
    emails: list[str],
    special: list[tuple[int, tuple[ReportRow, ...]]],
    amounts: list[Decimal],
) -> Iterator[Columns]:
    """``OverrideLine``'s columns without the objects, ``CHUNK`` lines at a time: the common
    sentence (one report, the whole deal) from one template, the others from ``override_sentence``."""
    digits = ctx.digits
    tail = f" at {ctx.rate_text} = "
    special_at = [i for i, _ in special]
    for start in range(0, len(deals), CHUNK):
        stop = start + CHUNK
        plain = amount_text = rounded_texts(amounts[start:stop])
        part = deals[start:stop]
        moneys = amount_texts(credited[start:stop], digits)[1]
        texts = [  # the label (deal.label) written in place: one pass over the deals
            f"{deal.external_id} {deal.name}: {money} credited to {email}{tail}{amount}"
            if deal.name
            else f"{deal.external_id}: {money} credited to {email}{tail}{amount}"
            for deal, money, email, amount in zip(part, moneys, emails[start:stop], amount_text, strict=True)
        ]
        ids = [deal.external_id for deal in part]
        for k in range(bisect_left(special_at, start), bisect_left(special_at, stop)):
            i, rows = special[k]
            texts[i - start] = override_sentence(ctx, deals[i], credited[i], rows, amounts[i])
        deal_ids: list[str | None] = list(ids)
        yield deal_ids, plain, with_conversions(part, texts)


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
    def sentence(self) -> str:
        return override_sentence(self.ctx, self.deal, self.credited, self.rows, self.amount)

    @property
    def details(self) -> dict[str, Any]:
        return {
            "credited": str(self.credited),
            "rate": str(self.ctx.rate),
            "reports": [{"person": email, "share": str(share)} for email, share in self.reports],
        }
