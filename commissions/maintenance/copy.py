"""``commissions db copy --to URL``: move an install (SQLite) into an empty PostgreSQL database.

The target gets the schema from the migrations (never from the models), then every table's
rows in dependency order, in chunks, in one transaction per table; columns that point at
their own table (a person's manager, a team's parent) are filled in a second pass, so the
order of rows never matters. PostgreSQL's id sequences are moved past the copied ids. Then
the copy is verified: the same number of rows in every table, every statement (summary and
payout lines) identical, and the stored ledger equal to a fresh calculation of every open
period on the target (the self-audit, ``calculation.check``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, Table, func, inspect, select, text, update

from commissions.calculation.check import check_period
from commissions.core.migrate import current_revisions, head_revisions, upgrade
from commissions.maintenance.backup import BackupError, holds_data
from commissions.models.base import metadata

CHUNK = 2000
STATEMENT_TABLES = ("payee_summary", "payout_line", "ledger_total")


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    statements_compared: int = 0
    periods_checked: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def copy_database(
    source: Engine, target: Engine, *, check: bool = True, echo: Callable[[str], None] = lambda _: None
) -> CopyReport:
    """Copy every row of ``source`` into the empty ``target`` and verify it; ``BackupError`` says what stops it."""
    tables = _tables_to_copy(source)
    if holds_data(target):
        raise BackupError("the target database holds data: copy only into an empty database")
    upgrade(engine=target)
    with (
        target.begin() as connection
    ):  # what the migrations seed (cache versions, default badges) comes from the source
        for table in reversed(tables):
            connection.execute(table.delete())
    report = CopyReport()
    copied: set[str] = set()
    pointers: list[tuple[Table, list[str], list[dict[str, Any]]]] = []
    for table in tables:
        later = _later_references(table, copied)
        report.rows[table.name], deferred = _copy_table(source, target, table, later)
        copied.add(table.name)
        if deferred:
            pointers.append((table, later, deferred))
        if report.rows[table.name]:
            echo(f"  {table.name}: {report.rows[table.name]:,} rows")
    _set_pointers(target, pointers)
    if target.dialect.name == "postgresql":
        _move_sequences(target, tables)
    _verify_counts(source, target, tables, report)
    report.statements_compared = _verify_statements(source, target)
    if check:
        report.periods_checked = _verify_ledger(target)
    return report


def _tables_to_copy(source: Engine) -> list[Table]:
    with source.connect() as connection:
        if current_revisions(connection) != head_revisions():
            raise BackupError("the source database is not at the code's schema: run `commissions db upgrade` first")
        present = set(inspect(connection).get_table_names()) - {"alembic_version"}
    known = {table.name for table in metadata.sorted_tables}
    unknown = sorted(present - known)
    if unknown:
        raise BackupError(f"the source has tables this code does not know: {', '.join(unknown)}")
    return [table for table in metadata.sorted_tables if table.name in present]


def _later_references(table: Table, copied: set[str]) -> list[str]:
    """The table's foreign-key columns that point at rows not copied yet: its own (a manager's row may come
    after their report's) or another table's that comes later (``team.manager_id`` -> ``person``, the cycle
    the schema breaks with ``use_alter``). They are written empty first and set once every table is in."""
    return [
        fk.parent.name for fk in table.foreign_keys if fk.column.table is table or fk.column.table.name not in copied
    ]


def _rows(source: Engine, table: Table) -> Iterator[list[dict[str, Any]]]:
    order = list(table.primary_key.columns) or list(table.columns)
    with source.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=CHUNK).execute(
            select(table).order_by(*order)
        )
        for chunk in result.mappings().partitions(CHUNK):
            yield [dict(row) for row in chunk]


def _copy_table(source: Engine, target: Engine, table: Table, later: list[str]) -> tuple[int, list[dict[str, Any]]]:
    """The table's rows, with the ``later`` columns empty; returns the count and the pointers left to set."""
    deferred: list[dict[str, Any]] = []
    count = 0
    with target.begin() as connection:
        for rows in _rows(source, table):
            if later:
                for row in rows:
                    pointers = {name: row[name] for name in later if row[name] is not None}
                    if pointers:
                        deferred.append({**{c.name: row[c.name] for c in table.primary_key.columns}, **pointers})
                        row.update(dict.fromkeys(pointers))
            connection.execute(table.insert(), rows)
            count += len(rows)
    return count, deferred


def _set_pointers(target: Engine, pointers: list[tuple[Table, list[str], list[dict[str, Any]]]]) -> None:
    with target.begin() as connection:
        for table, later, deferred in pointers:
            keys = list(table.primary_key.columns)
            for pointer in deferred:
                condition = [column == pointer[column.name] for column in keys]
                values = {name: pointer[name] for name in later if name in pointer}
                connection.execute(update(table).where(*condition).values(**values))


def _move_sequences(target: Engine, tables: list[Table]) -> None:
    """Next ids after the copied ones (rows were inserted with their ids)."""
    with target.begin() as connection:
        for table in tables:
            identity = [c for c in table.primary_key.columns if c.autoincrement is not False and c.name == "id"]
            if not identity:
                continue
            sequence = connection.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
            if sequence:
                highest = connection.execute(select(func.max(table.c.id))).scalar()
                connection.execute(
                    text("SELECT setval(CAST(:s AS regclass), :v, :called)"),
                    {"s": sequence, "v": highest or 1, "called": highest is not None},
                )


def _verify_counts(source: Engine, target: Engine, tables: list[Table], report: CopyReport) -> None:
    with source.connect() as src, target.connect() as dst:
        for table in tables:
            there = dst.execute(select(func.count()).select_from(table)).scalar_one()
            here = src.execute(select(func.count()).select_from(table)).scalar_one()
            if here != there or here != report.rows[table.name]:
                raise BackupError(f"{table.name}: {here} rows in the source, {there} in the copy")


def _fingerprint(engine: Engine, table: Table) -> tuple[int, str]:
    """Rows and a digest of every value of ``table`` in id order, independent of the database's types' spelling."""
    digest = hashlib.blake2b(digest_size=16)
    rows = 0
    for chunk in _rows(engine, table):
        for row in chunk:
            rows += 1
            digest.update(repr([_normal(row[c.name]) for c in table.columns]).encode())
    return rows, digest.hexdigest()


def _normal(value: Any) -> Any:
    """One spelling per value: an aware time as naive UTC (SQLite keeps UTC without the zone), a decimal without trailing zeros."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def _verify_statements(source: Engine, target: Engine) -> int:
    """Every statement's summary, lines and totals are the same in the copy; returns the statements compared."""
    compared = 0
    for name in STATEMENT_TABLES:
        if name not in metadata.tables:
            continue
        table = metadata.tables[name]
        here, there = _fingerprint(source, table), _fingerprint(target, table)
        if here != there:
            raise BackupError(f"{name} differs in the copy: the copy is not to be trusted")
        if name == "payee_summary":
            compared = here[0]
    return compared


def _verify_ledger(target: Engine) -> list[str]:
    """The self-audit on the copy: every open period's stored ledger equals a fresh calculation."""
    with target.connect() as connection:
        keys = sorted(
            set(
                connection.execute(
                    text("SELECT period_key FROM statement_state UNION SELECT period_key FROM statement_result")
                ).scalars()
            )
        )
    checked = []
    for key in keys:
        result = check_period(target, key)
        if result.differences:
            raise BackupError(f"{key}: the copy's ledger differs from a fresh calculation ({len(result.differences)})")
        checked.append(key)
    return checked
