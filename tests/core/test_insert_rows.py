"""``insert_rows``: many rows at once, by COPY on PostgreSQL; what it stores is what an INSERT stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from commissions.calculation.rows import table_of
from commissions.core import db
from commissions.core.db import insert_rows
from commissions.models import AuditEvent

AWKWARD = ["tab\there", "new\nline", "back\\slash", "quote ' and \"", "Ünïcödé ✓ ไทย", "\\N", "", "comma, semi; pipe|"]


def _rows(tag: str) -> list[dict[str, object]]:
    start = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    return [
        {
            "at": start + timedelta(seconds=k),
            "actor_id": None,
            "actor_label": AWKWARD[k % len(AWKWARD)],
            "action": "deal.created",
            "object_type": "deal",
            "object_id": f"{tag}-{k}",
            "detail": {"amount": str(k), "name": AWKWARD[(k + 3) % len(AWKWARD)], "nested": {"list": [1, None, "x"]}},
            "ip": "",
        }
        for k in range(260)
    ]


def _stored(engine: Engine, tag: str) -> list[tuple[object, ...]]:
    table = table_of(AuditEvent)
    with engine.connect() as connection:
        rows = connection.execute(
            select(*(c for c in table.columns if c.name != "id"))
            .where(table.c.object_id.like(f"{tag}-%"))
            .order_by(table.c.at)
        ).all()
    return [tuple(row) for row in rows]


def test_rows_copied_read_back_as_rows_inserted(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above ``COPY_FROM`` rows PostgreSQL gets a COPY (SQLite inserts either way): text that COPY must escape,
    JSON, NULLs and timestamps come back exactly as from an executemany."""
    table = table_of(AuditEvent)
    monkeypatch.setattr(db, "COPY_FROM", 10**9)
    with engine.begin() as connection:
        insert_rows(connection, table, _rows("inserted"))
    monkeypatch.setattr(db, "COPY_FROM", 1)
    with engine.begin() as connection:
        insert_rows(connection, table, _rows("copied"))
        assert connection.info.get(db._WROTE)  # noted as a write (a read would end by COMMIT, not ROLLBACK)
    inserted, copied = _stored(engine, "inserted"), _stored(engine, "copied")
    assert len(copied) == 260
    assert [row[:5] + row[6:] for row in copied] == [row[:5] + row[6:] for row in inserted]  # but object_id
    assert [row[5].split("-")[1] for row in copied] == [row[5].split("-")[1] for row in inserted]
    assert copied[1][2] == "new\nline" and copied[5][2] == "\\N"  # not read as a NULL


def test_a_column_with_a_default_left_out_is_refused_on_both_databases(engine: Engine) -> None:
    """COPY would not apply a Python-side default: such a row is refused whichever way it would go."""
    rows = [{k: v for k, v in row.items() if k != "at"} for row in _rows("no-time")]
    for copy_from in (1, 10**9):
        with engine.begin() as connection, pytest.MonkeyPatch.context() as patch:
            patch.setattr(db, "COPY_FROM", copy_from)
            with pytest.raises(ValueError, match="audit_event leave out at"):
                insert_rows(connection, table_of(AuditEvent), rows)
    assert _stored(engine, "no-time") == []


def test_a_failing_copy_leaves_nothing(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row the database refuses (an actor who does not exist) fails the whole batch with the error an insert
    raises (SQLAlchemy's ``IntegrityError``: a writer retrying races catches it)."""
    monkeypatch.setattr(db, "COPY_FROM", 1)
    rows = _rows("refused")
    rows[200]["actor_id"] = 987654321
    with pytest.raises(IntegrityError), engine.begin() as connection:
        insert_rows(connection, table_of(AuditEvent), rows)
    assert _stored(engine, "refused") == []


def test_rows_of_a_cached_table_still_bump_its_version(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Teams are cached per process while their version stands (``stored_versions``); COPY would go past the
    engine event that bumps it, so their rows are inserted, and the version moves."""
    from sqlmodel import Session

    from commissions.core.stored_versions import PEOPLE, stored_version
    from commissions.models import Team
    from commissions.models.base import utcnow

    monkeypatch.setattr(db, "COPY_FROM", 1)
    with Session(engine) as session:
        before = stored_version(session, PEOPLE)
    with engine.begin() as connection:
        insert_rows(
            connection,
            table_of(Team),
            [{"name": f"Team {k}", "kind": "sales", "created_at": utcnow()} for k in range(3)],
        )
    with Session(engine) as session:
        after = stored_version(session, PEOPLE)
    assert after is not None and after != before  # bumped (or created, in a database emptied by the tests)
