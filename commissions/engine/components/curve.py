"""``kind: curve`` (plans.md section 5): a payout read off a curve of (attainment, payout)
points, linear between them; its per-deal lines share it pro rata to each deal's credit."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from typing import Any, Literal

from pydantic import Field, field_validator

from commissions.engine.components.base import Calculation, PayeeCredit, PlanComponent
from commissions.engine.components.registry import register
from commissions.engine.inputs import Deal
from commissions.engine.lines import Builder, ComponentContext, Line, LineSource, exact_lines, fmt_attainment
from commissions.engine.money import CONTEXT, format_percent, quantum
from commissions.engine.plan_schema import Attainment, FieldProblem, Money

Point = tuple[Decimal, Decimal]  # (attainment, payout)


@register
class CurveComponent(PlanComponent):
    kind: Literal["curve"]
    points: list[tuple[Attainment, Money]] = Field(min_length=2)

    listing_order = 40

    @field_validator("points")
    @classmethod
    def _rising(cls, points: list[Point]) -> list[Point]:
        for i in range(1, len(points)):
            if points[i][0] <= points[i - 1][0]:
                raise FieldProblem(
                    f"points[{i}]",
                    f"curve points must have rising attainment ({format_percent(points[i][0])} "
                    f"after {format_percent(points[i - 1][0])})",
                )
        return points

    @property
    def needs_attainment(self) -> bool:
        return True

    def compute(self, payee: PayeeCredit, calculation: Calculation) -> LineSource:
        payout, segment = curve_payout(self.points, payee.credited, payee.target)
        total = payee.credited
        ctx = CurveContext(self, calculation, payee, payout, segment)
        if payout == 0 or total == 0:
            return exact_lines([payout], lambda amounts: [CurveLine(None, amounts[0], ctx, None)])
        entries, measures = payee.entries, payee.measures

        def make() -> tuple[list[Decimal], Builder]:
            exact = [CONTEXT.divide(payout * measure, total) for measure in measures]

            def build(amounts: list[Decimal]) -> list[Line]:
                return [
                    CurveLine(entry[1], amount, ctx, measure)
                    for entry, measure, amount in zip(entries, measures, amounts, strict=False)
                ]

            return exact, build

        return LineSource(payout, make)


def curve_payout(points: list[Point], credited: Decimal, quota: Decimal) -> tuple[Decimal, str]:
    """Payout on the curve at attainment credited/quota, linear between points."""
    first, last = points[0], points[-1]
    if credited <= first[0] * quota:
        return first[1], f"at or below the first point {format_percent(first[0])}"
    if credited >= last[0] * quota:
        return last[1], f"at or beyond the last point {format_percent(last[0])}"
    for (x0, y0), (x1, y1) in pairwise(points):
        if credited <= x1 * quota:
            # y0 + (y1 - y0) * (a - x0) / (x1 - x0) with a = credited / quota, one division
            value = y0 + CONTEXT.divide((y1 - y0) * (credited - x0 * quota), (x1 - x0) * quota)
            return value, f"between {format_percent(x0)} ({y0}) and {format_percent(x1)} ({y1})"
    return last[1], f"at or beyond the last point {format_percent(last[0])}"  # pragma: no cover


class CurveContext(ComponentContext):
    """The payee's payout on the curve, the segment it was read on and the credit it is shared by."""

    __slots__ = ("attained", "measure_is_count", "payout", "segment", "total")

    def __init__(
        self, component: CurveComponent, calculation: Calculation, payee: PayeeCredit, payout: Decimal, segment: str
    ) -> None:
        super().__init__(
            component.name, component.kind, calculation.digits, attainment=payee.attainment, quota=payee.quota
        )
        self.attained = payee.reached
        self.payout = payout
        self.total = payee.credited
        self.segment = segment
        self.measure_is_count = calculation.count_metric

    def measure(self, value: Decimal) -> str:
        """A credited measure: money, or a count of deals."""
        if self.measure_is_count:
            return f"{value.quantize(quantum(2), context=CONTEXT)} deals"
        return self.money(value)


class CurveLine(Line):
    """A curve payout (``deal`` None), or its share for one deal (``credited`` of the total credit)."""

    __slots__ = ("credited",)
    ctx: CurveContext

    def __init__(self, deal: Deal | None, amount: Decimal, ctx: CurveContext, credited: Decimal | None) -> None:
        super().__init__(deal, amount, ctx)
        self.credited = credited

    @property
    def sentence(self) -> str:
        ctx = self.ctx
        where = f"attainment {fmt_attainment(ctx.attained)}, {ctx.segment}"
        if self.deal is None or self.credited is None:
            return f"Curve payout at {where} = {ctx.money(self.amount)}"
        return (
            f"{self.deal.label}: {ctx.measure(self.credited)} of {ctx.measure(ctx.total)} credited; share of the "
            f"curve payout {ctx.money(ctx.payout)} ({where}) = {ctx.money(self.amount)}"
        )

    @property
    def details(self) -> dict[str, Any]:
        ctx = self.ctx
        return {
            "attainment": str(ctx.attained),
            "payout": str(ctx.payout),
            "credited": None if self.credited is None else str(self.credited),
            "total_credited": str(ctx.total),
        }
