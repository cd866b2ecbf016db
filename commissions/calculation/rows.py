"""Stored rows, typed as the calculation uses them.

SQLModel types a model's ``id`` as ``int | None`` (a new row has none until it is inserted) and does not
declare ``__table__`` to type checkers. These helpers state what the calculation relies on, in one place,
and fail with a clear message where that does not hold; none of them changes a query.
"""

from __future__ import annotations

from typing import Protocol, cast

from sqlalchemy import Table, inspect
from sqlalchemy.orm import Mapped
from sqlmodel import SQLModel, col


class _Row(Protocol):
    id: int | None


def stored_id(row: _Row) -> int:
    """The id of a row read from (or flushed to) the database."""
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id: it was never flushed to the database")
    return row.id


def id_col(column: int | None) -> Mapped[int]:
    """``col()`` for a primary key: the ids a query returns are never None."""
    return cast("Mapped[int]", col(column))


def table_of(model: type[SQLModel]) -> Table:
    """The model's table (``Model.__table__``), for Core inserts and updates."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table
