"""The ledger diff (``service._diff_lines``): stored lines that are still computed stay, the others are reversed
in their order, and only the new lines are built and added after them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from commissions.calculation.service import _diff_lines


def _stored(line_id: int, component: str, amount: int) -> SimpleNamespace:
    return SimpleNamespace(
        id=line_id,
        person_id=7,
        component=component,
        kind="earning",
        deal_id=None,
        deal_owner_id=None,
        amount_minor=amount,
        text=f"{component} {amount}",
        plan_version_id=1,
        currency="USD",
    )


def _sig(component: str, amount: int) -> tuple[Any, ...]:
    return (component, "earning", None, amount, f"{component} {amount}", 1, None)


def test_duplicates_match_in_order_leftovers_are_reversed_and_only_new_rows_are_built() -> None:
    current = [_stored(1, "A", 100), _stored(2, "B", 50), _stored(3, "A", 100), _stored(4, "A", 100)]
    wanted = [_sig("A", 100), _sig("C", 10), _sig("A", 100)]
    built: list[int] = []

    def row(index: int) -> dict[str, Any]:
        built.append(index)
        return {"index": index}

    inserts: list[Any] = []
    assert _diff_lines(current, iter(wanted), row, {"period_id": 9}, "now", inserts) is True
    assert built == []  # nothing is built before it is written
    reversals = [r for r in inserts if isinstance(r, dict)]
    assert [(r["reverses_id"], r["amount_minor"], r["kind"]) for r in reversals] == [
        (2, -50, "reversal"),
        (4, -100, "reversal"),
    ]
    news = [r() for r in inserts if callable(r)]
    assert news == [{"index": 1}] and built == [1]  # only C is new: both A's computed match the first two stored
    assert inserts.index(reversals[-1]) < len(inserts) - 1  # reversals come before the new lines


def test_an_unchanged_statement_writes_nothing() -> None:
    current = [_stored(1, "A", 100), _stored(2, "A", 100)]
    inserts: list[Any] = []
    assert _diff_lines(current, iter([_sig("A", 100), _sig("A", 100)]), lambda i: {}, {}, "now", inserts) is False
    assert inserts == []
