"""The ledger diff (``service._diff_lines``): stored lines that are still computed stay, the others are reversed
in their order, and only the new lines are built and added after them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from commissions.calculation.service import _LINE_COLUMNS, _diff_lines


class _Row(SimpleNamespace):
    """A stored line as ``_current_lines`` reads it: by name, and by position in ``_LINE_COLUMNS``."""

    def __getitem__(self, key: Any) -> Any:
        return tuple(getattr(self, column.key) for column in _LINE_COLUMNS)[key]


def _stored(line_id: int, component: str, amount: int) -> _Row:
    return _Row(
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


def test_lines_in_the_computed_order_are_matched_in_step_and_the_rest_by_signature() -> None:
    """The in-step pass (an unchanged statement) and the by-signature rest give the same answer as matching
    everything by signature: here the first two match in step, then a new line breaks the step."""
    current = [_stored(1, "A", 1), _stored(2, "A", 2), _stored(3, "A", 3), _stored(4, "A", 4)]
    wanted = [_sig("A", 1), _sig("A", 2), _sig("A", 9), _sig("A", 4), _sig("A", 3)]
    inserts: list[Any] = []
    assert _diff_lines(current, iter(wanted), lambda i: {"index": i}, {}, "now", inserts) is True
    assert [r() for r in inserts if callable(r)] == [{"index": 2}]  # only 9 is new; 3 and 4 kept though reordered
    assert not [r for r in inserts if isinstance(r, dict)]


def test_more_computed_lines_than_stored_are_new_and_fewer_are_reversed() -> None:
    current = [_stored(1, "A", 1), _stored(2, "A", 2)]
    inserts: list[Any] = []
    assert _diff_lines(
        current, iter([_sig("A", 1), _sig("A", 2), _sig("A", 3)]), lambda i: {"i": i}, {}, "now", inserts
    )
    assert [r() for r in inserts if callable(r)] == [{"i": 2}]
    inserts = []
    assert _diff_lines(current, iter([_sig("A", 1)]), lambda i: {"i": i}, {}, "now", inserts)
    assert [r["reverses_id"] for r in inserts] == [2]
