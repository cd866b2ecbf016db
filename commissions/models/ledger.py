"""What is owed: calculation runs, the append-only ledger of payout lines, manual adjustments.

Payout lines are never updated or deleted: a correction is a new line that
reverses the old one (``reverses_id``), so every paid cent keeps its history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from commissions.models.base import (
    LINE_KINDS,
    created_at_field,
    in_check,
    timestamp_field,
)


class CalculationRun(SQLModel, table=True):
    """One recomputation of (part of) a period: what triggered it and for whom."""

    __tablename__ = "calculation_run"

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="period.id", ondelete="RESTRICT", index=True)
    trigger: str = Field(max_length=200)
    people_count: int = Field(default=0)
    started_at: datetime = created_at_field()
    finished_at: datetime | None = timestamp_field()


class PayoutLine(SQLModel, table=True):
    __tablename__ = "payout_line"
    __table_args__ = (
        in_check("kind", LINE_KINDS, "kind"),
        Index("ix_payout_line_person_period", "person_id", "period_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, foreign_key="calculation_run.id", ondelete="RESTRICT", index=True)
    person_id: int = Field(foreign_key="person.id", ondelete="RESTRICT")
    period_id: int = Field(foreign_key="period.id", ondelete="RESTRICT")
    plan_version_id: int | None = Field(default=None, foreign_key="plan_version.id", ondelete="RESTRICT")
    component: str = Field(max_length=200)
    kind: str = Field(default="earning", max_length=20)
    deal_id: int | None = Field(default=None, foreign_key="deal.id", ondelete="RESTRICT", index=True)
    # the deal's owner when the line was computed (statements total a manager's lines per report by it)
    deal_owner_id: int | None = Field(default=None)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(min_length=3, max_length=3)
    text: str = Field(sa_type=Text)
    basis: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    original_period_id: int | None = Field(default=None, foreign_key="period.id", ondelete="RESTRICT")
    reverses_id: int | None = Field(default=None, foreign_key="payout_line.id", ondelete="RESTRICT", unique=True)
    created_at: datetime = created_at_field()


class LedgerTotal(SQLModel, table=True):
    """The running total of one group of a period's lines in force, kept with the ledger.

    One row per person, plan, component, kind, currency and deal owner: ``amount_minor`` and ``lines`` are
    the sum and count of the lines in force in that group (neither reversals nor reversed).
    Every writer of payout lines books them here in the same transaction
    (``calculation.totals.book_lines``), so period totals, the finance dashboard and payroll
    exports read a row per person and component instead of the whole ledger; the period
    check (``calculation.check``) proves the rows equal the lines. ``plan_id`` 0: lines of no
    plan (manual adjustments). A group whose lines were all reversed keeps its row at zero.
    """

    __tablename__ = "ledger_total"
    __table_args__ = (
        UniqueConstraint("period_id", "person_id", "plan_id", "component", "kind", "currency", "owner_id"),
        Index("ix_ledger_total_person", "person_id", "period_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="period.id", ondelete="RESTRICT")
    person_id: int = Field(foreign_key="person.id", ondelete="RESTRICT")
    plan_id: int = Field(default=0)  # no foreign key: 0 stands for "no plan"
    component: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    currency: str = Field(min_length=3, max_length=3)
    owner_id: int = Field(default=0)  # the lines' deal owner (``payout_line.deal_owner_id``); 0: lines of no deal
    amount_minor: int = Field(default=0, sa_type=BigInteger)
    lines: int = Field(default=0)
    first_line_id: int = Field(default=0)  # the group's first line ever (orders components as they appeared)


class Adjustment(SQLModel, table=True):
    """A manual correction by finance, with its reason; shows on the person's statement."""

    __tablename__ = "adjustment"
    __table_args__ = (
        CheckConstraint("amount_minor <> 0", name="amount_not_zero"),
        # a request sent twice (a retry after a lost answer, a double click) books once: adjustments/service.py
        UniqueConstraint("created_by_id", "request_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="RESTRICT", index=True)
    period_id: int = Field(foreign_key="period.id", ondelete="RESTRICT", index=True)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(min_length=3, max_length=3)
    reason: str = Field(max_length=1000)
    deal_id: int | None = Field(default=None, foreign_key="deal.id", ondelete="RESTRICT")
    original_period_id: int | None = Field(default=None, foreign_key="period.id", ondelete="RESTRICT")
    created_by_id: int = Field(foreign_key="person.id", ondelete="RESTRICT")
    created_at: datetime = created_at_field()
    request_key: str | None = Field(default=None, max_length=64)  # the API's Idempotency-Key, the form's own


class PayeeSummary(SQLModel, table=True):
    """The latest computed figures of one person on one plan in one period.

    A cache of the last calculation, rewritten on every recompute (the ledger keeps
    the history): statements, the leaderboard and dashboards read it instead of
    recomputing. Measures are exact integers: ``credited_minor``/``quota_minor``
    in minor units (hundredths for a deals quota), ``attainment_ppm`` in parts per
    million (1.05 = 1,050,000), so ranking and filtering happen in SQL.
    """

    __tablename__ = "payee_summary"
    __table_args__ = (
        UniqueConstraint("person_id", "period_id", "plan_id"),
        Index("ix_payee_summary_period_attainment", "period_id", "attainment_ppm"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    period_id: int = Field(foreign_key="period.id", ondelete="RESTRICT")
    plan_id: int = Field(foreign_key="plan.id", ondelete="RESTRICT")
    plan_version_id: int = Field(foreign_key="plan_version.id", ondelete="RESTRICT")
    run_id: int | None = Field(default=None, foreign_key="calculation_run.id", ondelete="SET NULL")
    metric: str = Field(max_length=20)
    currency: str = Field(min_length=3, max_length=3)
    credited_minor: int = Field(default=0, sa_type=BigInteger)
    quota_minor: int | None = Field(default=None, sa_type=BigInteger)
    attainment_ppm: int | None = Field(default=None, sa_type=BigInteger)
    total_minor: int | None = Field(default=None, sa_type=BigInteger)
    # a recoverable draw's balance after this period (None: no recoverable draw); the next period starts from it
    draw_balance_in_minor: int | None = Field(default=None, sa_type=BigInteger)
    draw_balance_minor: int | None = Field(default=None, sa_type=BigInteger)
    # blake2b of the lines its last computation wrote (``calculation.service._Digest``): a recalculation
    # that computes the same digest knows the lines in force are those and does not read them
    lines_digest: str | None = Field(default=None, max_length=32)
    errors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = created_at_field()


class StatementState(SQLModel, table=True):
    """The input version of one person's statement of one period: what its last change was.

    Every change that can alter the statement bumps ``input_version`` in its own transaction
    (``calculation.state.touch``). What the last stored computation answered is kept apart, in
    ``StatementResult``: a store locks its result rows from its ``claim`` to its commit, and a
    deal marking its people's statements pending must never wait for that. The statement is
    pending while ``input_version`` is greater than the result's ``computed_version`` (0 when
    none was stored); neither row is ever deleted by the worker, so a crash at any instant
    leaves the work visible and redone.
    """

    __tablename__ = "statement_state"
    __table_args__ = (UniqueConstraint("person_id", "period_key"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    period_key: str = Field(max_length=10, index=True)
    input_version: int = Field(default=0, sa_type=BigInteger)
    changed_at: datetime = created_at_field()


class StatementResult(SQLModel, table=True):
    """What the last stored computation of one person's statement of one period answered.

    ``computed_version`` is the input version (``StatementState``) it was computed from; a store
    sets it only if no newer change came in meanwhile (``calculation.state.claim``, which holds
    this row locked until the store commits, so two stores of one person never interleave).
    ``error`` holds the reason the last calculation of this person failed (shown to finance).
    """

    __tablename__ = "statement_result"
    __table_args__ = (UniqueConstraint("person_id", "period_key"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    period_key: str = Field(max_length=10, index=True)
    computed_version: int = Field(default=0, sa_type=BigInteger)
    computed_at: datetime | None = timestamp_field()
    error: str = Field(default="", sa_column=Column(Text, nullable=False))
