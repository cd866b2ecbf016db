"""``calculate``: a plan, a period and its inputs in; payees with explained lines out.

Steps (plans.md): keep the period's deals that count (currency, ``credit.when``,
cancellations), credit them (owner/splits, campaigns, team, overrides), decide who is
paid (cli.md "Who is paid"), compute every component from exact values, round each
component once half-up and split it into lines by largest remainder, apply component
caps, the plan cap, then the draw. Everything is ``Decimal`` in ``money.CONTEXT``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, localcontext

from commissions.engine.components import Calculation, PayeeCredit, credited_money
from commissions.engine.credit import Credits, Shares, assign_credit, counting_deals, manager_chains
from commissions.engine.errors import InputError, PeriodError
from commissions.engine.inputs import (
    COUNT_METRICS,
    LEAD_METRICS,
    LEAD_STAGE_OF,
    Campaign,
    Deal,
    DrawBalance,
    ExchangeRate,
    LeadEvent,
    Period,
    Person,
    Quota,
    parse_period,
)
from commissions.engine.money import CONTEXT, ZERO, minor_digits
from commissions.engine.payout import pay
from commissions.engine.plan import Plan
from commissions.engine.rates import RateBook
from commissions.engine.result import Payee, Result, paused_gc


def calculate(
    plan: Plan,
    period: Period | str,
    people: Iterable[Person],
    quotas: Iterable[Quota],
    deals: Iterable[Deal],
    campaigns: Iterable[Campaign] = (),
    *,
    draw_balances: Iterable[DrawBalance] | Mapping[str, Decimal] = (),
    participants: Iterable[str] | None = None,
    leads: Iterable[LeadEvent] = (),
    rates: Iterable[ExchangeRate] | RateBook = (),
) -> Result:
    """Compute one period of ``plan``.

    ``people`` are everyone (for manager chains and splits); ``participants`` the emails
    the plan applies to (default: everyone). ``deals`` may hold deals of other periods;
    only those closed inside ``period`` count. ``draw_balances`` carries recoverable
    draw balances in. Raises ``InputError`` for inconsistent inputs; per-person
    problems (no quota) are reported on the payee. ``leads`` are lead events in stage
    order; only plans on a lead metric (mqls, sqls, pipeline) credit them, and those
    plans credit nothing else. ``rates`` convert the deals in another currency than the
    plan's (plans.md 3; ``commissions.engine.rates``): each such deal that counts is converted
    once, with the latest rate on or before its ``closed_at``, and its lines say so.
    """
    # The calculation allocates millions of small acyclic objects; the cyclic garbage
    # collector would rescan them over and over (quadratic-looking slowdowns on big
    # periods), so it is paused for the call and restored after.
    with paused_gc(), localcontext(CONTEXT):
        return _calculate(plan, period, people, quotas, deals, campaigns, draw_balances, participants, leads, rates)


def lead_deals(plan: Plan, leads: Iterable[LeadEvent]) -> tuple[list[Deal], list[str]]:
    """A lead metric's events as deals credited to the lead's owner: one per event of the
    metric's stage, amount 0 for the counts (mqls, sqls), the opportunity amount for
    pipeline (in another currency than the plan's: not credited, with a warning)."""
    stage = LEAD_STAGE_OF[plan.metric]
    deals: list[Deal] = []
    warnings: list[str] = []
    for event in leads:
        if event.stage != stage:
            continue
        amount, currency = ZERO, plan.currency
        if plan.metric == "pipeline":
            if event.amount is None or event.currency != plan.currency:
                warnings.append(
                    f"lead {event.lead}: opportunity in {event.currency or 'no currency'}, "
                    f"the plan pays in {plan.currency}: not credited"
                )
                continue
            amount = event.amount
        deals.append(
            Deal(
                external_id=f"{event.lead}:{event.stage}",
                owner=event.owner,
                amount=amount,
                currency=currency,
                closed_at=event.occurred_at,
                name=f"{stage} {event.lead}",
                source_campaign=event.campaign,
            )
        )
    deals.sort(key=lambda d: (d.closed_at, d.external_id))
    return deals, warnings


def _calculate(
    plan: Plan,
    period: Period | str,
    people: Iterable[Person],
    quotas: Iterable[Quota],
    deals: Iterable[Deal],
    campaigns: Iterable[Campaign],
    draw_balances: Iterable[DrawBalance] | Mapping[str, Decimal],
    participants: Iterable[str] | None,
    leads: Iterable[LeadEvent],
    rates: Iterable[ExchangeRate] | RateBook,
) -> Result:
    if isinstance(period, str):
        period = parse_period(period)
    if period.kind != plan.period:
        raise PeriodError(f"period {period.key} is a {period.kind}, but plan {plan.name!r} pays per {plan.period}")
    lead_warnings: list[str] = []
    if plan.metric in LEAD_METRICS:
        deals, lead_warnings = lead_deals(plan, leads)
    index = _people_index(people)
    chains = manager_chains(index)
    campaign_index = _campaign_index(campaigns, index)
    targets = _targets(plan.metric, period, quotas, index)
    balances = _balances(draw_balances)
    members = set(index) if participants is None else _members(participants, index)
    book = rates if isinstance(rates, RateBook) else RateBook(rates)
    counted = counting_deals(plan, period, deals, index, book)
    credits = assign_credit(plan, counted, chains, campaign_index)
    del counted  # the credits hold what is needed; a million-deal list is not kept for the rest
    credits.warnings.extend(lead_warnings)
    payees = _payees(plan, period, credits, members, targets, balances)
    return Result(plan.name, period, plan.currency, plan.metric, tuple(payees), tuple(credits.warnings))


def _payees(
    plan: Plan,
    period: Period,
    credits: Credits,
    members: set[str],
    targets: Mapping[str, Decimal],
    balances: Mapping[str, Decimal],
) -> list[Payee]:
    """Everyone the plan pays, in email order: a member with a quota or any credit."""
    own = credits.own
    team = plan.credit.scope == "team"
    on_reports = any(component.pays_on_reports for component in plan.components)
    count_metric = plan.metric in COUNT_METRICS
    needs_attainment = any(c.needs_attainment for c in plan.components)
    moneys: dict[str, list[Decimal]] = {}  # credited money per own entry, computed once per person
    report_totals: dict[str, Decimal] = {}
    if on_reports:
        for person, held in own.items():
            moneys[person] = credited_money(held)
            report_totals[person] = sum(moneys[person], ZERO)
    calculation = Calculation(minor_digits(plan.currency), count_metric, report_totals)
    payees = []
    for person in sorted(members):
        has_reports_credit = (team or on_reports) and credits.has_report_credit(person)
        if person not in targets and person not in own and not has_reports_credit:
            continue  # neither a quota nor any credit: not paid under this plan
        entries: Shares
        if team:
            entries = Shares.of(credits.team_entries(person))
            person_moneys = credited_money(entries)
        else:
            entries = own.get(person) or Shares()
            person_moneys = moneys.get(person) or credited_money(entries)
        credit = PayeeCredit(person, entries, person_moneys, count_metric, targets.get(person), credits)
        payees.append(pay(plan, period, credit, calculation, needs_attainment, balances.get(person)))
    return payees


def _people_index(people: Iterable[Person]) -> dict[str, Person]:
    index: dict[str, Person] = {}
    for person in people:
        if person.email in index:
            raise InputError(f"person {person.email} is listed twice")
        index[person.email] = person
    return index


def _campaign_index(campaigns: Iterable[Campaign], people: Mapping[str, Person]) -> dict[str, Campaign]:
    index: dict[str, Campaign] = {}
    for campaign in campaigns:
        if campaign.owner not in people:
            raise InputError(f"campaign {campaign.code}: owner {campaign.owner} is not a known person")
        index[campaign.code] = campaign
    return index


def _targets(metric: str, period: Period, quotas: Iterable[Quota], people: Mapping[str, Person]) -> dict[str, Decimal]:
    """Each person's quota target for the plan's metric in the period."""
    targets: dict[str, Decimal] = {}
    for quota in quotas:
        if quota.metric != metric or quota.period != period.key:
            continue
        if quota.person not in people:
            raise InputError(f"quota for {quota.person}, who is not a known person")
        if quota.person in targets:
            raise InputError(f"two {metric} quotas for {quota.person} in {period.key}")
        targets[quota.person] = quota.target
    return targets


def _balances(draw_balances: Iterable[DrawBalance] | Mapping[str, Decimal]) -> dict[str, Decimal]:
    if isinstance(draw_balances, Mapping):
        return dict(draw_balances)
    return {balance.person: balance.balance for balance in draw_balances}


def _members(participants: Iterable[str], people: Mapping[str, Person]) -> set[str]:
    members: set[str] = set()
    for email in participants:
        if email not in people:
            raise InputError(f"participant {email} is not a known person")
        members.add(email)
    return members
