"""A store of computed statements commits without waiting for the disk on PostgreSQL (``synchronous_commit = off``
for that transaction, set with its period lock in one round trip); the deal that caused it commits durably.
Losing a lazy commit in a crash loses nothing that cannot be computed again: the statements stay pending."""

from __future__ import annotations

from litestar.testing import TestClient
from sqlalchemy import Engine, event, text

from commissions.core.db import transaction
from commissions.core.periods import lock_period
from tests.calc_fixtures import example_deal, store_plan
from tests.deals.test_deals_api import token_for


def test_the_period_lock_can_make_its_transactions_commit_lazily_and_only_that_transaction(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        return  # SQLite in WAL mode with synchronous=NORMAL commits lazily already (core/db.py)
    with transaction(engine) as session:
        lock_period(session, "2026-Q1", shared=True, lazy_commit=True)
        assert session.execute(text("SHOW synchronous_commit")).scalar() == "off"
    with transaction(engine) as session:
        lock_period(session, "2026-Q1", shared=True)
        assert session.execute(text("SHOW synchronous_commit")).scalar() == "on"


def test_a_deals_store_commits_lazily_and_the_deal_itself_durably(
    client: TestClient, engine: Engine, make_person
) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    store_plan(engine, ["ana@example.com"])
    crm = token_for(engine, "admin")
    transactions: list[list[str]] = [[]]

    def sent(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        transactions[-1].append(" ".join(statement.split()))

    def ended(_conn: object) -> None:
        transactions.append([])

    event.listen(engine, "before_cursor_execute", sent)
    event.listen(engine, "commit", ended)
    try:
        assert (
            client.post("/api/v1/deals", json=example_deal("D-1", "1000", "2026-02-10"), headers=crm).status_code == 201
        )
    finally:
        event.remove(engine, "before_cursor_execute", sent)
        event.remove(engine, "commit", ended)
    if engine.dialect.name != "postgresql":
        return
    written = [t for t in transactions if any(s.startswith(("INSERT", "UPDATE")) for s in t)]
    deal = [t for t in written if any(s.startswith("INSERT INTO deal ") for s in t)]
    stored = [t for t in written if any(s.startswith("UPDATE statement_result SET computed_version") for s in t)]
    assert len(deal) == 1 and len(stored) == 1 and deal != stored
    lazily = "set_config('synchronous_commit', 'off', true)"
    assert not any(lazily in s for s in deal[0])  # the deal waits for the disk
    assert any(lazily in s for s in stored[0])  # its statement does not
