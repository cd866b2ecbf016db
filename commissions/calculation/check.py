"""The self-audit: recompute a period in memory and compare it with what is stored.

``check_period`` runs the engine for everyone in the period on a read-only snapshot
(``db.snapshot``: one moment for both sides, writers never wait for it) and compares the
fresh result with the stored ledger and summaries. It shares nothing with the store's own
diff (``service._prepare`` / ``_diff_lines``): it sums and matches the lines in force
itself, so a bug there shows up here as a difference instead of agreeing with itself.

What is compared, per person and plan:

- each component's total of the lines in force (kinds earning, cap and draw), and when
  the totals agree, the lines themselves (deal, amount, text, plan version);
- the summary: total, errors, credited, quota, attainment, draw balances and plan version;
- people the fresh calculation does not pay (any more) but who still have lines or a summary;
- whose calculation failed (the statement state's error) against whose fails now.

Locked and paid periods are not recomputed (they keep the figures they were locked with;
later changes are prior-period adjustments), so they are reported as not checked.
Nothing is written: ``commissions recalc --check`` records the result as an audit event.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from commissions import engine as eng
from commissions.calculation.ledger import lines_in_force_query, totals_drift
from commissions.calculation.rows import id_col, stored_id
from commissions.calculation.service import ENGINE_KINDS, compute, line_minor
from commissions.calculation.state import failed_people, pending_count
from commissions.core.audit import record_event
from commissions.core.db import get_engine, snapshot, transaction
from commissions.core.money import format_money
from commissions.core.periods import CLOSED_STATES
from commissions.models import AuditEvent, Deal, PayeeSummary, PayoutLine, Period, Person, Plan, PlanVersion

CHECK_ACTION = "period.checked"  # the audit event of a check
_KIND_OF_COMPONENT = {"cap": "cap", "draw": "draw"}  # engine component kind → ledger line kind
_PPM = Decimal(1_000_000)
_TEXT = 90  # characters of a line's text shown in a line-level difference
NONE = "—"


@dataclass(frozen=True)
class Difference:
    """One way a stored statement differs from a fresh calculation (money already formatted)."""

    person: str  # email
    component: str  # a component name, or "total", "errors", "credited", "calculation error", ...
    stored: str
    fresh: str
    plan: str = ""

    def __str__(self) -> str:
        where = f" [{self.plan}]" if self.plan else ""
        return f"{self.person}{where} {self.component}: stored {self.stored}, fresh {self.fresh}"

    def as_json(self) -> dict[str, str]:
        return {
            "person": self.person,
            "plan": self.plan,
            "component": self.component,
            "stored": self.stored,
            "fresh": self.fresh,
        }


@dataclass
class CheckResult:
    period: str
    state: str | None  # the period's state; None when nothing was ever stored for it
    checked: bool  # False: a locked or paid period (not recomputed), or the calculation itself failed
    note: str = ""
    statements: int = 0  # statements (person × plan) compared
    differences: list[Difference] = field(default_factory=list)
    pending: int = 0  # statements waiting for a recompute: differences may be work in progress
    failed: dict[str, str] = field(default_factory=dict)  # email → error of a calculation that fails now
    error: str = ""  # the whole period could not be recomputed

    @property
    def ok(self) -> bool:
        return not self.differences and not self.error

    def summary(self) -> str:
        if not self.checked:
            return f"{self.period}: {self.error or self.note}"
        n = len(self.differences)
        return f"{self.period}: {self.statements} statement(s) checked, {n} difference{'' if n == 1 else 's'}"

    def as_audit(self, *, first: int = 20) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "state": self.state,
            "note": self.note,
            "error": self.error,
            "statements": self.statements,
            "differences": len(self.differences),
            "pending": self.pending,
            "failed": len(self.failed),
            "first": [d.as_json() for d in self.differences[:first]],
        }


@dataclass
class _Line:
    component: str
    kind: str
    deal_id: int | None
    amount_minor: int
    text: str
    plan_version_id: int | None
    currency: str

    def signature(self) -> tuple[Any, ...]:
        return (self.kind, self.deal_id, self.amount_minor, self.text, self.plan_version_id)


@dataclass
class _Statement:
    """One person's statement under one plan: lines by component, and the summary figures."""

    currency: str = ""
    lines: dict[str, list[_Line]] = field(default_factory=lambda: defaultdict(list))
    summary: dict[str, Any] | None = None


def check_period(engine: Engine, key: str) -> CheckResult:
    """Recompute every statement of the period in memory and list how the stored ones differ."""
    with snapshot(engine) as session:  # one moment for the fresh and the stored side
        return check_in(session, key)


def check_in(session: Session, key: str) -> CheckResult:
    key = eng.parse_period(key).key
    period = session.exec(select(Period).where(Period.key == key)).first()
    result = CheckResult(key, period.state if period else None, checked=True, pending=pending_count(session, key))
    if period is not None:  # the running totals equal the lines in force, in every period, locked or not
        result.differences.extend(_totals_differences(session, stored_id(period)))
    if period is not None and period.state in CLOSED_STATES:
        result.checked, result.note = False, f"{period.state}: not recomputed"
        return result
    try:
        computation = compute(session, key)
    except eng.EngineError as exc:
        result.checked, result.error = False, f"the period cannot be recomputed: {exc}"
        return result
    fresh, failed = _fresh(computation)
    stored = _stored(session, period) if period is not None else {}
    emails = _emails(session, {pid for pid, _ in fresh} | {pid for pid, _ in stored} | set(failed))
    plans = _plan_names(session, {plan for _, plan in fresh} | {plan for _, plan in stored})
    deals = _DealNames(session)
    result.failed = {emails.get(pid, str(pid)): error for pid, error in failed.items()}
    result.statements = len(set(fresh) | set(stored))
    for pid, plan in sorted(set(fresh) | set(stored), key=lambda k: (emails.get(k[0], ""), plans.get(k[1], ""))):
        new, old = fresh.get((pid, plan)), stored.get((pid, plan))
        result.differences.extend(
            _compare(emails.get(pid, f"person {pid}"), plans.get(plan, ""), old, new, deals, failed=pid in failed)
        )
    result.differences.extend(_compare_failures(session, key, failed, emails))
    return result


def _totals_differences(session: Session, period_id: int) -> list[Difference]:
    drifts = totals_drift(session, period_id)
    if not drifts:
        return []
    emails = _emails(session, {d.person_id for d in drifts})
    plans = _plan_names(session, {d.plan_id for d in drifts})
    return [
        Difference(
            emails.get(d.person_id, f"person {d.person_id}"),
            f"running total of {d.component} ({d.kind}, {d.currency})",
            f"{d.stored[0]} minor units in {d.stored[1]} line(s)",
            f"{d.lines[0]} minor units in {d.lines[1]} line(s)",
            plans.get(d.plan_id, ""),
        )
        for d in drifts
    ]


# ------------------------------------------------------------------------------------ the record of checks


@dataclass(frozen=True)
class LastCheck:
    """The latest recorded check of a period (what the finance period page shows)."""

    at: Any  # datetime, UTC
    checked: bool
    differences: int
    statements: int
    pending: int
    note: str
    first: list[dict[str, str]]


def record_check(engine: Engine, result: CheckResult, *, actor: Any = None, via: str = "") -> None:
    """The result as an audit event (``period.checked``: counts and the first differences), in its own
    transaction: a check writes nothing else."""
    with transaction(engine) as session:
        record_event(session, actor, CHECK_ACTION, "period", result.period, {**result.as_audit(), "via": via})


def last_check(session: Session, key: str) -> LastCheck | None:
    event = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.action == CHECK_ACTION,
            AuditEvent.object_type == "period",
            AuditEvent.object_id == key,
        )
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    ).first()
    if event is None:
        return None
    d = event.detail or {}
    return LastCheck(
        at=event.at,
        checked=bool(d.get("checked")),
        differences=int(d.get("differences") or 0),
        statements=int(d.get("statements") or 0),
        pending=int(d.get("pending") or 0),
        note=str(d.get("error") or d.get("note") or ""),
        first=list(d.get("first") or []),
    )


def run_check_command(key: str, echo: Any) -> int:
    """``commissions recalc --check --period KEY``: print each difference; the exit status (1 on any)."""
    try:
        key = eng.parse_period(key).key
    except eng.EngineError as exc:
        echo(f"Error: {exc}", err=True)
        return 2
    engine = get_engine()
    result = check_period(engine, key)
    record_check(engine, result, via="commissions recalc --check")
    if not result.checked:
        echo(result.summary(), err=bool(result.error))
        return 1 if result.error else 0
    for difference in result.differences:
        echo(str(difference))
    for email, error in sorted(result.failed.items()):
        echo(f"note: the calculation of {email} fails: {error}", err=True)
    if result.pending:
        echo(
            f"note: {result.pending} statement(s) of {key} are waiting for a recompute: a difference there may be "
            "work in progress (`commissions worker` or `commissions recalc --period` brings them up to date)",
            err=True,
        )
    echo(result.summary())
    return 0 if result.ok else 1


# ------------------------------------------------------------------------------------ the two sides


def _fresh(computation: Any) -> tuple[dict[tuple[int, int], _Statement], dict[int, str]]:
    out: dict[tuple[int, int], _Statement] = {}
    failed: dict[int, str] = {}
    inputs = computation.inputs
    for outcome in computation.outcomes:
        failed.update(outcome.failed)
        result = outcome.result
        digits = eng.minor_digits(result.currency)
        measure = 2 if result.metric in eng.COUNT_METRICS else digits
        version_id = outcome.plan.version.id
        for payee in result.payees:
            pid = inputs.id_of[payee.person]
            statement = out.setdefault((pid, outcome.plan.plan.id), _Statement(result.currency))
            statement.summary = {
                "total": _minor_or_none(payee.total, digits),
                "errors": list(payee.errors),
                "credited": line_minor(payee.credited, measure),
                "quota": _minor_or_none(payee.quota, measure),
                "attainment": None if payee.attainment is None else int((payee.attainment * _PPM).to_integral_value()),
                "draw balance in": _minor_or_none(payee.draw_balance_in, digits),
                "draw balance": _minor_or_none(payee.draw_balance_out, digits),
                "plan version": version_id,
                "measure": measure,
                "metric": result.metric,
            }
            if payee.errors:
                continue  # a payee with errors is paid nothing: no lines
            for component in payee.components:
                kind = _KIND_OF_COMPONENT.get(component.kind, "earning")
                lines = statement.lines[component.name]  # listed even when empty: "0.00" is a figure too
                for line in component.lines:
                    deal = inputs.deal_ids.get(line.deal_id) if line.deal_id else None
                    lines.append(
                        _Line(
                            component.name,
                            kind,
                            deal,
                            line_minor(line.amount, digits),
                            line.text,
                            version_id,
                            result.currency,
                        )
                    )
    return out, failed


def _stored(session: Session, period: Period) -> dict[tuple[int, int], _Statement]:
    out: dict[tuple[int, int], _Statement] = {}
    plan_of = dict(session.exec(select(PlanVersion.id, PlanVersion.plan_id)).all())
    rows = session.execute(
        lines_in_force_query(
            stored_id(period),
            PayoutLine.person_id,
            PayoutLine.plan_version_id,
            PayoutLine.component,
            PayoutLine.kind,
            PayoutLine.deal_id,
            PayoutLine.amount_minor,
            PayoutLine.text,
            PayoutLine.currency,
        )
        .where(col(PayoutLine.kind).in_(ENGINE_KINDS))
        .order_by(PayoutLine.id)
    ).all()
    for pid, version_id, component, kind, deal_id, amount, text, currency in rows:
        statement = out.setdefault((pid, plan_of.get(version_id, 0)), _Statement(currency))
        statement.lines[component].append(_Line(component, kind, deal_id, amount, text, version_id, currency))
    for s in session.exec(select(PayeeSummary).where(PayeeSummary.period_id == period.id)).all():
        statement = out.setdefault((s.person_id, s.plan_id), _Statement(s.currency))
        statement.currency = s.currency
        statement.summary = {
            "total": s.total_minor,
            "errors": list(s.errors or []),
            "credited": s.credited_minor,
            "quota": s.quota_minor,
            "attainment": s.attainment_ppm,
            "draw balance in": s.draw_balance_in_minor,
            "draw balance": s.draw_balance_minor,
            "plan version": s.plan_version_id,
            "measure": 2 if s.metric in eng.COUNT_METRICS else eng.minor_digits(s.currency),
            "metric": s.metric,
        }
    return out


# ------------------------------------------------------------------------------------ comparing


def _compare(
    person: str, plan: str, old: _Statement | None, new: _Statement | None, deals: _DealNames, *, failed: bool
) -> list[Difference]:
    out: list[Difference] = []
    either = new or old
    if either is None:
        raise ValueError(f"{person} [{plan}]: neither a stored nor a fresh statement to compare")
    currency = either.currency
    old_lines = old.lines if old else {}
    new_lines = new.lines if new else {}
    for component in _ordered(new_lines, old_lines):
        stored, fresh = old_lines.get(component, []), new_lines.get(component, [])
        stored_sum, fresh_sum = sum(x.amount_minor for x in stored), sum(x.amount_minor for x in fresh)
        if stored_sum != fresh_sum:
            paid = new is not None and not failed
            out.append(
                Difference(
                    person,
                    component,
                    format_money(stored_sum, currency) if stored else NONE,
                    format_money(fresh_sum, currency) if paid else ("calculation failed" if failed else "not paid"),
                    plan,
                )
            )
            continue
        only_stored, only_fresh = _unmatched(stored, fresh)
        if only_stored or only_fresh:  # the same sum from other lines: which deal, what it says, which version
            out.append(
                Difference(
                    person, f"{component} (lines)", _describe(only_stored, deals), _describe(only_fresh, deals), plan
                )
            )
    out.extend(_compare_summary(person, plan, old, new, currency, failed=failed))
    return out


def _compare_summary(
    person: str, plan: str, old: _Statement | None, new: _Statement | None, currency: str, *, failed: bool
) -> list[Difference]:
    before = old.summary if old else None
    after = new.summary if new else None
    if before is None and after is None:
        return []
    if after is None:
        if failed:  # the failure itself is compared in _compare_failures; what it left is not a summary
            return []
        return [Difference(person, "total", _figure("total", before, currency), "not paid", plan)]
    if before is None:
        return [Difference(person, "total", "no summary", _figure("total", after, currency), plan)]
    out = []
    for name in (
        "total",
        "errors",
        "credited",
        "quota",
        "attainment",
        "draw balance in",
        "draw balance",
        "plan version",
    ):
        if before[name] != after[name]:
            out.append(Difference(person, name, _figure(name, before, currency), _figure(name, after, currency), plan))
    return out


def _compare_failures(session: Session, key: str, failed: dict[int, str], emails: dict[int, str]) -> list[Difference]:
    """Whose calculation fails now against whose last calculation is recorded as failed."""
    recorded = failed_people(session, key)
    out = []
    for pid in sorted(set(recorded) | set(failed), key=lambda p: emails.get(p, "")):
        if (pid in recorded) != (pid in failed):
            email = emails.get(pid) or _emails(session, {pid}).get(pid, f"person {pid}")
            out.append(
                Difference(
                    email, "calculation error", _clip(recorded.get(pid, "")) or NONE, _clip(failed.get(pid, "")) or NONE
                )
            )
    return out


def _unmatched(stored: list[_Line], fresh: list[_Line]) -> tuple[list[_Line], list[_Line]]:
    left = Counter(x.signature() for x in fresh)
    only_stored = []
    for line in stored:
        if left[line.signature()] > 0:
            left[line.signature()] -= 1
        else:
            only_stored.append(line)
    used = Counter(x.signature() for x in stored)
    only_fresh = []
    for line in fresh:
        if used[line.signature()] > 0:
            used[line.signature()] -= 1
        else:
            only_fresh.append(line)
    return only_stored, only_fresh


def _ordered(*groups: dict[str, list[_Line]]) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        seen.update(dict.fromkeys(group))
    return list(seen)


# ------------------------------------------------------------------------------------ formatting


def _minor_or_none(value: Decimal | None, digits: int) -> int | None:
    return None if value is None else line_minor(value, digits)


def _figure(name: str, summary: dict[str, Any] | None, currency: str) -> str:
    if summary is None:
        return NONE
    value = summary[name]
    if value is None:
        return NONE
    if name == "errors":
        return "; ".join(value) or "none"
    if name == "plan version":
        return f"version id {value}"
    if name == "attainment":
        return f"{Decimal(value) / _PPM * 100:.2f}%"
    if name in ("credited", "quota") and summary["metric"] not in eng.COUNT_METRICS:
        return format_money(value, currency)
    if name in ("credited", "quota"):
        return f"{Decimal(value).scaleb(-summary['measure']):.2f}"
    return format_money(value, currency)


def _describe(lines: list[_Line], deals: _DealNames) -> str:
    if not lines:
        return "no such line"
    parts = []
    for line in lines[:3]:
        deal = f"{deals.name(line.deal_id)} " if line.deal_id else ""
        parts.append(
            f"{deal}{format_money(line.amount_minor, line.currency)} {_clip(line.text)!r} "
            f"(version id {line.plan_version_id})"
        )
    more = f" and {len(lines) - 3} more" if len(lines) > 3 else ""
    return "; ".join(parts) + more


def _clip(text: str) -> str:
    return text if len(text) <= _TEXT else text[: _TEXT - 1] + "…"


# ------------------------------------------------------------------------------------ look-ups


def _emails(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.exec(select(id_col(Person.id), Person.email).where(col(Person.id).in_(sorted(ids)))).all())


def _plan_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.exec(select(id_col(Plan.id), Plan.name).where(col(Plan.id).in_(sorted(ids)))).all())


class _DealNames:
    """Deals' external ids, read only for the lines a difference shows."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.known: dict[int, str] = {}

    def name(self, deal_id: int) -> str:
        if deal_id not in self.known:
            external = self.session.exec(select(Deal.external_id).where(Deal.id == deal_id)).first()
            self.known[deal_id] = external or f"deal id {deal_id}"
        return self.known[deal_id]
