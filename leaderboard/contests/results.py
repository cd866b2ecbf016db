"""Contest results: the final standings and winners of an ended contest, recorded once."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core import outbox
from commissions.core.audit import record_event
from commissions.core.principal import Principal
from commissions.models.base import utcnow
from leaderboard.contests.rules import state, visible_contest, visible_contests
from leaderboard.contests.standings import live_rows
from leaderboard.models import Contest, ContestResult


def record_results(session: Session, contest: Contest, *, now: datetime | None = None) -> bool:
    """Store the final standings and winners of an ended contest, once. Returns whether this call stored them.

    Idempotent: a recorded, running, scheduled or cancelled contest is left alone. The claim is
    an ``UPDATE ... WHERE closed_at IS NULL``, so of two racing processes one stores and the
    other finds nothing to claim (or, on SQLite, waits for the write lock and then does).
    Deals recorded later (a late CRM sync, a cancellation) do not change the stored record.
    """
    now = now or utcnow()
    if state(contest, now) != "ended":
        return False
    claimed = session.execute(
        update(Contest)
        .where(col(Contest.id) == contest.id, col(Contest.closed_at).is_(None), col(Contest.status) == "active")
        .values(closed_at=now)
    )
    if cast("CursorResult[Any]", claimed).rowcount != 1:
        session.refresh(contest)
        return False
    rows = live_rows(session, contest)
    for position, row in enumerate(rows, start=1):
        session.add(
            ContestResult(
                contest_id=stored_id(contest),
                position=position,
                rank=row.rank,
                person_id=row.person_id,
                team_id=row.team_id if contest.mode == "team" else None,
                name=row.name[:200],
                team_name=row.team_name[:120],
                value=row.value,
                winner=row.winner,
            )
        )
    session.flush()
    session.refresh(contest)
    record_event(
        session,
        None,
        "contest.results",
        "contest",
        contest.id,
        {"winners": [r.name for r in rows if r.winner], "entries": len(rows)},
    )
    outbox.record_event(
        session,
        "contest.ended",
        {
            "contest": contest.id,
            "name": contest.name,
            "metric": contest.metric,
            "mode": contest.mode,
            "starts_on": contest.starts_on.isoformat(),
            "ends_on": contest.ends_on.isoformat(),
            "winners": [r.name for r in rows if r.winner],
            "entries": len(rows),
            "standings": [
                {"position": n, "rank": r.rank, "name": r.name, "team": r.team_name or None}
                for n, r in enumerate(rows[:10], start=1)
            ],
        },
    )
    return True


def record_ended(session: Session, *, now: datetime | None = None) -> list[Contest]:
    """Record every contest that has ended and is not recorded yet (``commissions contests close``)."""
    now = now or utcnow()
    due = session.exec(
        select(Contest)
        .where(Contest.status == "active", col(Contest.closed_at).is_(None), Contest.ends_on < now.date())
        .order_by(col(Contest.id))
    ).all()
    return [c for c in due if record_results(session, c, now=now)]


def ensure_recorded(engine: Any, contest: Contest, *, now: datetime | None = None) -> bool:
    """The lazy trigger: the first read after the end records the results, in its own short transaction."""
    from sqlalchemy import Engine

    from commissions.core.db import transaction

    now = now or utcnow()
    if state(contest, now) != "ended" or not isinstance(engine, Engine):
        return False
    try:
        with transaction(engine) as session:
            fresh = session.get(Contest, contest.id)
            return fresh is not None and record_results(session, fresh, now=now)
    except (IntegrityError, OperationalError):  # another process recorded it at the same moment
        return False


def record_due(engine: Any, contests: list[Contest], *, now: datetime) -> bool:
    """The lazy trigger of a read: record the results of those of ``contests`` that ended, each in its own short
    transaction. True if any had ended: the caller's session must then read again to see the stored results."""
    due = [c for c in contests if state(c, now) == "ended"]
    for contest in due:
        ensure_recorded(engine, contest, now=now)
    return bool(due)


def visible_contests_recorded(engine: Any, session: Session, principal: Principal, *, now: datetime) -> list[Contest]:
    """The contests the caller may see (``rules.visible_contests``), the results of those that just ended recorded
    first (``record_due``); the caller's session then reads again (a rollback) to see them."""
    contests = visible_contests(session, principal)
    if record_due(engine, contests, now=now):
        session.rollback()  # a fresh read: see the results just stored
        contests = visible_contests(session, principal)
    return contests


def visible_contest_recorded(
    engine: Any, session: Session, principal: Principal, contest_id: int, *, now: datetime
) -> Contest | None:
    """The contest if the caller may see it (None: a 404), its results recorded first if it just ended."""
    contest = visible_contest(session, principal, contest_id)
    if contest is not None and record_due(engine, [contest], now=now):
        session.rollback()  # a fresh read: see the results just stored
        contest = visible_contest(session, principal, contest_id)
        assert contest is not None
    return contest
