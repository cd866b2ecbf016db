"""The quota grid: one row per person the caller may see, one cell per metric, with the stored target and its
version (for optimistic locking)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core.periods import (
    PeriodKey,
    next_period,
    period_row,
    previous_period,
)
from commissions.core.principal import Principal
from commissions.models import Period, Person, Quota, Team
from commissions.quotas.access import editable_person_ids, may_edit
from commissions.quotas.proration import Proration, plan_currencies, prorations
from commissions.quotas.targets import (
    COUNT_UNITS,
    DEFAULT_CURRENCY,
    GRID_METRICS,
    MARKETING_COLUMNS,
    METRIC_LABELS,
    NO_TEAM,
    SALES_COLUMNS,
    display_target,
    input_target,
    is_money,
    target_value,
)

# ---------------------------------------------------------------- the grid


@dataclass
class Cell:
    person_id: int
    person_name: str
    metric: str
    period: str
    currency: str
    minor: int | None = None
    version: int = 0  # 0: there was no quota when this cell was rendered
    proration: Proration | None = None
    editable: bool = True
    error: str | None = None
    attempted: str | None = None  # what the editor typed, when it was refused
    saved: bool = False

    @property
    def dom_id(self) -> str:
        return f"q-{self.person_id}-{self.metric}"

    @property
    def value(self) -> Decimal | None:
        return None if self.minor is None else target_value(self.minor, self.metric, self.currency)

    @property
    def input_value(self) -> str:
        if self.attempted is not None:
            return self.attempted
        return "" if self.value is None else input_target(self.value, self.metric, self.currency)

    @property
    def display(self) -> str:
        return "" if self.value is None else display_target(self.value, self.metric, self.currency)

    @property
    def prorated_display(self) -> str | None:
        if self.value is None or self.proration is None:
            return None
        return display_target(self.proration.apply(self.value), self.metric, self.currency)

    @property
    def unit(self) -> str:
        return self.currency if is_money(self.metric) else COUNT_UNITS.get(self.metric, "deals")

    @property
    def label(self) -> str:
        return f"{METRIC_LABELS.get(self.metric, self.metric)} target for {self.person_name}"


@dataclass
class Row:
    person: Person
    currency: str
    proration: Proration | None
    cells: dict[str, Cell]


@dataclass
class Grid:
    period: PeriodKey
    state: str
    groups: list[tuple[str, list[Row]]] = field(default_factory=list)
    metrics: tuple[str, ...] = GRID_METRICS
    labels: dict[str, str] = field(default_factory=lambda: dict(METRIC_LABELS))

    @property
    def editable(self) -> bool:
        return self.state == "open"

    @property
    def people(self) -> int:
        return sum(len(rows) for _team, rows in self.groups)

    @property
    def previous(self) -> PeriodKey:
        return previous_period(self.period)

    @property
    def next(self) -> PeriodKey:
        return next_period(self.period)


def _quota_map(session: Session, period: Period | None, person_ids: Iterable[int]) -> dict[tuple[int, str], Quota]:
    ids = list(person_ids)
    if period is None or not ids:
        return {}
    rows = session.exec(
        select(Quota).where(
            Quota.period_id == period.id, col(Quota.person_id).in_(ids), col(Quota.metric).in_(GRID_METRICS)
        )
    ).all()
    return {(q.person_id, q.metric): q for q in rows if q.person_id is not None}  # the query has people's only


def build_grid(session: Session, principal: Principal, key: PeriodKey) -> Grid:
    """Rows: the people whose quotas the caller sets (a manager's reports, or everyone on a
    sales or marketing role for an admin), grouped by team; columns: the grid metrics."""
    ids = editable_person_ids(session, principal)
    period = period_row(session, key)
    grid = Grid(period=key, state=period.state if period else "open")
    query = select(Person)
    if ids is None:
        query = query.where(col(Person.role).in_(("rep", "manager")))
    elif ids:
        query = query.where(col(Person.id).in_(ids))
    else:
        return grid
    people = session.exec(query).all()
    quotas = _quota_map(session, period, [stored_id(p) for p in people])
    with_quota = {pid for pid, _m in quotas}
    people = [p for p in people if p.active or p.id in with_quota]  # leavers stay while they have quotas
    person_ids = [stored_id(p) for p in people]
    currencies = plan_currencies(session, person_ids, key)
    prorated = prorations(session, person_ids, key)
    teams = {t.id: t.name for t in session.exec(select(Team)).all()}
    marketing_teams = set(session.exec(select(Team.id).where(Team.kind == "marketing")).all())
    groups: dict[str, list[Row]] = {}
    used: set[str] = set()
    for person in people:
        pid = stored_id(person)
        currency = currencies.get(pid, DEFAULT_CURRENCY)
        cells = {}
        columns = MARKETING_COLUMNS if person.team_id in marketing_teams else SALES_COLUMNS
        used.update(columns)
        for metric in columns:
            q = quotas.get((pid, metric))
            cells[metric] = Cell(
                person_id=pid,
                person_name=person.name,
                metric=metric,
                period=key.key,
                currency=currency,
                minor=q.target_minor if q else None,
                version=q.version if q else 0,
                proration=prorated.get(pid),
                editable=grid.editable,
            )
        team = teams.get(person.team_id, NO_TEAM) if person.team_id else NO_TEAM
        groups.setdefault(team, []).append(Row(person, currency, prorated.get(pid), cells))
    grid.metrics = tuple(m for m in GRID_METRICS if m in used)
    grid.groups = [
        (team, sorted(rows, key=lambda r: (r.person.name.lower(), r.person.email)))
        for team, rows in sorted(groups.items(), key=lambda item: (item[0] == NO_TEAM, item[0].lower()))
    ]
    return grid


def columns_of(session: Session, person: Person) -> tuple[str, ...]:
    """The quota metrics a person can carry: marketing ones on a marketing team, sales ones elsewhere."""
    kind = session.get(Team, person.team_id).kind if person.team_id else None  # type: ignore[union-attr]
    return MARKETING_COLUMNS if kind == "marketing" else SALES_COLUMNS


def load_cell(session: Session, principal: Principal, person_id: int, metric: str, key: PeriodKey) -> Cell | None:
    """One cell of the grid, or None when the caller may not see that person (or the metric is not one of theirs)."""
    if metric not in GRID_METRICS or not may_edit(session, principal, person_id):
        return None
    person = session.get(Person, person_id)
    if person is None or metric not in columns_of(session, person):
        return None
    period = period_row(session, key)
    quota = _quota_map(session, period, [person_id]).get((person_id, metric))
    return Cell(
        person_id=person_id,
        person_name=person.name,
        metric=metric,
        period=key.key,
        currency=plan_currencies(session, [person_id], key).get(person_id, DEFAULT_CURRENCY),
        minor=quota.target_minor if quota else None,
        version=quota.version if quota else 0,
        proration=prorations(session, [person_id], key).get(person_id),
        editable=period is None or period.state == "open",
    )
