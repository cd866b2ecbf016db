"""Ranking, as pure functions over plain values: no database, no web.

Tie rule (competition ranking, "1, 2, 2, 4"): people with equal values share a
rank, and the next distinct value takes the rank it would have had without the
tie. Inside a tie, rows are shown by name (case-insensitive), then by a stable
key (the person id), so the order never flickers between refreshes. People with
no value (for attainment: no quota) come after everyone with one and share the
last rank among themselves.

Values are exact integers (parts per million, minor units, hundredths of a deal)
or ``Decimal``: never floats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

T = TypeVar("T")
Value = int | Decimal | None

# What each metric ranks by, in the order the selector shows them.
METRICS: dict[str, str] = {
    "attainment": "Attainment",
    "bookings": "Bookings",
    "deals": "Deals",
    "sourced_revenue": "Sourced revenue",
    "mqls": "MQLs",  # marketing view: marketers on a plan with that quota
    "sqls": "SQLs",
    "pipeline": "Sourced pipeline",
}
DEFAULT_METRIC = "attainment"


@dataclass(frozen=True, slots=True)
class Ranked(Generic[T]):
    rank: int
    item: T


def competition_rank(
    items: Sequence[T], *, value: Callable[[T], Value], name: Callable[[T], str], key: Callable[[T], object] = id
) -> list[Ranked[T]]:
    """Highest value first; ties share a rank (1, 2, 2, 4); inside a tie by name, then ``key``."""
    with_value = [i for i in items if value(i) is not None]
    without = [i for i in items if value(i) is None]

    def order(i: T) -> tuple[int | Decimal, str, object]:
        current = value(i)
        if current is None:  # with_value holds only items with a value
            raise ValueError("an item without a value among the ranked ones")
        return (-current, name(i).casefold(), key(i))

    with_value.sort(key=order)
    without.sort(key=lambda i: (name(i).casefold(), key(i)))
    ranked: list[Ranked[T]] = []
    previous: object = object()
    rank = 0
    for position, item in enumerate(with_value, start=1):
        current = value(item)
        if current != previous:
            rank, previous = position, current
        ranked.append(Ranked(rank, item))
    last = len(with_value) + 1
    ranked.extend(Ranked(last, item) for item in without)
    return ranked


def around(rows: Sequence[T], is_viewer: Callable[[T], bool], *, size: int = 3) -> list[T]:
    """The viewer's row with up to ``size`` rows above and below it (by position in ``rows``).

    A viewer who is not on the board gets the top ``2 * size + 1`` rows instead.
    """
    for index, row in enumerate(rows):
        if is_viewer(row):
            return list(rows[max(0, index - size) : index + size + 1])
    return list(rows[: 2 * size + 1])


def top_and_viewer(
    rows: Sequence[T], is_viewer: Callable[[T], bool], *, top: int = 50, size: int = 3
) -> tuple[list[T], int | None]:
    """The first ``top`` rows, then, if the viewer is further down, a gap and their ``around`` window.

    Returns the rows and the position of the gap (None when there is none): a board of
    thousands stays a page people read, and everyone still sees where they stand.
    """
    head = list(rows[:top])
    for index, row in enumerate(rows):
        if is_viewer(row):
            if index < top + size:
                return list(rows[: max(top, index + size + 1)]), None
            return head + list(rows[index - size : index + size + 1]), len(head)
    return head, None


def movement(previous_rank: int | None, rank: int) -> int | None:
    """Places climbed since the previous rank (negative: dropped); None when there is nothing to compare."""
    return None if previous_rank is None else previous_rank - rank
