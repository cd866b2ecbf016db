"""Reading the ledger's lines in force, and keeping its running totals (``ledger_total``: a row per period,
person, plan, component, kind, currency and deal owner).

Pages and exports that sum a period (period totals, the finance dashboard, payroll, a statement's
totals per component and per report) read these rows, a few per person (a manager: one per
component and deal owner below them), instead of the period's lines (2.1M at 300,000 deals). They are kept
by the writers of the ledger: whoever inserts payout lines calls ``book_lines`` in the same
transaction, which adds each new line to its group and takes each reversed line out of its
own. ``totals_drift`` (run by the period check, ``calculation.check``) proves they equal the
lines in force.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, case, exists, func, literal_column, true
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from commissions.calculation.rows import table_of
from commissions.models import LedgerTotal, PayoutLine, PlanVersion

GROUP = ("period_id", "person_id", "plan_id", "component", "kind", "currency", "owner_id")
NO_PLAN = 0
NO_DEAL = 0  # ledger_total.owner_id of lines about no deal


def lines_in_force_query(period_id: int, *columns: Any) -> Any:
    """Everyone's lines in force in a period: not reversals, and not reversed by a later line.

    Selects ``columns`` (the whole ``PayoutLine`` when none are given).
    """
    reversal = aliased(PayoutLine)
    return select(*(columns or (PayoutLine,))).where(
        PayoutLine.period_id == period_id,
        PayoutLine.kind != "reversal",
        ~exists().where(col(reversal.reverses_id) == PayoutLine.id),
    )


def current_lines_query(person_id: int, period_id: int, *columns: Any) -> Any:
    """One person's lines in force (plus any extra ``columns``)."""
    return lines_in_force_query(period_id, PayoutLine, *columns).where(PayoutLine.person_id == person_id)


def book_lines(session: Session, *, run_id: int | None = None, line_ids: Iterable[int] = ()) -> None:
    """Add lines just inserted (those of calculation run ``run_id``, or ``line_ids``) to the totals.

    A reversal counts in the group of the line it reverses (minus its amount, minus one line).
    One statement, grouped in the database; rows are upserted in key order, so two writers
    lock shared rows in the same order.
    """
    ids = sorted(line_ids)
    if run_id is None and not ids:
        return
    dialect = session.get_bind().dialect.name
    if run_id is not None:
        session.connection().execute(_booking(dialect, by_run=True), {"run_id": run_id})
    else:
        session.connection().execute(_booking(dialect, by_run=False), {"ids": ids})


@lru_cache(maxsize=8)
def _booking(dialect: str, *, by_run: bool) -> Any:
    """The booking statement, built once per dialect (building it cost more than running it for a deal)."""
    original = aliased(PayoutLine)
    source = (
        sa_select(
            func.coalesce(original.period_id, PayoutLine.period_id).label("period_id"),
            func.coalesce(original.person_id, PayoutLine.person_id).label("person_id"),
            func.coalesce(PlanVersion.plan_id, literal_column(str(NO_PLAN))).label("plan_id"),
            func.coalesce(original.component, PayoutLine.component).label("component"),
            func.coalesce(original.kind, PayoutLine.kind).label("kind"),
            func.coalesce(original.currency, PayoutLine.currency).label("currency"),
            func.coalesce(original.deal_owner_id, PayoutLine.deal_owner_id, literal_column(str(NO_DEAL))).label(
                "owner_id"
            ),
            func.sum(PayoutLine.amount_minor).label("amount_minor"),
            func.sum(case((col(PayoutLine.reverses_id).is_(None), 1), else_=-1)).label("lines"),
            func.min(PayoutLine.id).label("first_line_id"),
        )
        .select_from(PayoutLine)
        .join(original, col(original.id) == PayoutLine.reverses_id, isouter=True)
        .join(
            PlanVersion,
            col(PlanVersion.id) == func.coalesce(original.plan_version_id, PayoutLine.plan_version_id),
            isouter=True,
        )
        .where(true())  # SQLite reads "ON CONFLICT" after a join as the join's ON unless a WHERE comes first
    )
    if by_run:
        source = source.where(col(PayoutLine.run_id) == bindparam("run_id"))
    else:
        source = source.where(col(PayoutLine.id).in_(bindparam("ids", expanding=True)))
    keys = [source.selected_columns[name] for name in GROUP]
    source = source.group_by(*keys).order_by(*keys)
    table = table_of(LedgerTotal)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table).from_select([*GROUP, "amount_minor", "lines", "first_line_id"], source)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=list(GROUP),
        set_={
            "amount_minor": table.c.amount_minor + excluded.amount_minor,
            "lines": table.c.lines + excluded.lines,
            "first_line_id": case(
                (excluded.first_line_id < table.c.first_line_id, excluded.first_line_id), else_=table.c.first_line_id
            ),
        },
    )


def totals_query(period_id: int, *columns: Any) -> Any:
    """The period's running totals of groups with lines in force: ``columns`` of ``LedgerTotal`` (and joins)."""
    return select(*columns).where(LedgerTotal.period_id == period_id, LedgerTotal.lines > 0)


@dataclass(frozen=True, slots=True)
class Drift:
    """A group whose running total is not the sum of its lines in force."""

    person_id: int
    plan_id: int
    component: str
    kind: str
    currency: str
    stored: tuple[int, int]  # (amount_minor, lines) in ledger_total
    lines: tuple[int, int]  # the same summed from the lines in force


def totals_drift(session: Session, period_id: int) -> list[Drift]:
    """Groups of the period whose running total differs from its lines in force (none when all is well)."""
    summed: dict[tuple[Any, ...], tuple[int, int]] = {}
    plan = func.coalesce(PlanVersion.plan_id, literal_column(str(NO_PLAN)))
    owner = func.coalesce(PayoutLine.deal_owner_id, literal_column(str(NO_DEAL)))
    for person_id, plan_id, component, kind, currency, owner_id, amount, count in session.execute(
        lines_in_force_query(
            period_id,
            PayoutLine.person_id,
            plan,
            PayoutLine.component,
            PayoutLine.kind,
            PayoutLine.currency,
            owner,
            func.sum(PayoutLine.amount_minor),
            func.count(),
        )
        .join(PlanVersion, col(PlanVersion.id) == PayoutLine.plan_version_id, isouter=True)
        .group_by(PayoutLine.person_id, plan, PayoutLine.component, PayoutLine.kind, PayoutLine.currency, owner)
    ).all():
        summed[(person_id, plan_id, component, kind, currency, owner_id)] = (int(amount), int(count))
    stored: dict[tuple[Any, ...], tuple[int, int]] = {}
    for row in session.exec(select(LedgerTotal).where(LedgerTotal.period_id == period_id)).all():
        if row.lines or row.amount_minor:
            key = (row.person_id, row.plan_id, row.component, row.kind, row.currency, row.owner_id)
            stored[key] = (row.amount_minor, row.lines)
    return [
        Drift(key[0], key[1], key[2], key[3], key[4], stored.get(key, (0, 0)), summed.get(key, (0, 0)))
        for key in sorted(set(summed) | set(stored), key=repr)
        if stored.get(key, (0, 0)) != summed.get(key, (0, 0))
    ]
