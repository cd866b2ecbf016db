"""Recomputing statements: run the engine for the people a change touches and store the result.

The ledger is append-only. When a person's newly computed lines differ from their
current ones, every current line is reversed by a negative ``reversal`` line and the
new lines are added; a statement reads the lines that are neither reversed nor
reversals, and the sum of all of a person's lines always equals their current total.
Locked and paid periods are never recomputed.
"""

from __future__ import annotations

import hashlib
import logging
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache, partial
from itertools import chain
from typing import Any, cast

from sqlalchemy import Engine, Integer, bindparam, delete, exists, func, null, union_all
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from commissions import engine as eng
from commissions.calculation.ledger import book_lines, lines_in_force_query
from commissions.calculation.loader import (
    PeriodInputs,
    PlanInPeriod,
    load_period_inputs,
    plans_in_period,
)
from commissions.calculation.rows import stored_id, table_of
from commissions.calculation.state import claim, touch, versions_of
from commissions.core import outbox
from commissions.core.db import among_param, insert_rows, read_session, transaction
from commissions.core.money import from_minor
from commissions.core.periods import CLOSED_STATES, ensure_period, lock_period
from commissions.engine.money import round_money
from commissions.engine.result import paused_gc
from commissions.models import (
    CalculationRun,
    LedgerTotal,
    PayeeSummary,
    PayoutLine,
    Period,
    Person,
    StatementState,
)
from commissions.models.base import utcnow

log = logging.getLogger("quotaboard.calculation")

_KIND_OF_COMPONENT = {"cap": "cap", "draw": "draw"}
ENGINE_KINDS = (
    "earning",
    "cap",
    "draw",
)  # what a recompute diffs; adjustment and clawback lines are never reversed by it
PPM = Decimal(1_000_000)


@dataclass
class RecomputeReport:
    period: str
    people: set[int] = field(default_factory=set)  # whose statement changed
    computed: int = 0
    skipped_locked: bool = False
    warnings: list[str] = field(default_factory=list)
    stale: int = 0  # computed, not stored: their inputs changed meanwhile (still pending)


def _minor(value: Decimal, digits: int) -> int:
    return int(eng_round(value, digits).scaleb(digits))


def line_minor(value: Decimal, digits: int) -> int:
    """A line's amount as stored: minor units."""
    return _minor(value, digits)


def eng_round(value: Decimal, digits: int) -> Decimal:
    return round_money(value, digits)


@dataclass
class PlanOutcome:
    plan: PlanInPeriod
    scope: set[int]
    result: eng.Result
    prepared: Prepared | None = None  # the writes, worked out before the write lock from the lines then in force
    watermark: tuple[int, int] = (0, 0)  # their ledger's (count, newest id) then: if it moved, read ``current`` again
    failed: dict[int, str] = field(default_factory=dict)  # person id -> why their calculation failed (no lines)


@dataclass
class Computation:
    """Engine results for some people in one period, not yet stored.

    ``seen`` holds the input version of every person it answers for, read before any input:
    ``store`` keeps a person's result only if that version has not moved since.
    """

    key: str
    inputs: PeriodInputs | None
    outcomes: list[PlanOutcome]
    seen: dict[int, int] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)  # people whose plan version no longer parses


# A plan's writes are worked out before the store's transaction (``PlanOutcome.prepared``) for more people than
# this; for these few (a deal's rep: their few lines), the store works them out itself, which costs less than
# the two ledger watermarks that check a preparation made earlier (two round trips of a deal on PostgreSQL).
PREPARE_IN_STORE = 8


@dataclass
class SharedInputs:
    """A whole period's inputs, read once for a recalculation's many chunks, and the input versions
    read before them: a chunk's people are stored only if their versions still match (``claim``),
    so a change committed after the read is never overwritten by a result computed without it."""

    inputs: PeriodInputs
    index: _DealIndex
    versions: dict[int, int]
    quotas: dict[tuple[Any, ...], list[eng.Quota]] = field(default_factory=dict)  # per plan version

    @classmethod
    def read(cls, session: Session, key: str, people: Iterable[int]) -> SharedInputs:
        versions = versions_of(session, key, people)  # before any input, as ``compute`` does
        inputs = load_period_inputs(session, eng.parse_period(key))
        return cls(inputs, _DealIndex(inputs), versions)


def compute(
    session: Session, key: str, *, person_ids: set[int] | None = None, shared: SharedInputs | None = None
) -> Computation:
    """Run the engine for ``person_ids`` (everyone with a statement in the period when None); reads only.

    One person's failing calculation (a deal in a currency their plan does not pay, say) is
    recorded for that person and never stops the others. ``shared``: the period's inputs read
    before (a recalculation's chunks), with the versions they were read at.
    """
    period = eng.parse_period(key)
    period_id = session.exec(select(Period.id).where(Period.key == key)).first()
    if shared is not None:
        assert person_ids is not None  # a chunk of a recalculation
        seen = {pid: shared.versions.get(pid, 0) for pid in person_ids}
    elif person_ids is not None:
        seen = versions_of(session, key, person_ids)  # before any input: a change after this moves them
    else:
        seen = dict(
            session.exec(
                select(StatementState.person_id, StatementState.input_version).where(StatementState.period_key == key)
            ).all()
        )
    invalid: dict[int, str] = {}
    plans = plans_in_period(session, period, person_ids, invalid=invalid)
    if person_ids is not None:
        invalid = {pid: reason for pid, reason in invalid.items() if pid in person_ids}
    for pid in invalid:
        seen.setdefault(pid, 0)
    if person_ids is None:  # everyone on a plan, and anyone whose old lines may have to go
        for pid in _on_a_plan_or_paid(session, plans, period_id):
            seen.setdefault(pid, 0)
    if not plans:
        return Computation(key, None, [], seen, invalid)
    if shared is not None:
        inputs, index = shared.inputs, shared.index
    else:
        leads = any(plan.parsed.metric in eng.LEAD_METRICS for plan in plans)  # else no plan reads lead events
        inputs = load_period_inputs(session, period, focus=person_ids, leads=leads)
        index = _DealIndex(inputs)
    outcomes = []
    for plan in plans:
        assigned = {
            a.person_id
            for a in plan.assignments
            if a.starts_on <= period.end and (a.ends_on is None or a.ends_on >= period.start)
        }
        scope = assigned if person_ids is None else assigned & person_ids
        if not scope:
            continue
        result, failed = _calculate(
            session, plan, period, inputs, scope, index, None if shared is None else shared.quotas
        )
        outcome = PlanOutcome(plan, scope, result, failed=failed)
        if period_id is not None and (shared is not None or len(scope) > PREPARE_IN_STORE):
            plan_id = stored_id(plan.plan)
            outcome.watermark = _watermark(session, period_id, scope)
            if shared is not None:  # a recalculation: most statements did not change, read only the others' lines
                outcome.prepared = _prepare(
                    inputs,
                    outcome,
                    period_id,
                    {},
                    digests=_stored_digests(session, period_id, plan_id, scope),
                    lines_of=partial(_current_lines, session, period_id, plan_id),
                )
            else:
                outcome.prepared = _prepare(
                    inputs, outcome, period_id, _current_lines(session, period_id, plan_id, scope)
                )
        outcomes.append(outcome)
    return Computation(key, inputs, outcomes, seen, invalid)


def _calculate(
    session: Session,
    plan: PlanInPeriod,
    period: eng.Period,
    inputs: PeriodInputs,
    scope: set[int],
    index: _DealIndex,
    quota_cache: dict[tuple[Any, ...], list[eng.Quota]] | None = None,
) -> tuple[eng.Result, dict[int, str]]:
    """The plan's result for ``scope``; if the inputs are inconsistent, person by person, so that only
    those whose own inputs are wrong fail. ``quota_cache``: a recalculation's quotas, made once per plan
    version and assignments for all its chunks (20,000 people's quotas per chunk were a tenth of it)."""
    emails = [inputs.email_of[pid] for pid in sorted(scope)]
    if quota_cache is None:
        quotas = inputs.quotas_for(plan)
    else:
        # as of the first chunk, like the rest of the shared inputs: a change to an assignment since touches
        # its people, whose results are then not stored (``claim``) and are computed again alone
        key = (plan.version.id,)
        quotas = quota_cache.get(key) or quota_cache.setdefault(key, inputs.quotas_for(plan))
    balances = draw_balances_in(session, plan, period, scope, inputs.email_of)

    def run(participants: list[str]) -> eng.Result:
        return eng.calculate(
            plan.parsed,
            period,
            inputs.people,
            quotas,
            index.seen_by(participants),
            inputs.campaigns,
            draw_balances=balances,
            participants=participants,
            leads=inputs.leads,
            rates=inputs.rate_book,
        )

    try:
        return run(emails), {}
    except eng.EngineError:
        pass
    payees: list[eng.Payee] = []
    warnings: list[str] = []
    failed: dict[int, str] = {}
    for email in emails:
        try:
            one = run([email])
        except eng.EngineError as exc:
            failed[inputs.id_of[email]] = str(exc)
            continue
        payees.extend(one.payees)
        warnings.extend(w for w in one.warnings if w not in warnings)
    return eng.Result(
        plan.parsed.name, period, plan.parsed.currency, plan.parsed.metric, tuple(payees), tuple(warnings)
    ), failed


class _DealIndex:
    """Which deals can credit whom: the owner, each split person and the source campaign's owner.

    A plan is given only the deals that can credit its participants or anyone below them, so
    a deal in another currency, for people on another plan, never fails this plan's calculation.
    """

    def __init__(self, inputs: PeriodInputs) -> None:
        self.deals = inputs.deals
        self.reports: dict[str, list[str]] = {}
        for person in inputs.people:
            if person.manager:
                self.reports.setdefault(person.manager, []).append(person.email)
        owners = {c.code: c.owner for c in inputs.campaigns}
        self.by_person: dict[str, list[int]] = {}
        for position, deal in enumerate(inputs.deals):
            credited = {deal.owner, *(person for person, _ in deal.splits)}
            if deal.source_campaign and deal.source_campaign in owners:
                credited.add(owners[deal.source_campaign])
            for email in credited:
                self.by_person.setdefault(email, []).append(position)

    def seen_by(self, participants: list[str]) -> list[eng.Deal]:
        reach, stack = set(), list(participants)
        while stack:
            email = stack.pop()
            if email not in reach:
                reach.add(email)
                stack.extend(self.reports.get(email, ()))
        positions = sorted({p for email in reach for p in self.by_person.get(email, ())})
        return [self.deals[p] for p in positions]


def _stored_digests(session: Session, period_id: int, plan_id: int, people: set[int]) -> dict[int, str]:
    """The ``lines_digest`` of these people's statements under this plan (those that have one)."""
    out: dict[int, str] = {}
    for chunk in _chunks(sorted(people)):
        out.update(
            (pid, digest)
            for pid, digest in session.exec(
                select(PayeeSummary.person_id, PayeeSummary.lines_digest).where(
                    PayeeSummary.period_id == period_id,
                    PayeeSummary.plan_id == plan_id,
                    col(PayeeSummary.person_id).in_(chunk),
                )
            ).all()
            if digest
        )
    return out


def _on_a_plan_or_paid(session: Session, plans: list[PlanInPeriod], period_id: int | None) -> set[int]:
    """Everyone a full recalculation of the period answers for: on a plan in it, or with a statement in it."""
    people = {a.person_id for plan in plans for a in plan.assignments}
    if period_id is not None:
        people |= _people_with_statements(session, period_id)
    return people


def people_of_period(session: Session, key: str) -> set[int]:
    """Everyone whose statement of the period a full recalculation computes (or takes back)."""
    invalid: dict[int, str] = {}
    plans = plans_in_period(session, eng.parse_period(key), None, invalid=invalid)
    period_id = session.exec(select(Period.id).where(Period.key == key)).first()
    states = session.exec(select(StatementState.person_id).where(StatementState.period_key == key)).all()
    return set(states) | set(invalid) | _on_a_plan_or_paid(session, plans, period_id)


def _people_with_statements(session: Session, period_id: int) -> set[int]:
    in_force = (  # from the running totals: the lines themselves are millions
        select(LedgerTotal.person_id)
        .where(LedgerTotal.period_id == period_id, col(LedgerTotal.kind).in_(ENGINE_KINDS), LedgerTotal.lines > 0)
        .distinct()
    )
    people = set(session.exec(in_force).all())
    people |= set(session.exec(select(PayeeSummary.person_id).where(PayeeSummary.period_id == period_id)).all())
    return people


def previous_period_key(period: eng.Period) -> str:
    from commissions.core.periods import key_of_day

    return key_of_day(period.kind, period.start - timedelta(days=1))


def next_period_key(period: eng.Period) -> str:
    from commissions.core.periods import key_of_day

    return key_of_day(period.kind, period.end + timedelta(days=1))


def draw_balances_in(
    session: Session, plan: PlanInPeriod, period: eng.Period, people: set[int], email_of: dict[int, str]
) -> dict[str, Decimal]:
    """Recoverable draw balances carried in: each person's balance out of the previous period of the same plan."""
    if plan.parsed.draw is None or not plan.parsed.draw.recoverable:
        return {}
    digits = eng.minor_digits(plan.parsed.currency)
    previous = session.exec(select(Period).where(Period.key == previous_period_key(period))).first()
    if previous is None:
        return {}
    balances = locked_draw_balances(session, previous, people, plan_id=plan.plan.id)
    return {email_of[pid]: Decimal(minor).scaleb(-digits) for pid, minor in balances.items() if minor}


def locked_draw_balances(
    session: Session, period: Period, people: set[int], *, plan_id: int | None = None
) -> dict[int, int]:
    """Each person's draw balance out of ``period``: its summary's, plus, for a locked period, the
    corrections that prior-period adjustments booked for it since (its summary never changes)."""
    query = select(PayeeSummary.person_id, PayeeSummary.draw_balance_minor).where(
        PayeeSummary.period_id == period.id,
        col(PayeeSummary.person_id).in_(sorted(people)),
        col(PayeeSummary.draw_balance_minor).is_not(None),
    )
    if plan_id is not None:
        query = query.where(PayeeSummary.plan_id == plan_id)
    balances = cast("dict[int, int]", dict(session.exec(query).all()))  # the query skips null balances
    if period.state in CLOSED_STATES:
        reversal = aliased(PayoutLine)
        for pid, basis in session.exec(
            select(PayoutLine.person_id, PayoutLine.basis).where(
                PayoutLine.original_period_id == period.id,
                col(PayoutLine.person_id).in_(sorted(people)),
                col(PayoutLine.kind).in_(("adjustment", "clawback")),
                ~exists().where(col(reversal.reverses_id) == PayoutLine.id),
            )
        ).all():
            delta = int((basis or {}).get("draw_balance_delta_minor") or 0)
            if delta:
                balances[pid] = balances.get(pid, 0) + delta
    return balances


def _watermark(session: Session, period_id: int, people: set[int]) -> tuple[int, int]:
    """(count, newest id) of these people's ledger rows: any write since changes one of them."""
    count = top = 0
    for chunk in _chunks(sorted(people)):
        n, value = session.execute(
            select(func.count(), func.max(PayoutLine.id)).where(
                PayoutLine.period_id == period_id, col(PayoutLine.person_id).in_(chunk)
            )
        ).one()
        count, top = count + n, max(top, value or 0)
    return count, top


def _chunks(items: list[int], size: int = 900) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def store(session: Session, computation: Computation, *, trigger: str, recomputable: bool = False) -> RecomputeReport:
    """Write a computation into the ledger (only the differences) and the summaries, in the caller's transaction.

    Only the people whose inputs did not change since the computation read them are written
    (``state.claim``); the others stay pending and are computed again.

    ``recomputable``: the caller's transaction writes nothing but this store (the worker's and a deal's
    settling), so on PostgreSQL its commit need not wait for the WAL to reach the disk
    (``synchronous_commit = off`` for this transaction: 1.4-3.3 ms a commit here). Should the server
    crash right after, the store is lost with its ``claim``: the statements are pending again and are
    computed again from the same inputs. Any later durable commit flushes it first (the WAL is written
    in order), so nothing durable can depend on a lost one. SQLite in WAL mode with ``synchronous=NORMAL``
    already commits this way.
    """
    # A store builds a row per changed line (about 100,000 after a 20,000-deal import) while the computation's
    # millions of objects stay alive: the cyclic collector rescanned them all (a catch-up's part: 6.2 -> 4.6 s).
    with paused_gc():
        return _store(session, computation, trigger=trigger, recomputable=recomputable)


def _store(session: Session, computation: Computation, *, trigger: str, recomputable: bool) -> RecomputeReport:
    report = RecomputeReport(computation.key)
    lock_period(session, computation.key, shared=True, lazy_commit=recomputable)  # other people's stores go on beside
    period_row = ensure_period(session, computation.key)
    errors = dict(computation.failed)
    errors.update({pid: message for outcome in computation.outcomes for pid, message in outcome.failed.items()})
    if period_row.state in CLOSED_STATES:  # never recomputed: later changes are prior-period adjustments
        claim(session, computation.key, computation.seen, {})
        report.skipped_locked = True
        return report
    kept = claim(session, computation.key, computation.seen, errors)
    report.stale = len(computation.seen) - len(kept)
    if not kept:
        return report
    run = CalculationRun(period_id=stored_id(period_row), trigger=trigger[:200])
    session.add(run)
    session.flush()
    covered: set[tuple[int, int]] = set()
    for outcome in computation.outcomes:
        plan_id = stored_id(outcome.plan.plan)
        covered |= {(pid, plan_id) for pid in outcome.scope}
        _store_plan(session, computation.inputs, outcome, period_row, run, report, kept)
    _reverse_uncovered(session, period_row, kept, covered, run, report)
    if report.people:  # lines were written (only a changed statement gets any): the totals move with them
        book_lines(session, run_id=stored_id(run))
    run.people_count = report.computed
    run.finished_at = utcnow()
    session.add(run)
    if report.people and period_row.state == "approved":
        from commissions.core.periods import reopen_after_change

        reopen_after_change(session, period_row, people=report.people, trigger=trigger)
    return report


def recompute(session: Session, key: str, *, person_ids: set[int] | None = None, trigger: str) -> RecomputeReport:
    """Compute and store in one transaction (the caller's), holding the period's lock throughout.

    The people are touched first: a computation of them already in flight elsewhere,
    from before this transaction's change, can then no longer be stored over this one.
    """
    lock_period(session, key)
    row = session.exec(select(Period.state).where(Period.key == key)).first()
    if row in CLOSED_STATES:
        return RecomputeReport(key, skipped_locked=True)
    if person_ids:
        touch(session, person_ids, {key})
    return store(session, compute(session, key, person_ids=person_ids), trigger=trigger)


def _reverse_uncovered(
    session: Session,
    period_row: Period,
    people: set[int],
    covered: set[tuple[int, int]],
    run: CalculationRun,
    report: RecomputeReport,
) -> None:
    """Lines and summaries of plans that no longer cover a person in this period (an assignment ended or
    was moved) are taken back: nothing computes them any more."""
    from commissions.models import PlanVersion

    period_id = stored_id(period_row)
    now = utcnow()
    inserts: list[LedgerRow] = []
    changed: set[int] = set()
    columns = (*_LINE_COLUMNS, PlanVersion.plan_id)
    for chunk in _chunks(sorted(people)):
        # which plans each person has lines of (grouped in the database: a manager has a line per deal
        # of the whole team) and summaries of, in one query; then the lines themselves only of the plans
        # no longer covering them
        held_and_summaries = session.execute(
            union_all(
                select(  # the running totals know (a CRO's 300,000 lines were grouped here)
                    LedgerTotal.person_id, LedgerTotal.plan_id, sql_cast(null(), Integer).label("summary_id")
                )
                .where(
                    LedgerTotal.period_id == period_id,
                    col(LedgerTotal.kind).in_(ENGINE_KINDS),
                    col(LedgerTotal.person_id).in_(chunk),
                    LedgerTotal.lines > 0,
                )
                .distinct(),
                select(PayeeSummary.person_id, PayeeSummary.plan_id, PayeeSummary.id).where(
                    PayeeSummary.period_id == period_id, col(PayeeSummary.person_id).in_(chunk)
                ),
            )
        ).all()
        held = [(pid, plan_id) for pid, plan_id, summary in held_and_summaries if summary is None]
        summaries = [(summary, pid, plan_id) for pid, plan_id, summary in held_and_summaries if summary is not None]
        uncovered = {(pid, plan_id) for pid, plan_id in held if (pid, plan_id) not in covered}
        rows = (
            session.execute(
                lines_in_force_query(period_id, *columns)
                .join(PlanVersion, col(PlanVersion.id) == PayoutLine.plan_version_id)
                .where(
                    col(PayoutLine.kind).in_(ENGINE_KINDS),
                    col(PayoutLine.person_id).in_(sorted({pid for pid, _ in uncovered})),
                    col(PlanVersion.plan_id).in_(sorted({plan for _, plan in uncovered})),
                )
            ).all()
            if uncovered
            else []
        )
        for row in rows:
            if (row.person_id, row.plan_id) in covered:
                continue
            changed.add(row.person_id)
            base = {"run_id": run.id, "period_id": period_id, "original_period_id": None}
            _diff_lines([row], [], _no_row, base, now, inserts)
        stale = [sid for sid, pid, plan_id in summaries if (pid, plan_id) not in covered]
        if stale:
            session.execute(delete(PayeeSummary).where(col(PayeeSummary.id).in_(stale)))
    write_rows(session, inserts, stored_id(run))
    report.people |= changed


@dataclass
class Prepared:
    """What storing a plan's outcome will write: ledger rows (only the differences) and summaries."""

    inserts: list[LedgerRow]  # a new line's row is built when it is written (``write_rows``), a reversal's at once
    summaries: list[dict[str, Any]]
    changed: set[int]
    gone: set[int]  # on the plan but no longer paid by it: their summary goes


def _prepare(
    inputs: PeriodInputs,
    outcome: PlanOutcome,
    period_id: int,
    current: dict[int, list[Any]],
    keep: set[int] | None = None,
    *,
    digests: dict[int, str] | None = None,
    lines_of: Callable[[set[int]], dict[int, list[Any]]] | None = None,
) -> Prepared:
    """The writes that make the stored statements of ``keep`` (everyone in scope when None) equal the outcome.

    ``digests`` (a recalculation): each statement's ``lines_digest``; a payee whose computed lines have
    that digest is unchanged, and ``lines_of`` then reads the stored lines only of the others (instead of
    ``current``): a recalculation with nothing changed reads no lines at all.
    """
    plan, scope, result = outcome.plan, outcome.scope, outcome.result
    if keep is not None:
        scope = scope & keep
    digits = eng.minor_digits(result.currency)
    measure_digits = 2 if result.metric in eng.COUNT_METRICS else digits
    base = {
        "run_id": None,
        "period_id": period_id,
        "plan_version_id": plan.version.id,
        "currency": result.currency,
        "original_period_id": None,
        "reverses_id": None,
    }
    prepared = Prepared([], [], set(), set())
    now = utcnow()
    paid: set[int] = set()
    deal_ids, owners, version_id = inputs.deal_ids, inputs.deal_owners, plan.version.id
    unchanged: set[int] = set()
    if digests:
        for payee in result.payees:
            person_id = inputs.id_of[payee.person]
            stored = digests.get(person_id)
            if stored and person_id in scope:
                components = [] if payee.errors else list(payee.components)
                if _digest(components, version_id, deal_ids, owners) == stored:
                    unchanged.add(person_id)
    if lines_of is not None:
        current = lines_of(scope - unchanged)
    for payee in result.payees:
        person_id = inputs.id_of[payee.person]
        if person_id not in scope:
            continue
        paid.add(person_id)
        if person_id in unchanged:  # the lines in force are the ones computed: nothing to write
            summary = _summary(
                person_id, period_id, plan, None, payee, result.currency, digits, measure_digits, result.metric, now
            )
            summary["lines_digest"] = digests[person_id] if digests else None
            prepared.summaries.append(summary)
            continue
        starts: list[int] = []  # where each component's lines begin in the person's sequence of lines
        components = [] if payee.errors else list(payee.components)
        digest = _Digest()
        wanted = _signatures(components, starts, digits, version_id, deal_ids, owners, digest)

        def row(
            index: int, person_id: int = person_id, components: list[Any] = components, starts: list[int] = starts
        ) -> dict[str, Any]:
            place = bisect_right(starts, index) - 1  # built only for a new line: its Line and basis then
            component = components[place]
            line = component.lines[index - starts[place]]
            return {
                **base,
                "person_id": person_id,
                "component": component.name,
                "kind": _KIND_OF_COMPONENT.get(component.kind, "earning"),
                "deal_id": deal_ids.get(line.deal_id) if line.deal_id else None,
                "deal_owner_id": owners.get(line.deal_id) if line.deal_id else None,
                "amount_minor": _minor(line.amount, digits),
                "text": line.text,
                "basis": {**line.basis, "kind": component.kind},
                "created_at": now,
            }

        if _diff_lines(current.get(person_id, []), wanted, row, base, now, prepared.inserts):
            prepared.changed.add(person_id)
        summary = _summary(
            person_id, period_id, plan, None, payee, result.currency, digits, measure_digits, result.metric, now
        )
        summary["lines_digest"] = digest.hexdigest()  # the diff read every computed line: the digest is whole
        prepared.summaries.append(summary)
    for person_id in sorted(scope & set(outcome.failed)):  # the calculation failed: no lines, the reason shown
        paid.add(person_id)
        if _diff_lines(current.get(person_id, []), [], _no_row, base, now, prepared.inserts):
            prepared.changed.add(person_id)
        prepared.summaries.append(
            {
                "person_id": person_id,
                "period_id": period_id,
                "plan_id": plan.plan.id,
                "plan_version_id": plan.version.id,
                "run_id": None,
                "metric": result.metric,
                "currency": result.currency,
                "credited_minor": 0,
                "quota_minor": None,
                "attainment_ppm": None,
                "total_minor": None,
                "draw_balance_in_minor": None,
                "draw_balance_minor": None,
                "errors": [outcome.failed[person_id]],
                "updated_at": now,
                "lines_digest": None,
            }
        )
    for person_id in scope - paid:  # no longer paid under this plan: reverse what they had
        if _diff_lines(current.get(person_id, []), [], _no_row, base, now, prepared.inserts):
            prepared.changed.add(person_id)
    prepared.gone = scope - paid
    return prepared


def _store_plan(
    session: Session,
    inputs: PeriodInputs | None,
    outcome: PlanOutcome,
    period_row: Period,
    run: CalculationRun,
    report: RecomputeReport,
    kept: set[int],
) -> None:
    assert inputs is not None  # an outcome always comes with its inputs
    plan, scope = outcome.plan, outcome.scope & kept
    if not scope:
        return
    period_id, plan_id = stored_id(period_row), stored_id(plan.plan)
    report.warnings.extend(outcome.result.warnings)
    if (
        outcome.prepared is not None
        and scope == outcome.scope
        and _watermark(session, period_id, scope) == outcome.watermark
    ):
        prepared = outcome.prepared  # nothing was written for these people since it was prepared
    else:
        prepared = _prepare(inputs, outcome, period_id, _current_lines(session, period_id, plan_id, scope), keep=scope)
    report.computed += len(prepared.summaries)
    report.people |= prepared.changed
    for row in prepared.summaries:
        row["run_id"] = run.id
    query = select(
        PayeeSummary.person_id, PayeeSummary.id, PayeeSummary.draw_balance_minor, PayeeSummary.attainment_ppm
    ).where(PayeeSummary.period_id == period_id, PayeeSummary.plan_id == plan_id)
    if len(scope) <= 900:  # a deal's few people: their summaries, not the whole plan's (summaries and gone ⊆ scope)
        query = query.where(col(PayeeSummary.person_id).in_(sorted(scope)))
    existing = session.exec(query).all()
    summaries = {pid: sid for pid, sid, _, _ in existing}
    balances = {pid: balance for pid, _, balance, _ in existing}
    attainments = {pid: ppm for pid, _, _, ppm in existing}
    moved = {r["person_id"] for r in prepared.summaries if r["draw_balance_minor"] != balances.get(r["person_id"])}
    moved |= {pid for pid in prepared.gone if balances.get(pid) is not None}
    if moved:  # a carried draw balance changed: the next period of these people starts from another balance
        _queue_next_period(session, period_row, moved)
    gone = [summaries[pid] for pid in prepared.gone if pid in summaries]
    if gone:
        session.execute(delete(PayeeSummary).where(col(PayeeSummary.id).in_(gone)))
    write_rows(session, prepared.inserts, stored_id(run))
    summary_rows = prepared.summaries
    updates = [{"_id": summaries[r["person_id"]], **r} for r in summary_rows if r["person_id"] in summaries]
    fresh = [r for r in summary_rows if r["person_id"] not in summaries]
    if updates:
        table = table_of(PayeeSummary)
        session.connection().execute(
            table.update()
            .where(table.c.id == bindparam("_id"))
            .values({c: bindparam(c) for c in summary_rows[0] if c not in ("person_id", "period_id", "plan_id")}),
            updates,
        )
    if fresh:
        session.connection().execute(table_of(PayeeSummary).insert(), fresh)
    if prepared.changed and outbox.wanted(session, "statement.changed"):
        _announce_changed(
            session, period_row, plan.plan.name, [r for r in summary_rows if r["person_id"] in prepared.changed]
        )
    if outbox.wanted(session, "tier.crossed"):
        _announce_quota_passed(session, period_row, plan.plan.name, summary_rows, attainments)


def _announce_quota_passed(
    session: Session,
    period_row: Period,
    plan_name: str,
    rows: list[dict[str, Any]],
    before: dict[int, int | None],
) -> None:
    """``tier.crossed`` (tier ``quota``) per person whose attainment this store took from below 100 % (or none
    stored yet) to 100 % or more; a recalculation that leaves them above announces nothing again."""
    crossed = [
        r
        for r in rows
        if r["attainment_ppm"] is not None
        and r["attainment_ppm"] >= PPM
        and (before.get(r["person_id"]) is None or (before.get(r["person_id"]) or 0) < PPM)
    ]
    if not crossed:
        return
    emails: dict[int | None, str] = {}
    for chunk in _chunks(sorted({r["person_id"] for r in crossed})):
        emails.update(session.exec(select(Person.id, Person.email).where(col(Person.id).in_(chunk))).all())
    events: list[tuple[dict[str, Any], dict[str, Any] | None]] = [
        (
            {
                "person": emails.get(r["person_id"]),
                "period": period_row.key,
                "plan": plan_name,
                "tier": "quota",
                "threshold": "1.0000",
                "attainment": str((Decimal(r["attainment_ppm"]) / PPM).quantize(Decimal("0.0001"))),
            },
            None,
        )
        for r in crossed
    ]
    outbox.record_events(session, "tier.crossed", events)


def _announce_changed(session: Session, period_row: Period, plan_name: str, rows: list[dict[str, Any]]) -> None:
    """``statement.changed`` per person whose statement this store changed, in one insert (only when some
    subscription wants it). The statement's total is pay: kept apart for ``include_pay`` receivers."""
    if not rows:
        return
    ids = sorted({r["person_id"] for r in rows})
    emails: dict[int | None, str] = {}
    for chunk in _chunks(ids):
        emails.update(session.exec(select(Person.id, Person.email).where(col(Person.id).in_(chunk))).all())
    events: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    for row in rows:
        data = {"person": emails.get(row["person_id"]), "period": period_row.key, "plan": plan_name}
        if row["attainment_ppm"] is not None:
            data["attainment"] = str((Decimal(row["attainment_ppm"]) / PPM).quantize(Decimal("0.0001")))
        total = row["total_minor"]
        pay = {
            "total": None if total is None else str(from_minor(total, row["currency"])),
            "currency": row["currency"],
        }
        events.append((data, pay))
    outbox.record_events(session, "statement.changed", events)


def _queue_next_period(session: Session, period_row: Period, people: set[int]) -> None:
    key = next_period_key(eng.parse_period(period_row.key))
    if session.exec(select(Period.id).where(Period.key == key, col(Period.state).in_(("open", "approved")))).first():
        touch(session, people, {key})


_LINE_COLUMNS: tuple[Any, ...] = (  # more columns than select()'s typed overloads: rows are untyped
    # the signature first (``_signature`` slices it off), then what a reversal copies
    PayoutLine.component,
    PayoutLine.kind,
    PayoutLine.deal_id,
    PayoutLine.amount_minor,
    PayoutLine.text,
    PayoutLine.plan_version_id,
    PayoutLine.deal_owner_id,
    PayoutLine.id,
    PayoutLine.person_id,
    PayoutLine.currency,
)
_SIGNATURE = 7  # the leading columns of ``_LINE_COLUMNS`` that say whether a stored line is still computed
_PERSON = 8  # the position of person_id in ``_LINE_COLUMNS``


def _current_lines(session: Session, period_id: int, plan_id: int, people: set[int]) -> dict[int, list[Any]]:
    """The lines in force of these people under this plan (any version), in one query."""
    query = _current_lines_query(session.get_bind().dialect.name)
    out: dict[int, list[Any]] = {}
    rows_of = session.connection().execute  # Core rows: the ORM's row processing doubled the cost of a ledger
    for chunk in _chunks(sorted(people)):
        # fetched at once (row by row cost twice as much), grouped by position (an attribute per row, again)
        for row in rows_of(query, {"period_id": period_id, "plan_id": plan_id, "people": chunk}).fetchall():
            out.setdefault(row[_PERSON], []).append(row)
    return out


@lru_cache(maxsize=2)
def _current_lines_query(dialect: str) -> Any:
    """``_current_lines``'s statement, built once per dialect (building the alias and the anti-join took a
    millisecond of every deal's store). Bind ``period_id``, ``plan_id`` and ``people``."""
    from commissions.models import PlanVersion

    reversal = aliased(PayoutLine)
    return select(*_LINE_COLUMNS).where(
        PayoutLine.period_id == bindparam("period_id"),
        col(PayoutLine.kind).in_(ENGINE_KINDS),
        col(PayoutLine.plan_version_id).in_(select(PlanVersion.id).where(PlanVersion.plan_id == bindparam("plan_id"))),
        ~exists().where(col(reversal.reverses_id) == PayoutLine.id),
        among_param(dialect, col(PayoutLine.person_id), "people"),
    )


def _signature(line: Any) -> tuple[Any, ...]:
    """A stored line's signature: (component, kind, deal, amount, text, plan version, deal owner)."""
    return tuple(line[:_SIGNATURE])


def _signatures(
    components: list[eng.ComponentResult],
    starts: list[int],
    digits: int,
    version_id: int | None,
    deal_ids: dict[str, int],
    owners: dict[str, int],
    digest: _Digest,
) -> Iterator[tuple[Any, ...]]:
    """The signatures of a payee's computed lines, one at a time, from the engine's line columns (deal,
    amount, sentence made straight from the exact values: no ``Line`` objects for the lines that did not
    change); records in ``starts`` where each component's lines begin, and adds the lines to ``digest``."""
    count = 0
    for component in components:
        starts.append(count)
        name, kind = component.name, _KIND_OF_COMPONENT.get(component.kind, "earning")
        digest.component(name, kind, version_id)
        for deals, amounts, texts in component.line_columns():
            count += len(deals)
            digest.lines(deals, amounts, texts, deal_ids, owners)
            for deal, amount, text in zip(deals, amounts, texts, strict=True):
                yield (
                    name,
                    kind,
                    deal_ids.get(deal) if deal else None,
                    _amount_minor(amount, digits),
                    text,
                    version_id,
                    owners.get(deal) if deal else None,
                )


class _Digest:
    """A statement's computed lines in 16 bytes (blake2b), stored as ``payee_summary.lines_digest``.

    Made of what a stored line's signature holds (component, kind, plan version, deal, deal owner,
    amount as the engine writes it, sentence), a chunk of lines at a time; the sentences are
    length-prefixed, so no two different statements join into the same bytes."""

    def __init__(self) -> None:
        self._hash = hashlib.blake2b(digest_size=16)

    def component(self, name: str, kind: str, version_id: int | None) -> None:
        self._hash.update(f"\x1e{len(name)}:{name}\x1f{kind}\x1f{version_id}\x1d".encode())

    def lines(
        self,
        deals: list[str | None],
        amounts: list[str],
        texts: list[str],
        deal_ids: dict[Any, int],  # looked up with None too (a line about no deal): None, as in its signature
        owners: dict[Any, int],
    ) -> None:
        ids = list(map(deal_ids.get, deals))
        owned = list(map(owners.get, deals))
        self._hash.update(repr((ids, owned, amounts, list(map(len, texts)))).encode())
        self._hash.update("".join(texts).encode())

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _digest(
    components: list[eng.ComponentResult], version_id: int | None, deal_ids: dict[str, int], owners: dict[str, int]
) -> str:
    """The digest of a payee's computed lines (what ``_signatures`` adds up, without the signatures)."""
    digest = _Digest()
    for component in components:
        digest.component(component.name, _KIND_OF_COMPONENT.get(component.kind, "earning"), version_id)
        for deals, amounts, texts in component.line_columns():
            digest.lines(deals, amounts, texts, deal_ids, owners)
    return digest.hexdigest()


def _amount_minor(amount: str, digits: int) -> int:
    """An amount as the engine writes it (already rounded to the minor unit) in minor units: "4784.80" is
    478480. The digits joined when the text has exactly the minor digits (every rounded amount), which
    costs a fifth of reading it as a ``Decimal``."""
    point = amount.find(".")
    if (len(amount) - point - 1 == digits) if point >= 0 else (digits == 0 and "E" not in amount):
        return int(amount.replace(".", "", 1))
    return int(Decimal(amount).scaleb(digits))


def _no_row(index: int) -> dict[str, Any]:
    raise IndexError(index)


LedgerRow = dict[str, Any] | Callable[[], dict[str, Any]]
WRITE_BATCH = 5_000  # rows per executemany: a first computation of a CRO's 600,000 lines never holds them all


def write_rows(session: Session, rows: list[LedgerRow], run_id: int) -> None:
    """Insert ledger rows (built now when they are deferred) in batches, each stamped with the run.

    ``insert_rows``: on PostgreSQL a big batch is streamed by ``COPY`` (a worker's catch-up after a 20,000-deal
    import writes about 160,000 rows: the pipelined inserts were a fifth of its time); elsewhere, and for a few
    rows, one Core ``executemany`` (the ORM's bulk path costs ten times more for a ledger this size).
    """
    connection = session.connection()
    table = table_of(PayoutLine)
    for start in range(0, len(rows), WRITE_BATCH):
        batch = [row() if callable(row) else row for row in rows[start : start + WRITE_BATCH]]
        for row in batch:
            row["run_id"] = run_id
        insert_rows(connection, table, batch)


def _diff_lines(
    current: list[Any],
    wanted: Iterable[tuple[Any, ...]],
    row: Callable[[int], dict[str, Any]],
    base: dict[str, Any],
    now: Any,
    inserts: list[LedgerRow],
) -> bool:
    """Reverse the lines that are no longer computed and add the ones that are new; True if anything changed.

    ``wanted`` yields the signatures of the lines computed now, one at a time (a CRO's 600,000 are
    never held as a list); ``row(i)`` builds the row of the i-th only when it is new. The first
    stored lines of a signature match its first computed lines, in order; stored lines left over
    are reversed (in their order), then the new lines follow. Only the difference is written, so a
    manager whose statement has a line per deal of the whole team gets two or three new lines for
    a new deal, not a rewrite of all.
    """
    kept = bytearray(len(current))
    new: list[LedgerRow] = []
    wanted = iter(wanted)
    index = 0
    mismatch: tuple[Any, ...] | None = None
    for index, sig in enumerate(wanted):  # in step while the stored lines come in the computed order (no change)
        if index >= len(current) or tuple(current[index][:_SIGNATURE]) != sig:
            mismatch = sig
            break
        kept[index] = 1
    if mismatch is not None:  # the rest by signature: the earliest stored line of a signature matched first
        stored: dict[tuple[Any, ...], list[int]] = {}
        for position in range(len(current) - 1, index - 1, -1):  # positions, the earliest last (popped first)
            stored.setdefault(_signature(current[position]), []).append(position)
        for number, sig in enumerate(chain((mismatch,), wanted), start=index):
            positions = stored.get(sig)
            if positions:
                kept[positions.pop()] = 1
            else:
                new.append(partial(row, number))  # built when written: a first computation's rows are never all held
    changed = bool(new)
    for position, old in enumerate(current):
        if kept[position]:
            continue
        changed = True
        inserts.append(
            {
                **base,
                "person_id": old.person_id,
                "plan_version_id": old.plan_version_id,
                "component": old.component,
                "kind": "reversal",
                "deal_id": old.deal_id,
                "deal_owner_id": old.deal_owner_id,
                "amount_minor": -old.amount_minor,
                "currency": old.currency,
                "text": f"Reverses: {old.text}",
                "basis": {},
                "reverses_id": old.id,
                "created_at": now,
            }
        )
    inserts.extend(new)
    return changed


def _summary(
    person_id: int,
    period_id: int,
    plan: PlanInPeriod,
    run_id: int | None,
    payee: eng.Payee,
    currency: str,
    digits: int,
    measure_digits: int,
    metric: str,
    now: Any,
) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "period_id": period_id,
        "plan_id": plan.plan.id,
        "plan_version_id": plan.version.id,
        "run_id": run_id,
        "metric": metric,
        "currency": currency,
        "credited_minor": _minor(payee.credited, measure_digits),
        "quota_minor": None if payee.quota is None else _minor(payee.quota, measure_digits),
        "attainment_ppm": None if payee.attainment is None else int((payee.attainment * PPM).to_integral_value()),
        "total_minor": None if payee.total is None else _minor(payee.total, digits),
        "draw_balance_in_minor": None if payee.draw_balance_in is None else _minor(payee.draw_balance_in, digits),
        "draw_balance_minor": None if payee.draw_balance_out is None else _minor(payee.draw_balance_out, digits),
        "errors": list(payee.errors),
        "updated_at": now,
    }


# A chunk of a full recalculation: about the most lines in force one transaction recomputes (a CRO alone may
# have more), and the most people, so that a chunk of reps reads its deals by id (loader._BY_ID_LIMIT), not
# the whole quarter: 300,000 deals were read 18 times over with chunks of 500 people and 100,000 lines.
RECALC_CHUNK_LINES = 250_000
RECALC_CHUNK_PEOPLE = 250


def recalc_period(
    engine: Engine,
    key: str,
    *,
    trigger: str = "recalc",
    chunk_lines: int = RECALC_CHUNK_LINES,
    chunk_people: int = RECALC_CHUNK_PEOPLE,
    processes: int = 1,
) -> RecomputeReport:
    """Recompute every statement of a period, a bounded chunk of people per transaction.

    The period's inputs are read once (``SharedInputs``: reading the deals again for every chunk
    cost a third of a recalculation); each chunk is then computed from them and stored in its own
    transaction, so memory and each transaction's writes stay bounded in the size of the ledger
    (one transaction of 2.1M lines took 5.4 GiB). A chunk holds at most ``chunk_people`` people
    and, after its first person, about ``chunk_lines`` lines in force or deals below them (a CRO's
    override line per deal of the company counts). A chunk is stored under the same rules as any
    other result (``claim``): people whose inputs changed after the read are not stored, and are
    computed again at the end on their own (the focused path), so writers in between are never
    overwritten.

    ``processes`` > 1 (``commissions recalc``, a process of its own): the chunks are computed and stored by
    that many forked processes, which share the inputs read once (``_chunks_in_processes``).
    """
    with read_session(engine) as session:
        state = session.exec(select(Period.state).where(Period.key == key)).first()
        if state in CLOSED_STATES:
            return RecomputeReport(key, skipped_locked=True)
        people = sorted(people_of_period(session, key))
        weights = _lines_in_force_by_person(session, key)
        for pid, expected in _deals_below(session, key).items():  # a first computation has no lines to weigh
            weights[pid] = max(weights.get(pid, 0), expected)
        shared: SharedInputs | None = SharedInputs.read(session, key, people) if people else None
    if shared is None:  # nobody to compute: the whole-period path still records the period and its run
        with transaction(engine) as session:
            return recompute(session, key, trigger=trigger)
    report = RecomputeReport(key)
    chunks = _weighted_chunks(people, weights, chunk_lines, chunk_people)
    parts: Iterable[RecomputeReport]
    if processes > 1 and len(chunks) > 1:  # the heaviest chunks first, so no process is left with one at the end
        heaviest_first = sorted(chunks, key=lambda chunk: -sum(max(1, weights.get(pid, 0)) for pid in chunk))
        parts = _chunks_in_processes(engine, key, shared, heaviest_first, trigger, processes)
    else:
        parts = (_recalc_chunk(engine, key, shared, chunk, trigger) for chunk in chunks)  # one at a time
    for part in parts:
        if not _merge(report, part):
            return report
    read_at, shared = shared.versions, None  # the inputs go before the stragglers are computed
    with read_session(engine) as session:  # changed since the inputs were read: not stored, computed again alone
        moved = versions_of(session, key, people)
    stale = sorted(pid for pid, version in moved.items() if version != read_at.get(pid, 0))
    report.stale = 0
    for chunk in _weighted_chunks(stale, weights, chunk_lines, chunk_people):
        with transaction(engine) as session:
            part = recompute(session, key, person_ids=set(chunk), trigger=trigger)
        if not _merge(report, part):
            break
    return report


def _recalc_chunk(
    engine: Engine,
    key: str,
    shared: SharedInputs,
    chunk: list[int],
    trigger: str,
    store_turns: AbstractContextManager[Any] | None = None,
) -> RecomputeReport:
    """``store_turns``: held around the store (forked processes on SQLite take turns: ``_chunks_in_processes``)."""
    with read_session(engine) as session:  # computed outside the write lock, like the worker's batches
        computation = compute(session, key, person_ids=set(chunk), shared=shared)
    with store_turns or nullcontext(), transaction(engine) as session:
        return store(session, computation, trigger=trigger)


#: What a forked recalculation process works from: set by its parent just before the fork, never pickled.
_FORKED: tuple[Engine, str, SharedInputs, str, AbstractContextManager[Any] | None] | None = None


def _chunks_in_processes(
    engine: Engine, key: str, shared: SharedInputs, chunks: list[list[int]], trigger: str, processes: int
) -> list[RecomputeReport]:
    """Compute and store ``chunks`` in ``processes`` forked processes, a chunk at a time as each is free.

    Forked after the period's inputs were read, so the processes share them (read once, in this process) and
    only the chunks' people ids go over the pipe. Each stores its chunks in its own transactions under the same
    rules as a single process (``claim``); two stores of different people go on side by side (``store`` takes
    the period's lock shared), as the worker's parts do. SQLite has one writer: there the processes compute
    side by side and take turns storing, through a lock made before the fork (a first computation of 20,000
    people stores chunks for longer than the busy timeout another process's ``BEGIN IMMEDIATE`` waits).
    A failure in one is raised here; a process that dies (killed, out of memory) stops the recalculation with ``RecalcProcessDied``: each chunk is its own
    transaction, so what was stored stands and the rest is as it was before.
    """
    import gc
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    global _FORKED
    context = multiprocessing.get_context("fork")
    store_turns = context.Lock() if engine.dialect.name == "sqlite" else None
    _FORKED = (engine, key, shared, trigger, store_turns)
    gc.freeze()  # the inputs out of the collector's sight: fewer of their pages copied into each process
    try:
        with ProcessPoolExecutor(processes, mp_context=context, initializer=_forked_start) as pool:
            futures = [pool.submit(_forked_chunk, chunk) for chunk in chunks]  # taken in this order
            return [future.result() for future in as_completed(futures)]
    except BrokenProcessPool as exc:
        raise RecalcProcessDied(
            f"a recalculation process of {key} died before it finished (killed, or out of memory): the chunks "
            "stored before stand, the others are as they were; run the recalculation again "
            "(`--processes 1` uses less memory)"
        ) from exc
    finally:
        gc.unfreeze()
        _FORKED = None


class RecalcProcessDied(RuntimeError):
    """A forked process of ``recalc_period`` ended without answering (``_chunks_in_processes``)."""


def _forked_start() -> None:
    """A forked process opens connections of its own: the parent's pooled ones are left to the parent."""
    assert _FORKED is not None
    _FORKED[0].dispose(close=False)


def _forked_chunk(chunk: list[int]) -> RecomputeReport:
    assert _FORKED is not None
    engine, key, shared, trigger, store_turns = _FORKED
    return _recalc_chunk(engine, key, shared, chunk, trigger, store_turns)


def _merge(report: RecomputeReport, part: RecomputeReport) -> bool:
    """Add a chunk's report to the whole; False once the period was found locked (nothing more to do)."""
    report.people |= part.people
    report.computed += part.computed
    report.stale += part.stale
    report.skipped_locked = report.skipped_locked or part.skipped_locked
    report.warnings.extend(w for w in part.warnings if w not in report.warnings)
    return not part.skipped_locked


def _lines_in_force_by_person(session: Session, key: str) -> dict[int, int]:

    rows = session.exec(
        select(LedgerTotal.person_id, func.sum(LedgerTotal.lines))
        .join(Period, col(Period.id) == LedgerTotal.period_id)
        .where(Period.key == key)
        .group_by(col(LedgerTotal.person_id))
    ).all()
    return {pid: int(lines or 0) for pid, lines in rows}


def _deals_below(session: Session, key: str) -> dict[int, int]:
    """The period's deals owned by each person or anyone below them: about the lines a manager's override
    and team components will have (the running totals know only what was computed before)."""
    from commissions.models import Deal, Person

    period = eng.parse_period(key)
    owned = session.exec(
        select(Deal.owner_id, func.count())
        .where(Deal.closed_at >= period.start, Deal.closed_at <= period.end)
        .group_by(col(Deal.owner_id))
    ).all()
    manager_of = {pid: manager for pid, manager in session.exec(select(Person.id, Person.manager_id)).all()}
    below: dict[int, int] = {}
    for owner, count in owned:
        pid: int | None = owner
        seen: set[int] = set()
        while pid is not None and pid not in seen:  # up the chain (a cycle would be a data error: stop)
            seen.add(pid)
            below[pid] = below.get(pid, 0) + int(count)
            pid = manager_of.get(pid)
    return below


def _weighted_chunks(people: list[int], weights: dict[int, int], max_lines: int, max_people: int) -> list[list[int]]:
    chunks: list[list[int]] = []
    chunk: list[int] = []
    lines = 0
    for pid in people:
        weight = max(1, weights.get(pid, 0))
        if chunk and (len(chunk) >= max_people or lines + weight > max_lines):
            chunks.append(chunk)
            chunk, lines = [], 0
        chunk.append(pid)
        lines += weight
    if chunk:
        chunks.append(chunk)
    return chunks
