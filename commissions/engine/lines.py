"""Payout lines: what every line shares, and the plan-level cap and draw lines.

A ``Line`` keeps its basis (credited amount, share, rates, tiers, attainment) and renders
its sentence on demand (``line.text``), so computing a million lines does not format a
million sentences that nobody reads; ``line.basis`` is a JSON-ready dict for storage.
Each component kind defines its own lines next to its computation
(``commissions.engine.components``); a ``LineSource`` is how it hands them over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from commissions.engine.inputs import Deal
from commissions.engine.money import CONTEXT, ZERO, format_amount, format_percent
from commissions.engine.rates import ConvertedDeal

FOUR_PLACES = Decimal("0.0001")

#: Turns the rounded amounts of a component's lines into its ``Line`` objects.
Builder = Callable[[list[Decimal]], list["Line"]]
#: A component's lines as the calculator prints them, column by column: the deal ids (None for a
#: line about the period), the amounts as text, the sentences.
Columns = tuple[list[str | None], list[str], list[str]]
#: Turns the rounded amounts of a component's lines into their columns, without ``Line`` objects,
#: a few thousand lines at a time (a manager's override may have a million lines).
RowsBuilder = Callable[[list[Decimal]], Iterable[Columns]]
#: Lines per chunk of columns.
CHUNK = 4096


def fmt_attainment(ratio: Decimal) -> str:
    """Attainment for sentences: ``1.05`` → ``105.00%``."""
    return format_percent(ratio, 2)


def rounded_attainment(ratio: Decimal | None) -> str | None:
    """Attainment for a line's basis: 4 decimals, or None without a quota."""
    return None if ratio is None else str(ratio.quantize(FOUR_PLACES, context=CONTEXT))


class ComponentContext:
    """What every line of one component of one payee shares (for its sentence and basis).
    A kind whose sentences need more (rates, the curve's payout...) subclasses it."""

    __slots__ = ("attainment", "component", "digits", "kind", "quota")

    def __init__(
        self,
        component: str,
        kind: str,
        digits: int,
        *,
        attainment: Decimal | None = None,
        quota: Decimal | None = None,
    ):
        self.component = component
        self.kind = kind
        self.digits = digits
        self.attainment = attainment
        self.quota = quota

    def money(self, value: Decimal) -> str:
        return format_amount(value, self.digits)

    def share_text(self, deal: Deal, credited: Decimal, share: Decimal) -> str:
        """A credited amount, with the deal's amount and the share when it is split."""
        if share == 1:
            return self.money(credited)
        return f"{self.money(credited)} of {self.money(deal.amount)} ({format_percent(share)} share)"


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
        """The line's sentence; a deal converted from another currency adds its conversion."""
        deal = self.deal
        if deal is None or deal.__class__ is Deal:
            return self.sentence
        return with_conversion(self.sentence, deal)

    @property
    def basis(self) -> dict[str, Any]:
        """JSON-ready values the sentence is made of (stored with the line); a converted deal's
        lines add the conversion (``original_amount``, ``original_currency``, ``rate``...)."""
        deal = self.deal
        if deal is None or deal.__class__ is Deal or not isinstance(deal, ConvertedDeal):
            return self.details
        return {**self.details, **deal.conversion.basis}

    @property
    def sentence(self) -> str:
        """The sentence of the kind (without a deal's conversion)."""
        raise NotImplementedError

    @property
    def details(self) -> dict[str, Any]:
        """The kind's values behind its sentence (``basis`` without a deal's conversion)."""
        return {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.deal_id} {self.amount}>"


class LineSource:
    """How a component's lines are made: its exact total, and ``make()`` giving the exact
    per-line values and a builder that turns their rounded amounts into ``Line``s.
    ``make_rows()``, when a kind has it, gives the same values and a builder of the lines'
    rows (deal, amount, sentence) straight from them: what printing a million lines needs,
    without a ``Line`` object each. Both must give the same sentences."""

    __slots__ = ("exact_total", "make", "make_rows")

    def __init__(
        self,
        exact_total: Decimal,
        make: Callable[[], tuple[list[Decimal], Builder]],
        make_rows: Callable[[], tuple[list[Decimal], RowsBuilder]] | None = None,
    ):
        self.exact_total = exact_total
        self.make = make
        self.make_rows = make_rows


def exact_lines(exact: list[Decimal], build: Builder, rows: RowsBuilder | None = None) -> LineSource:
    """A source whose exact per-line values are already computed."""
    return LineSource(sum(exact, ZERO), lambda: (exact, build), None if rows is None else (lambda: (exact, rows)))


def with_conversion(sentence: str, deal: Deal) -> str:
    """A line's sentence, followed by its deal's conversion when it was in another currency."""
    if isinstance(deal, ConvertedDeal):
        return f"{sentence} (converted: {deal.conversion.explanation})"
    return sentence


def with_conversions(deals: list[Deal], texts: list[str]) -> list[str]:
    """The sentences of a chunk of deal lines (``texts[k]`` is about ``deals[k]``), each converted
    deal's followed by its conversion. Deals in the plan's currency cost one C-level pass."""
    if ConvertedDeal not in set(map(type, deals)):
        return texts
    return [with_conversion(text, deal) for text, deal in zip(texts, deals, strict=True)]


def label_of(deal: Deal) -> str:
    """``deal.label``, without the property call (sentences are made by the million)."""
    name = deal.name
    return f"{deal.external_id} {name}" if name else deal.external_id


def ids_and_labels(deals: list[Deal]) -> tuple[list[str], list[str]]:
    """Every deal's ``external_id`` and ``label``, a column each."""
    ids = [deal.external_id for deal in deals]
    labels = [f"{deal.external_id} {deal.name}" if deal.name else deal.external_id for deal in deals]
    return ids, labels


class CapLine(Line):
    """A cap that bites: ``before`` is what the component (or plan) earned before it."""

    __slots__ = ("before", "limit")

    def __init__(self, amount: Decimal, ctx: ComponentContext, limit: Decimal, before: Decimal) -> None:
        super().__init__(None, amount, ctx)
        self.limit = limit
        self.before = before

    @property
    def sentence(self) -> str:
        ctx = self.ctx
        what = f"{ctx.component} capped" if ctx.component != "cap" else "Plan total capped"
        return f"{what} at {ctx.money(self.limit)} (earned {ctx.money(self.before)}): {ctx.money(self.amount)}"

    @property
    def details(self) -> dict[str, Any]:
        return {"cap": str(self.limit), "earned": str(self.before)}


class DrawContext(ComponentContext):
    __slots__ = ("draw", "recoverable")

    def __init__(self, digits: int, draw: Decimal, recoverable: bool) -> None:
        super().__init__("draw", "draw", digits)
        self.draw = draw
        self.recoverable = recoverable


class DrawLine(Line):
    """A draw top-up (positive) or the recovery of a recoverable draw balance (negative)."""

    __slots__ = ("balance_in", "balance_out", "earnings")
    ctx: DrawContext

    def __init__(
        self, amount: Decimal, ctx: DrawContext, earnings: Decimal, balance_in: Decimal, balance_out: Decimal
    ) -> None:
        super().__init__(None, amount, ctx)
        self.earnings = earnings
        self.balance_in = balance_in
        self.balance_out = balance_out

    @property
    def sentence(self) -> str:
        ctx = self.ctx
        draw, m = ctx.draw, ctx.money
        if self.amount > 0:
            kind = f"recoverable; balance now {m(self.balance_out)}" if ctx.recoverable else "non-recoverable"
            return f"Draw {m(draw)}: earnings {m(self.earnings)}, top-up {m(self.amount)} ({kind})"
        return (
            f"Draw recovery: earnings {m(self.earnings)} above the {m(draw)} draw repay {m(-self.amount)} "
            f"of the {m(self.balance_in)} balance (balance now {m(self.balance_out)})"
        )

    @property
    def details(self) -> dict[str, Any]:
        return {
            "draw": str(self.ctx.draw),
            "recoverable": self.ctx.recoverable,
            "earnings": str(self.earnings),
            "balance_in": str(self.balance_in),
            "balance_out": str(self.balance_out),
        }
