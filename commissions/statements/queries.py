"""Reading statements from the ledger, with the caller's right to see them checked first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date

from sqlalchemy import case, func, literal_column, or_
from sqlmodel import Session, col, select

from commissions.calculation.ledger import NO_DEAL as NO_DEAL_OWNER
from commissions.calculation.ledger import current_lines_query, lines_in_force_query, totals_query
from commissions.calculation.loader import people_directory
from commissions.calculation.rows import id_col, stored_id
from commissions.calculation.state import Freshness, freshness
from commissions.core.errors import InputProblem
from commissions.core.paging import BadCursor, id_cursor, read_id_cursor
from commissions.core.periods import quarter_of
from commissions.core.principal import Principal
from commissions.engine import PeriodError, parse_period
from commissions.engine.plan_yaml import load_plan_document
from commissions.holds.cash import holds_touch
from commissions.models import (
    Deal,
    LedgerTotal,
    PayeeSummary,
    PayoutLine,
    Period,
    Person,
    Plan,
    PlanAssignment,
    PlanVersion,
)
from commissions.people.access import StatementNotFound
from commissions.people.service import report_ids


@dataclass(frozen=True, slots=True)
class StatementLine:
    component: str
    kind: str
    deal: str | None
    amount_minor: int
    text: str
    original_period: str | None = None  # adjustment and clawback lines: the period they correct
    line_id: int | None = None
    manual: bool = False  # a manual adjustment by finance (text = its reason)
    by: str = ""


ADJUSTMENT_KINDS = ("adjustment", "clawback")


@dataclass
class ComponentTotal:
    name: str
    amount_minor: int = 0
    lines: list[StatementLine] = field(default_factory=list)  # the lines shown (a page, or all of them)
    line_count: int = 0  # all its lines in force, whatever the page shows


#: How a line's deal relates to the statement's person, for the totals "by report".
REPORT, OWN, OUTSIDE, NO_DEAL = "report", "own", "outside", "none"
_GROUP_ORDER = {REPORT: 0, OWN: 1, OUTSIDE: 2, NO_DEAL: 3}


@dataclass(frozen=True, slots=True)
class ReportTotal:
    """The statement's lines (adjustments aside) whose deal is owned by someone in one direct report's
    subtree (``group`` "report": the report themselves or anyone below them), by the person themselves
    ("own"), by someone outside their reporting tree ("outside", a deal shared with the team by a split),
    or that have no deal ("none": bonuses, caps, draws)."""

    group: str
    email: str | None
    name: str
    amount_minor: int
    line_count: int


@dataclass
class PlanFigures:
    plan: str
    version: int
    metric: str
    credited_minor: int
    quota_minor: int | None
    attainment_ppm: int | None
    total_minor: int | None
    errors: list[str]
    draw_balance_in_minor: int | None = None  # recoverable draws: the balance carried in and out
    draw_balance_minor: int | None = None

    @property
    def attainment_percent(self) -> float | None:  # display only, never money
        return None if self.attainment_ppm is None else self.attainment_ppm / 10_000

    @property
    def bar_percent(self) -> int:
        return 0 if self.attainment_ppm is None else min(100, self.attainment_ppm // 10_000)


@dataclass
class Statement:
    """A person's statement in a period: totals summed by the database, and the lines of one page.

    ``components`` carry every component's total and line count; their ``lines`` (and ``lines``, the same
    lines in id order) are the page read: all of them when no ``limit`` was given. ``next_after`` is the
    last line id of the page when more lines follow (the next page's keyset), else None.
    """

    person: Person
    period: Period
    currency: str
    plans: list[PlanFigures]
    components: list[ComponentTotal]
    total_minor: int
    adjustments: list[StatementLine] = field(default_factory=list)  # prior-period, clawback and manual lines
    reports: list[ReportTotal] = field(default_factory=list)
    lines: list[StatementLine] = field(default_factory=list)
    next_after: int | None = None
    paged: bool = False  # read a page at a time (``limit`` given)
    any_hold: bool = False  # whether any hold keeps money of the period back or is released into it (read with it)

    @property
    def adjustments_minor(self) -> int:
        return sum(line.amount_minor for line in self.adjustments)

    @property
    def component_names(self) -> list[str]:
        return [c.name for c in self.components]

    @property
    def line_count(self) -> int:
        """Lines in force, adjustments aside (all components, whatever the page or filter)."""
        return sum(c.line_count for c in self.components)

    @property
    def has_reports(self) -> bool:
        return any(r.group == REPORT for r in self.reports)


LINE_CURSOR = "line"  # the tag of a statement's line cursors (commissions.core.paging)


def line_cursor(line_id: int) -> str:
    """The opaque cursor of the statement page after the line ``line_id``."""
    return id_cursor(LINE_CURSOR, line_id)


def read_line_cursor(text: str) -> int:
    """The line id in a ``line_cursor``; a 400 naming ``cursor`` for anything else."""
    try:
        return read_id_cursor(LINE_CURSOR, text)
    except BadCursor as exc:
        raise InputProblem("cursor", "not one this statement handed out; start again without it") from exc


def read_statement(
    session: Session,
    person: Person,
    period_key: str,
    *,
    component: str | None = None,
    limit: int | None = None,
    after: int | None = None,
) -> Statement:
    """The statement with its totals summed in SQL (per component and per report) and the lines of one page:
    ``limit`` lines (all when None) after the line id ``after``, in line id order, of ``component`` only
    when given. What it costs does not grow with the number of lines beyond the page's own rows."""
    found = session.exec(select(Period, holds_touch(Period)).where(Period.key == period_key)).first()
    if found is None:
        raise StatementNotFound("period", f"no period {period_key} has been computed")
    period, any_hold = found
    summaries = session.exec(
        select(PayeeSummary, Plan.name, PlanVersion.version, PlanVersion.document)
        .join(Plan, col(Plan.id) == PayeeSummary.plan_id)
        .join(PlanVersion, col(PlanVersion.id) == PayeeSummary.plan_version_id)
        .where(PayeeSummary.person_id == person.id, PayeeSummary.period_id == period.id)
        .order_by(Plan.name)
    ).all()
    plans = [
        PlanFigures(
            name,
            version,
            s.metric,
            s.credited_minor,
            s.quota_minor,
            s.attainment_ppm,
            s.total_minor,
            list(s.errors),
            s.draw_balance_in_minor,
            s.draw_balance_minor,
        )
        for s, name, version, _ in summaries
    ]
    person_id, period_id = stored_id(person), stored_id(period)
    groups, has_adjustments = _line_totals(session, person_id, period_id)
    components: dict[str, ComponentTotal] = {}
    by_report: dict[tuple[str, str | None], ReportTotal] = {}
    currency = summaries[0][0].currency if summaries else "USD"
    newest = 0  # the currency is that of the newest group of lines (of the newest adjustment, if any)
    order = _plan_order([document for _, _, _, document in summaries])
    # components in plan order (cli.md's rule for statements), any other in the order they first appeared
    for g in sorted(groups, key=lambda g: (component_place(g.component, order), g.first_id)):
        entry = components.setdefault(g.component, ComponentTotal(g.component))
        entry.amount_minor += g.amount_minor
        entry.line_count += g.line_count
        if g.last_id > newest:
            newest, currency = g.last_id, g.currency
        key = (g.group, g.email)
        was = by_report.get(key)
        by_report[key] = ReportTotal(
            g.group,
            g.email,
            g.name,
            g.amount_minor + (was.amount_minor if was else 0),
            g.line_count + (was.line_count if was else 0),
        )
    if summaries and component is None and set(order) - components.keys():
        # every plan component is listed, at 0.00 when nothing pays (cli.md's rule, which calc follows: a SPIFF no
        # deal qualified for was missing from the statement and the API)
        for name in order:
            components.setdefault(name, ComponentTotal(name))
        components = dict(sorted(components.items(), key=lambda item: component_place(item[0], order)))
    reports = sorted(by_report.values(), key=lambda r: (_GROUP_ORDER[r.group], r.name.lower(), r.email or ""))
    adjustments: list[StatementLine] = []
    adjustment_rows = (
        session.exec(
            current_lines_query(person_id, period_id, Deal.external_id)
            .join(Deal, Deal.id == PayoutLine.deal_id, isouter=True)
            .where(col(PayoutLine.kind).in_(ADJUSTMENT_KINDS))
            .order_by(PayoutLine.id)
        ).all()
        if has_adjustments  # the running totals say whether there are any: else no look through the lines
        else []
    )
    if adjustment_rows:
        period_keys = dict(session.exec(select(id_col(Period.id), Period.key)).all())
        for line, external_id in adjustment_rows:
            currency = line.currency
            basis = line.basis or {}
            adjustments.append(
                StatementLine(
                    line.component,
                    line.kind,
                    external_id,
                    line.amount_minor,
                    line.text,
                    period_keys.get(line.original_period_id) if line.original_period_id else None,
                    line.id,
                    bool(basis.get("manual")),
                    str(basis.get("by", "")),
                )
            )
    total = sum(c.amount_minor for c in components.values()) + sum(a.amount_minor for a in adjustments)
    page = _page(session, person_id, period_id, component=component, limit=limit, after=after, order=order)
    next_after = None
    if limit is not None and len(page) > limit:
        page = page[:limit]
        next_after = page[-1].line_id
    for line in page:
        if line.component in components:
            components[line.component].lines.append(line)
    return Statement(
        person,
        period,
        currency,
        plans,
        list(components.values()),
        total,
        adjustments,
        reports,
        page,
        next_after,
        limit is not None,
        bool(any_hold),
    )


_COMPONENT_NAMES: dict[str, list[str]] = {}  # a plan document -> its components' names, in order


def component_place(name: str, order: dict[str, int]) -> float:
    """Where a component stands in a statement, as the calculator writes it (cli.md): plan order, a component's
    cap right after it (``cap: <name>``), then the plan's ``cap``, then ``draw``, then anything else."""
    if name in order:
        return order[name]
    if name.startswith("cap: ") and name[5:] in order:
        return order[name[5:]] + 0.5
    return len(order) + {"cap": 0.1, "draw": 0.2}.get(name, 0.3)


def _plan_order(documents: list[str]) -> dict[str, int]:
    """Each component name's place in the person's plans (in the order given), read from the plan documents
    (each document parsed once per process)."""
    order: dict[str, int] = {}
    for document in documents:
        names = _COMPONENT_NAMES.get(document)
        if names is None:
            try:
                parts = load_plan_document(document).get("components") or []
            except Exception:  # a document the engine would refuse: its statement falls back to line order
                parts = []
            names = [str(part.get("name")) for part in parts if isinstance(part, dict) and part.get("name")]
            if len(_COMPONENT_NAMES) > 256:
                _COMPONENT_NAMES.clear()
            _COMPONENT_NAMES[document] = names
        for name in names:
            order.setdefault(name, len(order))
    return order


def _page(
    session: Session,
    person_id: int,
    period_id: int,
    *,
    component: str | None,
    limit: int | None,
    after: int | None,
    order: dict[str, int] | None = None,
) -> list[StatementLine]:
    """Up to ``limit`` + 1 lines (all when None) after the line id ``after``, as plain rows (no line objects).

    All of them come as the calculator writes them: components in plan order (``order``), each one's deal
    lines in deal order (plans.md 1: ``closed_at``, then ``external_id``), then its lines without a deal. A
    recalculation rewrites only the lines that changed, so storage order is not that order (a renamed deal's
    lines came last). A page of a long statement (``limit``) keeps storage order, which its cursor follows."""
    query = (
        lines_in_force_query(
            period_id,
            id_col(PayoutLine.id),
            PayoutLine.component,
            PayoutLine.kind,
            Deal.external_id,
            PayoutLine.amount_minor,
            PayoutLine.text,
            Deal.closed_at,
        )
        .join(Deal, col(Deal.id) == PayoutLine.deal_id, isouter=True)
        .where(PayoutLine.person_id == person_id, col(PayoutLine.kind).not_in(ADJUSTMENT_KINDS))
    )
    if component is not None:
        query = query.where(PayoutLine.component == component)
    if after is not None:
        query = query.where(col(PayoutLine.id) > after)
    query = query.order_by(PayoutLine.id)
    if limit is not None:
        query = query.limit(limit + 1)
    rows = list(session.exec(query))
    if limit is None and after is None:
        places = order or {}
        rows.sort(key=lambda r: (component_place(r[1], places), r[6] is None, r[6] or date.min, r[3] or "", r[0]))
    return [
        StatementLine(name, kind, external_id, amount_minor, text, line_id=line_id)
        for line_id, name, kind, external_id, amount_minor, text, _closed in rows
    ]


@dataclass(frozen=True, slots=True)
class _Group:
    """The lines of one component (in one currency) that share one ``ReportTotal`` group."""

    component: str
    currency: str
    group: str
    email: str | None
    name: str
    amount_minor: int
    line_count: int
    first_id: int
    last_id: int


def _line_totals(session: Session, person_id: int, period_id: int) -> tuple[list[_Group], bool]:
    """The person's lines in force (adjustments aside) per component and per who owns their deal
    (``ReportTotal``), from the ledger's running totals (``ledger_total``: a row per component and deal
    owner, kept with the lines), so a CRO's 600,000 lines cost the few thousand owners they come from. Who
    is below whom comes from the process's directory of people (``calculation.loader.people_directory``):
    the owners' rows are grouped under the direct report at the top of their subtree here, not by a
    recursive query (2 ms of every read on PostgreSQL)."""
    directory = people_directory(session)
    tops = directory.tops_below(person_id)
    rows = session.exec(
        totals_query(
            period_id,
            LedgerTotal.component,
            LedgerTotal.currency,
            LedgerTotal.owner_id,
            func.sum(LedgerTotal.amount_minor),
            func.sum(LedgerTotal.lines),
            func.min(LedgerTotal.first_line_id),
            func.max(LedgerTotal.id),
            case((col(LedgerTotal.kind).in_(ADJUSTMENT_KINDS), 1), else_=0).label("adjusting"),
        )
        .where(LedgerTotal.person_id == person_id)
        # by the label: the CASE is one expression on PostgreSQL, whose bound parameters differ in each place
        .group_by(LedgerTotal.component, LedgerTotal.currency, LedgerTotal.owner_id, literal_column("adjusting"))
    ).all()
    merged: dict[tuple[str, str, str, int | None], list[int]] = {}
    has_adjustments = False
    for component, line_currency, owner, amount, count, first, last, adjusting in rows:
        if adjusting:
            has_adjustments = True
            continue
        top = tops.get(owner)
        if owner == NO_DEAL_OWNER:
            grp = NO_DEAL
        elif owner == person_id:
            grp = OWN
        else:
            grp = REPORT if top is not None else OUTSIDE
        entry = merged.setdefault((component, line_currency, grp, top if grp == REPORT else None), [0, 0, first, last])
        entry[0] += int(amount or 0)
        entry[1] += int(count)
        entry[2] = min(entry[2], int(first))
        entry[3] = max(entry[3], int(last))
    groups = [
        _Group(
            component,
            line_currency,
            grp,
            directory.rows[top][0] if top is not None else None,
            directory.rows[top][1] if top is not None else "",
            amount,
            count,
            first,
            last,
        )
        for (component, line_currency, grp, top), (amount, count, first, last) in merged.items()
    ]
    return groups, has_adjustments


def visible_payees(session: Session, principal: Principal, period: Period) -> list[tuple[Person, PayeeSummary]]:
    """The statements the caller may open in a period (finance: everyone; managers: self and reports)."""
    query = (
        select(Person, PayeeSummary)
        .join(PayeeSummary, col(PayeeSummary.person_id) == Person.id)
        .where(PayeeSummary.period_id == period.id)
    )
    if principal.role != "finance":
        ids = {principal.person_id} if principal.person_id else set()
        if principal.role == "manager" and principal.person_id:
            ids |= report_ids(session, principal.person_id)
        query = query.where(col(Person.id).in_(ids))
    return list(session.exec(query.order_by(Person.name)).all())


def statement_freshness(session: Session, principal: Principal, person: Person, period_key: str) -> Freshness:
    """When the statement was computed, whether changes wait for it, and why its last calculation failed.

    The reason is shown to everyone who may read the statement: it names the person's own deals and
    plan, which they all see anyway (and the API's plan errors already showed it). A statement computed before
    statement states were kept has none: its summaries' last update is when it was computed.
    """
    state = freshness(session, stored_id(person), period_key)
    computed_at = state.computed_at
    if computed_at is None:
        computed_at = session.exec(
            select(func.max(PayeeSummary.updated_at))
            .join(Period, col(Period.id) == PayeeSummary.period_id)
            .where(PayeeSummary.person_id == person.id, Period.key == period_key)
        ).one()
    if computed_at is not None:
        computed_at = computed_at.replace(tzinfo=UTC) if computed_at.tzinfo is None else computed_at.astimezone(UTC)
    # whoever may read the statement (the person, their managers, finance) may read why it failed:
    # the reason names the person's own deals and plan, which they all see anyway
    return Freshness(computed_at, state.pending, state.error)


# --- what the statement pages and API read besides the statement --------------------------------------------------


def signed_in_person(session: Session, principal: Principal) -> Person | None:
    """The caller's own person row (none for an admin or a token without a person)."""
    return session.get(Person, principal.person_id) if principal.person_id else None


def period_key(session: Session, person: Person | None, text: str | None, *, today: date | None = None) -> str:
    """The period asked for, else the latest period of the person's statements that has begun, else this
    quarter: a deal dated ahead (a typo, a deal closing next year) makes a statement of a future period, which
    is not where anyone should land by default."""
    if text:
        try:
            return parse_period(text).key
        except PeriodError as exc:
            raise InputProblem("period", str(exc)) from exc
    if person is not None:
        latest = session.exec(
            select(Period.key)
            .join(PayeeSummary, col(PayeeSummary.period_id) == Period.id)
            .where(PayeeSummary.person_id == person.id, col(Period.starts_on) <= (today or date.today()))
            .order_by(col(Period.ends_on).desc())
        ).first()
        if latest:
            return latest
    return quarter_of(today or date.today()).key


def periods_of(session: Session, person: Person, shown: str | None = None) -> list[str]:
    """Periods with a statement for the person: computed figures or any line (an adjustment alone counts)."""
    keys = set(
        session.exec(
            select(Period.key)
            .join(PayeeSummary, col(PayeeSummary.period_id) == Period.id)
            .where(PayeeSummary.person_id == person.id)
        ).all()
    )
    keys |= set(  # any line: its running total's row stays, even when every line of it was reversed
        session.exec(
            select(Period.key)
            .join(LedgerTotal, col(LedgerTotal.period_id) == Period.id)
            .where(LedgerTotal.person_id == person.id)
            .distinct()
        ).all()
    )
    if shown:
        keys.add(shown)
    return sorted(keys, reverse=True)


def plan_names_in(session: Session, person: Person, period: Period) -> list[str]:
    """The plans the person is assigned to for some day of the period (a statement nobody computed yet, for
    someone on a plan, is "nothing credited yet", not "no plan")."""
    rows = session.exec(
        select(Plan.name)
        .join(PlanAssignment, col(PlanAssignment.plan_id) == col(Plan.id))
        .where(
            PlanAssignment.person_id == stored_id(person),
            col(PlanAssignment.starts_on) <= period.ends_on,
            or_(col(PlanAssignment.ends_on).is_(None), col(PlanAssignment.ends_on) >= period.starts_on),
        )
        .order_by(col(Plan.name))
    ).all()
    return list(dict.fromkeys(rows))
