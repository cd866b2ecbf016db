"""The demo organisation: a believable company with one quarter of deals, generated deterministically.

Sales (a VP over three regional teams of reps), marketing (marketers who own
campaigns), finance and an admin; quotas, plans and the current quarter's deals.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from commissions.app.extensions import hooks
from commissions.auth.passwords import hash_password
from commissions.calculation.rows import stored_id
from commissions.core.db import transaction
from commissions.core.money import to_minor
from commissions.core.periods import PeriodKey, quarter_of
from commissions.models import (
    Campaign,
    Deal,
    DealSplit,
    Period,
    Person,
    Plan,
    PlanAssignment,
    PlanVersion,
    Quota,
    Team,
)

if TYPE_CHECKING:
    from commissions.models import Lead, LeadEvent

DEMO_PASSWORD = "quotaboard-demo"
DOMAIN = "demo.quotaboard.dev"
PLANS_DIR = Path(__file__).parent / "demo_plans"

FIRST = [
    "Ana",
    "Bo",
    "Chen",
    "Dara",
    "Eli",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tomás",
    "Uma",
    "Viktor",
    "Wen",
    "Yara",
    "Zoe",
    "Leo",
]
LAST = [
    "Alvarez",
    "Brooks",
    "Chowdhury",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quint",
    "Rossi",
    "Santos",
    "Tanaka",
    "Umarov",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
]
ACCOUNTS = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark Industries",
    "Wayne Enterprises",
    "Wonka",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Aperture",
    "Vandelay",
    "Pied Piper",
    "Massive Dynamic",
    "Oscorp",
    "Gringotts",
    "Monarch",
    "Vehement",
    "Dunder Mifflin",
    "Prestige Worldwide",
    "Sterling Cooper",
]
#: How a deal's name says its type: "Initech Pro renewal" is a renewal on the account Initech.
DEAL_KINDS = {"new": "new business", "expansion": "expansion", "renewal": "renewal"}
PRODUCTS = [("Starter", 5_000, 20_000), ("Pro", 15_000, 60_000), ("Enterprise", 40_000, 140_000)]
TEAMS = [("Sales East", 7), ("Sales West", 7), ("Sales Central", 6)]
#: The regional managers' names: none shares a first or last name with a rep (every demo name is unique).
MANAGERS = {"east": "Grace Holloway", "west": "Marcus Reid", "central": "Sofia Brandt"}
#: The marketing team: its lead and the marketers who own the campaigns.
MARKETING_LEAD = "Marta Oyelaran"
MARKETERS = [("Nora", "Field"), ("Oscar", "Webb"), ("Pia", "Evans")]


@dataclass(frozen=True)
class DemoLogin:
    """One printed demo login: who it is, what they do and where they sit."""

    email: str
    name: str
    role: str  # the stored role: admin, finance, manager, rep
    title: str  # what they do, in words: "sales rep", "marketer", "VP of sales", ...
    team: str  # their team, or "" (the VP sits above the teams)
    marketing: bool  # on the marketing team (their quota is sourced revenue, not bookings)


@dataclass
class DemoSummary:
    already_loaded: bool
    period: str
    logins: list[DemoLogin] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        head = "Demo data was already loaded." if self.already_loaded else "Demo organisation loaded."
        lines = [head, f"Current period: {self.period}", ""]
        if self.counts:
            lines.append(", ".join(f"{n} {what}" for what, n in self.counts.items()))
            lines.append("")
        lines.append(
            "Sign in at http://127.0.0.1:8000/login (commissions run's default port; yours if you gave --port)"
            f" with password: {DEMO_PASSWORD}"
        )
        lines.append("")
        rows = [("Email", "Name", "Role", "Does", "Team", "Marketing")]
        rows += [(x.email, x.name, x.role, x.title, x.team or "-", "yes" if x.marketing else "no") for x in self.logins]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for n, row in enumerate(rows):
            lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
            if n == 0:
                lines.append("  " + "  ".join("-" * w for w in widths))
        return "\n".join(lines)


def _team_name(session: Session, team_id: int) -> str:
    team = session.get(Team, team_id)
    if team is None:
        raise LookupError(f"team {team_id} is not in the database")
    return team.name


#: The logins printed after loading, with what each one does.
LOGINS = [
    ("admin", "administrator"),
    ("finance", "finance (approves, locks and pays periods)"),
    ("payroll", "finance (payroll)"),
    ("vp.sales", "VP of sales (over the three sales teams)"),
    ("east.manager", "sales manager"),
    ("west.manager", "sales manager"),
    ("ana.alvarez", "sales rep"),
    ("hana.haddad", "sales rep"),
    ("marketing.lead", "head of marketing"),
    ("nora.field", "marketer (owns campaigns)"),
]


def _logins(session: Session) -> list[DemoLogin]:
    rows = session.exec(
        select(Person, Team)
        .join(Team, col(Person.team_id) == col(Team.id), isouter=True)
        .where(col(Person.email).like(f"%@{DOMAIN}"))
    ).all()
    people = {p.email: (p, t) for p, t in rows}
    out = []
    for local, title in LOGINS:
        email = f"{local}@{DOMAIN}"
        if email in people:
            person, team = people[email]
            marketing = team is not None and team.kind == "marketing"
            out.append(DemoLogin(email, person.name, person.role, title, team.name if team else "", marketing))
    return out


def load_demo(engine: Engine, *, today: date | None = None, seed: int = 2026) -> DemoSummary:
    today = today or date.today()
    period = quarter_of(today)
    with transaction(engine) as session:
        if session.exec(select(func.count()).select_from(Person)).one() > 0:
            return DemoSummary(True, period.key, _logins(session))
        builder = _DemoBuilder(session, period, today, random.Random(seed))
        builder.build()
        from commissions.calculation.service import recompute

        recompute(session, period.key, trigger="demo data")
        return DemoSummary(False, period.key, _logins(session), builder.counts())


class _DemoBuilder:
    def __init__(self, session: Session, period: PeriodKey, today: date, rng: random.Random) -> None:
        self.session, self.period, self.today, self.rng = session, period, today, rng
        self.password_hash = hash_password(DEMO_PASSWORD)  # hashed once: Argon2 is slow on purpose
        self.reps: list[Person] = []
        self.managers: list[Person] = []
        self.marketers: list[Person] = []
        self.campaigns: list[Campaign] = []
        self.deals = 0
        self.employee_no = 1000

    def counts(self) -> dict[str, int]:
        return {
            "reps": len(self.reps),
            "managers": len(self.managers) + 1,
            "marketers": len(self.marketers),
            "campaigns": len(self.campaigns),
            "deals": self.deals,
        }

    def person(self, email: str, name: str, role: str, manager: Person | None, team: Team | None) -> Person:
        self.employee_no += 1
        p = Person(
            email=f"{email}@{DOMAIN}",
            name=name,
            role=role,
            manager_id=manager.id if manager else None,
            team_id=team.id if team else None,
            employee_id=f"E{self.employee_no}",
            password_hash=self.password_hash,
        )
        self.session.add(p)
        self.session.flush()
        return p

    def team(self, name: str, kind: str) -> Team:
        t = Team(name=name, kind=kind)
        self.session.add(t)
        self.session.flush()
        return t

    def build(self) -> None:
        s = self.session
        ops = self.team("Operations", "other")
        self.person("admin", "Avery Admin", "admin", None, ops)
        self.person("finance", "Farah Finance", "finance", None, ops)
        self.person("payroll", "Paul Payroll", "finance", None, ops)
        vp = self.person("vp.sales", "Victoria Vance", "manager", None, None)
        names = iter(list(zip(FIRST, LAST, strict=True)))
        for team_name, size in TEAMS:
            team = self.team(team_name, "sales")
            region = team_name.split()[-1].lower()
            for names_drawn_before in (FIRST, LAST):  # drawn as before, so the deals that follow stay the same
                self.rng.choice(names_drawn_before)
            mgr = self.person(f"{region}.manager", MANAGERS[region], "manager", vp, team)
            team.manager_id = mgr.id  # the team's page names its manager (pay follows manager_id on people)
            self.managers.append(mgr)
            for _ in range(size):
                first, last = next(names)
                rep = self.person(
                    f"{first.lower().replace('á', 'a')}.{last.lower().replace('í', 'i')}",
                    f"{first} {last}",
                    "rep",
                    mgr,
                    team,
                )
                self.reps.append(rep)
        mkt = self.team("Marketing", "marketing")
        lead = self.person("marketing.lead", MARKETING_LEAD, "manager", None, mkt)
        mkt.manager_id = lead.id
        for first, last in MARKETERS:
            self.marketers.append(self.person(f"{first.lower()}.{last.lower()}", f"{first} {last}", "rep", lead, mkt))

        period = Period(
            key=self.period.key, kind="quarter", starts_on=self.period.starts_on, ends_on=self.period.ends_on
        )
        previous_end = self.period.starts_on - timedelta(days=1)
        prev_key = quarter_of(previous_end)
        previous = Period(
            key=prev_key.key, kind="quarter", starts_on=prev_key.starts_on, ends_on=prev_key.ends_on, state="locked"
        )
        s.add_all([period, previous])
        s.flush()

        for code, name, channel, cost, owner in [
            ("WEB-SEO", "Organic search", "web", 12_000, self.marketers[0]),
            ("EVT-SUMMIT", "Customer summit", "event", 45_000, self.marketers[2]),
            ("PPC-Q", "Paid search", "paid", 30_000, self.marketers[0]),
            ("ABM-ENT", "Enterprise ABM", "abm", 25_000, self.marketers[1]),
            ("WEBINAR", "Product webinars", "webinar", 6_000, self.marketers[1]),
        ]:
            c = Campaign(
                code=code,
                name=name,
                owner_id=stored_id(owner),
                channel=channel,
                cost_minor=to_minor(cost, "USD"),
                currency="USD",
                starts_on=prev_key.starts_on,
                ends_on=self.period.ends_on,
            )
            s.add(c)
            self.campaigns.append(c)
        s.flush()

        for rep in self.reps:
            target = self.rng.choice([250_000, 300_000, 350_000, 400_000, 450_000])
            s.add(
                Quota(
                    person_id=rep.id,
                    metric="bookings",
                    period_id=stored_id(period),
                    target_minor=to_minor(target, "USD"),
                )
            )
            s.add(Quota(person_id=rep.id, metric="deals", period_id=stored_id(period), target_minor=8 * 100))
        for mgr in self.managers:
            team_reps = [r for r in self.reps if r.manager_id == mgr.id]
            s.add(
                Quota(
                    person_id=mgr.id,
                    metric="bookings",
                    period_id=stored_id(period),
                    target_minor=to_minor(200_000 * len(team_reps), "USD"),
                )
            )
            s.add(
                Quota(
                    team_id=mgr.team_id,
                    metric="bookings",
                    period_id=stored_id(period),
                    target_minor=to_minor(200_000 * len(team_reps), "USD"),
                )
            )
        s.add(
            Quota(
                person_id=vp.id, metric="bookings", period_id=stored_id(period), target_minor=to_minor(4_000_000, "USD")
            )
        )
        for m in self.marketers:
            s.add(
                Quota(
                    person_id=m.id,
                    metric="sourced_revenue",
                    period_id=stored_id(period),
                    target_minor=to_minor(900_000, "USD"),
                )
            )
        s.add(
            Quota(
                person_id=lead.id,
                metric="sourced_revenue",
                period_id=stored_id(period),
                target_minor=to_minor(2_700_000, "USD"),
            )
        )
        s.add(
            Quota(
                team_id=mkt.id,
                metric="sourced_revenue",
                period_id=stored_id(period),
                target_minor=to_minor(2_700_000, "USD"),
            )
        )

        year_start = date(self.period.starts_on.year, 1, 1)
        for filename, people in [
            ("ae.yaml", self.reps),
            ("managers.yaml", [vp, *self.managers]),
            ("marketing.yaml", self.marketers),
            # the head of marketing is credited what the team sources, as a sales manager is their team's
            # bookings: on the marketers' own-credit plan she showed 0 % beside her team's 85 %
            ("marketing_leads.yaml", [lead]),
        ]:
            document = (PLANS_DIR / filename).read_text(encoding="utf-8")
            name = next(line.split(":", 1)[1].strip() for line in document.splitlines() if line.startswith("name:"))
            plan = Plan(name=name, currency="USD", period_kind="quarter")
            s.add(plan)
            s.flush()
            s.add(PlanVersion(plan_id=stored_id(plan), version=1, document=document, effective_from=year_start))
            for p in people:
                s.add(PlanAssignment(person_id=stored_id(p), plan_id=stored_id(plan), starts_on=year_start))
        self._deals()
        self._marketing(mkt, lead, period)

    def _marketing(self, team: Team, lead: Person, period: Period) -> None:
        """Lead lifecycle events for the campaigns (last quarter and this one), marketing quotas, and pulses.

        Its own random stream, so the deals above stay what they were.
        """
        from commissions.marketing.metrics import stage_flags
        from commissions.models import Lead, LeadEvent, Pulse, PulseResponse, PulseTally

        rng, s = random.Random(8), self.session
        start = self.period.starts_on - timedelta(days=91)
        span = max((self.today - start).days - 1, 1)
        number = 5000
        for campaign in self.campaigns:
            for _ in range(rng.randint(25, 45)):
                number += 1
                mql = start + timedelta(days=rng.randint(0, span))
                stages: dict[str, tuple[date, int | None]] = {"mql": (mql, None)}
                day = mql + timedelta(days=rng.randint(2, 12))
                if day < self.today and rng.random() < 0.45:
                    stages["sql"] = (day, None)
                    day += timedelta(days=rng.randint(3, 15))
                    if day < self.today and rng.random() < 0.6:
                        amount = rng.randrange(8_000, 90_000, 500)
                        stages["opportunity"] = (day, amount)
                        day += timedelta(days=rng.randint(15, 60))
                        if day < self.today:
                            outcome = rng.choices(["won", "lost", None], weights=[35, 30, 35])[0]
                            if outcome == "won":
                                stages["won"] = (day, amount + rng.randrange(-2_000, 6_000, 500))
                            elif outcome == "lost":
                                stages["lost"] = (day, None)
                if number % 53 == 0 and "sql" in stages:  # now and then the CRM skipped the MQL
                    del stages["mql"]
                self._lead(Lead, LeadEvent, stage_flags, f"MA-{number}", campaign, stages)
        for metric, target in [("mqls", 120), ("sqls", 45), ("pipeline", 900_000), ("sourced_revenue", 2_700_000)]:
            if metric != "sourced_revenue":  # sourced revenue already has its team quota above
                minor = target * 100 if metric in ("mqls", "sqls") else to_minor(target, "USD")
                s.add(Quota(team_id=team.id, metric=metric, period_id=stored_id(period), target_minor=minor))
        # pulses: the East team answered twice (shown), the marketing team too few times (hidden)
        east = next(m for m in self.managers if m.email.startswith("east."))
        east_reps = [r for r in self.reps if r.manager_id == east.id]
        plans = [
            (east, self.period.starts_on - timedelta(days=45), True, [10, 9, 8, 6, 7, 9, 3]),
            (east, self.period.starts_on + timedelta(days=20), False, [10, 9, 9, 8, 10, 6]),
            (lead, self.period.starts_on + timedelta(days=20), False, [9, 7]),
        ]
        for manager, opened, closed, scores in plans:
            if opened > self.today:
                continue
            pulse = Pulse(
                manager_id=stored_id(manager),
                opened_on=opened,
                closed_at=datetime.combine(opened + timedelta(days=14), time(17), UTC) if closed else None,
            )
            s.add(pulse)
            s.flush()
            members = east_reps if manager is east else self.marketers
            for person, _ in zip(members, scores, strict=False):
                s.add(PulseResponse(pulse_id=stored_id(pulse), person_id=stored_id(person)))
            for score in sorted(set(scores)):
                s.add(PulseTally(pulse_id=stored_id(pulse), score=score, answers=scores.count(score)))

    def _lead(
        self,
        lead_model: type[Lead],
        event_model: type[LeadEvent],
        stage_flags: Callable[[Mapping[str, date]], dict[str, str]],
        external_id: str,
        campaign: Campaign,
        stages: dict[str, tuple[date, int | None]],
    ) -> None:
        lead = lead_model(
            external_id=external_id,
            name=f"Lead {external_id}",
            account=self.rng_account(external_id),
            campaign=campaign.code,
            owner_id=campaign.owner_id,
        )
        self.session.add(lead)
        self.session.flush()
        flags = stage_flags({stage: day for stage, (day, _) in stages.items()})
        for stage, (day, amount) in stages.items():
            self.session.add(
                event_model(
                    lead_id=stored_id(lead),
                    stage=stage,
                    occurred_on=day,
                    flag=flags[stage],
                    amount_minor=None if amount is None else to_minor(amount, "USD"),
                    currency=None if amount is None else "USD",
                )
            )

    @staticmethod
    def rng_account(external_id: str) -> str:
        return ACCOUNTS[int(external_id.split("-")[1]) % len(ACCOUNTS)]

    def _deals(self) -> None:
        rng, s = self.rng, self.session
        last_day = min(self.today, self.period.ends_on)
        span = (last_day - self.period.starts_on).days
        number = 1000
        for rep in self.reps:
            for _ in range(rng.randint(3, 11)):
                number += 1
                product, low, high = rng.choice(PRODUCTS)
                amount = rng.randrange(low, high, 500)
                closed = self.period.starts_on + timedelta(days=rng.randint(0, max(span, 0)))
                kind = rng.choices(["new", "expansion", "renewal"], weights=[6, 3, 2])[0]
                sourced = rng.random() < 0.4
                cancelled = rng.random() < 0.04 and closed + timedelta(days=10) <= last_day
                rng.choice(ACCOUNTS)  # drawn as before (the name once had its own account), so the figures stay
                account = rng.choice(ACCOUNTS)
                deal = Deal(
                    external_id=f"CRM-{number}",
                    name=f"{account} {product} {DEAL_KINDS[kind]}",
                    account=account,
                    owner_id=stored_id(rep),
                    amount_minor=to_minor(amount, "USD"),
                    currency="USD",
                    closed_at=closed,
                    type=kind,
                    product=product,
                    term_months=rng.choice([12, 12, 24, 36]),
                    source_campaign=rng.choice(self.campaigns).code if sourced else None,
                    status="cancelled" if cancelled else "won",
                    cancelled_at=closed + timedelta(days=10) if cancelled else None,
                    custom_fields={"region": _team_name(s, rep.team_id) if rep.team_id else ""},
                )
                s.add(deal)
                s.flush()
                if rng.random() < 0.12:
                    partner = rng.choice([r for r in self.reps if r.id != rep.id])
                    s.add(DealSplit(deal_id=stored_id(deal), person_id=stored_id(rep), share_bp=6000))
                    s.add(DealSplit(deal_id=stored_id(deal), person_id=stored_id(partner), share_bp=4000))
                self.deals += 1
        self._extension_data()

    def _extension_data(self) -> None:
        """What installed extensions add (the leaderboard: a running and an ended contest)."""
        self.session.flush()
        for add in hooks("demo_data"):
            add(self.session, today=self.today, period_start=self.period.starts_on)
