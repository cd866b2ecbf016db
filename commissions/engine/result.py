"""What the engine returns: payees with components and self-explaining lines.

``ComponentResult`` holds one component's rounded amount and makes its lines on first
access (largest remainder over the exact values its kind computed); the lines
themselves are in ``lines`` and next to each kind. ``result_to_json_dict`` gives the
document of ``commissions calc --json`` (written by ``result_json``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from commissions.engine.inputs import Period
from commissions.engine.lines import (
    CapLine,
    Columns,
    ComponentContext,
    DrawContext,
    DrawLine,
    Line,
    LineSource,
    fmt_attainment,
)
from commissions.engine.money import allocate
from commissions.engine.result_json import iter_result_json, result_to_json, result_to_json_dict


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
        if self._source is None:
            raise RuntimeError(f"component {self.name!r} has neither lines nor a source of lines")
        with paused_gc():
            exact, build = self._source.make()
            amounts = allocate(exact, self.amount, self._digits) if len(exact) != 1 else [self.amount]
            return build(amounts)

    def line_columns(self) -> Iterator[Columns]:
        """The lines as columns (deal ids or None, amounts as ``str`` writes them, sentences), a
        few thousand lines at a time, not kept: what ``commissions calc`` prints. Made straight
        from the exact values when the kind can (no ``Line`` objects); the same deals, amounts and
        sentences as ``lines``."""
        source = self._source
        if self._lines is None and source is not None and source.make_rows is not None:
            with paused_gc():
                exact, rows = source.make_rows()
                amounts = allocate(exact, self.amount, self._digits) if len(exact) != 1 else [self.amount]
                del exact  # a big component's exact values are not needed while its text is made
                yield from rows(amounts)
            return
        lines = self.build_lines()
        yield [line.deal_id for line in lines], [str(line.amount) for line in lines], [line.text for line in lines]

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


__all__ = [
    "CapLine",
    "ComponentContext",
    "ComponentResult",
    "DrawContext",
    "DrawLine",
    "Line",
    "LineSource",
    "Payee",
    "Result",
    "fmt_attainment",
    "iter_result_json",
    "paused_gc",
    "result_to_json",
    "result_to_json_dict",
]
