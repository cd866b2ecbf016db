"""``kind: bonus`` (plans.md section 5): one fixed ``pay`` per period once attainment >= ``at``."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Literal

from commissions.engine.components.base import Calculation, PayeeCredit, PlanComponent
from commissions.engine.components.registry import register
from commissions.engine.lines import ComponentContext, Line, LineSource, exact_lines, fmt_attainment
from commissions.engine.money import ZERO, format_percent
from commissions.engine.plan_schema import Attainment, Money


@register
class BonusComponent(PlanComponent):
    kind: Literal["bonus"]
    at: Attainment
    pay: Money

    listing_order = 30

    @property
    def needs_attainment(self) -> bool:
        return True

    def amounts(self) -> Iterator[tuple[str, Decimal | None]]:
        yield from super().amounts()
        yield "pay", self.pay

    def compute(self, payee: PayeeCredit, calculation: Calculation) -> LineSource:
        ctx = BonusContext(self, calculation.digits, payee)
        reached = payee.credited >= self.at * payee.target  # no division: exact at the bound
        value = self.pay if reached else ZERO
        return exact_lines([value], lambda amounts: [BonusLine(None, amounts[0], ctx)])


class BonusContext(ComponentContext):
    __slots__ = ("at", "attained", "pay")

    def __init__(self, component: BonusComponent, digits: int, payee: PayeeCredit) -> None:
        super().__init__(component.name, component.kind, digits, attainment=payee.attainment, quota=payee.quota)
        self.attained = payee.reached
        self.at = component.at
        self.pay = component.pay


class BonusLine(Line):
    """The period's bonus line: paid, or why not."""

    __slots__ = ()
    ctx: BonusContext

    @property
    def sentence(self) -> str:
        ctx = self.ctx
        at, attained = format_percent(ctx.at), fmt_attainment(ctx.attained)
        if self.amount:
            return f"Attainment {attained} >= {at}: bonus {ctx.money(ctx.pay)}"
        return f"Attainment {attained} < {at}: no bonus ({ctx.money(ctx.pay)} at {at})"

    @property
    def details(self) -> dict[str, Any]:
        ctx = self.ctx
        return {"attainment": str(ctx.attained), "at": str(ctx.at), "pay": str(ctx.pay)}
