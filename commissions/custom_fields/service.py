"""Custom deal fields: declared by an admin, carried by deals, used by plan conditions (plans.md 4).

Keyword-only functions taking the session; the caller owns the transaction, so a refused
declaration leaves nothing behind.

- A field has a ``name`` (how conditions, the API's ``custom_fields`` and CSV columns
  spell it: a letter or ``_``, then letters, digits or ``_``, at most 64; not a standard
  deal field or a condition keyword; unique whatever the case), a ``type`` (text, number,
  date, boolean) and an optional ``label`` for the deal form.
- Declaring is audited (``custom_field.declare``) and marks the statements of plans that
  mention the name as changed, in the same transaction.
- A deal's value for a declared field must read as its type (``check_values``): what the
  engine would read as null for being unreadable is refused at the door instead, naming
  the field. Empty values are allowed (null). Keys nobody declared are kept with the
  deal, unchecked and unused by plans until an admin declares them; a key that differs
  from a declared name only in case is refused (it is a typo that would silently count as
  empty).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from commissions.calculation.state import touch_plan_people
from commissions.core.audit import record_event
from commissions.core.db import transaction
from commissions.core.errors import Conflict, InputProblem
from commissions.core.principal import Principal
from commissions.engine.conditions import BUILTIN_FIELDS
from commissions.models import CustomField, PlanVersion
from commissions.models.base import FIELD_TYPES

MAX_NAME = 64
MAX_LABEL = 120
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false"})
#: Names a custom field cannot take: the deal's own fields (JSON keys and CSV columns) and the condition fields.
#: (The deal's fields are spelled out here, not read from ``deals.schemas``: deals use custom fields, not the
#: reverse; tests/custom_fields/test_custom_fields.py checks that every field of ``DealIn`` is in the list.)
DEAL_FIELDS = (
    "external_id",
    "name",
    "account",
    "owner",
    "amount",
    "currency",
    "closed_at",
    "type",
    "product",
    "term_months",
    "source_campaign",
    "status",
    "cancelled_at",
    "splits",
    "custom_fields",
)
RESERVED = frozenset(DEAL_FIELDS) | frozenset(BUILTIN_FIELDS)
# What the engine reads as true and false (commissions.engine.conditions): a value it cannot read is null.
TRUE_WORDS = frozenset({"true", "yes", "1", "y"})
FALSE_WORDS = frozenset({"false", "no", "0", "n"})
EXAMPLES = {"text": '== "value"', "number": ">= 10", "date": ">= 2026-01-01", "boolean": "== true"}
NOT_EMPTY = '!= ""'


class CustomValueError(InputProblem):
    """A deal's value for a custom field cannot be read as the field's type; ``name`` is the field."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"custom_fields.{name}", message)
        self.name = name


@dataclass(frozen=True, slots=True)
class Declared:
    """What ``declare_field`` did: the field, and how many statements it marked as changed."""

    field: CustomField
    statements: int
    created: bool = True


def example_condition(field: CustomField) -> str:
    """A condition a plan could write with the field, e.g. ``region == "EU"``."""
    return f"{field.name} {EXAMPLES.get(field.type, NOT_EMPTY)}"


# --- reading -----------------------------------------------------------------------------


def list_fields(session: Session, *, after: str | None = None, limit: int | None = None) -> list[CustomField]:
    """Declared fields by name; ``after`` (a name) and ``limit`` page through them."""
    query = select(CustomField).order_by(col(CustomField.name))
    if after:
        query = query.where(col(CustomField.name) > after)
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def declared_types(session: Session) -> dict[str, str]:
    """``{name: type}`` of every declared field."""
    return dict(session.exec(select(CustomField.name, CustomField.type)).all())


# --- declaring ---------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InputProblem("name", "is required, e.g. region")
    if len(name) > MAX_NAME:
        raise InputProblem("name", f"is longer than {MAX_NAME} characters")
    if not NAME_RE.fullmatch(name):
        raise InputProblem(
            "name",
            f"{name!r} cannot be used in a condition: start with a letter or _, then use "
            "letters, digits or _ (e.g. region, seat_count)",
        )
    if name.lower() in KEYWORDS:
        raise InputProblem("name", f"{name!r} is a word of the condition language ({', '.join(sorted(KEYWORDS))})")
    if name in RESERVED or name.lower() in RESERVED:
        raise InputProblem("name", f"{name!r} is a standard deal field: choose another name")
    return name


def _clean_type(kind: str) -> str:
    kind = (kind or "").strip().lower()
    if kind not in FIELD_TYPES:
        shown = f"{kind!r} is not a field type" if kind else "is required"
        raise InputProblem("type", f"{shown}: choose {', '.join(FIELD_TYPES[:-1])} or {FIELD_TYPES[-1]}")
    return kind


def _clean_label(label: str) -> str:
    label = " ".join((label or "").split())
    if any(ord(c) < 32 or ord(c) == 127 for c in label):
        raise InputProblem("label", "holds control characters")
    if len(label) > MAX_LABEL:
        raise InputProblem("label", f"is longer than {MAX_LABEL} characters")
    return label


def plans_mentioning(session: Session, name: str) -> set[int]:
    """Plans with a version whose text contains ``name`` (a superset of those whose conditions use it)."""
    query = select(PlanVersion.plan_id).where(col(PlanVersion.document).contains(name, autoescape=True))
    return set(session.exec(query).all())


def declare_field(
    session: Session, *, name: str, type: str, label: str = "", by: Principal | None, idempotent: bool = False
) -> Declared:
    """Declare a custom deal field; ``Conflict`` (409) if the name is taken, ``InputProblem`` if it is bad.

    ``idempotent`` (the API): declaring a field again exactly as it is (same name and type, the same label
    or none) changes nothing and returns it with ``created=False``; any other difference is a ``Conflict``
    naming what differs (a declared field's type never changes: deals store values as declared)."""
    name, kind, label = _clean_name(name), _clean_type(type), _clean_label(label)
    taken = session.exec(select(CustomField).where(func.lower(CustomField.name) == name.lower())).first()
    if taken is not None:
        if not idempotent or taken.name != name:
            raise Conflict("name", f"a field named {taken.name!r} is already declared")
        if taken.type != kind:
            raise Conflict(
                "type",
                f"{name!r} is already declared as {taken.type}: a declared field's type cannot change to {kind}",
            )
        if label and label != taken.label:
            raise Conflict("label", f"{name!r} is already declared with the label {taken.label!r}")
        return Declared(taken, 0, created=False)
    field = CustomField(name=name, type=kind, label=label)
    try:
        with session.begin_nested():  # a concurrent declaration of the same name: 409, not a server error
            session.add(field)
            session.flush()
    except IntegrityError:
        raise Conflict("name", f"a field named {name!r} is already declared") from None
    record_event(
        session, by, "custom_field.declare", "custom_field", name, {"name": name, "type": kind, "label": label}
    )
    # Validation refuses undeclared names, but a version stored by other means that mentions this one now
    # reads differently: its people's statements may change (the worker recomputes them).
    plan_ids = plans_mentioning(session, name)
    statements = touch_plan_people(session, plan_ids=plan_ids) if plan_ids else 0
    return Declared(field, statements)


# --- deal values -------------------------------------------------------------------------


def value_text(value: Any) -> str:
    """A stored value as the calculation reads it (``commissions.calculation.loader``): text, None as empty."""
    return "" if value is None else str(value).strip()


def _unreadable(kind: str, text: str) -> str | None:
    """Why ``text`` cannot be read as ``kind`` (None when it can, or when it is empty)."""
    if not text:
        return None
    if kind == "number":
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            return f"{text!r} is not a number (write it like 1250.50)"
    elif kind == "date":
        try:
            date.fromisoformat(text)
        except ValueError:
            return f"{text!r} is not a date (write it like 2026-01-31)"
    elif kind == "boolean" and text.lower() not in TRUE_WORDS | FALSE_WORDS:
        return f"{text!r} is not true or false (write true/false, yes/no or 1/0)"
    return None


def check_values(values: Mapping[str, Any], declared: Mapping[str, str]) -> None:
    """Refuse (``CustomValueError``, naming the field) a value of a declared number, date or boolean field
    that cannot be read as one, and a key that differs from a declared name only in case."""
    lowered = {name.lower(): name for name in declared}
    for key, value in values.items():
        kind = declared.get(key)
        if kind is None:
            if (known := lowered.get(key.lower())) is not None:
                raise CustomValueError(
                    key, f"no field {key!r} is declared; the declared field is {known!r} (names are case-sensitive)"
                )
            continue
        if (problem := _unreadable(kind, value_text(value))) is not None:
            raise CustomValueError(key, f"{key} is a {kind} field: {problem}")


def check_deal(session: Session, *, custom_fields: dict[str, Any] | None) -> None:
    """``check_values`` for one deal's custom fields against the fields declared now."""
    if custom_fields:
        check_values(custom_fields, declared_types(session))


def declare_field_in(
    engine: Engine, *, name: str, type: str, label: str = "", by: Principal | None, idempotent: bool = False
) -> Declared:
    """``declare_field`` in a transaction of its own (the admin page and the API)."""
    with transaction(engine) as session:
        return declare_field(session, name=name, type=type, label=label, by=by, idempotent=idempotent)
