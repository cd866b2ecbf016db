"""The leaderboard's data: the period's payee summaries ranked, with movement since yesterday.

Reads ``PayeeSummary`` (the last calculation's figures) with the person and team;
nothing here recomputes pay. Earnings (``total_minor``) are never selected, so no
page or response built from an entry can leak them.

Keyword-only functions; the caller owns the session and any transaction, except ``ensure_snapshot`` and the
admin and contest pages' writes at the end, which take the engine and open their own.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id, table_of
from commissions.core.audit import record_event
from commissions.core.db import transaction
from commissions.core.formatting import attainment_percent, attainment_ratio, format_count, format_measure
from commissions.core.money import format_money, from_minor, to_minor
from commissions.core.periods import PeriodKey
from commissions.core.principal import Principal
from commissions.models import Deal, DealSplit, PayeeSummary, Period, Person, Team
from commissions.models.base import utcnow
from commissions.people.progress import progress_rows
from leaderboard.badges import forget_evaluations, seed_default_rules, validate_params
from leaderboard.contests.editing import ContestInput, cancel_contest, create_contest, update_contest
from leaderboard.contests.rules import editable_contest
from leaderboard.models import BadgeRule, LeaderboardSnapshot
from leaderboard.ranking import DEFAULT_METRIC, METRICS, competition_rank

PPM = 1_000_000
VIEWS: dict[str, str] = {"company": "Company", "team": "Team", "marketing": "Marketing"}
SALES_METRICS = ("bookings", "deals")  # the plan quota metrics of sales people
MARKETING_METRICS = ("sourced_revenue", "mqls", "sqls", "pipeline")  # marketers' plan quota metrics
COUNTED = {"deals": "deals", "mqls": "MQLs", "sqls": "SQLs"}  # credited in hundredths, not money
LEAD_METRICS = ("mqls", "sqls", "pipeline")


class LeaderboardError(ValueError):
    """A view, metric or team that does not exist."""


@dataclass(slots=True)
class Entry:
    person_id: int
    email: str
    name: str
    team_id: int | None
    team_name: str
    plan_metric: str  # what the person's quota counts: bookings, deals or sourced_revenue
    currency: str
    credited_minor: int  # minor units, or hundredths of a deal for a deals quota
    quota_minor: int | None
    attainment_ppm: int | None
    deals: Decimal = Decimal(0)  # won deals in the period, split shares pro rata
    funnel: dict[str, Decimal] = field(default_factory=dict)  # mqls, sqls (counts), pipeline (currency units)
    rank: int = 0
    movement: int | None = None
    badges: list[str] = field(default_factory=list)

    @property
    def attainment(self) -> Decimal | None:
        """As a ratio with four places (1.0500 = 105 %), like statements show it."""
        return attainment_ratio(self.attainment_ppm)  # the one rounding rule (commissions.core.formatting)

    @property
    def percent(self) -> Decimal | None:
        return attainment_percent(self.attainment_ppm)

    @property
    def bar_value(self) -> int:
        """The progress bar's value, 0–100: a bar never overflows; the figure beside it says 150 %."""
        return max(0, min(100, int(self.percent or 0)))

    @property
    def credited(self) -> Decimal:
        if self.plan_metric in COUNTED:
            return (Decimal(self.credited_minor) / 100).quantize(Decimal("0.01"))
        return from_minor(self.credited_minor, self.currency)

    @property
    def credited_label(self) -> str:
        """``258,500.00 USD`` or ``7 deals``: the one formatting rule (commissions.core.formatting)."""
        return format_measure(self.credited_minor, self.plan_metric, self.currency)

    def value(self, metric: str) -> int | Decimal | None:
        if metric == "attainment":
            return self.attainment_ppm
        if metric == "deals":
            return self.deals
        if metric in LEAD_METRICS:
            # as the plan credits it when the plan pays on it, else counted from lead events of the person's
            # campaigns; in units (MQLs, currency) either way, so people on different plans compare. Someone who
            # owns no campaign is not counted by it (None: listed after everyone ranked, as for sourced revenue)
            return self.credited if metric == self.plan_metric else self.funnel.get(metric)
        if metric == self.plan_metric:  # bookings or sourced revenue, as credited by the plan
            return self.credited_minor
        return None

    def funnel_label(self, metric: str) -> str:
        """Pipeline as money (``12,500.00 USD``), MQLs and SQLs as counts (``60``), by the one formatting rule."""
        value = Decimal(self.value(metric) or Decimal(0))  # counts come as int
        if metric == "pipeline":
            return format_money(to_minor(value, self.currency), self.currency)
        return format_count(int(value * 100))


@dataclass(slots=True)
class Board:
    period: PeriodKey
    view: str
    metric: str
    team: Team | None
    rows: list[Entry]
    viewer_id: int | None
    movement_shown: bool

    def is_viewer(self, entry: Entry) -> bool:
        return self.viewer_id is not None and entry.person_id == self.viewer_id

    @property
    def viewer(self) -> Entry | None:
        return next((row for row in self.rows if self.is_viewer(row)), None)

    def counts(self, entry: Entry) -> bool:
        """Whether the entry has a figure for the board's metric (a salesperson has no sourced revenue, someone
        without a quota no attainment): those without are listed after everyone ranked, with no place."""
        return entry.value(self.metric) is not None

    @property
    def podium(self) -> list[Entry]:
        """The top three who have a figure: nobody stands on a podium for a metric they are not counted by."""
        return [row for row in self.rows if row.rank <= 3 and self.counts(row)][:3]

    @property
    def nobody_counts(self) -> bool:
        return bool(self.rows) and not any(self.counts(row) for row in self.rows)


def check_choice(*, view: str, metric: str) -> None:
    if view not in VIEWS:
        raise LeaderboardError(f"unknown view {view!r}: expected one of {', '.join(VIEWS)}")
    if metric not in METRICS:
        raise LeaderboardError(f"unknown metric {metric!r}: expected one of {', '.join(METRICS)}")


def teams(session: Session) -> list[Team]:
    return list(session.exec(select(Team).order_by(col(Team.name))))


def _entries(
    session: Session, period_id: int, *, metrics: tuple[str, ...], team_id: int | None, marketing: bool | None
) -> list[Entry]:
    """Individual contributors (role rep) with a summary on one of ``metrics``; one entry each.

    Managers are left out: their plans credit the whole team's deals, which would
    rank them above the people they manage on the same deals.
    """
    summary_columns: tuple[Any, ...] = (
        PayeeSummary.person_id,
        PayeeSummary.metric,
        PayeeSummary.currency,
        PayeeSummary.credited_minor,
        PayeeSummary.quota_minor,
        PayeeSummary.attainment_ppm,
        Person.email,
        Person.name,
        Person.team_id,
        Team.name,
    )
    query = (
        select(*summary_columns)
        .join(Person, col(Person.id) == PayeeSummary.person_id)
        .outerjoin(Team, col(Team.id) == Person.team_id)
        .where(
            PayeeSummary.period_id == period_id,
            col(PayeeSummary.metric).in_(metrics),
            Person.active,
            Person.role == "rep",
        )
        .order_by(col(PayeeSummary.person_id), col(PayeeSummary.plan_id))
    )
    if team_id is not None:
        query = query.where(Person.team_id == team_id)
    if marketing is True:
        query = query.where(Team.kind == "marketing")
    elif marketing is False:
        query = query.where((col(Team.kind).is_(None)) | (Team.kind != "marketing"))
    entries: dict[int, Entry] = {}
    for pid, metric, currency, credited, quota, ppm, email, name, team, team_name in session.exec(query):
        if pid not in entries:  # someone on two plans: the first plan's figures
            entries[pid] = Entry(pid, email, name, team, team_name or "", metric, currency, credited, quota, ppm)
    return list(entries.values())


def _no_funnel() -> dict[str, Decimal]:
    """A marketer's funnel with nothing in it yet: MQLs, SQLs (counts) and pipeline (currency units)."""
    return {"mqls": Decimal(0), "sqls": Decimal(0), "pipeline": Decimal(0)}


def _funnels(session: Session, person_ids: list[int], period: PeriodKey) -> dict[tuple[int, str], dict[str, Decimal]]:
    """Per owner (and pipeline currency): MQLs, SQLs and pipeline reached in the period, counted as the
    marketing dashboard counts them (events out of stage order are flagged and left out)."""
    from commissions.models.marketing import Lead, LeadEvent

    lead_columns: tuple[Any, ...] = (
        Lead.owner_id,
        LeadEvent.stage,
        LeadEvent.amount_minor,
        LeadEvent.currency,
        LeadEvent.flag,
    )
    rows = session.exec(
        select(*lead_columns)
        .join(Lead, col(Lead.id) == LeadEvent.lead_id)
        .where(
            col(Lead.owner_id).in_(person_ids),
            LeadEvent.occurred_on >= period.starts_on,
            LeadEvent.occurred_on <= period.ends_on,
            col(LeadEvent.stage).in_(("mql", "sql", "opportunity")),
        )
    ).all()
    currencies = dict(
        session.exec(
            select(PayeeSummary.person_id, PayeeSummary.currency).where(col(PayeeSummary.person_id).in_(person_ids))
        ).all()
    )
    out: dict[tuple[int, str], dict[str, Decimal]] = {}
    for owner, stage, minor, currency, flag in rows:
        if flag:
            continue
        home = currencies.get(owner, currency or "USD")
        funnel = out.setdefault((owner, home), _no_funnel())
        if stage in ("mql", "sql"):
            funnel[stage + "s"] += 1
        elif minor is not None and currency == home:
            funnel["pipeline"] += from_minor(minor, currency)
    return out


def _period_row(session: Session, period: PeriodKey) -> Period | None:
    return session.exec(select(Period).where(Period.key == period.key)).first()


def _ranked(entries: list[Entry], metric: str) -> list[Entry]:
    out = []
    for ranked in competition_rank(
        entries, value=lambda e: e.value(metric), name=lambda e: e.name, key=lambda e: e.person_id
    ):
        ranked.item.rank = ranked.rank
        out.append(ranked.item)
    return out


def _home_boards(session: Session, period_id: int) -> list[list[Entry]]:
    """The boards movement is measured on: company and marketing, by attainment."""
    return [
        _ranked(_entries(session, period_id, metrics=SALES_METRICS, team_id=None, marketing=False), DEFAULT_METRIC),
        _ranked(_entries(session, period_id, metrics=MARKETING_METRICS, team_id=None, marketing=True), DEFAULT_METRIC),
    ]


def snapshot_taken(session: Session, *, period: PeriodKey, today: date) -> bool:
    row = _period_row(session, period)
    if row is None:
        return True  # nothing to rank
    return (
        session.exec(
            select(LeaderboardSnapshot.id)
            .where(LeaderboardSnapshot.period_id == row.id, LeaderboardSnapshot.taken_on == today)
            .limit(1)
        ).first()
        is not None
    )


def take_snapshot(session: Session, *, period: PeriodKey, today: date) -> int:
    """Store today's home-board ranks of the period, once a day (the first read of the day calls it).

    Idempotent: a second call the same day stores nothing. Returns the rows stored.
    """
    row = _period_row(session, period)
    if row is None or snapshot_taken(session, period=period, today=today):
        return 0
    snapshot = [
        {"period_id": row.id, "person_id": e.person_id, "rank": e.rank, "taken_on": today}
        for board in _home_boards(session, stored_id(row))
        for e in board
    ]
    if snapshot:
        session.connection().execute(table_of(LeaderboardSnapshot).insert(), snapshot)
    return len(snapshot)


_SNAPSHOTS_SEEN: set[tuple[int, str, date]] = set()  # (engine, period, day) known to have today's snapshot


def ensure_snapshot(engine: Any, *, period: PeriodKey, today: date) -> None:
    """Take today's snapshot in its own short transaction if no one has yet (safe against a racing reader).

    Once this process has seen the day's snapshot of a period it does not ask again.
    """
    from commissions.core.db import transaction

    seen = (id(engine), period.key, today)
    if seen in _SNAPSHOTS_SEEN:
        return
    with Session(engine) as session:  # the common case: already taken today (or nothing to rank), no write lock
        if snapshot_taken(session, period=period, today=today):
            if _period_row(session, period) is not None:
                _SNAPSHOTS_SEEN.add(seen)
            return
        if not session.exec(
            select(PayeeSummary.id)
            .join(Period, col(Period.id) == PayeeSummary.period_id)
            .where(Period.key == period.key)
            .limit(1)
        ).first():
            return
    try:
        with transaction(engine) as session:
            take_snapshot(session, period=period, today=today)
        _SNAPSHOTS_SEEN.add(seen)
    except IntegrityError:  # another process stored it between our check and our insert
        pass


def _previous_ranks(session: Session, period_id: int, today: date) -> dict[int, int]:
    return dict(
        session.exec(
            select(LeaderboardSnapshot.person_id, LeaderboardSnapshot.rank).where(
                LeaderboardSnapshot.period_id == period_id, LeaderboardSnapshot.taken_on == today - timedelta(days=1)
            )
        ).all()
    )


def board(
    session: Session,
    *,
    period: PeriodKey,
    view: str = "company",
    metric: str = DEFAULT_METRIC,
    team_id: int | None = None,
    viewer_id: int | None = None,
    today: date | None = None,
    badge_wait: float | None = None,
) -> Board:
    """One leaderboard: ``company`` (sales reps), ``team`` (one team) or ``marketing`` (marketing teams).

    ``badge_wait``: how long a reader waits for a badge evaluation (``badges.evaluate_if_stale``);
    None waits for it to finish."""
    check_choice(view=view, metric=metric)
    # --- badges: evaluated lazily, at most once a minute per period and process, in its own transaction,
    # before this session's first read (a SQLite reader sees the database as of its first read)
    from leaderboard.badges import evaluate_if_stale

    evaluate_if_stale(session.get_bind(), period.key, wait=badge_wait)
    # --- end badges
    team = None
    if view == "team":
        team = session.get(Team, team_id) if team_id is not None else None
        if team is None:
            raise LeaderboardError("choose a team")
    row = _period_row(session, period)
    if row is None:
        return Board(period, view, metric, team, [], viewer_id, False)
    key = (
        id(session.get_bind()),
        period.key,
        view,
        metric,
        team.id if team else None,
        today or date.today(),
        _data_version(session, stored_id(row)),
    )
    with _BOARDS_LOCK:  # one computation at a time: a burst of requests must not rank the company a hundred times
        cached = _BOARDS.get(key)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return Board(period, view, metric, team, cached[1], viewer_id, cached[2])
        result = _compute_board(session, row, period, view, metric, team, team_id, viewer_id, today)
        if len(_BOARDS) > 64:
            _BOARDS.clear()
        _BOARDS[key] = (time.monotonic(), result.rows, result.movement_shown)
        return result


# Ranking thousands of people on every request (and on every live refresh of every open
# board) is what does not scale; the ranked rows are shared until the figures behind them
# change (the data version below) or CACHE_SECONDS pass. Viewer-specific parts (the
# highlighted row, the around-me window) are applied per request on top.
CACHE_SECONDS = 5.0
_BOARDS: dict[tuple[Any, ...], tuple[float, list[Entry], bool]] = {}
_BOARDS_LOCK = threading.Lock()


def figures_version(session: Session, period: PeriodKey) -> tuple[Any, ...] | None:
    """What a board of the period is computed from, in a few integers: equal versions, equal boards.

    None when the period does not exist yet (nothing to rank, nothing to cache).
    """
    row = _period_row(session, period)
    return None if row is None else (stored_id(row), *_data_version(session, stored_id(row)))


def _data_version(session: Session, period_id: int) -> tuple[Any, ...]:
    from leaderboard.models import BadgeGrant

    summaries = session.execute(
        select(func.count(), func.max(PayeeSummary.updated_at)).where(PayeeSummary.period_id == period_id)
    ).one()
    grants = session.execute(
        select(func.count(), func.max(BadgeGrant.granted_at), func.max(BadgeGrant.revoked_at)).where(
            BadgeGrant.period_id == period_id
        )
    ).one()
    return (*summaries, *grants)


def _compute_board(
    session: Session,
    row: Period,
    period: PeriodKey,
    view: str,
    metric: str,
    team: Team | None,
    team_id: int | None,
    viewer_id: int | None,
    today: date | None,
) -> Board:
    marketers = view == "marketing" or (team is not None and team.kind == "marketing")
    if marketers:
        entries = _entries(
            session, stored_id(row), metrics=MARKETING_METRICS, team_id=team.id if team else None, marketing=True
        )
    else:
        entries = _entries(
            session, stored_id(row), metrics=SALES_METRICS, team_id=team.id if team else None, marketing=False
        )
    if metric == "deals" and entries:
        counts = {p.person_id: p.deals for p in progress_rows(session, [e.person_id for e in entries], period)}
        for entry in entries:
            entry.deals = counts.get(entry.person_id, Decimal(0))
    if metric in LEAD_METRICS and entries:
        funnels = _funnels(session, [e.person_id for e in entries], period)
        for entry in entries:  # a marketer without events has none (0); a sales rep is not counted by them
            entry.funnel = funnels.get((entry.person_id, entry.currency), _no_funnel() if marketers else {})
    rows = _ranked(entries, metric)
    # --- badges (leaderboard/badges.py): the names of each person's active grants
    from leaderboard.badges import badge_names

    names = badge_names(session, stored_id(row), [e.person_id for e in rows])
    for entry in rows:
        entry.badges = names.get(entry.person_id, [])
    # --- end badges
    movement_shown = metric == DEFAULT_METRIC and view in ("company", "marketing")
    if movement_shown:
        previous = _previous_ranks(session, stored_id(row), today or date.today())
        for entry in rows:
            before = previous.get(entry.person_id)
            entry.movement = None if before is None else before - entry.rank
    return Board(period, view, metric, team, rows, viewer_id, movement_shown)


@dataclass(frozen=True, slots=True)
class Celebration:
    """A new deal's banner: who, which account, how much (bookings, never commission), in the deal's currency."""

    owner: str  # the owner's first name
    account: str
    amount_minor: int
    currency: str
    person_ids: frozenset[int] = frozenset()  # the owner and the split holders: "your deal" to each of them

    def is_for(self, person_id: int | None) -> bool:
        return person_id is not None and person_id in self.person_ids


def celebration(session: Session, *, external_id: str) -> Celebration | None:
    """What a new deal's banner says: who, which account, how much (bookings, never commission)."""
    banner_columns: tuple[Any, ...] = (
        Deal.id,
        Deal.name,
        Deal.account,
        Deal.amount_minor,
        Deal.currency,
        Deal.owner_id,
        Person.name,
    )
    found = session.exec(
        select(*banner_columns).join(Person, col(Person.id) == Deal.owner_id).where(Deal.external_id == external_id)
    ).first()
    if found is None:
        return None
    deal_id, name, account, amount_minor, currency, owner_id, owner = found
    splits = session.exec(select(DealSplit.person_id).where(DealSplit.deal_id == deal_id)).all()
    return Celebration(
        owner=owner.split()[0] if owner else owner,
        account=account or name,
        amount_minor=int(amount_minor),
        currency=currency,
        person_ids=frozenset({int(owner_id), *(int(p) for p in splits)}),
    )


# --- the admin pages' writes: badge rules (each its own transaction, audited) ------------------------------------


def seed_badge_rules(engine: Engine) -> None:
    """The default rules, the first time anyone looks at the badge rules."""
    with transaction(engine) as session:
        seed_default_rules(session)


def create_badge_rule(engine: Engine, principal: Principal, *, key: str, name: str, kind: str, description: str) -> int:
    """A new rule of one kind with that kind's default params; its id. IntegrityError: the key was taken meanwhile."""
    params, _ = validate_params(kind, {})  # the kind's defaults
    with transaction(engine) as session:
        seed_default_rules(session)  # so adding a rule first does not suppress the defaults
        rule = BadgeRule(key=key, name=name, kind=kind, description=description, params=params)
        session.add(rule)
        session.flush()
        record_event(
            session,
            principal,
            "badge_rule.created",
            "badge_rule",
            rule.id,
            {"key": rule.key, "kind": rule.kind, "params": params},
        )
        rule_id = rule.id
    forget_evaluations()
    assert rule_id is not None
    return rule_id


def save_badge_rule(
    engine: Engine,
    principal: Principal,
    rule_id: int,
    *,
    name: str,
    description: str,
    params: dict[str, Any],
    active: bool,
) -> bool:
    """Store an edited rule (a params change bumps its version; grants keep theirs). False if the rule is gone."""
    with transaction(engine) as session:
        rule = session.get(BadgeRule, rule_id)
        if rule is None:
            return False
        before = {
            "name": rule.name,
            "description": rule.description,
            "params": rule.params,
            "active": rule.active,
            "version": rule.version,
        }
        if params != rule.params:
            rule.params = params
            rule.version += 1
        rule.name, rule.description, rule.active = name, description, active
        after = {
            "name": rule.name,
            "description": rule.description,
            "params": rule.params,
            "active": rule.active,
            "version": rule.version,
        }
        if after != before:
            rule.updated_at = utcnow()
            record_event(
                session, principal, "badge_rule.updated", "badge_rule", rule.id, {"before": before, "after": after}
            )
    forget_evaluations()  # the next leaderboard read applies the rule as it is now
    return True


# --- the contest pages' writes (each its own transaction; InputProblem, Conflict and Forbidden come through) ------


def add_contest(engine: Engine, principal: Principal, form: ContestInput, *, now: datetime) -> int:
    """A new contest from the form; its id."""
    with transaction(engine) as session:
        contest_id = create_contest(session, principal, form, now=now).id
    assert contest_id is not None
    return contest_id


def change_contest(engine: Engine, principal: Principal, contest_id: int, form: ContestInput, *, now: datetime) -> bool:
    """The contest as edited, checked again inside the transaction. False if it is gone or no longer visible."""
    with transaction(engine) as session:
        fresh = editable_contest(session, principal, contest_id)
        if fresh is None:
            return False
        update_contest(session, principal, fresh, form, now=now)
    return True


def call_off_contest(engine: Engine, principal: Principal, contest_id: int, *, now: datetime) -> bool:
    """Cancel an upcoming contest. False if it is gone or no longer visible."""
    with transaction(engine) as session:
        fresh = editable_contest(session, principal, contest_id)
        if fresh is None:
            return False
        cancel_contest(session, principal, fresh, now=now)
    return True
