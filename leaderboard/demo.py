"""Demo data the leaderboard adds to ``commissions demo`` (its ``demo_data`` hook): contests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session

from leaderboard.contests.results import record_results
from leaderboard.models import Contest


def add_demo_contests(session: Session, *, today: date, period_start: date) -> None:
    """A running company-wide contest and an ended team contest with its winners recorded."""
    now = datetime.combine(today, time(12), UTC)
    session.add(
        Contest(
            name="Two-week bookings push",
            metric="bookings",
            mode="individual",
            scope="everyone",
            prize="An extra day off and the trophy on your desk",
            description="Most won bookings (USD) closed in the window. Split deals count by share; "
            "cancelled deals drop out.",
            starts_on=max(period_start, today - timedelta(days=6)),
            ends_on=today + timedelta(days=7),
        )
    )
    if today > period_start:
        first, last = period_start, min(period_start + timedelta(days=13), today - timedelta(days=1))
    else:  # the quarter starts today: the last two weeks before it (no deals there in the demo)
        first, last = period_start - timedelta(days=14), period_start - timedelta(days=1)
    ended = Contest(
        name="Kick-off sprint",
        metric="deals",
        mode="team",
        scope="everyone",
        prize="Team dinner for the winning region",
        description="The sales region with the most won deals in the first two weeks of the quarter.",
        starts_on=first,
        ends_on=last,
    )
    session.add(ended)
    session.flush()
    record_results(session, ended, now=now)
