"""Readable text statements: one block per payee, each line with its explanation."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from commissions.engine import Result
from commissions.engine.money import format_amount, format_percent, minor_digits

WIDTH = 72


def _row(label: str, amount: str, indent: int = 2) -> str:
    left = " " * indent + label
    return f"{left}{' ' * max(1, WIDTH - len(left) - len(amount))}{amount}"


def render_statements(result: Result, names: dict[str, str] | None = None) -> Iterator[str]:
    """Text for every payee of ``result``, a line or several at a time: each piece without its
    final newline (the lines of one piece are joined by newlines)."""
    digits = minor_digits(result.currency)
    measure_digits = 2 if result.metric == "deals" else digits
    names = names or {}
    yield f"{result.plan}: {result.period.key} ({result.period.start} to {result.period.end}), {result.currency}"
    if not result.payees:
        yield ""
        yield "Nobody is paid under this plan in this period."
    for payee in result.payees:
        yield ""
        name = names.get(payee.person)
        yield f"{payee.person}" + (f" ({name})" if name else "")
        unit = " deals" if result.metric == "deals" else ""
        credited = f"{format_amount(payee.credited, measure_digits)}{unit}"
        if payee.quota is not None:
            quota = f"{format_amount(payee.quota, measure_digits)}{unit}"
            attained = f": attainment {format_percent(payee.attainment, 2)}" if payee.attainment is not None else ""
            yield f"  Credited {credited} against a {result.metric} quota of {quota}{attained}"
        else:
            yield f"  Credited {credited} (no {result.metric} quota)"
        if payee.errors:
            for error in payee.errors:
                yield f"  ERROR: {error}"
            yield "  Not computed."
            continue
        for component in payee.components:
            yield _row(component.name, format_amount(component.amount, digits))
            # made for printing, a few thousand lines at a time, and not kept (component.lines would keep them)
            for _, _, texts in component.line_columns():
                if texts:
                    yield "      " + "\n      ".join(texts)
        assert payee.total is not None
        yield _row("Total payout", format_amount(payee.total, digits))
        if payee.draw_balance_out is not None:
            yield f"  Draw balance: {format_amount(payee.draw_balance_in or Decimal(0), digits)} in, {format_amount(payee.draw_balance_out, digits)} out"
