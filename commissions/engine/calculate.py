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

from commissions.engine import components as kinds
from commissions.engine.components import PayeeCredit, credited_money
from commissions.engine.credit import assign_credit, counting_deals, manager_chains
from commissions.engine.errors import InputError, PeriodError
from commissions.engine.inputs import (
    COUNT_METRICS,
    LEAD_METRICS,
    LEAD_STAGE_OF,
    Campaign,
    Deal,
    DrawBalance,
    LeadEvent,
    Period,
    Person,
    Quota,
    parse_period,
)
from commissions.engine.money import CONTEXT, ZERO, minor_digits, round_money
from commissions.engine.plan import (
    OverrideComponent,
    Plan,
)
from commissions.engine.result import (
    CapLine,
    ComponentContext,
    ComponentResult,
    DrawLine,
    LineSource,
    Payee,
    Result,
    paused_gc,
)


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
) -> Result:
    """Compute one period of ``plan``.

    ``people`` are everyone (for manager chains and splits); ``participants`` the emails
    the plan applies to (default: everyone). ``deals`` may hold deals of other periods;
    only those closed inside ``period`` count. ``draw_balances`` carries recoverable
    draw balances in. Raises ``InputError`` for inconsistent inputs; per-person
    problems (no quota) are reported on the payee. ``leads`` are lead events in stage
    order; only plans on a lead metric (mqls, sqls, pipeline) credit them, and those
    plans credit nothing else.
    """
    # The calculation allocates millions of small acyclic objects; the cyclic garbage
    # collector would rescan them over and over (quadratic-looking slowdowns on big
    # periods), so it is paused for the call and restored after.
    with paused_gc(), localcontext(CONTEXT):
        return _calculate(plan, period, people, quotas, deals, campaigns, draw_balances, participants, leads)


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


def _calculate(plan, period, people, quotas, deals, campaigns, draw_balances, participants, leads=()) -> Result:
    if isinstance(period, str):
        period = parse_period(period)
    if period.kind != plan.period:
        raise PeriodError(f"period {period.key} is a {period.kind}, but plan {plan.name!r} pays per {plan.period}")
    digits = minor_digits(plan.currency)
    metric = plan.metric
    lead_warnings: list[str] = []
    if metric in LEAD_METRICS:
        deals, lead_warnings = lead_deals(plan, leads)

    index: dict[str, Person] = {}
    for person in people:
        if person.email in index:
            raise InputError(f"person {person.email} is listed twice")
        index[person.email] = person
    chains = manager_chains(index)

    campaign_index: dict[str, Campaign] = {}
    for campaign in campaigns:
        if campaign.owner not in index:
            raise InputError(f"campaign {campaign.code}: owner {campaign.owner} is not a known person")
        campaign_index[campaign.code] = campaign

    targets: dict[str, Decimal] = {}
    for quota in quotas:
        if quota.metric != metric or quota.period != period.key:
            continue
        if quota.person not in index:
            raise InputError(f"quota for {quota.person}, who is not a known person")
        if quota.person in targets:
            raise InputError(f"two {metric} quotas for {quota.person} in {period.key}")
        targets[quota.person] = quota.target

    balances: dict[str, Decimal] = {}
    if isinstance(draw_balances, Mapping):
        balances = dict(draw_balances)
    else:
        for balance in draw_balances:
            balances[balance.person] = balance.balance

    if participants is None:
        members = set(index)
    else:
        members = set()
        for email in participants:
            if email not in index:
                raise InputError(f"participant {email} is not a known person")
            members.add(email)

    has_override = any(isinstance(c, OverrideComponent) for c in plan.components)
    team = plan.credit.scope == "team"
    counted = counting_deals(plan, period, deals, index)
    credits = assign_credit(plan, counted, chains, campaign_index)
    credits.warnings.extend(lead_warnings)
    own = credits.own
    count_metric = metric in COUNT_METRICS
    needs_attainment = any(c.needs_attainment for c in plan.components)
    specs = [kinds.Spec(component) for component in plan.components]

    moneys: dict[str, list[Decimal]] = {}  # credited money per own entry, computed once per person
    report_totals: dict[str, Decimal] = {}
    if has_override:
        for person, entries in own.items():
            moneys[person] = credited_money(entries)
            report_totals[person] = sum(moneys[person], ZERO)

    payees = []
    for person in sorted(members):
        has_reports_credit = (team or has_override) and credits.has_report_credit(person)
        if person not in targets and person not in own and not has_reports_credit:
            continue  # neither a quota nor any credit: not paid under this plan
        if team:
            entries = credits.team_entries(person)
            person_moneys = credited_money(entries)
        else:
            entries = own.get(person, [])
            person_moneys = moneys.get(person) or credited_money(entries)
        credit = PayeeCredit(person, entries, person_moneys, count_metric, targets.get(person), credits)
        payees.append(
            _payee(
                plan,
                specs,
                period,
                credit,
                needs_attainment,
                report_totals,
                balances.get(person),
                digits,
            )
        )
    return Result(plan.name, period, plan.currency, metric, tuple(payees), tuple(credits.warnings))


def _payee(
    plan: Plan,
    specs: list[kinds.Spec],
    period: Period,
    credit: PayeeCredit,
    needs_attainment: bool,
    report_totals: dict[str, Decimal],
    balance: Decimal | None,
    digits: int,
) -> Payee:
    person, quota = credit.person, credit.quota
    errors: list[str] = []
    if needs_attainment:
        if quota is None:
            errors.append(f"no {plan.metric} quota for {person} in {period.key}")
        elif quota <= 0:
            errors.append(f"the {plan.metric} quota for {person} in {period.key} is {quota}; a target must be > 0")
    recoverable = plan.draw is not None and plan.draw.recoverable
    balance_in = round_money(balance or ZERO, digits) if recoverable else None
    if errors:
        return Payee(
            person,
            credit.credited,
            quota,
            None,
            (),
            None,
            tuple(errors),
            balance_in,
            balance_in,
        )

    results: list[ComponentResult] = []
    earned = ZERO
    count_metric = plan.metric in COUNT_METRICS
    for component in specs:
        ctx = ComponentContext(
            component.name,
            component.kind,
            digits,
            attainment=credit.attainment,
            quota=quota,
        )
        source: LineSource
        kind = component.kind
        if kind == "tiered":
            ctx.bounds, ctx.rates, ctx.on, ctx.mode = (
                component.bounds,
                component.rates,
                component.on,
                component.mode,
            )
            source = kinds.tiered(component, credit, ctx)
        elif kind == "per_deal":
            ctx.extra = (
                component.pay,
                component.rate,
                component.condition.fields if component.condition else (),
            )
            source = kinds.per_deal(component, credit, ctx)
        elif kind == "bonus":
            ctx.extra = (component.at, component.pay)
            source = kinds.bonus(component, credit, ctx)
        elif kind == "curve":
            source = kinds.curve(component, credit, ctx, count_metric)
        else:
            ctx.extra = (component.rate,)
            source = kinds.override(component, credit, ctx, report_totals)
        # the component total: exact values summed, rounded once, half-up
        amount = round_money(source.exact_total, digits)
        results.append(ComponentResult(component.name, component.kind, amount, None, source, digits))
        earned += amount
        if component.cap is not None and amount > component.cap:
            cut = component.cap - amount
            cap_line = CapLine(
                cut,
                ComponentContext(component.name, "cap", digits),
                component.cap,
                amount,
            )
            results.append(ComponentResult(f"cap: {component.name}", "cap", cut, (cap_line,)))
            earned += cut

    if plan.cap is not None and earned > plan.cap:
        cut = plan.cap - earned
        cap_line = CapLine(cut, ComponentContext("cap", "cap", digits), plan.cap, earned)
        results.append(ComponentResult("cap", "cap", cut, (cap_line,)))
        earned += cut

    total = earned
    balance_out = balance_in
    if plan.draw is not None:
        draw = plan.draw.amount
        ctx = ComponentContext("draw", "draw", digits, extra=(draw, plan.draw.recoverable))
        adjustment = ZERO
        if earned < draw:
            adjustment = round_money(draw - earned, digits)
            if recoverable:
                balance_out = (balance_in or ZERO) + adjustment
        elif recoverable and balance_in:
            adjustment = -min(earned - draw, balance_in)
            balance_out = balance_in + adjustment
        if adjustment:
            line = DrawLine(
                adjustment,
                ctx,
                earned,
                balance_in or ZERO,
                balance_out if balance_out is not None else ZERO,
            )
            results.append(ComponentResult("draw", "draw", adjustment, (line,)))
            total += adjustment
    return Payee(
        person,
        credit.credited,
        quota,
        credit.attainment,
        tuple(results),
        total,
        (),
        balance_in,
        balance_out,
    )
