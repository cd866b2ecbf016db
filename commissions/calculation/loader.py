"""From database rows to engine inputs for one period (the only place that converts them)."""

from __future__ import annotations

import json
import sys
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any, cast

from sqlalchemy import Text, bindparam, union
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from commissions import engine as eng
from commissions.calculation.rows import stored_id
from commissions.core.db import among, among_param
from commissions.core.money import from_minor
from commissions.core.periods import key_of_day
from commissions.core.stored_versions import PEOPLE, cached
from commissions.engine.inputs import NO_CUSTOM
from commissions.models import (
    Campaign,
    Deal,
    DealSplit,
    ExchangeRate,
    Lead,
    LeadEvent,
    Period,
    Person,
    Plan,
    PlanAssignment,
    PlanVersion,
    Quota,
    Team,
)
from commissions.models.base import MONEY_METRICS
from commissions.models.rates import plain_rate


@dataclass
class PlanInPeriod:
    plan: Plan
    version: PlanVersion
    parsed: eng.Plan
    assignments: list[PlanAssignment] = field(default_factory=list)


@dataclass
class PeriodInputs:
    period: eng.Period
    people: list[eng.Person]
    email_of: dict[int, str]
    id_of: dict[str, int]
    quota_rows: list[tuple[int, str, int]]  # (person_id, metric, target_minor)
    deals: list[eng.Deal]
    deal_ids: dict[str, int]
    campaigns: list[eng.Campaign]
    deal_owners: dict[str, int] = field(default_factory=dict)  # external id -> owner's person id
    leads: list[eng.LeadEvent] = field(default_factory=list)  # in stage order, for plans on mqls/sqls/pipeline
    rate_book: eng.RateBook = field(default_factory=eng.RateBook)  # every exchange rate (plans.md 3)

    def quotas_for(self, plan: PlanInPeriod) -> list[eng.Quota]:
        """Quotas in the plan's units, prorated for assignments that cover part of the period."""
        digits = eng.minor_digits(plan.parsed.currency)
        partial = {
            a.person_id: a
            for a in plan.assignments
            if a.prorate
            and (a.starts_on > self.period.start or (a.ends_on is not None and a.ends_on < self.period.end))
        }
        out = []
        for person_id, metric, target_minor in self.quota_rows:
            # money metrics are stored in minor units of the currency, counts in hundredths
            target = Decimal(target_minor).scaleb(-digits if metric in MONEY_METRICS else -2)
            if person_id in partial:
                a = partial[person_id]
                target = eng.prorate(target, self.period, a.starts_on, a.ends_on)
            out.append(eng.Quota(self.email_of[person_id], metric, self.period.key, target))
        return out


# plan versions are immutable: parse each once per process
_PARSED: dict[tuple[int | None, str, tuple[tuple[str, str], ...]], eng.Plan] = {}


def parsed_version(version: PlanVersion, custom_fields: dict[str, str]) -> eng.Plan:
    # keyed by the document and the declared fields too: an id alone can be reused (an emptied test
    # database, SQLite reusing the highest rowid) and custom field types change how a plan parses
    key = (version.id, version.document, tuple(sorted(custom_fields.items())))
    cached = _PARSED.get(key)
    if cached is None:
        cached = eng.parse_plan(eng.load_plan_document(version.document), custom_fields=custom_fields)
        _PARSED[key] = cached
    return cached


@dataclass(frozen=True)
class PlanCatalogue:
    """The plans, their versions (latest ``effective_from`` first) and assignments (by person), the declared
    custom fields and the campaigns: rows every deal and every recompute needs, kept per process while the
    stored catalogue version (``core.stored_versions``) says nobody changed them. Its rows are copies
    belonging to no session, shared by every thread: never change them."""

    plans: dict[int, Plan]
    versions: dict[int, list[PlanVersion]]
    assignments: dict[int, list[PlanAssignment]]
    custom_fields: dict[str, str]
    campaigns: list[tuple[str, int, str, str]]  # (code, owner id, name, channel)
    rates: tuple[eng.ExchangeRate, ...] = ()  # every exchange rate, by pair and date

    @cached_property
    def rate_book(self) -> eng.RateBook:
        """The rates as the engine looks them up, built once per catalogue: the recalculation, the deal door
        and the payroll export ask the same book."""
        return eng.RateBook(self.rates)

    @property
    def period_kinds(self) -> set[str]:
        return {plan.period_kind for plan in self.plans.values()}


def _copies(session: Session, model: Any, *order: Any) -> list[Any]:
    """Every row of ``model`` as instances of no session (the caller's session, if it holds some, keeps its own):
    loaded by a session of their own on the same connection (the ORM's loading, not a validating constructor:
    5,000 assignments in 0.1 s rather than 0.6 s), which lets go of them when it closes."""
    with Session(bind=session.connection()) as own:
        return list(own.exec(select(model).order_by(*order)).all())


def _read_catalogue(session: Session) -> PlanCatalogue:
    from commissions.models import CustomField

    versions: dict[int, list[PlanVersion]] = {}
    for version in _copies(
        session, PlanVersion, col(PlanVersion.effective_from).desc(), col(PlanVersion.version).desc()
    ):
        versions.setdefault(version.plan_id, []).append(version)
    assignments: dict[int, list[PlanAssignment]] = {}
    for assignment in _copies(session, PlanAssignment, col(PlanAssignment.id)):
        assignments.setdefault(assignment.person_id, []).append(assignment)
    return PlanCatalogue(
        plans={plan.id: plan for plan in _copies(session, Plan, col(Plan.id))},
        versions=versions,
        assignments=assignments,
        custom_fields=dict(session.exec(select(CustomField.name, CustomField.type)).all()),
        campaigns=[
            (code, owner, name, channel)
            for code, owner, name, channel in session.exec(
                select(Campaign.code, Campaign.owner_id, Campaign.name, Campaign.channel).order_by(col(Campaign.id))
            ).all()
        ],
        rates=tuple(
            eng.ExchangeRate(source, target, plain_rate(rate), day)
            for source, target, rate, day in session.exec(
                select(
                    col(ExchangeRate.source),
                    col(ExchangeRate.target),
                    col(ExchangeRate.rate),
                    col(ExchangeRate.effective_from),
                ).order_by(col(ExchangeRate.source), col(ExchangeRate.target), col(ExchangeRate.effective_from))
            ).all()
        ),
    )


def plan_catalogue(session: Session) -> PlanCatalogue:
    """The catalogue as this transaction sees it: from this process's memory while the stored version has not
    moved (one small query a transaction), else read again."""
    return cached(session, "plans", _read_catalogue)


@dataclass(frozen=True, eq=False)  # compared and hashed as the object itself (``balanced_parts`` keeps its parts)
class PeopleDirectory:
    """Everyone (id -> email, name, manager id, team name, employee id) and the reporting tree, kept per process
    while the stored people version (``core.stored_versions.PEOPLE``: person and team) says nobody changed them:
    the manager chains and reports a deal and a recompute need, without a recursive query each."""

    rows: dict[int, tuple[str, str, int | None, str, str]]
    reports: dict[int, list[int]]

    def with_reports(self, people: set[int]) -> set[int]:
        """``people`` (those who exist) and everyone reporting to them, directly or not."""
        out: set[int] = set()
        stack = [pid for pid in people if pid in self.rows]
        while stack:
            pid = stack.pop()
            if pid not in out:
                out.add(pid)
                stack.extend(self.reports.get(pid, ()))
        return out

    def with_managers(self, people: set[int]) -> set[int]:
        """``people`` (those who exist) and everyone above them up the manager chains."""
        out: set[int] = set()
        for pid in people:
            current: int | None = pid
            while current is not None and current not in out and current in self.rows:
                out.add(current)
                current = self.rows[current][2]
        return out

    def tops_below(self, person: int) -> dict[int, int]:
        """Everyone below ``person`` -> the direct report of ``person`` at the top of their subtree."""
        out: dict[int, int] = {}
        for top in self.reports.get(person, ()):
            stack = [top]
            while stack:
                pid = stack.pop()
                if pid != person and pid not in out:  # a cycle through the person stops there
                    out[pid] = top
                    stack.extend(self.reports.get(pid, ()))
        return out

    def manager_of(self) -> dict[int, int | None]:
        return {pid: row[2] for pid, row in self.rows.items()}

    def balanced_parts(self, n: int) -> dict[int, int]:
        """Everyone with reports -> one of ``n`` parts of the worker's queue, so that the parts cost about the
        same (``calculation.queue``): a manager's statement covers everyone below them (a CRO's, every deal),
        so their share of the work is one plus the people below; the heaviest go first, each to the part
        that has the least so far (everyone else counts one, in the part of their id modulo ``n``). Kept for
        this directory: the same people give the same parts in every process."""
        memo = _PARTS.setdefault(self, {})
        if n not in memo:
            below: dict[int, int] = {}
            for pid, row in self.rows.items():
                manager, seen = row[2], {pid}
                while manager is not None and manager in self.rows and manager not in seen:
                    below[manager] = below.get(manager, 0) + 1
                    seen.add(manager)
                    manager = self.rows[manager][2]
            load = [0] * n
            for pid in self.rows:
                if pid not in below:
                    load[pid % n] += 1
            parts: dict[int, int] = {}
            for pid in sorted(below, key=lambda p: (-below[p], p)):
                k = min(range(n), key=lambda i: (load[i], i))
                parts[pid] = k
                load[k] += 1 + below[pid]
            memo[n] = parts
        return memo[n]


_PARTS: weakref.WeakKeyDictionary[PeopleDirectory, dict[int, dict[int, int]]] = weakref.WeakKeyDictionary()


def _read_people(session: Session) -> PeopleDirectory:
    rows: dict[int, tuple[str, str, int | None, str, str]] = {}
    reports: dict[int, list[int]] = {}
    columns: tuple[Any, ...] = (Person.id, Person.email, Person.name, Person.manager_id, Team.name, Person.employee_id)
    query = select(*columns).outerjoin(Team, col(Team.id) == Person.team_id).order_by(col(Person.id))
    for pid, email, name, manager_id, team, employee_id in session.connection().execute(query).all():
        rows[pid] = (email, name, manager_id, team or "", employee_id or "")
        if manager_id is not None:
            reports.setdefault(manager_id, []).append(pid)
    return PeopleDirectory(rows, reports)


def people_directory(session: Session) -> PeopleDirectory:
    """The directory as this transaction sees it: from this process's memory while the stored people version
    has not moved (one small query a transaction), else read again."""
    return cached(session, "people", _read_people, group=PEOPLE)


def plans_in_period(
    session: Session,
    period: eng.Period,
    people: set[int] | None = None,
    *,
    invalid: dict[int, str] | None = None,
    catalogue: dict[Any, Any] | None = None,
) -> list[PlanInPeriod]:
    """Every plan with someone (of ``people``, when given) assigned during the period, with the version in
    force at its start and those assignments.

    A stored version that no longer parses raises, unless ``invalid`` is given: then its people
    (person id → the reason) are added there and the plan is left out. ``catalogue``: a dict the
    caller keeps for one transaction (a batch of deals), remembering the plans, versions and custom
    fields read, so only the assignments are read again."""
    memo = catalogue if catalogue is not None else {}
    if "catalogue" not in memo:
        memo["catalogue"] = plan_catalogue(session)
    known: PlanCatalogue = memo["catalogue"]
    custom = known.custom_fields
    if people is None:
        candidates: list[PlanAssignment] = [a for rows in known.assignments.values() for a in rows]
    else:
        candidates = [a for pid in people for a in known.assignments.get(pid, ())]
    by_plan: dict[int, list[PlanAssignment]] = {}
    for a in sorted(candidates, key=lambda a: stored_id(a)):  # in id order, as the database gave them
        if a.starts_on <= period.end and (a.ends_on is None or a.ends_on >= period.start):
            by_plan.setdefault(a.plan_id, []).append(a)
    out = []
    for plan_id in sorted(by_plan):
        plan = known.plans.get(plan_id)
        if plan is None or plan.period_kind != period.kind:
            continue
        version = next((v for v in known.versions.get(plan_id, ()) if v.effective_from <= period.start), None)
        if version is None:
            continue
        try:
            parsed = parsed_version(version, custom)
        except eng.EngineError as exc:
            if invalid is None:
                raise
            for a in by_plan[plan_id]:
                invalid[a.person_id] = f"plan {plan.name!r} version {version.version} is invalid: {exc}"
            continue
        out.append(PlanInPeriod(plan, version, parsed, by_plan[plan_id]))
    return sorted(out, key=lambda p: p.plan.name)


_DEAL_COLUMNS: tuple[Any, ...] = (  # more columns than select()'s typed overloads: rows are untyped
    Deal.id,
    Deal.external_id,
    Deal.owner_id,
    Deal.amount_minor,
    Deal.currency,
    Deal.closed_at,
    Deal.name,
    Deal.account,
    Deal.type,
    Deal.product,
    Deal.term_months,
    Deal.source_campaign,
    Deal.status,
    Deal.cancelled_at,
    sql_cast(Deal.custom_fields, Text),  # as text: decoded only when not empty (every deal's JSON cost 15 % of a load)
)


def _custom_fields(raw: str | None) -> Mapping[str, str]:
    """A deal's custom fields as the engine reads them (text; empty for a null value)."""
    if not raw or raw == "{}" or raw == "null":
        return NO_CUSTOM  # shared: most deals have none
    return custom_texts(json.loads(raw))


def custom_texts(values: Mapping[str, Any]) -> Mapping[str, str]:
    """Stored custom field values as the engine's conditions read them: text, and "" for a null."""
    return {k: "" if v is None else str(v) for k, v in values.items()} if values else NO_CUSTOM


def load_period_inputs(
    session: Session, period: eng.Period, focus: set[int] | None = None, *, leads: bool = True
) -> PeriodInputs:
    """Everything the engine needs for the period; with ``focus`` only what can credit those people or anyone
    reporting to them (a rep's recompute reads the rep's deals and a few people, not the company). ``leads``
    False: no lead events (only plans on a lead metric read them, ``eng.LEAD_METRICS``), one query fewer."""
    quota_filter: tuple[Any, ...] = ()
    directory = people_directory(session)
    if focus is not None:
        wanted = directory.with_reports(focus)
        quota_filter = (among(session, col(Quota.person_id), sorted(wanted)),)
    quota_rows = session.exec(
        select(Quota.person_id, Quota.metric, Quota.target_minor)
        .join(Period, col(Period.id) == Quota.period_id)
        .where(Period.key == period.key, col(Quota.person_id).is_not(None), *quota_filter)
    ).all()
    deal_rows, splits = _deal_rows(session, period, None if focus is None else wanted)
    catalogue = plan_catalogue(session)
    campaign_rows = catalogue.campaigns
    lead_columns: tuple[Any, ...] = (
        Lead.external_id,
        Lead.owner_id,
        Lead.campaign,
        LeadEvent.stage,
        LeadEvent.occurred_on,
        LeadEvent.amount_minor,
        LeadEvent.currency,
    )
    lead_rows = (
        []
        if not leads
        else session.exec(
            select(*lead_columns)
            .join(Lead, col(Lead.id) == LeadEvent.lead_id)
            .where(
                LeadEvent.occurred_on >= period.start,
                LeadEvent.occurred_on <= period.end,
                LeadEvent.flag == "",
                col(LeadEvent.stage).in_(("mql", "sql", "opportunity")),
                *(() if focus is None else (among(session, col(Lead.owner_id), sorted(wanted)),)),
            )
        ).all()
    )

    if focus is None:
        chosen = list(directory.rows)
    else:  # the people the engine will meet, and everyone above them (manager chains): not the whole company
        met = set(wanted) | {d.owner_id for d in deal_rows} | {c[1] for c in campaign_rows} | {r[1] for r in lead_rows}
        met |= {pid for parts in splits.values() for pid, _ in parts}
        met.discard(None)
        chosen = sorted(directory.with_managers(met))
    rows = [(pid, *directory.rows[pid]) for pid in chosen]  # in id order
    email_of = {pid: email for pid, email, *_ in rows}
    people = [
        eng.Person(email, name, email_of.get(manager_id) if manager_id else None, team, employee_id)
        for pid, email, name, manager_id, team, employee_id in rows
    ]
    no_splits: tuple[tuple[str, Decimal], ...] = ()
    # the few distinct days and words of a quarter's deals held once, not once a deal (a recalculation
    # holds every deal of the period: about 1 KB a deal before)
    days: dict[Any, Any] = {}  # a day (or None) to the one object that stands for it
    day, word = days.setdefault, sys.intern
    deals = [
        eng.Deal(
            external_id=external_id,
            owner=email_of[owner_id],
            amount=from_minor(amount_minor, currency),
            currency=word(currency),
            closed_at=day(closed_at, closed_at),
            name=name,
            account=account,
            type=word(type_),
            product=word(product) if product else "",  # standard text fields: empty is "", never null (plans.md 4)
            term_months=term_months,
            source_campaign=word(source_campaign) if source_campaign else "",
            status=word(status),
            cancelled_at=day(cancelled_at, cancelled_at),
            splits=(
                tuple(sorted((email_of[pid], Decimal(bp) / 100) for pid, bp in splits[deal_id]))
                if deal_id in splits
                else no_splits
            ),
            custom=_custom_fields(custom),
        )
        for (
            deal_id,
            external_id,
            owner_id,
            amount_minor,
            currency,
            closed_at,
            name,
            account,
            type_,
            product,
            term_months,
            source_campaign,
            status,
            cancelled_at,
            custom,
        ) in deal_rows
    ]
    campaigns = [
        eng.Campaign(code=code, owner=email_of[owner], name=name, channel=channel)
        for code, owner, name, channel in campaign_rows
    ]
    return PeriodInputs(
        period=period,
        people=people,
        email_of=email_of,
        id_of={e: i for i, e in email_of.items()},
        quota_rows=cast("list[tuple[int, str, int]]", list(quota_rows)),  # the query skips null person ids
        deals=deals,
        deal_ids={external_id: deal_id for deal_id, external_id, *_ in deal_rows},
        deal_owners={external_id: owner_id for _, external_id, owner_id, *_ in deal_rows},
        campaigns=campaigns,
        rate_book=catalogue.rate_book,
        leads=[
            eng.LeadEvent(
                lead, email_of[owner], stage, day, None if minor is None else from_minor(minor, cur), cur, code
            )
            for lead, owner, code, stage, day, minor, cur in lead_rows
        ],
    )


_BY_ID_LIMIT = 20_000  # beyond this many deals, reading the period's and keeping some costs less than looking them up


def _deal_rows(
    session: Session, period: eng.Period, people: set[int] | None
) -> tuple[list[Any], dict[int, list[tuple[int, int]]]]:
    """The period's deals (all, or those that can credit ``people``) in id order, and their splits by deal id.

    For a few people the ids come first, then the rows by primary key: asked in one query, PostgreSQL
    guessed thousands of deals from the campaign branch and scanned the whole quarter (27 ms for a
    batch's 40 reps among 52,000 deals)."""
    in_period = (Deal.closed_at >= period.start, Deal.closed_at <= period.end)
    ids: list[int] | None = None
    if people is not None:
        crediting = _crediting(session.get_bind().dialect.name)
        ids = sorted(
            set(session.execute(crediting.params(people=sorted(people), start=period.start, end=period.end)).scalars())
        )
        if not ids:
            return [], {}
    rows: list[Any] = []
    split_rows: list[Any] = []
    rows_of = session.connection().execute  # Core rows: the ORM's row processing doubled the cost of a quarter's deals
    if ids is None or len(ids) > _BY_ID_LIMIT:
        keep = None if ids is None else set(ids)
        rows = [r for r in rows_of(select(*_DEAL_COLUMNS).where(*in_period)).all() if keep is None or r.id in keep]
        split_rows = [
            r
            for r in rows_of(
                select(DealSplit.deal_id, DealSplit.person_id, DealSplit.share_bp)
                .join(Deal, col(Deal.id) == DealSplit.deal_id)
                .where(*in_period)
            ).all()
            if keep is None or r.deal_id in keep
        ]
    else:
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            rows.extend(rows_of(select(*_DEAL_COLUMNS).where(among(session, col(Deal.id), chunk))).all())
            split_rows.extend(
                rows_of(
                    select(DealSplit.deal_id, DealSplit.person_id, DealSplit.share_bp).where(
                        among(session, col(DealSplit.deal_id), chunk)
                    )
                ).all()
            )
    rows.sort(key=lambda r: r.id)
    splits: dict[int, list[tuple[int, int]]] = {}
    for deal_id, person_id, share_bp in split_rows:
        splits.setdefault(deal_id, []).append((person_id, share_bp))
    return rows, splits


@lru_cache(maxsize=2)
def _crediting(dialect: str) -> Any:
    """A query: ids of the period's deals that the people bound as ``people`` own, share or sourced through a campaign.

    A union of three index lookups rather than one OR across them: PostgreSQL cannot use an index
    for ``owner IN (...) OR id IN (subquery) OR ...`` and scanned the whole quarter (9 ms for a
    rep's 10 deals among 48,000; 0.3 ms as a union). Built once (``_crediting``), bound per call:
    building the aliases and the union took a few milliseconds of every deal's recompute. Bind ``people``,
    ``start`` and ``end``."""
    owned = aliased(Deal)
    sourced = aliased(Deal)
    start: Any = bindparam("start")
    end: Any = bindparam("end")
    return union(
        select(owned.id).where(
            among_param(dialect, col(owned.owner_id), "people"), owned.closed_at >= start, owned.closed_at <= end
        ),
        select(DealSplit.deal_id).where(among_param(dialect, col(DealSplit.person_id), "people")),
        select(sourced.id)
        .join(Campaign, col(Campaign.code) == sourced.source_campaign)
        .where(
            among_param(dialect, col(Campaign.owner_id), "people"),
            sourced.closed_at >= start,
            sourced.closed_at <= end,
        ),
    )


def periods_touching(session: Session, days: set[date]) -> set[str]:
    """Keys of the periods (of every kind a plan uses) that contain the given days."""
    kinds = plan_period_kinds(session) or {"quarter"}
    keys = set()
    for day in days:
        for kind in kinds:
            keys.add(key_of_day(kind, day))
    return keys


_KINDS_KEY = "quotaboard.plan_period_kinds"
PLANS_UNCHANGED = "quotaboard.plans_unchanged"  # session.info flag: this transaction changes no plan


def plan_period_kinds(session: Session) -> set[str]:
    """The period kinds plans use; read once per transaction where ``PLANS_UNCHANGED`` is set (a batch of
    deals asks for them for every deal), else every time."""
    if not session.info.get(PLANS_UNCHANGED):
        return plan_catalogue(session).period_kinds
    kinds = session.info.get(_KINDS_KEY)
    if kinds is None:
        kinds = session.info[_KINDS_KEY] = plan_catalogue(session).period_kinds
    return kinds
