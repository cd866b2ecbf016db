"""Marketing campaigns: who may edit them, validated create/update (audited), and sourced revenue per period.

The caller owns the transaction (``commissions.core.db.transaction``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core.audit import record_event
from commissions.core.db import transaction, write
from commissions.core.errors import Forbidden, InputProblem
from commissions.core.money import MoneyError, currency_problem, format_money, from_minor, to_minor, typed_number
from commissions.core.periods import CLOSED_STATES, PeriodKey
from commissions.core.principal import Principal
from commissions.core.upserts import ItemProblem, Outcome, UpsertRefused, UpsertReport
from commissions.models import Campaign, Deal, Person, Team
from commissions.people.queries import normalise_email, person_by_email
from commissions.people.service import report_ids

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_COST = Decimal(1000000000000)
INTEGRATORS = frozenset({"admin", "finance"})  # who may PUT /api/v1/campaigns (api.md)


class CampaignInput(BaseModel):
    """The campaign form (and a campaigns.csv row: code,name,owner,channel,cost,start,end) as typed."""

    code: str = ""
    name: str = ""
    owner: str = ""
    channel: str = ""
    cost: str = ""
    currency: str = "USD"
    start: str = ""
    end: str = ""

    @classmethod
    def from_campaign(cls, campaign: Campaign, owner_email: str) -> CampaignInput:
        return cls(
            code=campaign.code,
            name=campaign.name,
            owner=owner_email,
            channel=campaign.channel,
            cost=str(from_minor(campaign.cost_minor, campaign.currency)),
            currency=campaign.currency,
            start=campaign.starts_on.isoformat() if campaign.starts_on else "",
            end=campaign.ends_on.isoformat() if campaign.ends_on else "",
        )


# ---------------------------------------------------------------- who may edit


def is_marketing_manager(session: Session, principal: Principal) -> bool:
    if principal.role != "manager" or principal.person_id is None:
        return False
    kind = session.exec(
        select(Team.kind).join(Person, col(Person.team_id) == Team.id).where(Person.id == principal.person_id)
    ).first()
    return kind == "marketing"


def can_edit_campaigns(session: Session, principal: Principal) -> bool:
    """Admins, and managers of a marketing team; everyone else reads."""
    return principal.role == "admin" or is_marketing_manager(session, principal)


def owner_scope(session: Session, principal: Principal) -> set[int] | None:
    """Whom the caller may make a campaign's owner (and whose campaigns they may edit): None = anyone.

    The owner is credited with the campaign's sourced revenue, which pays marketers, so a
    marketing manager assigns campaigns within their own team only.
    """
    if principal.role in INTEGRATORS:  # finance only reaches here through PUT /api/v1/campaigns
        return None
    if is_marketing_manager(session, principal):
        return {principal.person_id, *report_ids(session, principal.person_id)}  # type: ignore[arg-type]
    return set()


def require_editor(session: Session, principal: Principal) -> None:
    if not can_edit_campaigns(session, principal):
        raise Forbidden("Only admins and marketing managers edit campaigns.")


# ---------------------------------------------------------------- create and update


def _date(text: str, field_name: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InputProblem(field_name, f"{text!r} is not a date: write it like 2026-01-31") from exc


@dataclass(frozen=True, slots=True)
class _Valid:
    code: str
    name: str
    owner: Person
    channel: str
    cost_minor: int
    currency: str
    starts_on: date | None
    ends_on: date | None


def _validate(session: Session, principal: Principal, data: CampaignInput, *, existing: Campaign | None) -> _Valid:
    code = existing.code if existing is not None else data.code.strip()
    if not code:
        raise InputProblem("code", "is required")
    if not CODE_RE.match(code):
        raise InputProblem("code", "use up to 64 letters, digits, dots, dashes or underscores, e.g. WEB-SEO")
    if existing is None and session.exec(select(Campaign.id).where(func.lower(Campaign.code) == code.lower())).first():
        raise InputProblem("code", f"{code} already exists")
    name = " ".join(data.name.split())
    if not name:
        raise InputProblem("name", "is required")
    if len(name) > 200:
        raise InputProblem("name", "is longer than 200 characters")
    email = normalise_email(data.owner)
    if not email:
        raise InputProblem("owner", "is required: the email of the marketer credited with its revenue")
    owner = person_by_email(session, email)
    scope = owner_scope(session, principal)
    if owner is None or not owner.active or (scope is not None and owner.id not in scope):
        where = "" if scope is None else " in your team"
        raise InputProblem("owner", f"no active person with email {email}{where}")
    channel = data.channel.strip()
    if len(channel) > 64:
        raise InputProblem("channel", "is longer than 64 characters")
    currency = (data.currency.strip() or "USD").upper()
    if (problem := currency_problem(currency)) is not None:
        raise InputProblem("currency", problem)
    try:
        cost_minor = to_minor(typed_number(data.cost) or "0", currency)
    except MoneyError as exc:
        raise InputProblem("cost", str(exc)) from exc
    if cost_minor < 0:
        raise InputProblem("cost", "a campaign's cost cannot be negative")
    if from_minor(cost_minor, currency) > MAX_COST:
        raise InputProblem("cost", f"{data.cost} is too large: a campaign's cost is at most {MAX_COST:,}")
    starts_on, ends_on = _date(data.start, "start"), _date(data.end, "end")
    if starts_on and ends_on and ends_on < starts_on:
        raise InputProblem("end", "is before the start")
    return _Valid(code, name, owner, channel, cost_minor, currency, starts_on, ends_on)


def _snapshot(c: Campaign) -> dict[str, str | None]:
    return {
        "code": c.code,
        "name": c.name,
        "owner_id": str(c.owner_id),
        "channel": c.channel,
        "cost": str(from_minor(c.cost_minor, c.currency)),
        "currency": c.currency,
        "start": c.starts_on.isoformat() if c.starts_on else None,
        "end": c.ends_on.isoformat() if c.ends_on else None,
    }


def create_campaign(session: Session, principal: Principal, data: CampaignInput) -> Campaign:
    require_editor(session, principal)
    return _insert(session, principal, _validate(session, principal, data, existing=None))


def _insert(session: Session, principal: Principal, v: _Valid) -> Campaign:
    campaign = Campaign(
        code=v.code,
        name=v.name,
        owner_id=stored_id(v.owner),
        channel=v.channel,
        cost_minor=v.cost_minor,
        currency=v.currency,
        starts_on=v.starts_on,
        ends_on=v.ends_on,
    )
    session.add(campaign)
    session.flush()
    record_event(session, principal, "campaign.create", "campaign", campaign.id, _snapshot(campaign))
    recredit_campaign(
        session, campaign.code, {campaign.owner_id}, what=f"campaign {campaign.code} created", actor=principal
    )
    return campaign


def editable_campaign(session: Session, principal: Principal, campaign_id: int) -> Campaign | None:
    """The campaign if it exists; Forbidden unless the caller may edit it (a marketing manager: their team's)."""
    require_editor(session, principal)
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        return None
    scope = owner_scope(session, principal)
    if scope is not None and campaign.owner_id not in scope:
        raise Forbidden("This campaign belongs to someone outside your team.")
    return campaign


def update_campaign(session: Session, principal: Principal, campaign: Campaign, data: CampaignInput) -> Campaign:
    """Update everything but the code (deals refer to campaigns by code)."""
    return _apply(session, principal, campaign, _validate(session, principal, data, existing=campaign))


def _apply(session: Session, principal: Principal, campaign: Campaign, v: _Valid) -> Campaign:
    before = _snapshot(campaign)
    previous_owner = campaign.owner_id
    campaign.name, campaign.owner_id, campaign.channel = v.name, stored_id(v.owner), v.channel
    campaign.cost_minor, campaign.currency = v.cost_minor, v.currency
    campaign.starts_on, campaign.ends_on = v.starts_on, v.ends_on
    session.add(campaign)
    session.flush()
    after = _snapshot(campaign)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        record_event(
            session, principal, "campaign.update", "campaign", campaign.id, {"code": campaign.code, "changes": changes}
        )
    if previous_owner != campaign.owner_id:
        recredit_campaign(
            session,
            campaign.code,
            {previous_owner, campaign.owner_id},
            what=f"campaign {campaign.code} re-owned",
            actor=principal,
        )
    return campaign


def recredit_campaign(session: Session, code: str, owners: set[int], *, what: str, actor: Principal | None) -> None:
    """A campaign's deals credit its owner (plans.md 3, whatever the campaign's dates): when a campaign appears,
    changes owner or goes, the statements of the owners and everyone above them change in every period
    holding one of its deals (deals often arrive from the CRM before the campaign is set up here). Open
    periods are recomputed; locked ones get prior-period adjustments."""
    from commissions.adjustments.prior_period import book_locked_change
    from commissions.calculation.loader import periods_touching
    from commissions.calculation.state import touch, with_managers
    from commissions.core.periods import lock_period
    from commissions.models import Period

    days = set(session.exec(select(col(Deal.closed_at)).where(Deal.source_campaign == code).distinct()).all())
    if not days:
        return
    keys = periods_touching(session, days)
    for key in sorted(keys):
        lock_period(session, key)
    people = with_managers(session, owners)
    for period in session.exec(
        select(Period).where(col(Period.key).in_(keys), col(Period.state).in_(CLOSED_STATES)).order_by(Period.key)
    ).all():
        book_locked_change(session, period=period, people=people, deal=None, what=what, actor=actor, trigger=what)
    touch(session, people, keys)


# ---------------------------------------------------------------- PUT /api/v1/campaigns


def _same(campaign: Campaign, v: _Valid) -> bool:
    return (campaign.name, campaign.owner_id, campaign.channel, campaign.cost_minor, campaign.currency) == (
        v.name,
        v.owner.id,
        v.channel,
        v.cost_minor,
        v.currency,
    ) and (campaign.starts_on, campaign.ends_on) == (v.starts_on, v.ends_on)


def upsert_campaigns(session: Session, principal: Principal, items: Sequence[CampaignInput]) -> UpsertReport:
    """Create or update campaigns by ``code`` (case-insensitive), all or nothing, with the form's rules.

    An item's empty ``currency`` keeps the stored one (USD for a new campaign). Every bad item is
    reported (``UpsertRefused``: index, field, message) and nothing is written; an item equal to what
    is stored writes nothing and queues nothing. An owner change re-credits the campaign's deals.
    """
    if principal.role not in INTEGRATORS:
        raise Forbidden("Only admins and finance load campaigns through the API.")
    problems: list[ItemProblem] = []
    first_index: dict[str, int] = {}
    work: list[tuple[Campaign | None, _Valid]] = []
    for index, data in enumerate(items):
        code = data.code.strip()
        if code.lower() in first_index:
            problems.append(ItemProblem(index, "code", f"{code} is also item {first_index[code.lower()]} of this list"))
            continue
        first_index[code.lower()] = index
        existing = (
            session.exec(select(Campaign).where(func.lower(Campaign.code) == code.lower())).first() if code else None
        )
        if existing is not None and not data.currency.strip():
            data = data.model_copy(update={"currency": existing.currency})
        try:
            work.append((existing, _validate(session, principal, data, existing=existing)))
        except InputProblem as exc:
            problems.append(ItemProblem(index, exc.field, exc.message))
    if problems:
        raise UpsertRefused(problems)
    outcomes: list[tuple[str, Outcome]] = []
    for existing, v in work:
        if existing is None:
            outcomes.append((_insert(session, principal, v).code, "created"))
        elif _same(existing, v):
            outcomes.append((existing.code, "unchanged"))
        else:
            outcomes.append((_apply(session, principal, existing, v).code, "updated"))
    return UpsertReport.of(outcomes)


def upsert_campaigns_in(engine: Engine, principal: Principal, items: Sequence[CampaignInput]) -> UpsertReport:
    """``upsert_campaigns`` in a transaction of its own, run again if a concurrent request created one of
    the codes first (the unique code refuses the second insert; the next try updates that campaign)."""
    return write(engine, lambda session: upsert_campaigns(session, principal, items))


# ---------------------------------------------------------------- the list


@dataclass
class CampaignRow:
    campaign: Campaign
    owner_name: str
    owner_email: str
    sourced: list[tuple[str, int]] = field(default_factory=list)  # (currency, minor) of won deals in the period
    deals: int = 0
    editable: bool = False

    @property
    def cost(self) -> str:
        return format_money(self.campaign.cost_minor, self.campaign.currency)

    @property
    def sourced_display(self) -> list[str]:
        return [format_money(minor, currency) for currency, minor in self.sourced] or [
            format_money(0, self.campaign.currency)
        ]


def sourced_by_campaign(session: Session, key: PeriodKey) -> tuple[dict[str, list[tuple[str, int]]], dict[str, int]]:
    """Sourced revenue in ``key`` as plans credit it (``sourced_revenue``, plans.md): per campaign code, the won
    deals closed in the period that name it as their source campaign, counted in full, as (currency, minor)
    sums per currency; and how many deals."""
    totals: dict[str, list[tuple[str, int]]] = {}
    counts: dict[str, int] = {}
    for code, currency, amount, count in session.exec(
        select(Deal.source_campaign, Deal.currency, func.sum(Deal.amount_minor), func.count())
        .where(
            Deal.status == "won",
            Deal.closed_at >= key.starts_on,
            Deal.closed_at <= key.ends_on,
            col(Deal.source_campaign).is_not(None),
        )
        .group_by(Deal.source_campaign, Deal.currency)
        .order_by(Deal.source_campaign, Deal.currency)
    ):
        if not code:  # the query leaves out deals without a campaign (an empty one names none)
            continue
        totals.setdefault(code, []).append((currency, int(amount)))
        counts[code] = counts.get(code, 0) + int(count)
    return totals, counts


def campaign_rows(session: Session, principal: Principal, key: PeriodKey) -> list[CampaignRow]:
    """Every campaign with its sourced revenue in ``key``: won deals whose source_campaign is its code,
    closed in the period, counted in full (splits do not matter for sourcing), per currency."""
    rows = session.exec(
        select(Campaign, Person.name, Person.email)
        .join(Person, col(Person.id) == Campaign.owner_id)
        .order_by(Campaign.code)
    ).all()
    totals, counts = sourced_by_campaign(session, key)
    scope = owner_scope(session, principal)
    editor = can_edit_campaigns(session, principal)
    return [
        CampaignRow(
            c,
            name,
            email,
            totals.get(c.code, []),
            counts.get(c.code, 0),
            editor and (scope is None or c.owner_id in scope),
        )
        for c, name, email in rows
    ]


# ---- the page's writes, each in its own transaction ---------------------------------------------


def create_campaign_in(engine: Engine, principal: Principal, data: CampaignInput) -> Campaign:
    """``create_campaign`` in a transaction of its own."""
    with transaction(engine) as session:
        return create_campaign(session, principal, data)


def update_campaign_by_id(
    engine: Engine, principal: Principal, campaign_id: int, data: CampaignInput
) -> Campaign | None:
    """``update_campaign`` in a transaction of its own; None if the principal may not edit such a campaign."""
    with transaction(engine) as session:
        campaign = editable_campaign(session, principal, campaign_id)
        if campaign is None:
            return None
        return update_campaign(session, principal, campaign, data)
