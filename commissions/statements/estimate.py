"""The estimate API's answer: the what-if for a prospective deal, for anyone who may read the person's pay."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlmodel import Session

from commissions.core.errors import InputProblem
from commissions.core.money import MoneyError, typed_number
from commissions.core.periods import quarter_of
from commissions.core.principal import Principal
from commissions.custom_fields.service import check_values, declared_types
from commissions.engine import parse_period
from commissions.people.access import find_statement_person
from commissions.statements.queries import period_key, signed_in_person
from commissions.statements.whatif import WhatIfAnswer, what_if

MAX_AMOUNT = Decimal("1000000000000")
DEAL_TYPES = ("new", "expansion", "renewal")
#: the query parameters that are not custom fields
STANDARD = frozenset(
    {"person", "period", "amount", "currency", "closed_at", "type", "product", "term_months", "source_campaign"}
)


@dataclass(frozen=True, slots=True)
class Estimate:
    person: str
    period: str
    currency: str
    answers: list[WhatIfAnswer]

    @property
    def amount(self) -> Decimal:
        return sum((a.extra or Decimal(0) for a in self.answers), Decimal(0))


def _amount(text: str | None) -> Decimal:
    raw = (text or "").strip()
    if not raw:
        raise InputProblem("amount", "required: the deal amount, e.g. 40000")
    try:
        value = Decimal(typed_number(raw))
    except (InvalidOperation, MoneyError):
        value = None
    if value is None or not value.is_finite() or value <= 0 or value > MAX_AMOUNT:
        raise InputProblem("amount", f"{raw!r} is not a positive amount (write it like 40000 or 40000.50)")
    return value


def _closed_at(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InputProblem("closed_at", f"{text!r} is not a date (write it like 2026-02-03)") from exc


def _term(text: str | None) -> int | None:
    if not text:
        return None
    if not text.strip().isdigit() or int(text) > 600:
        raise InputProblem("term_months", f"{text!r} is not a whole number of months (0-600)")
    return int(text)


def _currency(text: str | None) -> str | None:
    code = (text or "").strip().upper()
    if code and (len(code) != 3 or not code.isalpha()):
        raise InputProblem("currency", f"{text!r} is not an ISO 4217 code like USD")
    return code or None


def estimate(session: Session, principal: Principal, query: Mapping[str, str]) -> Estimate:
    """What the deal described by ``query`` would pay the person now (``what_if``; nothing is saved).
    ``person`` defaults to the caller; someone the caller may not see is a 404, as for statements."""
    email = (query.get("person") or "").strip()
    if not email:
        me = signed_in_person(session, principal)
        if me is None:
            raise InputProblem("person", "required: the email of the person the deal would pay")
        email = me.email
    person = find_statement_person(session, principal, email)
    deal_type = (query.get("type") or "new").strip()
    if deal_type not in DEAL_TYPES:
        raise InputProblem("type", f"{deal_type!r} is not one of {', '.join(DEAL_TYPES)}")
    amount = _amount(query.get("amount"))
    currency = _currency(query.get("currency"))
    closed_at = _closed_at(query.get("closed_at"))
    term_months = _term(query.get("term_months"))
    key = period_key(session, person, query.get("period") or (quarter_of(closed_at).key if closed_at else None))
    period = parse_period(key)
    if closed_at is not None and not period.start <= closed_at <= period.end:
        raise InputProblem("closed_at", f"{closed_at} is not in the period {key}")
    custom = {name: value for name, value in query.items() if name not in STANDARD}
    declared = declared_types(session)
    for name in custom:
        if name not in declared:
            check_values({name: custom[name]}, declared)  # a case-only difference names the declared field
            raise InputProblem(name, f"no deal field or declared custom field is called {name!r}")
    check_values(custom, declared)
    answers = what_if(
        session,
        person,
        key,
        amount,
        product=(query.get("product") or "").strip() or None,
        deal_type=deal_type,
        term_months=term_months,
        closed_at=closed_at,
        currency=currency,
        source_campaign=(query.get("source_campaign") or "").strip() or None,
        custom=custom,
    )
    currencies = {a.currency for a in answers}
    if len(currencies) > 1:
        raise InputProblem("person", f"{person.email}'s plans pay in {', '.join(sorted(currencies))}: ask per period")
    return Estimate(person.email, key, currencies.pop() if currencies else (currency or ""), answers)
