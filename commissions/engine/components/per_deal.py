"""``kind: per_deal`` (plans.md section 2): a fixed ``pay`` and/or a ``rate`` on every
qualifying deal (``when``, a ``from``/``to`` window on ``closed_at``), pro rata to the share.
Without ``when`` and with only ``rate`` it is a flat commission rate."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from itertools import compress
from operator import and_
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from commissions.engine.components.base import Calculation, PayeeCredit, PlanComponent
from commissions.engine.components.registry import register
from commissions.engine.conditions import Condition
from commissions.engine.credit import Entry, Shares
from commissions.engine.inputs import Deal
from commissions.engine.lines import (
    Columns,
    ComponentContext,
    Line,
    LineSource,
    exact_lines,
    label_of,
    with_conversions,
)
from commissions.engine.money import ONE, ZERO, format_percent, rounded_texts
from commissions.engine.plan_schema import FieldProblem, Money, Rate, compile_when


@register
class PerDealComponent(PlanComponent):
    kind: Literal["per_deal"]
    pay: Money | None = None
    rate: Rate | None = None
    when: str | None = None
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    _condition: Condition | None = PrivateAttr(default=None)

    listing_order = 20

    @field_validator("when")
    @classmethod
    def _when(cls, text: str | None, info: ValidationInfo) -> str | None:
        compile_when(text, info)
        return text

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> PerDealComponent:
        if self.pay is None and self.rate is None:
            raise FieldProblem("pay", "a per_deal component needs `pay` (a fixed amount), `rate`, or both")
        if self.from_ is not None and self.to is not None and self.to < self.from_:
            raise FieldProblem("to", f"the window ends ({self.to}) before it starts ({self.from_})")
        self._condition = compile_when(self.when, info)
        return self

    @property
    def condition(self) -> Condition | None:
        return self._condition

    def amounts(self) -> Iterator[tuple[str, Decimal | None]]:
        yield from super().amounts()
        yield "pay", self.pay

    def qualifying(self, entries: Shares | list[Entry]) -> list[int]:
        """Indexes of the entries whose deal meets ``when`` and the window."""
        deals = entries.deals if isinstance(entries, Shares) else [entry[1] for entry in entries]
        qualifies: list[bool] | None = None
        if self._condition is not None:
            qualifies = list(map(self._condition.test, deals))
        if self.from_ is not None or self.to is not None:
            low, high = self.from_ or date.min, self.to or date.max
            in_window = [low <= deal.closed_at <= high for deal in deals]
            qualifies = in_window if qualifies is None else list(map(and_, qualifies, in_window))
        everything = range(len(entries))
        return list(everything) if qualifies is None else list(compress(everything, qualifies))

    def compute(self, payee: PayeeCredit, calculation: Calculation) -> LineSource:
        ctx = PerDealContext(self, calculation.digits, payee)
        pay, rate = self.pay, self.rate
        entries, moneys = payee.entries, payee.moneys
        deals, shares = entries.deals, entries.shares
        chosen = self.qualifying(entries)
        exact: list[Decimal] = []
        for i in chosen:
            share = shares[i]
            value = ZERO
            if pay is not None:
                value = pay if share is ONE else pay * share
            if rate is not None:
                value += moneys[i] * rate
            exact.append(value)

        def build(amounts: list[Decimal]) -> list[Line]:
            return [
                PerDealLine(deals[i], amount, ctx, moneys[i], shares[i])
                for i, amount in zip(chosen, amounts, strict=True)
            ]

        def rows(amounts: list[Decimal]) -> list[Columns]:
            plain = texts = rounded_texts(amounts)
            ids: list[str | None] = [deals[i].external_id for i in chosen]
            sentences = [
                per_deal_sentence(ctx, deals[i], moneys[i], shares[i], text_amount)
                for i, text_amount in zip(chosen, texts, strict=True)
            ]
            return [(ids, plain, with_conversions(list(map(deals.__getitem__, chosen)), sentences))]

        return exact_lines(exact, build, rows)


class PerDealContext(ComponentContext):
    """The component's ``pay``, ``rate`` and the fields its ``when`` reads (named in lines)."""

    __slots__ = ("fields", "pay", "pay_text", "rate", "rate_text")

    def __init__(self, component: PerDealComponent, digits: int, payee: PayeeCredit) -> None:
        super().__init__(component.name, component.kind, digits, attainment=payee.attainment, quota=payee.quota)
        self.pay = component.pay
        self.rate = component.rate
        self.fields = component.condition.fields if component.condition else ()
        self.pay_text = None if self.pay is None else self.money(self.pay)
        self.rate_text = None if self.rate is None else format_percent(self.rate)


def _field_value(deal: Deal, name: str, ctx: ComponentContext) -> str | None:
    """How a line shows the deal's value of a field its condition reads (None: not shown)."""
    if name == "term_months":
        return None if deal.term_months is None else f"{deal.term_months} months"
    if name == "amount":
        return f"amount {ctx.money(deal.amount)}"
    if name == "closed_at":
        return f"closed {deal.closed_at.isoformat()}"
    if name == "source_campaign":
        return f"campaign {deal.source_campaign}" if deal.source_campaign else None
    if name in ("type", "product", "currency", "account", "name"):
        value = getattr(deal, name)
        return str(value) if value else None
    custom = deal.custom.get(name)
    return f"{name} {custom}" if custom not in (None, "") else None


def per_deal_sentence(ctx: PerDealContext, deal: Deal, credited: Decimal, share: Decimal, amount: str) -> str:
    """The sentence of a per-deal line (``PerDealLine.text``); ``amount`` is the line's amount as text."""
    pay, rate = ctx.pay, ctx.rate
    values = [v for v in (_field_value(deal, name, ctx) for name in ctx.fields) if v]
    head = f"{label_of(deal)}: " + (f"{', '.join(values)}: " if values else "")
    sole = share == 1
    if pay is not None and rate is None and sole:
        return f"{head}SPIFF {ctx.pay_text}"
    parts = []
    if pay is not None:
        if sole:
            parts.append(f"SPIFF {ctx.pay_text}")
        else:
            parts.append(f"SPIFF {ctx.money(pay * share)} ({format_percent(share)} of {ctx.pay_text})")
    if rate is not None:
        parts.append(f"{ctx.share_text(deal, credited, share)} at {ctx.rate_text}")
    return f"{head}{' + '.join(parts)} = {amount}"


class PerDealLine(Line):
    """A qualifying deal: its SPIFF (``pay``, pro rata) and/or its credited amount at ``rate``."""

    __slots__ = ("credited", "share")
    deal: Deal
    ctx: PerDealContext

    def __init__(self, deal: Deal, amount: Decimal, ctx: PerDealContext, credited: Decimal, share: Decimal) -> None:
        super().__init__(deal, amount, ctx)
        self.credited = credited
        self.share = share

    @property
    def sentence(self) -> str:
        return per_deal_sentence(self.ctx, self.deal, self.credited, self.share, self.ctx.money(self.amount))

    @property
    def details(self) -> dict[str, Any]:
        pay, rate = self.ctx.pay, self.ctx.rate
        return {
            "credited": str(self.credited),
            "share": str(self.share),
            "pay": None if pay is None else str(pay),
            "rate": None if rate is None else str(rate),
        }
