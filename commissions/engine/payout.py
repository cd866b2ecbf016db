"""One payee's payout: every component computed by its kind and rounded once, component
caps, the plan cap, then the draw (plans.md sections 5 and 7)."""

from __future__ import annotations

from decimal import Decimal

from commissions.engine.components import Calculation, PayeeCredit
from commissions.engine.inputs import Period
from commissions.engine.lines import CapLine, ComponentContext, DrawContext, DrawLine
from commissions.engine.money import ZERO, round_money
from commissions.engine.plan import Plan
from commissions.engine.result import ComponentResult, Payee


def pay(
    plan: Plan,
    period: Period,
    credit: PayeeCredit,
    calculation: Calculation,
    needs_attainment: bool,
    balance: Decimal | None,
) -> Payee:
    """The payee's components, caps and draw; or, without the quota a component needs, the
    payee's errors and nothing computed."""
    person, quota, digits = credit.person, credit.quota, calculation.digits
    errors = _quota_errors(plan, period, credit) if needs_attainment else []
    recoverable = plan.draw is not None and plan.draw.recoverable
    balance_in = round_money(balance or ZERO, digits) if recoverable else None
    if errors:
        return Payee(person, credit.credited, quota, None, (), None, tuple(errors), balance_in, balance_in)
    results: list[ComponentResult] = []
    earned = _components(plan, credit, calculation, results)
    if plan.cap is not None and earned > plan.cap:
        cut = plan.cap - earned
        cap_line = CapLine(cut, ComponentContext("cap", "cap", digits), plan.cap, earned)
        results.append(ComponentResult("cap", "cap", cut, (cap_line,)))
        earned += cut
    total, balance_out = _draw(plan, earned, balance_in, digits, results)
    return Payee(person, credit.credited, quota, credit.attainment, tuple(results), total, (), balance_in, balance_out)


def _quota_errors(plan: Plan, period: Period, credit: PayeeCredit) -> list[str]:
    person, quota = credit.person, credit.quota
    if quota is None:
        return [f"no {plan.metric} quota for {person} in {period.key}"]
    if quota <= 0:
        return [f"the {plan.metric} quota for {person} in {period.key} is {quota}; a target must be > 0"]
    return []


def _components(plan: Plan, credit: PayeeCredit, calculation: Calculation, results: list[ComponentResult]) -> Decimal:
    """Append each component (and its cap line when its cap bites) to ``results``; return the earnings."""
    digits = calculation.digits
    earned = ZERO
    for component in plan.components:
        source = component.compute(credit, calculation)
        # the component total: exact values summed, rounded once, half-up
        amount = round_money(source.exact_total, digits)
        results.append(ComponentResult(component.name, component.kind, amount, None, source, digits))
        earned += amount
        if component.cap is not None and amount > component.cap:
            cut = component.cap - amount
            cap_line = CapLine(cut, ComponentContext(component.name, "cap", digits), component.cap, amount)
            results.append(ComponentResult(f"cap: {component.name}", "cap", cut, (cap_line,)))
            earned += cut
    return earned


def _draw(
    plan: Plan, earned: Decimal, balance_in: Decimal | None, digits: int, results: list[ComponentResult]
) -> tuple[Decimal, Decimal | None]:
    """The draw's top-up or recovery line (appended to ``results``): the total and the balance out."""
    total, balance_out = earned, balance_in
    if plan.draw is None:
        return total, balance_out
    draw, recoverable = plan.draw.amount, plan.draw.recoverable
    adjustment = ZERO
    if earned < draw:
        adjustment = round_money(draw - earned, digits)
        if recoverable:
            balance_out = (balance_in or ZERO) + adjustment
    elif recoverable and balance_in:
        adjustment = -min(earned - draw, balance_in)
        balance_out = balance_in + adjustment
    if adjustment:
        ctx = DrawContext(digits, draw, recoverable)
        out = balance_out if balance_out is not None else ZERO
        line = DrawLine(adjustment, ctx, earned, balance_in or ZERO, out)
        results.append(ComponentResult("draw", "draw", adjustment, (line,)))
        total += adjustment
    return total, balance_out
