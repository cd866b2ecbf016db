"""What-if: "if I close a 40,000 deal…" computed by the engine on the real inputs, saving nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from commissions import engine as eng
from commissions.calculation.loader import load_period_inputs, plans_in_period
from commissions.calculation.rows import stored_id
from commissions.core.formatting import metric_name
from commissions.core.i18n import gettext as _
from commissions.engine.inputs import NO_CUSTOM
from commissions.engine.money import format_amount as plain_amount
from commissions.engine.money import format_percent
from commissions.engine.plan import TieredComponent
from commissions.models import Person

WHAT_IF_ID = "WHAT-IF"


def format_amount(value: Decimal, digits: int) -> str:
    """An amount in a sentence a person reads, digits grouped as pages show money: ``12,000.00``."""
    return f"{Decimal(plain_amount(value, digits)):,}"


@dataclass(frozen=True, slots=True)
class WhatIfLine:
    """What the deal changes in one component: the difference it makes, and the sentence of its line."""

    component: str
    amount: Decimal
    text: str


@dataclass(frozen=True, slots=True)
class WhatIfAnswer:
    plan: str
    currency: str
    amount: Decimal
    before: Decimal | None
    after: Decimal | None
    attainment_before: Decimal | None
    attainment_after: Decimal | None
    tier: str | None  # "tier 2 (100%-150% of quota) at 15%"
    next_tier: str | None  # "another 12000.00 takes you to tier 3 at 20%"
    errors: tuple[str, ...] = ()
    lines: tuple[WhatIfLine, ...] = ()

    @property
    def extra(self) -> Decimal | None:
        return None if self.before is None or self.after is None else self.after - self.before

    def money(self, value: Decimal | None) -> str:
        return "" if value is None else format_amount(value, eng.minor_digits(self.currency))


def _tier_index(bounds: tuple[Decimal, ...], attainment: Decimal) -> int:
    """Tier i covers (bound i-1, bound i]: exactly at a bound belongs to the lower tier."""
    return sum(1 for bound in bounds if attainment > bound)


def _describe_tier(tiered: TieredComponent, index: int) -> str:
    bounds, rates = tiered.bounds, tiered.rates
    if index == 0:
        span = f"up to {format_percent(bounds[0])}" if bounds else "all"
    elif index >= len(bounds):
        span = f"over {format_percent(bounds[-1])}"
    else:
        span = f"{format_percent(bounds[index - 1])}-{format_percent(bounds[index])}"
    return f"tier {index + 1} ({span} of quota) at {format_percent(rates[index])}"


def _payee(result: eng.Result, email: str) -> eng.Payee | None:
    return next((p for p in result.payees if p.person == email), None)


def _changed_lines(before: eng.Payee | None, after: eng.Payee) -> tuple[WhatIfLine, ...]:
    """Per component of ``after``: how much the deal adds (or takes), with its own line's sentence."""
    lines = []
    for component in after.components:
        was = before.component(component.name) if before is not None else None
        delta = component.amount - (was.amount if was is not None else Decimal(0))
        texts = [line.text for line in component.lines if line.deal_id == WHAT_IF_ID]
        if delta or texts:
            text = "; ".join(texts) or f"{component.name} changes by {delta} with this deal"
            lines.append(WhatIfLine(component.name, delta, text))
    return tuple(lines)


def what_if(
    session: Session,
    person: Person,
    period_key: str,
    amount: Decimal,
    *,
    today: date | None = None,
    product: str | None = None,
    deal_type: str = "new",
    term_months: int | None = None,
    closed_at: date | None = None,
    currency: str | None = None,
    source_campaign: str | None = None,
    custom: Mapping[str, str] | None = None,
) -> list[WhatIfAnswer]:
    """One answer per plan the person is on in the period; the database is only read. The deal closes
    ``closed_at`` (else today), moved into the period, in ``currency`` (else the plan's)."""
    period = eng.parse_period(period_key)
    plans = [
        p for p in plans_in_period(session, period, invalid={}) if any(a.person_id == person.id for a in p.assignments)
    ]
    if not plans:
        return []
    inputs = load_period_inputs(session, period)
    closed = min(max(closed_at or today or date.today(), period.start), period.end)
    answers = []
    for plan in plans:
        parsed = plan.parsed
        deal = eng.Deal(
            external_id=WHAT_IF_ID,
            owner=person.email,
            amount=amount,
            currency=currency or parsed.currency,
            closed_at=closed,
            name="what-if",
            type=deal_type,
            product=product,
            term_months=term_months,
            source_campaign=source_campaign,
            custom=dict(custom) if custom else NO_CUSTOM,
        )
        quotas = inputs.quotas_for(plan)
        args = (parsed, period, inputs.people, quotas)
        rates = inputs.rate_book
        before = _payee(
            eng.calculate(*args, inputs.deals, inputs.campaigns, participants=[person.email], rates=rates), person.email
        )
        after = _payee(
            eng.calculate(*args, [*inputs.deals, deal], inputs.campaigns, participants=[person.email], rates=rates),
            person.email,
        )
        if after is None:
            continue
        tier = next_tier = None
        tiered = next((c for c in parsed.components if isinstance(c, TieredComponent) and c.on == "attainment"), None)
        if tiered is not None and after.attainment is not None and after.quota:
            index = _tier_index(tiered.bounds, after.attainment)
            tier = _describe_tier(tiered, index)
            if index < len(tiered.bounds):
                needed = tiered.bounds[index] * after.quota - after.credited
                next_tier = (
                    f"another {format_amount(needed, eng.minor_digits(parsed.currency))} of "
                    f"{parsed.metric.replace('_', ' ')} after it takes you to {_describe_tier(tiered, index + 1)}"
                )
        answers.append(
            WhatIfAnswer(
                plan=parsed.name,
                currency=parsed.currency,
                amount=amount,
                before=before.total if before else Decimal(0),
                after=after.total,
                attainment_before=before.attainment if before else None,
                attainment_after=after.attainment,
                tier=tier,
                next_tier=next_tier,
                errors=after.errors,
                lines=_changed_lines(before, after),
            )
        )
    return answers


def next_tier_hints(session: Session, person: Person, period_key: str) -> list[str]:
    """ "Next 12,000.00 of bookings takes you to the 15% tier": the distance to the next tier, per plan,
    from the engine's own figures (credit rules, quota, proration), for the person's own eyes."""
    period = eng.parse_period(period_key)
    plans = [
        p
        for p in plans_in_period(session, period, {stored_id(person)}, invalid={})
        if any(a.person_id == person.id for a in p.assignments)
    ]
    if not plans:
        return []
    inputs = load_period_inputs(session, period, focus={stored_id(person)})
    hints = []
    for plan in plans:
        parsed = plan.parsed
        tiered = next((c for c in parsed.components if isinstance(c, TieredComponent) and c.on == "attainment"), None)
        if tiered is None:
            continue
        payee = _payee(
            eng.calculate(
                parsed,
                period,
                inputs.people,
                inputs.quotas_for(plan),
                inputs.deals,
                inputs.campaigns,
                participants=[person.email],
                rates=inputs.rate_book,
            ),
            person.email,
        )
        if payee is None or payee.attainment is None or not payee.quota:
            continue
        index = _tier_index(tiered.bounds, payee.attainment)
        metric = metric_name(parsed.metric).lower()
        if index >= len(tiered.bounds):
            hints.append(
                _("You are in the top tier of %(plan)s: %(rate)s on all further %(metric)s.")
                % {"plan": parsed.name, "rate": format_percent(tiered.rates[index]), "metric": metric}
            )
            continue
        needed = tiered.bounds[index] * payee.quota - payee.credited
        hints.append(
            _("Next %(amount)s of %(metric)s takes you to the %(rate)s tier of %(plan)s.")
            % {
                "amount": format_amount(needed, eng.minor_digits(parsed.currency)),
                "metric": metric,
                "rate": format_percent(tiered.rates[index + 1]),
                "plan": parsed.name,
            }
        )
    return hints
