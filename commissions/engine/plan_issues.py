"""Pydantic's validation errors of a plan document as ``PlanIssue``s: the component's name
(not its index), the field path inside it (``tiers[1].to``) and the author's message."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from commissions.engine.errors import PlanIssue
from commissions.engine.plan_schema import FieldProblem

_FIELD_HEAD = re.compile(r"[A-Za-z_]*")


def plan_issues(exc: ValidationError, document: Mapping[str, Any], kinds: Sequence[str]) -> list[PlanIssue]:
    """One issue per error; ``kinds`` are the component kinds, as unknown-kind messages list them."""
    issues: list[PlanIssue] = []
    for error in exc.errors():
        loc = list(error["loc"])
        component: str | None = None
        if len(loc) >= 2 and loc[0] == "components" and isinstance(loc[1], int):
            component = _component_name(document, loc[1])
            loc = loc[2:]
            if loc and loc[0] in kinds:
                loc = loc[1:]
        problem = (error.get("ctx") or {}).get("error")
        if isinstance(problem, FieldProblem):
            issues.append(_field_problem_issue(problem, component, loc))
        else:
            issues.append(_pydantic_issue(error, component, loc, kinds))
    return issues


def _field_problem_issue(problem: FieldProblem, component: str | None, loc: list[int | str]) -> PlanIssue:
    """An engine check's problem: its field is relative to where it was raised, or
    ``@component:field`` for a plan-level check about one component."""
    field = problem.field
    if field.startswith("@"):
        component, field = field[1:].rsplit(":", 1)
    else:
        match = _FIELD_HEAD.match(field)
        head = match.group() if match else ""
        base = loc[:-1] if loc and loc[-1] == head else loc
        field = f"{_path(base)}.{field}" if base else field
    return PlanIssue(component, field, problem.message, problem.position)


def _pydantic_issue(
    error: ErrorDetails, component: str | None, loc: list[int | str], kinds: Sequence[str]
) -> PlanIssue:
    """A schema error (missing, extra, wrong type...) in the author's words."""
    field = _path(loc) or ("components" if component else "document")
    message = error["msg"]
    kind = error["type"]
    if kind == "missing":
        message = "is required"
    elif kind == "extra_forbidden":
        message = "is not a field of this component" if component else "is not a field of a plan"
    elif kind == "union_tag_invalid":
        field = "kind"
        tag = (error.get("ctx") or {}).get("tag")
        message = f"unknown kind {tag!r} (one of {', '.join(kinds)})"
    elif kind == "union_tag_not_found":
        field = "kind"
        message = f"is required (one of {', '.join(kinds)})"
    elif message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return PlanIssue(component, field, message, None)


def _path(parts: Iterable[int | str]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _component_name(document: Mapping[str, Any], index: int) -> str:
    components = document.get("components")
    name = None
    if isinstance(components, Sequence) and not isinstance(components, str) and index < len(components):
        entry = components[index]
        name = entry.get("name") if isinstance(entry, Mapping) else None
    return str(name).strip() if isinstance(name, str) and name.strip() else f"#{index + 1}"
