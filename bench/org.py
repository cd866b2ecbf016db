"""A large synthetic organisation for app benchmarks, written straight into a database.

5,000 people by default: a CRO, VPs, managers and reps (sales), plus marketers
with campaigns; an AE plan (marginal tiers with an accelerator, a conditional
SPIFF, a bonus, a cap) for reps and marketers' sourced revenue, a manager plan
(team attainment and an override) for the management chain; quotas for everyone
and a quarter's worth of deals.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import Engine, insert, select

from commissions.core.db import transaction
from commissions.core.periods import ensure_period
from commissions.models import Campaign, Deal, Person, Plan, PlanAssignment, PlanVersion, Quota, Team

AE_PLAN = """\
name: Bench AE
currency: USD
period: quarter
quota: bookings
credit: {scope: own, when: type != "renewal"}
components:
  - name: Commission
    kind: tiered
    mode: marginal
    tiers: [{to: 100%, rate: 8%}, {to: 150%, rate: 12%}, {rate: 16%}]
    cap: 80000
  - name: Multi-year SPIFF
    kind: per_deal
    when: term_months >= 24 and product in ["Pro", "Enterprise"]
    pay: 300
  - name: Quota club
    kind: bonus
    at: 100%
    pay: 2000
cap: 120000
"""

MANAGER_PLAN = """\
name: Bench managers
currency: USD
period: quarter
quota: bookings
credit: {scope: team}
components:
  - name: Team attainment
    kind: tiered
    mode: retroactive
    tiers: [{to: 100%, rate: 0.5%}, {rate: 0.8%}]
  - name: Override
    kind: override
    rate: 0.25%
"""


def analyze(engine: Engine) -> None:
    """Planner statistics after the bulk load, as autovacuum would gather them in production.

    This machine's PostgreSQL runs with ``autovacuum = off``: without this every table looks
    empty to the planner, which then picks plans no production database would."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            tables = conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            for (table,) in tables.all():
                conn.exec_driver_sql(f'ANALYZE "{table}"')


def build_org(
    engine: Engine, *, people: int = 5000, deals_per_rep: int = 10, period: str = "2026-Q1", seed: int = 7
) -> dict[str, object]:
    rng = random.Random(seed)
    vps, managers_per_vp = 10, 10
    marketers = max(1, people // 60)
    reps = people - 1 - vps - vps * managers_per_vp - marketers
    with transaction(engine) as s:
        p = ensure_period(s, period)
        start, end = p.starts_on, p.ends_on
        team = Team(name="Bench sales", kind="sales")
        mteam = Team(name="Bench marketing", kind="marketing")
        s.add_all([team, mteam])
        s.flush()

        def add_people(rows: list[dict]) -> list[int]:
            s.execute(insert(Person), rows)
            emails = [r["email"] for r in rows]
            ids = dict(s.execute(select(Person.email, Person.id).where(Person.email.in_(emails))).all())
            return [ids[e] for e in emails]

        common = {"active": True, "session_version": 1, "password_hash": None}
        (cro,) = add_people(
            [
                {
                    "email": "cro@bench.test",
                    "name": "CRO",
                    "role": "manager",
                    "manager_id": None,
                    "team_id": team.id,
                    **common,
                }
            ]
        )
        vp_ids = add_people(
            [
                {
                    "email": f"vp{i}@bench.test",
                    "name": f"VP {i}",
                    "role": "manager",
                    "manager_id": cro,
                    "team_id": team.id,
                    **common,
                }
                for i in range(vps)
            ]
        )
        mgr_rows = [
            {
                "email": f"mgr{i}.{j}@bench.test",
                "name": f"Manager {i}.{j}",
                "role": "manager",
                "manager_id": vp_ids[i],
                "team_id": team.id,
                **common,
            }
            for i in range(vps)
            for j in range(managers_per_vp)
        ]
        mgr_ids = add_people(mgr_rows)
        rep_rows = [
            {
                "email": f"rep{k}@bench.test",
                "name": f"Rep {k}",
                "role": "rep",
                "manager_id": mgr_ids[k % len(mgr_ids)],
                "team_id": team.id,
                **common,
            }
            for k in range(reps)
        ]
        rep_ids = []
        for i in range(0, len(rep_rows), 1000):
            rep_ids += add_people(rep_rows[i : i + 1000])
        mkt_ids = add_people(
            [
                {
                    "email": f"mkt{k}@bench.test",
                    "name": f"Marketer {k}",
                    "role": "rep",
                    "manager_id": cro,
                    "team_id": mteam.id,
                    **common,
                }
                for k in range(marketers)
            ]
        )
        codes = []
        for k, owner in enumerate(mkt_ids):
            codes.append(f"C{k}")
            s.add(Campaign(code=f"C{k}", name=f"Campaign {k}", owner_id=owner, cost_minor=1_000_000))
        plans = {}
        for name, doc in (("Bench AE", AE_PLAN), ("Bench managers", MANAGER_PLAN)):
            plan = Plan(name=name, currency="USD", period_kind="quarter")
            s.add(plan)
            s.flush()
            s.add(PlanVersion(plan_id=plan.id, version=1, document=doc, effective_from=start))
            plans[name] = plan.id
        s.execute(
            insert(PlanAssignment),
            [
                {"person_id": pid, "plan_id": plans["Bench AE"], "starts_on": start, "prorate": False}
                for pid in rep_ids + mkt_ids
            ],
        )
        s.execute(
            insert(PlanAssignment),
            [
                {"person_id": pid, "plan_id": plans["Bench managers"], "starts_on": start, "prorate": False}
                for pid in [cro, *vp_ids, *mgr_ids]
            ],
        )
        quota_rows = [
            {"person_id": pid, "metric": "bookings", "period_id": p.id, "target_minor": 30_000_000, "version": 1}
            for pid in rep_ids
        ]
        quota_rows += [
            {
                "person_id": pid,
                "metric": "sourced_revenue",
                "period_id": p.id,
                "target_minor": 200_000_000,
                "version": 1,
            }
            for pid in mkt_ids
        ]
        quota_rows += [
            {
                "person_id": pid,
                "metric": "bookings",
                "period_id": p.id,
                "target_minor": 30_000_000 * (reps // len(mgr_ids)),
            }
            for pid in mgr_ids
        ]
        quota_rows += [
            {"person_id": pid, "metric": "bookings", "period_id": p.id, "target_minor": 30_000_000 * (reps // vps)}
            for pid in vp_ids
        ]
        quota_rows += [{"person_id": cro, "metric": "bookings", "period_id": p.id, "target_minor": 30_000_000 * reps}]
        s.execute(insert(Quota), [{"version": 1, **q} for q in quota_rows])
        span = (end - start).days
        deal_rows = []
        n = 0
        for pid in rep_ids:
            for _ in range(deals_per_rep):
                n += 1
                deal_rows.append(
                    {
                        "external_id": f"B-{n}",
                        "name": f"Deal {n}",
                        "account": f"Account {n % 997}",
                        "owner_id": pid,
                        "amount_minor": rng.randrange(500_000, 12_000_000, 100),
                        "currency": "USD",
                        "closed_at": start + timedelta(days=rng.randint(0, span)),
                        "type": rng.choice(["new", "new", "expansion", "renewal"]),
                        "product": rng.choice(["Starter", "Pro", "Enterprise"]),
                        "term_months": rng.choice([12, 24, 36]),
                        "source_campaign": rng.choice(codes) if rng.random() < 0.3 else None,
                        "status": "won",
                        "custom_fields": {},
                        "body_hash": "",
                    }
                )
        for i in range(0, len(deal_rows), 5000):
            s.execute(insert(Deal), deal_rows[i : i + 5000])
    analyze(engine)
    return {
        "reps": rep_ids,
        "managers": mgr_ids,
        "marketers": mkt_ids,
        "cro": cro,
        "deals": n,
        "codes": codes,
        "start": start,
        "end": end,
    }


def today_in(start: date, end: date) -> date:
    return min(max(date.today(), start), end)
