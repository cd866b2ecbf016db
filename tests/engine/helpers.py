"""Small builders for engine tests: a plan from a few keys, deals and people in one line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from commissions.engine import Deal, Person, Quota, calculate, parse_plan

D = Decimal
Q1 = "2026-Q1"


def make_plan(*components: dict[str, Any], **fields: Any) -> Any:
    document: dict[str, Any] = {
        "name": "Test plan",
        "currency": "USD",
        "period": "quarter",
        "quota": "bookings",
        "components": list(components),
    }
    custom_fields = fields.pop("custom_fields", None)
    document.update(fields)
    return parse_plan(document, custom_fields=custom_fields)


def tiered(name: str = "Commission", **fields: Any) -> dict[str, Any]:
    spec = {
        "name": name,
        "kind": "tiered",
        "tiers": [
            {"to": "100%", "rate": "10%"},
            {"to": "150%", "rate": "15%"},
            {"rate": "20%"},
        ],
    }
    spec.update(fields)
    return spec


def deal(
    external_id: str,
    amount: Any,
    owner: str = "ana@x.com",
    day: date | str = "2026-01-15",
    **fields: Any,
) -> Deal:
    closed = date.fromisoformat(day) if isinstance(day, str) else day
    splits = fields.pop("splits", ())
    return Deal(
        external_id,
        owner,
        D(str(amount)),
        fields.pop("currency", "USD"),
        closed,
        splits=tuple((email, D(str(share))) for email, share in splits),
        **fields,
    )


def people(*pairs: str) -> list[Person]:
    """``people("ana@x.com<mia@x.com", "mia@x.com")``: email, then ``<manager``."""
    out = []
    for pair in pairs:
        email, _, manager = pair.partition("<")
        out.append(Person(email, email.split("@")[0].title(), manager or None))
    return out


def quota(person: str, target: Any, metric: str = "bookings", period: str = Q1) -> Quota:
    return Quota(person, metric, period, D(str(target)))


def run(
    plan: Any,
    deals: list[Deal],
    quotas: list[Quota] | None = None,
    staff: list[Person] | None = None,
    period: str = Q1,
    **kwargs: Any,
) -> Any:
    staff = staff if staff is not None else people("ana@x.com")
    quotas = quotas if quotas is not None else [quota("ana@x.com", 100000)]
    return calculate(plan, period, staff, quotas, deals, **kwargs)


def amounts(component: Any) -> list[str]:
    return [str(line.amount) for line in component.lines]
