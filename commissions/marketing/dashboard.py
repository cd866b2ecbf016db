"""The revenue-marketing dashboard: gathers lead events, campaign costs, sourced deals and
marketing quotas for one period (and optionally one campaign) and computes the metrics
with ``commissions.marketing.metrics``. Read-only.

Money is reported in one currency (``currency``, USD by default); events, campaign costs
and deals in other currencies are left out and counted in ``other_currency`` so the page says so.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from commissions.campaigns.service import sourced_by_campaign
from commissions.core.errors import InputProblem
from commissions.core.formatting import format_money, format_number
from commissions.core.i18n import N_, Nn_, gettext, ngettext
from commissions.core.money import from_minor
from commissions.core.periods import PeriodKey
from commissions.engine.money import minor_digits
from commissions.marketing import metrics as m
from commissions.models import Campaign, Deal, Lead, LeadEvent, Period, Person, Plan, Quota, Team

MARKETING_QUOTA_METRICS = ("mqls", "sqls", "pipeline", "sourced_revenue")
#: "3 SQLs not counted: <why>", per stage (the catalogs translate them; ``%(num)s`` is the count).
NOT_COUNTED = {
    "mql": Nn_("%(num)s MQL not counted: %(why)s", "%(num)s MQLs not counted: %(why)s"),
    "sql": Nn_("%(num)s SQL not counted: %(why)s", "%(num)s SQLs not counted: %(why)s"),
    "opportunity": Nn_("%(num)s opportunity not counted: %(why)s", "%(num)s opportunities not counted: %(why)s"),
    "won": Nn_("%(num)s win not counted: %(why)s", "%(num)s wins not counted: %(why)s"),
    "lost": Nn_("%(num)s loss not counted: %(why)s", "%(num)s losses not counted: %(why)s"),
}
#: The stage words inside a reason (``no mql before it``); MQL and SQL stay as they are.
_STAGE_WORDS = {"opportunity": N_("opportunity"), "won": N_("won"), "lost": N_("lost")}
_FLAGS = (
    (re.compile(r"no (?P<stage>\w+) before it"), N_("no %(stage)s before it")),
    (
        re.compile(r"(?P<stage>\w+) is dated after it \((?P<date>[\d-]+)\)"),
        N_("%(stage)s is dated after it (%(date)s)"),
    ),
    (re.compile(r"(?P<stage>\w+) is out of order"), N_("%(stage)s is out of order")),
    (re.compile(r"the lead is also (?P<stage>\w+)"), N_("the lead is also %(stage)s")),
)


def flag_words(flag: str) -> str:
    """Why a stage is not counted (``marketing.metrics.stage_flags``), in the page's language."""
    for pattern, message in _FLAGS:
        if m := pattern.fullmatch(flag):
            values = m.groupdict()
            stage = values["stage"]
            values["stage"] = gettext(_STAGE_WORDS[stage]) if stage in _STAGE_WORDS else stage
            return gettext(message) % values
    return flag


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """One lead's stages as stored: stage -> (date, amount or None, currency or None, flag)."""

    campaign: str | None
    stages: dict[str, tuple[date, Decimal | None, str | None, str]]

    def at(self, stage: str) -> date | None:
        return self.stages[stage][0] if stage in self.stages else None

    def counted(self, stage: str) -> bool:
        return stage in self.stages and not self.stages[stage][3]

    def amount(self, stage: str, currency: str) -> Decimal | None:
        _, amount, cur, _ = self.stages[stage]
        return amount if cur == currency else None


@dataclass
class Figures:
    mqls: int = 0
    sqls: int = 0
    converted: int = 0  # of the period's MQLs, how many reached SQL in order
    opportunities: int = 0
    won_customers: int = 0
    lost: int = 0
    pipeline: Decimal = m.ZERO
    revenue: Decimal = m.ZERO
    cost: Decimal = m.ZERO
    conversion: Decimal | None = None
    cpa: Decimal | None = None
    roi: Decimal | None = None
    history_won: int = 0
    history_lost: int = 0
    win_rate: Decimal | None = None
    average_deal: Decimal | None = None
    average_cycle_days: Decimal | None = None
    velocity: Decimal | None = None
    open_pipeline: Decimal = m.ZERO
    forecast: Decimal = m.ZERO
    clv: Decimal | None = None
    recurring_deals: int = 0
    flagged: Counter[tuple[str, str]] = field(default_factory=Counter)  # (stage, flag) -> events in the period
    other_currency: int = 0


@dataclass
class Dashboard:
    period: PeriodKey
    currency: str
    campaign: Campaign | None
    campaigns: list[Campaign]
    figures: Figures
    by_campaign: list[tuple[Campaign, Figures]]
    quotas: dict[str, Decimal]  # metric -> target (marketing teams, or the campaign owner)
    churn_percent: Decimal
    unknown_campaigns: int  # leads in the period whose campaign code names no campaign
    # sourced revenue as plans credit it (won deals by their source campaign, in the dashboard's currency): the
    # figure pay counts, shown beside the lead events' one
    deals_sourced: Decimal = Decimal(0)
    currencies: list[str] = field(default_factory=list)  # what the page may report in (``reporting_currencies``)
    sourced_by_code: dict[str, Decimal] = field(default_factory=dict)  # the same per campaign (the table's column)

    @property
    def flagged_lines(self) -> list[str]:
        """e.g. "3 SQLs not counted: no mql before it", in the page's language."""
        lines = []
        for (stage, flag), n in sorted(self.figures.flagged.items()):
            singular, plural = NOT_COUNTED[stage]
            lines.append(ngettext(singular, plural, n) % {"num": n, "why": flag_words(flag)})
        return lines

    def attainment(self, metric: str, value: Decimal | int) -> Decimal | None:
        return m.attainment(Decimal(value), self.quotas.get(metric))


def _in(day: date | None, key: PeriodKey) -> bool:
    return day is not None and key.starts_on <= day <= key.ends_on


def load_leads(session: Session, until: date, campaign: str | None = None) -> list[LeadFacts]:
    query: Select[*tuple[Any, ...]] = (
        # Select(...) is what select() builds for several columns; select() is typed for up to four
        Select(
            col(LeadEvent.lead_id),
            col(Lead.campaign),
            col(LeadEvent.stage),
            col(LeadEvent.occurred_on),
            col(LeadEvent.amount_minor),
            col(LeadEvent.currency),
            col(LeadEvent.flag),
        )
        .join(Lead, col(Lead.id) == LeadEvent.lead_id)
        .where(col(LeadEvent.occurred_on) <= until)
    )
    if campaign is not None:
        query = query.where(Lead.campaign == campaign)
    leads: dict[int, LeadFacts] = {}
    for lead_id, code, stage, day, minor, currency, flag in session.exec(query):
        facts = leads.setdefault(lead_id, LeadFacts(code, {}))
        amount = None if minor is None else from_minor(minor, currency)
        facts.stages[stage] = (day, amount, currency, flag)
    return list(leads.values())


def campaign_cost(campaign: Campaign, key: PeriodKey) -> Decimal:
    """The part of the campaign's cost that falls in the period: prorated by days, half-up to the cent.

    A campaign without dates runs on the day it was created; without an end, on its start day.
    """
    start = campaign.starts_on or campaign.created_at.date()
    end = campaign.ends_on or start
    overlap = (min(end, key.ends_on) - max(start, key.starts_on)).days + 1
    if overlap <= 0:
        return m.ZERO
    total_days = (end - start).days + 1
    cost = from_minor(campaign.cost_minor, campaign.currency)
    if overlap == total_days:
        return cost
    quantum = Decimal(1).scaleb(-minor_digits(campaign.currency))
    return (cost * overlap / total_days).quantize(quantum, rounding=ROUND_HALF_UP)


def figures(
    leads: list[LeadFacts],
    key: PeriodKey,
    currency: str,
    *,
    cost: Decimal,
    monthly_amounts: list[Decimal],
    churn: Decimal,
) -> Figures:
    """Every metric of one period from the leads' stages (history up to the period end)."""
    f = Figures(cost=cost)
    cycles: list[int] = []
    won_amounts: list[Decimal] = []
    for lead in leads:
        for stage, (day, _, _, flag) in lead.stages.items():
            if flag and _in(day, key):
                f.flagged[(stage, flag)] += 1
        if _in(lead.at("mql"), key):
            f.mqls += 1
            f.converted += lead.counted("sql")
        f.sqls += lead.counted("sql") and _in(lead.at("sql"), key)
        if lead.counted("opportunity") and _in(lead.at("opportunity"), key):
            amount = lead.amount("opportunity", currency)
            f.opportunities += 1
            if amount is None:
                f.other_currency += 1
            else:
                f.pipeline += amount
        if lead.counted("won"):
            amount = lead.amount("won", currency)
            if _in(lead.at("won"), key):
                f.won_customers += 1
                if amount is None:
                    f.other_currency += 1
                else:
                    f.revenue += amount
            f.history_won += 1
            if amount is not None:
                won_amounts.append(amount)
            won_on, opportunity_on = lead.at("won"), lead.at("opportunity")
            if won_on is not None and opportunity_on is not None:  # always: a counted win follows its opportunity
                cycles.append((won_on - opportunity_on).days)
        if lead.counted("lost"):
            f.history_lost += 1
            f.lost += _in(lead.at("lost"), key)
        if lead.counted("opportunity") and not lead.counted("won") and not lead.counted("lost"):
            amount = lead.amount("opportunity", currency)
            if amount is not None:
                f.open_pipeline += amount
    f.conversion = m.conversion_rate(f.mqls, f.converted)
    f.cpa = m.cost_per_acquisition(f.cost, f.won_customers)
    f.roi = m.programme_roi(f.revenue, f.cost)
    f.win_rate = m.win_rate(f.history_won, f.history_lost)
    f.average_deal = m.average(won_amounts)
    f.average_cycle_days = m.average(cycles)
    f.velocity = m.pipeline_velocity(f.opportunities, f.win_rate, f.average_deal, f.average_cycle_days)
    f.forecast = m.forecast(f.revenue, f.open_pipeline, f.win_rate)
    f.clv = m.lifetime_value(monthly_amounts, churn)
    f.recurring_deals = len(monthly_amounts)
    return f


def _monthly_amounts(session: Session, key: PeriodKey, currency: str, codes: list[str]) -> list[Decimal]:
    """Won deals sourced by ``codes`` closed in the period, as recurring amounts per month (those with a term)."""
    if not codes:
        return []
    rows = session.exec(
        select(Deal.amount_minor, Deal.currency, Deal.term_months).where(
            Deal.status == "won",
            col(Deal.closed_at) >= key.starts_on,
            col(Deal.closed_at) <= key.ends_on,
            col(Deal.source_campaign).in_(codes),
            Deal.currency == currency,
            col(Deal.term_months) > 0,
        )
    ).all()
    amounts = (m.monthly_recurring(from_minor(minor, cur), term) for minor, cur, term in rows)
    return [a for a in amounts if a is not None]  # none is: the query keeps deals with a term


def marketing_quotas(session: Session, key: PeriodKey, *, owner_id: int | None = None) -> dict[str, Decimal]:
    """Targets per marketing metric: the marketing teams' quotas where set, else the sum of their
    marketers' own quotas; for one campaign, its owner's quotas. Counts in units, money in the currency."""
    period = session.exec(select(Period).where(Period.key == key.key)).first()
    if period is None:
        return {}
    base = (
        select(Quota.metric, func.sum(Quota.target_minor))
        .where(Quota.period_id == period.id, col(Quota.metric).in_(MARKETING_QUOTA_METRICS))
        .group_by(Quota.metric)
    )
    if owner_id is not None:
        rows = session.exec(base.where(Quota.person_id == owner_id)).all()
    else:
        teams = dict(session.exec(base.join(Team, col(Team.id) == Quota.team_id).where(Team.kind == "marketing")).all())
        people = dict(
            session.exec(
                base.join(Person, col(Person.id) == Quota.person_id)
                .join(Team, col(Team.id) == Person.team_id)
                .where(Team.kind == "marketing")
            ).all()
        )
        rows = list({**people, **teams}.items())
    return {metric: Decimal(int(total)).scaleb(-2) for metric, total in rows}


def reporting_currencies(session: Session) -> list[str]:
    """The currencies the dashboard can report in: those of the plans (quotas and credit) and the campaigns (cost)
    (small tables: the deals are not scanned for theirs)."""
    found = set(session.exec(select(Plan.currency).distinct()).all()) | set(
        session.exec(select(Campaign.currency).distinct()).all()
    )
    return sorted(found) or ["USD"]


def dashboard(
    session: Session,
    key: PeriodKey,
    *,
    campaign_code: str | None = None,
    currency: str | None = None,
    churn_percent: Decimal = Decimal(2),
) -> Dashboard:
    """``currency`` None: USD when a plan or campaign is in it, else the first of theirs."""
    campaigns = session.exec(select(Campaign).order_by(Campaign.code)).all()
    by_code = {c.code: c for c in campaigns}
    chosen = by_code.get(campaign_code) if campaign_code else None
    if campaign_code and chosen is None:  # not every campaign silently, under a filter that says one
        raise InputProblem("campaign", f"no campaign {campaign_code!r}: choose one from the list")
    offered = reporting_currencies(session)
    if currency is None:
        currency = "USD" if "USD" in offered else offered[0]
    if currency not in offered:  # figures in a currency nothing is in read 0.00 under quotas relabelled
        raise InputProblem(
            "currency", f"{currency} is not a currency of any plan or campaign: choose {', '.join(offered)}"
        )
    churn = churn_percent / m.HUNDRED
    leads = load_leads(session, key.ends_on)
    grouped: dict[str | None, list[LeadFacts]] = defaultdict(list)
    for lead in leads:
        grouped[lead.campaign].append(lead)

    def cost_of(items: Sequence[Campaign]) -> Decimal:
        return sum((campaign_cost(c, key) for c in items if c.currency == currency), m.ZERO)

    rows = [
        (
            c,
            figures(
                grouped.get(c.code, []),
                key,
                currency,
                cost=cost_of([c]),
                monthly_amounts=_monthly_amounts(session, key, currency, [c.code]),
                churn=churn,
            ),
        )
        for c in campaigns
    ]
    if chosen is not None:
        total = next(f for c, f in rows if c.id == chosen.id)
        quotas = marketing_quotas(session, key, owner_id=chosen.owner_id)
    else:
        total = figures(
            leads,
            key,
            currency,
            cost=cost_of(campaigns),
            monthly_amounts=_monthly_amounts(session, key, currency, list(by_code)),
            churn=churn,
        )
        quotas = marketing_quotas(session, key)
    if quotas:  # quotas are stored in minor units of money or hundredths of counts: both scale by 10^-2 for USD-like
        digits = minor_digits(currency)
        quotas = {k: (v.scaleb(2 - digits) if k in ("pipeline", "sourced_revenue") else v) for k, v in quotas.items()}
    unknown = sum(
        1
        for code, items in grouped.items()
        if code is not None and code not in by_code
        for lead in items
        if any(_in(s[0], key) for s in lead.stages.values())
    )
    sourced, _ = sourced_by_campaign(session, key)
    sourced_by_code = {
        code: sum((from_minor(minor, cur) for cur, minor in sourced.get(code, []) if cur == currency), m.ZERO)
        for code in by_code
    }
    codes = [chosen.code] if chosen is not None else list(by_code)
    deals_sourced = sum((sourced_by_code[code] for code in codes), m.ZERO)
    return Dashboard(
        key,
        currency,
        chosen,
        list(campaigns),
        total,
        rows,
        quotas,
        churn_percent,
        unknown,
        deals_sourced,
        offered,
        sourced_by_code,
    )


class Display:
    """How the page shows its figures: the one rule of every page (``core.formatting``: half-up, the
    locale's separators, ``31.9%`` like attainment everywhere); percentages to 0.1, money to the cent,
    days to 0.1; None is "–"."""

    DASH = "–"

    def pct(self, value: Decimal | None) -> str:
        return self.DASH if value is None else f"{format_number(value * 100, 1)}%"

    def money(self, value: Decimal | None, currency: str) -> str:
        if value is None:
            return self.DASH
        digits = minor_digits(currency)
        minor = int(Decimal(value).scaleb(digits).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        return format_money(minor, currency)

    def num(self, value: Decimal | int | None, places: int = 1) -> str:
        return self.DASH if value is None else format_number(Decimal(value), places)


DISPLAY = Display()
