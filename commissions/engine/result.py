"""What the engine returns: payees with components and self-explaining lines.

A ``Line`` keeps its basis (credited amount, share, rates, tiers, attainment) and
renders its sentence on demand (``line.text``), so computing a million lines does not
format a million sentences that nobody reads; ``line.basis`` is a JSON-ready dict for
storage. ``result_to_json_dict`` gives the document of ``commissions calc --json``.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from commissions.engine.inputs import COUNT_METRICS, Deal, Period
from commissions.engine.money import (
    CONTEXT,
    ONE,
    allocate,
    format_amount,
    format_percent,
    minor_digits,
    quantum,
)

_FOUR = Decimal("0.0001")


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects (lines,
    credit lists): without it CPython rescans them again and again, which triples the
    time of a big calculation. Restored afterwards, also on errors."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def fmt_attainment(ratio: Decimal) -> str:
    """Attainment for sentences: ``1.05`` → ``105.00%``."""
    return format_percent(ratio, 2)


class ComponentContext:
    """What every line of one component of one payee shares (for its sentence and basis)."""

    __slots__ = (
        "attainment",
        "bounds",
        "component",
        "digits",
        "extra",
        "kind",
        "mode",
        "on",
        "quota",
        "rates",
    )

    def __init__(
        self,
        component: str,
        kind: str,
        digits: int,
        *,
        attainment: Decimal | None = None,
        quota: Decimal | None = None,
        bounds: tuple[Decimal, ...] = (),
        rates: tuple[Decimal, ...] = (),
        on: str = "attainment",
        mode: str = "marginal",
        extra: Any = None,
    ):
        self.component = component
        self.kind = kind
        self.digits = digits
        self.attainment = attainment
        self.quota = quota
        self.bounds = bounds
        self.rates = rates
        self.on = on
        self.mode = mode
        self.extra = extra

    def money(self, value: Decimal) -> str:
        return format_amount(value, self.digits)

    def bound(self, value: Decimal) -> str:
        return format_percent(value) if self.on == "attainment" else self.money(value)

    def tier_range(self, tier: int, of_quota: bool = True) -> str:
        suffix = " of quota" if self.on == "attainment" and of_quota else ""
        if tier == 0:
            if not self.bounds:
                return "all" + suffix
            return f"up to {self.bound(self.bounds[0])}{suffix}"
        if tier >= len(self.bounds):
            return f"over {self.bound(self.bounds[-1])}{suffix}"
        return f"{self.bound(self.bounds[tier - 1])}-{self.bound(self.bounds[tier])}{suffix}"


def _share_text(ctx: ComponentContext, deal: Deal, credited: Decimal, share: Decimal) -> str:
    if share == 1:
        return ctx.money(credited)
    return f"{ctx.money(credited)} of {ctx.money(deal.amount)} ({format_percent(share)} share)"


class Line:
    """One payout line. ``deal`` is None for lines about the period (bonus, cap, draw)."""

    __slots__ = ("amount", "ctx", "deal")

    def __init__(self, deal: Deal | None, amount: Decimal, ctx: ComponentContext):
        self.deal = deal
        self.amount = amount
        self.ctx = ctx

    @property
    def deal_id(self) -> str | None:
        return self.deal.external_id if self.deal is not None else None

    @property
    def text(self) -> str:
        raise NotImplementedError

    @property
    def basis(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.deal_id} {self.amount}>"


class TierLine(Line):
    """A deal in tiered commission: ``slices`` is a flat tuple (tier, credited slice, ...)."""

    __slots__ = ("credited", "share", "slices")

    def __init__(
        self, deal: Deal, amount: Decimal, ctx: ComponentContext, credited: Decimal, share: Decimal, slices: tuple
    ) -> None:
        super().__init__(deal, amount, ctx)
        self.credited = credited
        self.share = share
        self.slices = slices

    @property
    def text(self) -> str:
        ctx, deal = self.ctx, self.deal
        assert deal is not None
        parts = []
        count = len(self.slices) // 2
        for k in range(count):
            tier, money = self.slices[2 * k], self.slices[2 * k + 1]
            if count == 1 or ctx.mode == "retroactive":
                # The tier's range says why this rate; the attainment that reached it is the
                # statement's (its summary). Repeating it here would change the text of every line
                # of a manager's whole team with each new deal, and so rewrite them all in the ledger.
                where = f"tier {tier + 1}, {ctx.tier_range(tier)}"
            elif k == 0:
                where = f"tier {tier + 1}"
            else:
                where = f"tier {tier + 1}, {ctx.tier_range(tier, of_quota=False)}"
            parts.append(f"{ctx.money(money)} at {format_percent(ctx.rates[tier])} ({where})")
        head = f"{deal.label}: "
        if self.share != 1:
            head += f"{format_percent(self.share)} share of {ctx.money(deal.amount)}: "
        return f"{head}{' + '.join(parts)} = {ctx.money(self.amount)}"

    @property
    def basis(self) -> dict[str, Any]:
        ctx = self.ctx
        return {
            "credited": str(self.credited),
            "share": str(self.share),
            "slices": [
                {
                    "tier": self.slices[i] + 1,
                    "amount": str(self.slices[i + 1]),
                    "rate": str(ctx.rates[self.slices[i]]),
                }
                for i in range(0, len(self.slices), 2)
            ],
            "attainment": None if ctx.attainment is None else str(ctx.attainment.quantize(_FOUR, context=CONTEXT)),
            "mode": ctx.mode,
            "on": ctx.on,
        }


class DealSizeLine(Line):
    """``per: deal`` tiers: the deal's whole amount tiered, then its credited share paid."""

    __slots__ = ("share", "slices")

    def __init__(
        self,
        deal: Deal,
        amount: Decimal,
        ctx: ComponentContext,
        share: Decimal,
        slices: tuple,
    ) -> None:
        super().__init__(deal, amount, ctx)
        self.share = share
        self.slices = slices

    @property
    def text(self) -> str:
        ctx, deal = self.ctx, self.deal
        assert deal is not None
        parts = []
        for i in range(0, len(self.slices), 2):
            tier, money = self.slices[i], self.slices[i + 1]
            parts.append(
                f"{ctx.money(money)} at {format_percent(ctx.rates[tier])} (tier {tier + 1}, {ctx.tier_range(tier)})"
            )
        share = f", {format_percent(self.share)} share" if self.share != 1 else ""
        return f"{deal.label}: deal of {ctx.money(deal.amount)}: {' + '.join(parts)}{share} = {ctx.money(self.amount)}"

    @property
    def basis(self) -> dict[str, Any]:
        assert self.deal is not None
        return {
            "deal_amount": str(self.deal.amount),
            "share": str(self.share),
            "slices": [
                {
                    "tier": self.slices[i] + 1,
                    "amount": str(self.slices[i + 1]),
                    "rate": str(self.ctx.rates[self.slices[i]]),
                }
                for i in range(0, len(self.slices), 2)
            ],
            "mode": self.ctx.mode,
        }


def _field_value(deal: Deal, name: str, ctx: ComponentContext) -> str | None:
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
    value = deal.custom.get(name)
    return f"{name} {value}" if value not in (None, "") else None


class PerDealLine(Line):
    """``per_deal``: fixed ``pay`` and/or ``rate`` on a qualifying deal, pro rata to the share."""

    __slots__ = ("credited", "share")

    def __init__(
        self,
        deal: Deal,
        amount: Decimal,
        ctx: ComponentContext,
        credited: Decimal,
        share: Decimal,
    ) -> None:
        super().__init__(deal, amount, ctx)
        self.credited = credited
        self.share = share

    @property
    def text(self) -> str:
        ctx, deal = self.ctx, self.deal
        assert deal is not None
        pay, rate, fields = ctx.extra
        values = [v for v in (_field_value(deal, name, ctx) for name in fields) if v]
        head = f"{deal.label}: " + (f"{', '.join(values)}: " if values else "")
        parts = []
        if pay is not None:
            if self.share == 1:
                parts.append(f"SPIFF {ctx.money(pay)}")
            else:
                parts.append(f"SPIFF {ctx.money(pay * self.share)} ({format_percent(self.share)} of {ctx.money(pay)})")
        if rate is not None:
            parts.append(f"{_share_text(ctx, deal, self.credited, self.share)} at {format_percent(rate)}")
        if pay is not None and rate is None and self.share == 1:
            return head + parts[0]
        return f"{head}{' + '.join(parts)} = {ctx.money(self.amount)}"

    @property
    def basis(self) -> dict[str, Any]:
        pay, rate, _ = self.ctx.extra
        return {
            "credited": str(self.credited),
            "share": str(self.share),
            "pay": None if pay is None else str(pay),
            "rate": None if rate is None else str(rate),
        }


class BonusLine(Line):
    __slots__ = ()

    @property
    def text(self) -> str:
        ctx = self.ctx
        at, pay = ctx.extra
        assert ctx.attainment is not None
        if self.amount:
            return f"Attainment {fmt_attainment(ctx.attainment)} >= {format_percent(at)}: bonus {ctx.money(pay)}"
        return f"Attainment {fmt_attainment(ctx.attainment)} < {format_percent(at)}: no bonus ({ctx.money(pay)} at {format_percent(at)})"

    @property
    def basis(self) -> dict[str, Any]:
        at, pay = self.ctx.extra
        return {"attainment": str(self.ctx.attainment), "at": str(at), "pay": str(pay)}


class CurveLine(Line):
    """A curve payout, or its share for one deal (``credited`` of ``total`` credit)."""

    __slots__ = ("credited",)

    def __init__(
        self,
        deal: Deal | None,
        amount: Decimal,
        ctx: ComponentContext,
        credited: Decimal | None,
    ) -> None:
        super().__init__(deal, amount, ctx)
        self.credited = credited

    @property
    def text(self) -> str:
        ctx = self.ctx
        payout, total, segment, measure_is_count = ctx.extra
        assert ctx.attainment is not None
        where = f"attainment {fmt_attainment(ctx.attainment)}, {segment}"
        if self.deal is None:
            return f"Curve payout at {where} = {ctx.money(self.amount)}"
        credited = (lambda v: f"{v.quantize(quantum(2), context=CONTEXT)} deals") if measure_is_count else ctx.money
        return (
            f"{self.deal.label}: {credited(self.credited)} of {credited(total)} credited; share of the curve payout "
            f"{ctx.money(payout)} ({where}) = {ctx.money(self.amount)}"
        )

    @property
    def basis(self) -> dict[str, Any]:
        payout, total, _segment, _ = self.ctx.extra
        return {
            "attainment": str(self.ctx.attainment),
            "payout": str(payout),
            "credited": None if self.credited is None else str(self.credited),
            "total_credited": str(total),
        }


class OverrideLine(Line):
    """An override on one deal: ``rows`` are the reports' shares of it, each
    ``(position, deal, share, email)``."""

    __slots__ = ("credited", "rows")

    def __init__(
        self,
        deal: Deal,
        amount: Decimal,
        ctx: ComponentContext,
        credited: Decimal,
        rows: tuple,
    ) -> None:
        self.deal = deal
        self.amount = amount
        self.ctx = ctx
        self.credited = credited
        self.rows = rows

    @property
    def reports(self) -> tuple[tuple[str, Decimal], ...]:
        """((email, share), ...) of the reports credited with this deal."""
        return tuple((row[3], row[2]) for row in self.rows)

    @property
    def text(self) -> str:
        ctx, deal = self.ctx, self.deal
        assert deal is not None
        (rate,) = ctx.extra
        rows = self.rows
        if len(rows) == 1 and rows[0][2] is ONE:  # the common case: one report, the whole deal
            money = ctx.money(self.credited)
            return (
                f"{deal.label}: {money} credited to {rows[0][3]} at {format_percent(rate)} = {ctx.money(self.amount)}"
            )
        who = ", ".join(f"{row[3]} {format_percent(row[2])}" for row in rows)
        of = f" of {ctx.money(deal.amount)}" if self.credited != deal.amount else ""
        return f"{deal.label}: {ctx.money(self.credited)}{of} credited to {who} at {format_percent(rate)} = {ctx.money(self.amount)}"

    @property
    def basis(self) -> dict[str, Any]:
        (rate,) = self.ctx.extra
        return {
            "credited": str(self.credited),
            "rate": str(rate),
            "reports": [{"person": email, "share": str(share)} for email, share in self.reports],
        }


class CapLine(Line):
    """A cap that bites: ``before`` is what the component (or plan) earned before it."""

    __slots__ = ("before", "limit")

    def __init__(self, amount: Decimal, ctx: ComponentContext, limit: Decimal, before: Decimal) -> None:
        super().__init__(None, amount, ctx)
        self.limit = limit
        self.before = before

    @property
    def text(self) -> str:
        ctx = self.ctx
        what = f"{ctx.component} capped" if ctx.component != "cap" else "Plan total capped"
        return f"{what} at {ctx.money(self.limit)} (earned {ctx.money(self.before)}): {ctx.money(self.amount)}"

    @property
    def basis(self) -> dict[str, Any]:
        return {"cap": str(self.limit), "earned": str(self.before)}


class DrawLine(Line):
    """A draw top-up (positive) or the recovery of a recoverable draw balance (negative)."""

    __slots__ = ("balance_in", "balance_out", "earnings")

    def __init__(
        self, amount: Decimal, ctx: ComponentContext, earnings: Decimal, balance_in: Decimal, balance_out: Decimal
    ) -> None:
        super().__init__(None, amount, ctx)
        self.earnings = earnings
        self.balance_in = balance_in
        self.balance_out = balance_out

    @property
    def text(self) -> str:
        ctx = self.ctx
        draw, recoverable = ctx.extra
        m = ctx.money
        if self.amount > 0:
            kind = f"recoverable; balance now {m(self.balance_out)}" if recoverable else "non-recoverable"
            return f"Draw {m(draw)}: earnings {m(self.earnings)}, top-up {m(self.amount)} ({kind})"
        return (
            f"Draw recovery: earnings {m(self.earnings)} above the {m(draw)} draw repay {m(-self.amount)} "
            f"of the {m(self.balance_in)} balance (balance now {m(self.balance_out)})"
        )

    @property
    def basis(self) -> dict[str, Any]:
        draw, recoverable = self.ctx.extra
        return {
            "draw": str(draw),
            "recoverable": recoverable,
            "earnings": str(self.earnings),
            "balance_in": str(self.balance_in),
            "balance_out": str(self.balance_out),
        }


class LineSource:
    """How a component's lines are made: its exact total, and ``make()`` giving the exact
    per-line values and a builder that turns their rounded amounts into ``Line``s."""

    __slots__ = ("exact_total", "make")

    def __init__(
        self,
        exact_total: Decimal,
        make: Callable[[], tuple[list[Decimal], Callable[[list[Decimal]], list[Line]]]],
    ):
        self.exact_total = exact_total
        self.make = make


class ComponentResult:
    """One component of one payee: its rounded ``amount`` and its ``lines``, which always sum
    to it (largest remainder, built on first access and then kept)."""

    __slots__ = ("_digits", "_lines", "_source", "amount", "kind", "name")

    def __init__(
        self,
        name: str,
        kind: str,
        amount: Decimal,
        lines: tuple[Line, ...] | None = None,
        source: LineSource | None = None,
        digits: int = 2,
    ) -> None:
        self.name = name
        self.kind = kind
        self.amount = amount
        self._lines = lines
        self._source = source
        self._digits = digits

    @property
    def lines(self) -> tuple[Line, ...]:
        if self._lines is None:
            self._lines = tuple(self.build_lines())
            self._source = None
        return self._lines

    def build_lines(self) -> list[Line] | tuple[Line, ...]:
        """The lines without keeping them (for streaming output of huge results)."""
        if self._lines is not None:
            return self._lines
        assert self._source is not None
        with paused_gc():
            exact, build = self._source.make()
            amounts = allocate(exact, self.amount, self._digits) if len(exact) != 1 else [self.amount]
            return build(amounts)

    def __repr__(self) -> str:
        return f"ComponentResult({self.name!r}, {self.kind!r}, {self.amount})"


@dataclass(frozen=True, slots=True)
class Payee:
    person: str
    credited: Decimal  # credited measure: an amount, or a count of deals under `quota: deals`
    quota: Decimal | None
    attainment: Decimal | None  # exact ratio; None without a quota
    components: tuple[ComponentResult, ...]
    total: Decimal | None  # None when the payee has errors
    errors: tuple[str, ...] = ()
    draw_balance_in: Decimal | None = None  # recoverable draws only
    draw_balance_out: Decimal | None = None

    def component(self, name: str) -> ComponentResult | None:
        return next((c for c in self.components if c.name == name), None)


@dataclass(frozen=True, slots=True)
class Result:
    plan: str
    period: Period
    currency: str
    metric: str
    payees: tuple[Payee, ...]
    warnings: tuple[str, ...] = ()

    def payee(self, person: str) -> Payee | None:
        return next((p for p in self.payees if p.person == person), None)

    @property
    def has_errors(self) -> bool:
        return any(p.errors for p in self.payees)


def _payee_head(payee: Payee, digits: int, measure_digits: int) -> dict[str, Any]:
    def measure(value: Decimal | None) -> str | None:
        return None if value is None else format_amount(value, measure_digits)

    head: dict[str, Any] = {
        "person": payee.person,
        "credited": measure(payee.credited),
        "quota": measure(payee.quota),
        "attainment": None if payee.attainment is None else str(payee.attainment.quantize(_FOUR, context=CONTEXT)),
    }
    if not payee.errors:
        assert payee.total is not None
        head["total"] = format_amount(payee.total, digits)
    return head


def _payee_tail(payee: Payee, digits: int) -> dict[str, Any]:
    tail: dict[str, Any] = {"errors": list(payee.errors)}
    if payee.draw_balance_out is not None:
        tail["draw_balance"] = {
            "in": format_amount(payee.draw_balance_in or Decimal(0), digits),
            "out": format_amount(payee.draw_balance_out, digits),
        }
    return tail


def result_to_json_dict(result: Result, *, digits: int | None = None) -> dict[str, Any]:
    """The ``commissions calc --json`` document (cli.md): money with the currency's minor
    digits, attainment with 4 decimals, counts with 2 under ``quota: deals``. A payee
    with errors has ``errors``, null attainment, an empty ``components`` list and no
    ``total`` key."""
    digits = minor_digits(result.currency) if digits is None else digits
    measure_digits = 2 if result.metric in COUNT_METRICS else digits
    payees = []
    for payee in result.payees:
        entry = _payee_head(payee, digits, measure_digits)
        entry["components"] = [
            {
                "name": component.name,
                "amount": format_amount(component.amount, digits),
                "lines": [
                    {
                        "deal": line.deal_id,
                        "amount": format_amount(line.amount, digits),
                        "text": line.text,
                    }
                    for line in component.lines
                ],
            }
            for component in payee.components
        ]
        entry.update(_payee_tail(payee, digits))
        payees.append(entry)
    return {
        "period": result.period.key,
        "plan": result.plan,
        "currency": result.currency,
        "payees": payees,
    }


def _encode(value: Any, level: int) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)`` for the small parts, at ``level``."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        pad = "\n" + "  " * (level + 1)
        items = ",".join(f"{pad}{_string(k)}: {_encode(v, level + 1)}" for k, v in value.items())
        return "{" + items + "\n" + "  " * level + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        pad = "\n" + "  " * (level + 1)
        return "[" + ",".join(pad + _encode(v, level + 1) for v in value) + "\n" + "  " * level + "]"
    return json.dumps(value, ensure_ascii=False)


_string = json.encoder.encode_basestring  # type: ignore[attr-defined]


def iter_result_json(result: Result) -> Iterator[str]:
    """The JSON text of ``result_to_json_dict(result)`` exactly as ``json.dumps(...,
    indent=2, ensure_ascii=False)`` writes it, in chunks, without building the document:
    a million lines stream out in constant extra memory."""
    digits = minor_digits(result.currency)
    measure_digits = 2 if result.metric in COUNT_METRICS else digits
    yield (
        "{\n"
        f'  "period": {_string(result.period.key)},\n'
        f'  "plan": {_string(result.plan)},\n'
        f'  "currency": {_string(result.currency)},\n'
        '  "payees": ['
    )
    if not result.payees:
        yield "]\n}"
        return
    for p, payee in enumerate(result.payees):
        head = _encode(_payee_head(payee, digits, measure_digits), 2)
        yield (("," if p else "") + "\n    " + head[:-6] + ',\n      "components": ')  # head ends with "\n    }"
        if not payee.components:
            yield "[]"
        for c, component in enumerate(payee.components):
            yield (
                ("[" if c == 0 else ",")
                + "\n        {\n"
                + f'          "name": {_string(component.name)},\n'
                + f'          "amount": "{format_amount(component.amount, digits)}",\n'
                + '          "lines": '
            )
            lines = component.build_lines()  # not kept: streaming needs no more memory than one component
            if not lines:
                yield "[]"
            else:
                chunk = []
                opening = "["
                for line in lines:
                    deal = line.deal
                    chunk.append(
                        f'{opening}\n            {{\n              "deal": '
                        f"{'null' if deal is None else _string(deal.external_id)},\n"
                        f'              "amount": "{line.amount}",\n'
                        f'              "text": {_string(line.text)}\n            }}'
                    )
                    opening = ","
                    if len(chunk) >= 1024:
                        yield "".join(chunk)
                        chunk.clear()
                chunk.append("\n          ]")
                yield "".join(chunk)
            yield "\n        }"
            if c == len(payee.components) - 1:
                yield "\n      ]"
        tail = _encode(_payee_tail(payee, digits), 2)
        yield ("," + tail[1:-6] + "\n    }")  # the tail's items, then the payee's closing brace
    yield "\n  ]\n}"


def result_to_json(result: Result) -> str:
    """The JSON text (with a final newline), byte-identical for identical inputs."""
    return "".join(iter_result_json(result)) + "\n"


__all__ = [
    "BonusLine",
    "CapLine",
    "ComponentContext",
    "ComponentResult",
    "CurveLine",
    "DealSizeLine",
    "DrawLine",
    "Line",
    "LineSource",
    "OverrideLine",
    "Payee",
    "PerDealLine",
    "Result",
    "TierLine",
    "iter_result_json",
    "result_to_json",
    "result_to_json_dict",
]
