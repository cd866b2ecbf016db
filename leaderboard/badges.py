"""Badges as data: a fixed vocabulary of rule kinds, parameterised by rows of ``badge_rule``.

A rule row names one ``kind`` and its ``params`` (JSON); the kind is a pure function here
over one period's facts (won deals, attainment, the previous period's attainment) that
returns who qualifies and the deals that earned it. Nothing in the database is executed.

``evaluate`` is idempotent: it grants what is missing, revokes what no longer holds and
restores (un-revokes the same row) what holds again; a second run changes nothing.

* State kinds (``STATE_KINDS``: attainment, biggest deal, most improved) are standings:
  a grant is revoked as soon as the person no longer qualifies (e.g. a cancelled deal
  lowered attainment), with a reason naming the new figure.
* Event kinds (first deal, N deals in D days, weekly streak) happened: a grant is revoked
  only when every deal in its evidence was cancelled and no other deals qualify.

Every rule needs at least one won deal credited to the person in the period: a badge
always has deals that earned it.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core import outbox
from commissions.core.formatting import format_percent
from commissions.core.i18n import N_
from commissions.models import Campaign, Deal, DealSplit, PayeeSummary, Period, Person
from commissions.models.base import utcnow
from leaderboard.models import BADGE_KINDS, BadgeGrant, BadgeRule

PPM = 1_000_000
STATE_KINDS = frozenset({"attainment_at_least", "biggest_deal", "most_improved"})
EVALUATE_EVERY_SECONDS = 60.0


# --- parameters: each kind's fields, validated the same way for the admin form and the evaluator ---------


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    label: str
    type: str  # "int", "ratio" or "choice"
    default: str
    minimum: Decimal | None = None
    choices: tuple[str, ...] = ()


PARAMS: dict[str, tuple[Param, ...]] = {
    "first_deal": (),
    "deals_in_window": (
        Param("count", N_("Deals"), "int", "3", Decimal(1)),
        Param("days", N_("Within days"), "int", "7", Decimal(1)),
    ),
    "attainment_at_least": (Param("ratio", N_("Attainment at least (1.0 = 100 %%)"), "ratio", "1.0", Decimal("0.01")),),
    "biggest_deal": (Param("per", N_("Biggest of each"), "choice", "month", choices=("month", "period")),),
    "weekly_streak": (Param("weeks", N_("Consecutive ISO weeks"), "int", "3", Decimal(2)),),
    "most_improved": (Param("min_gain", N_("Gain more than (0.1 = 10 points)"), "ratio", "0", Decimal(0)),),
}
assert set(PARAMS) == set(BADGE_KINDS)


def validate_params(kind: str, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean params for ``kind`` from form or JSON values; errors by param name (empty when valid)."""
    if kind not in PARAMS:
        return {}, {"kind": f"unknown kind {kind!r}"}
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for p in PARAMS[kind]:
        text = str(raw.get(p.name, p.default)).strip()
        if p.type == "choice":
            if text not in p.choices:
                errors[p.name] = f"choose one of {', '.join(p.choices)}"
            out[p.name] = text
            continue
        try:
            value = Decimal(text)
        except InvalidOperation:
            errors[p.name] = "a number" if p.type == "ratio" else "a whole number"
            continue
        if not value.is_finite() or (p.type == "int" and value != value.to_integral_value()):
            errors[p.name] = "a whole number" if p.type == "int" else "a number"
            continue
        if p.minimum is not None and value < p.minimum:
            errors[p.name] = f"at least {p.minimum}"
            continue
        out[p.name] = int(value) if p.type == "int" else str(value)
    return out, errors


# --- the period's facts ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DealFact:
    external_id: str
    person_id: int
    closed_at: date
    amount_minor: int


@dataclass(slots=True)
class Facts:
    period: Period
    deals: list[DealFact]  # won deals closed in the period, one row per credited person
    attainment: dict[int, int]  # person -> attainment_ppm (first plan, like the leaderboard)
    previous_attainment: dict[int, int]  # the previous period of the same kind
    status: dict[str, str] = field(default_factory=dict)  # external id -> status, for evidence checks
    # won deals of the period their source campaign credits, one row per campaign owner (a marketer's attainment
    # is sourced revenue: these are the deals that evidence it)
    sourced: list[DealFact] = field(default_factory=list)

    def by_person(self) -> dict[int, list[DealFact]]:
        out: dict[int, list[DealFact]] = defaultdict(list)
        for d in sorted(self.deals, key=lambda d: (d.closed_at, d.external_id)):
            out[d.person_id].append(d)
        return out


def _attainment(session: Session, period_id: int) -> dict[int, int]:
    out: dict[int, int] = {}
    for pid, ppm in session.exec(
        select(PayeeSummary.person_id, PayeeSummary.attainment_ppm)
        .where(PayeeSummary.period_id == period_id)
        .order_by(col(PayeeSummary.person_id), col(PayeeSummary.plan_id))
    ):
        if pid not in out and ppm is not None:
            out[pid] = ppm
    return out


def load_facts(session: Session, period: Period) -> Facts:
    """Won deals credited to people (their split holders, or the owner of a deal without splits)."""
    deal_columns: tuple[Any, ...] = (
        Deal.id,
        Deal.external_id,
        Deal.owner_id,
        Deal.closed_at,
        Deal.amount_minor,
    )
    rows = session.exec(
        select(*deal_columns).where(
            Deal.status == "won", Deal.closed_at >= period.starts_on, Deal.closed_at <= period.ends_on
        )
    ).all()
    splits: dict[int, list[int]] = defaultdict(list)
    if rows:  # joined, not an IN list of every deal id (300,000 of them are more than SQLite takes)
        for deal_id, person_id in session.exec(
            select(DealSplit.deal_id, DealSplit.person_id)
            .join(Deal, col(Deal.id) == DealSplit.deal_id)
            .where(Deal.status == "won", Deal.closed_at >= period.starts_on, Deal.closed_at <= period.ends_on)
        ):
            splits[deal_id].append(person_id)
    deals = [
        DealFact(ext, person, closed, amount)
        for deal_id, ext, owner, closed, amount in rows
        for person in (splits.get(deal_id) or [owner])
    ]
    previous = session.exec(
        select(Period)
        .where(Period.kind == period.kind, Period.ends_on < period.starts_on)
        .order_by(col(Period.ends_on).desc())
    ).first()
    sourced_columns: tuple[Any, ...] = (Deal.external_id, Campaign.owner_id, Deal.closed_at, Deal.amount_minor)
    sourced = [
        DealFact(ext, owner, closed, amount)
        for ext, owner, closed, amount in session.exec(
            select(*sourced_columns)
            .join(Campaign, col(Campaign.code) == Deal.source_campaign)
            .where(Deal.status == "won", Deal.closed_at >= period.starts_on, Deal.closed_at <= period.ends_on)
        )
    ]
    return Facts(
        period=period,
        deals=deals,
        attainment=_attainment(session, stored_id(period)),
        previous_attainment=_attainment(session, stored_id(previous)) if previous else {},
        sourced=sourced,
    )


# --- the rule kinds: pure functions, facts + params -> {person: evidence external ids} ----------------------

Qualified = dict[int, list[str]]


def first_deal(facts: Facts, params: dict[str, Any]) -> Qualified:
    return {pid: [deals[0].external_id] for pid, deals in facts.by_person().items()}


def deals_in_window(facts: Facts, params: dict[str, Any]) -> Qualified:
    count, days = int(params["count"]), int(params["days"])
    out: Qualified = {}
    for pid, deals in facts.by_person().items():
        for i in range(len(deals) - count + 1):
            window = deals[i : i + count]
            if (window[-1].closed_at - window[0].closed_at).days < days:
                out[pid] = [d.external_id for d in window]
                break
    return out


def attainment_at_least(facts: Facts, params: dict[str, Any]) -> Qualified:
    """Everyone at or above the ratio with deals to show for it: their own, or for a marketer the deals their
    campaigns sourced (a marketer at 116 % of her sourced-revenue quota had no badge: no deal was "hers")."""
    threshold = Decimal(str(params["ratio"])) * PPM
    by_person = facts.by_person()
    sourced: dict[int, list[DealFact]] = defaultdict(list)
    for d in sorted(facts.sourced, key=lambda d: (d.closed_at, d.external_id)):
        sourced[d.person_id].append(d)
    return {
        pid: [d.external_id for d in (by_person.get(pid) or sourced[pid])]
        for pid, ppm in facts.attainment.items()
        if ppm >= threshold and (by_person.get(pid) or sourced.get(pid))
    }


def biggest_deal(facts: Facts, params: dict[str, Any]) -> Qualified:
    """The largest won deal(s) of each month of the period (``per: month``) or of the whole period; ties share."""
    groups: dict[Any, list[DealFact]] = defaultdict(list)
    for d in facts.deals:
        groups[(d.closed_at.year, d.closed_at.month) if params.get("per", "month") == "month" else None].append(d)
    out: dict[int, set[str]] = defaultdict(set)
    for deals in groups.values():
        top = max(d.amount_minor for d in deals)
        for d in deals:
            if d.amount_minor == top:
                out[d.person_id].add(d.external_id)
    return {pid: sorted(ids) for pid, ids in out.items()}


def weekly_streak(facts: Facts, params: dict[str, Any]) -> Qualified:
    weeks = int(params["weeks"])
    out: Qualified = {}
    for pid, deals in facts.by_person().items():
        first_of_week: dict[date, str] = {}
        for d in deals:
            first_of_week.setdefault(d.closed_at - timedelta(days=d.closed_at.weekday()), d.external_id)
        mondays = sorted(first_of_week)
        run = [mondays[0]] if mondays else []
        for monday in mondays[1:]:
            run = [*run, monday] if monday - run[-1] == timedelta(days=7) else [monday]
            if len(run) >= weeks:
                break
        if len(run) >= weeks:
            out[pid] = [first_of_week[m] for m in run[:weeks]]
    return out


def most_improved(facts: Facts, params: dict[str, Any]) -> Qualified:
    minimum = Decimal(str(params.get("min_gain", "0"))) * PPM
    by_person = facts.by_person()
    gains = {
        pid: ppm - facts.previous_attainment[pid]
        for pid, ppm in facts.attainment.items()
        if pid in facts.previous_attainment and by_person.get(pid)
    }
    if not gains:
        return {}
    best = max(gains.values())
    if best <= minimum:
        return {}
    return {pid: [d.external_id for d in by_person[pid]] for pid, gain in gains.items() if gain == best}


KINDS: dict[str, Callable[[Facts, dict[str, Any]], Qualified]] = {
    "first_deal": first_deal,
    "deals_in_window": deals_in_window,
    "attainment_at_least": attainment_at_least,
    "biggest_deal": biggest_deal,
    "weekly_streak": weekly_streak,
    "most_improved": most_improved,
}
assert set(KINDS) == set(BADGE_KINDS)

DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "key": "first_deal",
        "name": "First deal",
        "kind": "first_deal",
        "params": {},
        "description": "A first won deal in the period.",
    },
    {
        "key": "three_in_a_week",
        "name": "3 deals in a week",
        "kind": "deals_in_window",
        "params": {"count": 3, "days": 7},
        "description": "Three won deals within seven days.",
    },
    {
        "key": "quota_100",
        "name": "100 % of quota",
        "kind": "attainment_at_least",
        "params": {"ratio": "1.0"},
        "description": "Attainment reached quota. Revoked if a cancellation takes it back below.",
    },
    {
        "key": "club_150",
        "name": "150 % club",
        "kind": "attainment_at_least",
        "params": {"ratio": "1.5"},
        "description": "Attainment of one and a half times quota.",
    },
    {
        "key": "biggest_deal_of_month",
        "name": "Biggest deal of the month",
        "kind": "biggest_deal",
        "params": {"per": "month"},
        "description": "The company's largest won deal of a month.",
    },
    {
        "key": "weekly_streak",
        "name": "3-week streak",
        "kind": "weekly_streak",
        "params": {"weeks": 3},
        "description": "A won deal in each of three consecutive weeks.",
    },
    {
        "key": "most_improved",
        "name": "Most improved",
        "kind": "most_improved",
        "params": {"min_gain": "0"},
        "description": "The largest attainment gain against one's own previous period.",
    },
]


def seed_default_rules(session: Session) -> int:
    """Store the default rules when there are none (called lazily by ``evaluate`` and the admin page)."""
    if session.exec(select(func.count()).select_from(BadgeRule)).one():
        return 0
    for rule in DEFAULT_RULES:
        session.add(BadgeRule(**rule))
    session.flush()
    return len(DEFAULT_RULES)


# --- evaluation ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Report:
    period: str
    granted: list[tuple[str, int]] = field(default_factory=list)  # (rule key, person id)
    restored: list[tuple[str, int]] = field(default_factory=list)
    revoked: list[tuple[str, int, str]] = field(default_factory=list)  # (rule key, person id, reason)

    @property
    def changed(self) -> bool:
        return bool(self.granted or self.restored or self.revoked)


def _percent(ppm: int | None) -> str:
    return format_percent(ppm, empty="no attainment")  # the one rounding rule (commissions.core.formatting)


def _cancelled_text(ids: list[str]) -> str:
    return ", ".join(ids) + (" was" if len(ids) == 1 else " were") + " cancelled"


def _state_reason(rule: BadgeRule, grant: BadgeGrant, facts: Facts) -> str:
    cancelled = [e for e in grant.evidence if facts.status.get(e) == "cancelled"]
    after = f" after {_cancelled_text(cancelled)}" if cancelled else ""
    if rule.kind == "attainment_at_least":
        return f"attainment fell to {_percent(facts.attainment.get(grant.person_id))}{after}"
    if rule.kind == "biggest_deal":
        return f"no longer the biggest deal{after}"
    return f"no longer the largest gain{after}"


def _statuses(session: Session, period: Period, external_ids: set[str]) -> dict[str, str]:
    """The status of each evidence deal (absent: no such deal any more). The period's deals in one query, any
    other by id a few hundred at a time: an IN list of every evidence id (300,000 at 300,000 deals) is more
    than SQLite takes, and the evaluation failed on every leaderboard read."""
    found = {
        external_id: status
        for external_id, status in session.exec(
            select(Deal.external_id, Deal.status).where(
                Deal.closed_at >= period.starts_on, Deal.closed_at <= period.ends_on
            )
        ).all()
        if external_id in external_ids
    }
    others = sorted(external_ids - found.keys())  # moved out of the period since they were evidence
    for start in range(0, len(others), 500):
        found.update(
            session.exec(
                select(Deal.external_id, Deal.status).where(col(Deal.external_id).in_(others[start : start + 500]))
            ).all()
        )
    return found


def evaluate(session: Session, period_key: str) -> Report:
    """Grant, revoke and restore the badges of one period; re-running changes nothing."""
    report = Report(period=period_key)
    period = session.exec(select(Period).where(Period.key == period_key)).first()
    if period is None:
        return report
    seed_default_rules(session)
    facts = load_facts(session, period)
    rules = session.exec(select(BadgeRule).where(BadgeRule.active).order_by(col(BadgeRule.id))).all()
    grants: dict[tuple[int, int], BadgeGrant] = {
        (g.rule_id, g.person_id): g for g in session.exec(select(BadgeGrant).where(BadgeGrant.period_id == period.id))
    }
    evidence_ids = {e for g in grants.values() for e in g.evidence}
    if evidence_ids:
        facts.status = _statuses(session, period, evidence_ids)
    now = utcnow()
    for rule in rules:
        params, errors = validate_params(rule.kind, rule.params)
        if errors:  # a rule stored by hand with bad params: skipped, never half-applied
            continue
        qualified = KINDS[rule.kind](facts, params)
        for (rule_id, person_id), grant in grants.items():
            if rule_id != rule.id or grant.revoked_at is not None:
                continue
            if rule.kind in STATE_KINDS:
                if person_id not in qualified:
                    grant.revoked_at, grant.revoke_reason = now, _state_reason(rule, grant, facts)[:300]
                    report.revoked.append((rule.key, person_id, grant.revoke_reason))
            elif all(facts.status.get(e, "cancelled") == "cancelled" for e in grant.evidence):
                if person_id in qualified:  # other deals earn it still: they become the evidence
                    grant.evidence = qualified[person_id]
                else:
                    grant.revoked_at = now
                    grant.revoke_reason = _cancelled_text(list(grant.evidence))[:300]
                    report.revoked.append((rule.key, person_id, grant.revoke_reason))
        for person_id, evidence in sorted(qualified.items()):
            held = grants.get((stored_id(rule), person_id))
            if held is None:
                held = BadgeGrant(
                    rule_id=stored_id(rule),
                    rule_version=rule.version,
                    person_id=person_id,
                    period_id=stored_id(period),
                    granted_at=now,
                    evidence=evidence,
                )
                session.add(held)
                grants[(stored_id(rule), person_id)] = held
                report.granted.append((rule.key, person_id))
            elif held.revoked_at is not None:
                # qualifies again: the same row comes back, under the rule's current version
                held.revoked_at, held.revoke_reason = None, ""
                held.rule_version, held.evidence, held.granted_at = rule.version, evidence, now
                report.restored.append((rule.key, person_id))
    session.flush()
    _announce_grants(session, period, {r.key: r.name for r in rules}, report.granted + report.restored)
    return report


def _announce_grants(session: Session, period: Period, names: dict[str, str], granted: list[tuple[str, int]]) -> None:
    """``badge.granted`` in commissions' outbox, in this transaction (when some subscription wants it)."""
    if not granted or not outbox.wanted(session, "badge.granted"):
        return
    ids = sorted({person_id for _, person_id in granted})
    emails = dict(session.exec(select(Person.id, Person.email).where(col(Person.id).in_(ids))).all())
    outbox.record_events(
        session,
        "badge.granted",
        [
            ({"badge": key, "name": names.get(key, key), "person": emails.get(person_id), "period": period.key}, None)
            for key, person_id in granted
        ],
    )


def badge_names(session: Session, period_id: int, person_ids: list[int]) -> dict[int, list[str]]:
    """Names of each person's active (not revoked) grants in the period, in rule order."""
    out: dict[int, list[str]] = defaultdict(list)
    if not person_ids:
        return out
    for pid, name in session.exec(
        select(BadgeGrant.person_id, BadgeRule.name)
        .join(BadgeRule, col(BadgeRule.id) == BadgeGrant.rule_id)
        .where(
            BadgeGrant.period_id == period_id,
            col(BadgeGrant.revoked_at).is_(None),
            col(BadgeGrant.person_id).in_(person_ids),
        )
        .order_by(col(BadgeGrant.person_id), col(BadgeRule.id))
    ):
        out[pid].append(name)
    return out


# --- the lazy trigger: the leaderboard read evaluates a period at most once a minute per process ---------

_last_evaluated: dict[tuple[int, str], float] = {}
_evaluated_inputs: dict[tuple[int, str], tuple[Any, ...]] = {}  # what the last evaluation saw, per period
_lock = threading.Lock()


def forget_evaluations() -> None:
    """Make the next read evaluate again (tests; after an admin edits a rule)."""
    with _lock:
        _last_evaluated.clear()
        _evaluated_inputs.clear()


def inputs_version(session: Session, period_key: str) -> tuple[Any, ...]:
    """What an evaluation of the period reads, in a few aggregates: the same version, the same grants.

    Deals of the period (count, newest change, newest id), splits, payee summaries (the previous
    period's attainment counts too), the rules, the period's grants, and today (windows move).
    Evaluating a quarter of 300,000 deals took 1.5 s on every leaderboard read a minute apart;
    checking this takes a few index lookups.
    """
    period = session.exec(select(Period).where(Period.key == period_key)).first()
    if period is None:
        return ()
    deals = session.execute(
        select(func.count(), func.max(Deal.updated_at), func.max(Deal.id)).where(
            Deal.closed_at >= period.starts_on, Deal.closed_at <= period.ends_on
        )
    ).one()
    splits = session.execute(select(func.count(), func.max(DealSplit.id))).one()
    summaries = session.execute(select(func.count(), func.max(PayeeSummary.updated_at))).one()
    rules = session.execute(
        select(func.count(), func.sum(BadgeRule.version), func.max(BadgeRule.id)).where(BadgeRule.active)
    ).one()
    grants = session.execute(
        select(func.count(), func.max(BadgeGrant.granted_at), func.max(BadgeGrant.revoked_at)).where(
            BadgeGrant.period_id == period.id
        )
    ).one()
    return (date.today(), *deals, *splits, *summaries, *rules, *grants)


def evaluate_if_stale(
    engine: Any, period_key: str, *, now: float | None = None, wait: float | None = None
) -> Report | None:
    """Evaluate in its own short transaction unless this process did so for the period within a minute.

    A racing process may insert the same grant first (unique key): that run is dropped and the
    next read tries again. Returns the report, or None when nothing was run.

    ``wait`` (a page or API read): evaluate in a background thread and wait at most that many
    seconds for it; a reader is then never held by a big period's evaluation (a quarter of
    300,000 deals takes seconds) and sees the grants as they are, the next read the new ones.
    One evaluation per period and process runs at a time. Returns None.
    """
    from sqlalchemy import Engine

    if not isinstance(engine, Engine):
        return None  # a session bound to a connection: the caller's transaction, not ours to write in
    moment = time.monotonic() if now is None else now
    slot = (id(engine), period_key)
    running: threading.Thread | None = None
    with _lock:
        last = _last_evaluated.get(slot)
        if last is not None and moment - last < EVALUATE_EVERY_SECONDS:
            return None
        _last_evaluated[slot] = moment
        if wait is not None:
            running = _running.get(slot)
            if running is None or not running.is_alive():
                running = threading.Thread(
                    target=_evaluate_unless_unchanged, args=(engine, period_key), name="badges", daemon=True
                )
                _running[slot] = running
                running.start()
    if running is not None:
        running.join(wait)
        return None
    return _evaluate_unless_unchanged(engine, period_key)


_running: dict[tuple[int, str], threading.Thread] = {}  # the background evaluation of each period, if any


def _evaluate_unless_unchanged(engine: Any, period_key: str) -> Report | None:
    from commissions.core.db import read_session, transaction

    slot = (id(engine), period_key)
    with read_session(engine) as session:
        seen = inputs_version(session, period_key)
    if seen and _evaluated_inputs.get(slot) == seen:
        return None  # nothing it reads moved since this process evaluated it: the same grants
    try:
        with transaction(engine) as session:
            report = evaluate(session, period_key)
            after = inputs_version(session, period_key)  # with its own grants, as the next check will see them
    except (IntegrityError, OperationalError):
        with _lock:
            _last_evaluated.pop(slot, None)
        return None
    with _lock:
        _evaluated_inputs[slot] = after
    return report
