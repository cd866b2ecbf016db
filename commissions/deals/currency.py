"""A deal in another currency than a plan seeing it pays in needs an exchange rate: without one it is refused.

The engine converts such a deal with the latest rate on or before its ``closed_at`` (either direction,
plans.md 3) and refuses the whole plan period when there is none (``engine.credit``), so one deal
without a rate would stop everyone's recalculation. It is refused before it is stored instead, by the
one service every door goes through (``DealWriter.write``: API, signed CRM webhook, CSV import, form),
asking the engine's own ``RateBook`` (the stored rates, read once per transaction with the plan
catalogue), so the door and the engine cannot disagree.

Which plans see a deal is what the recalculation gives them (docs/deals-and-statements.md):
for each plan period kind in use, the period of that kind containing the deal's ``closed_at``;
in it, the plans of that kind in their version in force at the period's start, and their
assignments overlapping the period (``calculation.loader.plans_in_period``, the recalculation's
own reader, reused here so the two cannot drift apart); of those, the assignments of a person
the deal credits (owner, split partners, the owner of its source campaign) or of anyone above
one of them in the manager chain (team credit and overrides read their reports' deals). Plans
on a lead metric (mqls, sqls, pipeline) credit lead events, never deals, and never refuse one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from commissions import engine as eng
from commissions.calculation.loader import PlanInPeriod, plan_catalogue, plan_period_kinds, plans_in_period
from commissions.core.periods import key_of_day
from commissions.engine.inputs import LEAD_METRICS


@dataclass(frozen=True, slots=True)
class Refusal:
    plan: str
    plan_currency: str
    person_id: int  # the person whose assignment puts the plan in the deal's way
    closed_at: date
    deal_currency: str

    @property
    def missing_rate(self) -> str:
        """The engine's own words for it (``RateBook.convert``)."""
        return f"no exchange rate from {self.deal_currency} to {self.plan_currency} on or before {self.closed_at.isoformat()}"


class PlansSeeingDeals:
    """Finds the plans that would see a deal, for one transaction.

    A single delivery reads only the assignments of the people concerned (a few small
    queries); ``whole_periods`` (a CSV import) reads each period's plans and assignments once
    and checks every row in memory, so 20,000 rows cost a handful of queries, not 20,000.
    """

    def __init__(self, session: Session, *, whole_periods: bool = False) -> None:
        self.session = session
        self.whole_periods = whole_periods
        self._kinds: list[str] | None = None
        self._periods: dict[str, dict[int, list[PlanInPeriod]]] = {}
        self._preloaded: dict[str, set[int]] = {}  # period key → the people ``preload`` read
        self._catalogue: dict[
            Any, Any
        ] = {}  # plans, versions and custom fields read (plans_in_period): one transaction's

    def any_plan(self) -> bool:
        """Whether any plan exists (without one, nothing is refused and nothing more is read)."""
        if self._kinds is None:
            self._kinds = sorted(plan_period_kinds(self.session))
        return bool(self._kinds)

    def rate_book(self) -> eng.RateBook:
        """The stored exchange rates, read once per transaction (with the plan catalogue)."""
        if "catalogue" not in self._catalogue:
            self._catalogue["catalogue"] = plan_catalogue(self.session)
        book: eng.RateBook = self._catalogue["catalogue"].rate_book
        return book

    def refusal(self, currency: str, closed_at: date, people: list[int]) -> Refusal | None:
        """The first plan paying in another currency than ``currency``, with no exchange rate between the two
        on or before ``closed_at``, that sees the deal through one of ``people`` (checked in that order, plans
        by name), or None."""
        if not self.any_plan():
            return None
        book = self.rate_book()
        views = [self._on_plans(key_of_day(kind, closed_at), people) for kind in self._kinds or ()]
        for person_id in people:
            refusing = [
                plan
                for view in views
                for plan in view.get(person_id, ())
                if plan.parsed.currency != currency
                and plan.parsed.metric not in LEAD_METRICS
                and book.lookup(currency, plan.parsed.currency, closed_at) is None
            ]
            if refusing:
                plan = min(refusing, key=lambda p: p.plan.name)
                return Refusal(plan.plan.name, plan.parsed.currency, person_id, closed_at, currency)
        return None

    def preload(self, keys: set[str], people: set[int]) -> None:
        """Read once who of ``people`` is on which plans in the periods ``keys`` (a batch of deliveries:
        their credited people and everyone above them); later checks of them read nothing."""
        if not self.any_plan() or self.whole_periods:
            return
        for key in keys:
            self._periods[key] = self._on_plans(key, sorted(people))
            self._preloaded[key] = set(people)

    def _on_plans(self, key: str, people: list[int]) -> dict[int, list[PlanInPeriod]]:
        """Who is on which plans (by name) in the period ``key``: everyone of the period, read once, for
        ``whole_periods``; else only ``people`` (from what ``preload`` read, when it covers them)."""
        if self.whole_periods and key in self._periods:
            return self._periods[key]
        if key in self._preloaded and self._preloaded[key].issuperset(people):
            return self._periods[key]
        period = eng.parse_period(key)
        on_plans: dict[int, list[PlanInPeriod]] = {}
        for plan in plans_in_period(
            self.session, period, None if self.whole_periods else set(people), invalid={}, catalogue=self._catalogue
        ):
            for person_id in {a.person_id for a in plan.assignments}:
                on_plans.setdefault(person_id, []).append(plan)
        if self.whole_periods:
            self._periods[key] = on_plans
        return on_plans
