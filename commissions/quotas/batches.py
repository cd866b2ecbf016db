"""Batches of quota rows (CSV upload and PUT /api/v1/quotas): resolving people and periods, the preview, and its
fingerprint (so a confirmation applies exactly what was previewed)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core.errors import InputProblem
from commissions.core.periods import (
    PeriodKeyError,
    PeriodOutOfWindow,
    check_period_in_window,
    parse_period_key,
    period_row,
)
from commissions.core.principal import Principal
from commissions.models import Period, Person, Quota
from commissions.people.queries import normalise_email, people_by_email
from commissions.quotas.access import editable_person_ids
from commissions.quotas.grid import columns_of
from commissions.quotas.proration import plan_currencies
from commissions.quotas.targets import (
    DEFAULT_CURRENCY,
    GRID_METRICS,
    Change,
    RowProblem,
    RowsForbidden,
    RowsProblem,
    display_target,
    parse_target,
    target_value,
)

# ---------------------------------------------------------------- batches (CSV and API)


@dataclass(frozen=True, slots=True)
class RawRow:
    """One row as written in quotas.csv or sent to the API, before validation."""

    where: str
    person: str
    metric: str
    period: str
    target: str | Decimal | None
    version: int | None = None
    index: int | None = None


def resolve_rows(
    session: Session, principal: Principal, rows: list[RawRow], *, closed_ok: bool = False
) -> list[Change]:
    """With ``closed_ok`` (the API) quotas of approved, locked and paid periods may change too: a locked
        period's change becomes a prior-period adjustment (docs/finance.md).

    Validate a whole batch; raise RowsForbidden (anyone outside the caller's team: 403) or
        RowsProblem (every bad row, by line and field), else return the changes.

        For a manager an unknown email and a colleague outside their team read the same
        ("not in your team"), so the answer does not reveal who exists.
    """
    ids = editable_person_ids(session, principal)
    emails = {normalise_email(r.person) for r in rows if r.person}
    people = people_by_email(session, emails)
    periods: dict[str, Period | None] = {}
    problems: list[RowProblem] = []
    forbidden: list[RowProblem] = []
    seen: dict[tuple[int, str, str], str] = {}
    changes: list[Change] = []
    for row in rows:

        def bad(field_name: str, message: str, row: RawRow = row) -> None:
            problems.append(RowProblem(row.where, field_name, message, row.index))

        email = normalise_email(row.person or "")
        person = people.get(email)
        if not email:
            bad("person", "is empty")
        elif person is None or (ids is not None and person.id not in ids):
            if ids is None:
                bad("person", f"no person with email {email}")
            else:
                forbidden.append(RowProblem(row.where, "person", f"{email} is not in your team", row.index))
                problems.append(forbidden[-1])
            person = None
        metric = (row.metric or "").strip().lower()
        if metric not in GRID_METRICS:
            bad("metric", f"{row.metric!r} is not one of {', '.join(GRID_METRICS)}")
            metric = ""
        key = None
        try:
            key = parse_period_key(row.period or "")
        except PeriodKeyError as exc:
            bad("period", str(exc))
        if key is not None:
            if key.key not in periods:
                periods[key.key] = period_row(session, key)
            stored = periods[key.key]
            if stored is not None and stored.state != "open" and not closed_ok:
                bad("period", f"{key.key} is {stored.state}: its quotas no longer change")
            if stored is None:
                try:
                    check_period_in_window(key)
                except PeriodOutOfWindow as exc:
                    bad("period", exc.message)
                    key = None
        if person is not None and metric and metric not in columns_of(session, person):
            bad("metric", f"{metric} is not a quota of {email}: {', '.join(columns_of(session, person))}")
            continue
        if person is None or not metric or key is None:
            continue
        currency = plan_currencies(session, [stored_id(person)], key).get(stored_id(person), DEFAULT_CURRENCY)
        try:
            minor = parse_target(row.target, metric, currency)
        except InputProblem as exc:
            bad("target", exc.message)
            continue
        ident = (stored_id(person), metric, key.key)
        if ident in seen:
            bad("person", f"{email} {metric} {key.key} is also on {seen[ident]}")
            continue
        seen[ident] = row.where
        changes.append(Change(stored_id(person), person.email, metric, key, minor, currency, row.version, row.where))
    if forbidden:  # refused as a whole; the report lists every other problem too, in file order
        raise RowsForbidden(problems)
    if problems:
        raise RowsProblem(problems)
    return changes


@dataclass(frozen=True, slots=True)
class PreviewRow:
    change: Change
    name: str
    old_minor: int | None
    version: int

    @property
    def action(self) -> str:
        if self.old_minor == self.change.target_minor:
            return "unchanged"
        if self.old_minor is None:
            return "add"
        return "remove" if self.change.target_minor is None else "change"

    def _show(self, minor: int | None) -> str:
        c = self.change
        return "" if minor is None else display_target(target_value(minor, c.metric, c.currency), c.metric, c.currency)

    @property
    def old(self) -> str:
        return self._show(self.old_minor)

    @property
    def new(self) -> str:
        return self._show(self.change.target_minor)


def preview(session: Session, changes: list[Change]) -> list[PreviewRow]:
    """What a batch would change, without changing anything."""
    out = []
    names = (
        dict(
            session.exec(select(Person.id, Person.name).where(col(Person.id).in_({c.person_id for c in changes}))).all()
        )
        if changes
        else {}
    )
    period_ids: dict[str, int | None] = {}
    for change in changes:
        if change.period.key not in period_ids:
            row = period_row(session, change.period)
            period_ids[change.period.key] = row.id if row else None
        pid = period_ids[change.period.key]
        quota = (
            None
            if pid is None
            else session.exec(
                select(Quota).where(
                    Quota.period_id == pid, Quota.person_id == change.person_id, Quota.metric == change.metric
                )
            ).first()
        )
        out.append(
            PreviewRow(
                change,
                names.get(change.person_id, change.email),
                quota.target_minor if quota else None,
                quota.version if quota else 0,
            )
        )
    return out


def fingerprint(rows: list[PreviewRow]) -> str:
    """What the preview was based on: confirming refuses if any of those quotas changed since."""
    basis = sorted([r.change.person_id, r.change.metric, r.change.period.key, r.version] for r in rows)
    return hashlib.sha256(json.dumps(basis).encode()).hexdigest()
