"""Team pulse (eNPS): managers open a pulse for their team, team members answer once, 0-10.

The team is the manager's reports, recursively (like the team page). Answers are stored
as counts per score (``pulse_tally``), with no person and no time; ``pulse_response``
records only that someone answered. A pulse's score is shown only once it is closed and has at least
``pulse_min_group_size`` answers (default 5): while it is open, the split moving after each answer would
tell a manager watching it who answered what. The caller owns the transaction, except in the
engine-taking functions at the end (the pages').
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core.audit import record_event
from commissions.core.db import transaction, write
from commissions.core.errors import Conflict, Forbidden, InputProblem
from commissions.core.principal import Principal
from commissions.marketing.metrics import PulseScore, enps
from commissions.models import Person, Pulse, PulseResponse, PulseTally
from commissions.models.base import utcnow
from commissions.people.service import report_ids


class PulseNotFound(LookupError):
    """No such pulse, or not one the caller may answer or see (indistinguishable on purpose)."""


@dataclass(frozen=True, slots=True)
class PulseResult:
    pulse: Pulse
    result: PulseScore
    team_size: int

    @property
    def open(self) -> bool:
        return self.pulse.closed_at is None


def _managers_above(session: Session, person_id: int) -> set[int]:
    found: set[int] = set()
    current = session.get(Person, person_id)
    while current is not None and current.manager_id is not None and current.manager_id not in found:
        found.add(current.manager_id)
        current = session.get(Person, current.manager_id)
    return found


def open_pulse(session: Session, principal: Principal, *, today: date | None = None) -> Pulse:
    """Open a new pulse for the caller's team; the caller's previous open pulse closes."""
    if principal.role != "manager" or principal.person_id is None:
        raise Forbidden("Only managers run a pulse for their team.")
    if not report_ids(session, principal.person_id):
        raise InputProblem("team", "you have nobody reporting to you to ask")
    for previous in session.exec(
        select(Pulse).where(Pulse.manager_id == principal.person_id, col(Pulse.closed_at).is_(None))
    ).all():
        previous.closed_at = utcnow()
        session.add(previous)
    pulse = Pulse(manager_id=principal.person_id, opened_on=today or date.today())
    session.add(pulse)
    session.flush()
    record_event(session, principal, "pulse.open", "pulse", pulse.id, {})
    return pulse


def close_pulse(session: Session, principal: Principal, pulse_id: int) -> Pulse:
    pulse = session.get(Pulse, pulse_id)
    if pulse is None or pulse.manager_id != principal.person_id:
        raise PulseNotFound
    if pulse.closed_at is None:
        pulse.closed_at = utcnow()
        session.add(pulse)
        record_event(session, principal, "pulse.close", "pulse", pulse.id, {})
    return pulse


def pulses_to_answer(session: Session, person_id: int) -> list[Pulse]:
    """Open pulses of the person's managers (any level) that the person has not answered."""
    managers = _managers_above(session, person_id)
    if not managers:
        return []
    answered = select(PulseResponse.pulse_id).where(PulseResponse.person_id == person_id)
    return list(
        session.exec(
            select(Pulse)
            .where(col(Pulse.manager_id).in_(managers), col(Pulse.closed_at).is_(None), col(Pulse.id).not_in(answered))
            .order_by(col(Pulse.id))
        ).all()
    )


def answer(session: Session, principal: Principal, pulse_id: int, score: str | int | None) -> None:
    """Record one anonymous answer: a count goes up, and a marker says the caller answered."""
    if principal.person_id is None:
        raise Forbidden("Answer as a person, not with a token.")
    pulse = session.get(Pulse, pulse_id)
    if pulse is None or pulse.manager_id not in _managers_above(session, principal.person_id):
        raise PulseNotFound
    try:
        value = int(str(score).strip())
    except ValueError:
        raise InputProblem("score", "choose a number from 0 to 10") from None
    if not 0 <= value <= 10:
        raise InputProblem("score", "choose a number from 0 to 10")
    if pulse.closed_at is not None:
        raise Conflict("pulse", "this pulse is closed")
    if session.exec(
        select(PulseResponse.id).where(
            PulseResponse.pulse_id == pulse.id, PulseResponse.person_id == principal.person_id
        )
    ).first():
        raise Conflict("pulse", "you have already answered this pulse")
    pulse_row_id = stored_id(pulse)
    session.add(PulseResponse(pulse_id=pulse_row_id, person_id=principal.person_id))
    bumped = session.execute(
        update(PulseTally)
        .where(col(PulseTally.pulse_id) == pulse_row_id, col(PulseTally.score) == value)
        .values(answers=col(PulseTally.answers) + 1)
    )
    if cast("CursorResult[Any]", bumped).rowcount == 0:
        session.add(PulseTally(pulse_id=pulse_row_id, score=value, answers=1))
    session.flush()


def tally(session: Session, pulse_id: int) -> dict[int, int]:
    return dict(session.exec(select(PulseTally.score, PulseTally.answers).where(PulseTally.pulse_id == pulse_id)).all())


def team_results(session: Session, manager_id: int, *, minimum: int) -> list[PulseResult]:
    """The manager's pulses, oldest first, each with its score (hidden below ``minimum`` answers)."""
    team_size = len(report_ids(session, manager_id))
    pulses = session.exec(
        select(Pulse).where(Pulse.manager_id == manager_id).order_by(col(Pulse.opened_on), col(Pulse.id))
    ).all()
    results = []
    for p in pulses:
        score = enps(tally(session, stored_id(p)), minimum=minimum)
        if p.closed_at is None:
            # sealed while open: a manager watching the split move after each answer would learn who answered what
            score = PulseScore(score.answers, 0, 0, 0, None)
        results.append(PulseResult(p, score, team_size))
    return results


# --- the transactions of the pulse pages ---------------------------------------------------------------------


def answer_pulse(engine: Engine, principal: Principal, pulse_id: int, score: str | int | None) -> None:
    """``answer`` in its own transaction, tried again (three times in all) when it lost a unique key: a concurrent
    first answer with the same score, or a double submit."""
    write(engine, lambda session: answer(session, principal, pulse_id, score), attempts=3, on=(IntegrityError,))


def open_team_pulse(engine: Engine, principal: Principal) -> Pulse:
    """``open_pulse`` in its own transaction."""
    with transaction(engine) as session:
        return open_pulse(session, principal)


def close_team_pulse(engine: Engine, principal: Principal, pulse_id: int) -> Pulse:
    """``close_pulse`` in its own transaction."""
    with transaction(engine) as session:
        return close_pulse(session, principal, pulse_id)
