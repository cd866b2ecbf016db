"""The home page: each role's own game today (issue 17).

Reps and marketers: their attainment and pay this period (the stored calculation, as their statement shows
it), pace against the calendar (``people.pace``), the next tier or bonus and what it pays
(``statements.next_step``) and what to do next. Managers and the VP: the same for themselves, then their
team with each person's real attainment and pace, who needs help first, and the deals waiting for their
approval. Finance: what blocks the close of the period to close next. Admins: the organisation.

Extensions add blocks through the ``home_sections`` hook (``core.rendering.HomeSection``): each hook is
called here (one that fails is logged and skipped, so Home never fails because of an extension), and the
sections are shown in ``order`` after the person's own figures.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from litestar import Controller, get
from litestar.params import FromQuery
from litestar.response import Template
from sqlmodel import Session

from commissions.accounts.queries import active_token_count
from commissions.app.extensions import hooks
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import any_role
from commissions.core.periods import LIVE_STATES, PeriodKey, quarter_of
from commissions.core.principal import Principal
from commissions.core.rendering import HomeSection, page
from commissions.deals.approvals import confirmed_notices, held_for
from commissions.deals.queries import deal_count
from commissions.disputes.service import list_disputes
from commissions.holds.cash import held_of_person
from commissions.people.pace import NEEDS_HELP_AFTER_PPM, NEEDS_HELP_BELOW_PPM, Pace, elapsed_share, pace
from commissions.people.progress import PlanProgress, plan_progress
from commissions.people.queries import active_people_by_role
from commissions.people.service import report_ids
from commissions.periods.checklist import close_checklist, open_items, period_to_close
from commissions.periods.queries import periods_newest_first
from commissions.plans.queries import plan_version_count
from commissions.pulse.service import pulses_to_answer
from commissions.statements.next_step import next_steps

log = logging.getLogger(__name__)

PAY_ROLES = ("rep", "manager")  # people with a plan of their own


@dataclass(frozen=True, slots=True)
class Standing:
    """One person's figures on one plan (the stored calculation) and their pace."""

    row: PlanProgress
    pace: Pace


def standings(rows: list[PlanProgress], period: PeriodKey, today: date) -> list[Standing]:
    return [Standing(row, pace(row.attainment_ppm if row.has_plan else None, period, today)) for row in rows]


def team_order(team: list[Standing]) -> list[Standing]:
    """Who needs help first (furthest behind first), then everyone else as ``plan_progress`` ranks them."""
    needing = sorted((s for s in team if s.pace.needs_help), key=lambda s: s.pace.projected_ppm or 0)
    return needing + [s for s in team if not s.pace.needs_help]


@cache
def section_hooks() -> tuple[Any, ...]:
    """The installed extensions' ``home_sections`` hooks, found once per process (reading the entry points
    took half of Home's time)."""
    return tuple(hooks("home_sections"))


def extension_sections(session: Session, principal: Principal, period: PeriodKey) -> list[HomeSection]:
    """Every ``home_sections`` hook's block for this person, by ``order``; a failing hook is logged and skipped."""
    sections = []
    for hook in section_hooks():
        try:
            section = hook(session, principal, period)
        except Exception:
            log.exception("home section %r failed for %s", hook, principal.label)
            continue
        if isinstance(section, HomeSection):
            sections.append(section)
    return sorted(sections, key=lambda s: s.order)


def _next_actions(session: Session, principal: Principal, mine: list[PlanProgress]) -> list[dict[str, Any]]:
    """What to do next, most useful first: each an ``href``, a ``kind`` (templates word it) and a count."""
    assert principal.person_id is not None
    actions: list[dict[str, Any]] = []
    pulses = pulses_to_answer(session, principal.person_id)
    if pulses:
        actions.append({"kind": "pulse", "href": "/pulse", "count": len(pulses)})
    disputes = [d for d in list_disputes(session, principal) if d.dispute.person_id == principal.person_id]
    if disputes:
        actions.append({"kind": "disputes", "href": "/disputes", "count": len(disputes)})
    if principal.role in PAY_ROLES:
        actions.append({"kind": "record", "href": "/deals/new", "count": 0})
    if any(p.has_plan for p in mine):
        actions.append({"kind": "statement", "href": "/statements", "count": 0})
    if any(p.has_plan and p.metric in ("bookings", "deals") for p in mine):  # the statement's what-if box
        actions.append({"kind": "what_if", "href": "/statements#what-if", "count": 0})
    actions.append({"kind": "deals", "href": "/deals", "count": 0})
    return actions


def home_context(session: Session, principal: Principal, *, today: date) -> dict[str, Any]:
    """Everything Home shows the signed-in person (read only)."""
    period = quarter_of(today)
    gone, total = elapsed_share(period, today)
    context: dict[str, Any] = {"period": period, "today": today, "days_gone": gone, "days_total": total}
    person_id = principal.person_id
    if principal.role in PAY_ROLES and person_id is not None:
        mine = plan_progress(session, [person_id], period)  # one row per plan, as the statement
        context["mine"] = standings(mine, period, today)
        context["steps"] = next_steps(session, person_id, period)
        context["actions"] = _next_actions(session, principal, mine)
        context["held_minor"] = held_of_person(session, person_id, period.key)
    if principal.role == "manager" and person_id is not None:
        team = standings(plan_progress(session, sorted(report_ids(session, person_id)), period), period, today)
        context["team"] = team_order(team)
        context["team_needs_help"] = sum(1 for s in team if s.pace.needs_help)
        context["team_on_pace"] = sum(1 for s in team if s.pace.on_pace)
        context["team_people"] = len({s.row.person_id for s in team})
        context["needs_help_below_ppm"] = NEEDS_HELP_BELOW_PPM
        context["needs_help_after_ppm"] = NEEDS_HELP_AFTER_PPM
    if principal.role in ("rep", "manager", "finance") and person_id is not None:
        context["held"] = held_for(session, principal)  # what waits for their decision (or, for a rep, their own)
    if principal.role == "finance":
        closing = period_to_close(session, today)
        context["closing"] = closing
        if closing is not None:
            checklist = close_checklist(session, closing)
            context["checklist"] = checklist
            context["blockers"] = open_items(checklist)
        context["periods"] = periods_newest_first(session, limit=6)
        context["live_states"] = LIVE_STATES
        context["deal_count"] = deal_count(session)
    if principal.role == "admin":
        context["people_by_role"] = active_people_by_role(session)
        context["active_tokens"] = active_token_count(session)
        context["plan_versions"] = plan_version_count(session)
    context["sections"] = extension_sections(session, principal, period)
    return context


class HomeController(Controller):
    guards = [any_role]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def home(
        self,
        db: DbSession,
        principal: CurrentPrincipal,
        approved: FromQuery[str | None] = None,
        rejected: FromQuery[str | None] = None,
    ) -> Template:
        context = home_context(db, principal, today=date.today())
        context.update(confirmed_notices(db, principal, approved=approved, rejected=rejected))  # after a decision
        return page("pages/home.html", context)
