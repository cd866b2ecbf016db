"""Request and response models of the plans API (``/api/v1/plans``)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from pydantic.config import JsonDict
from typing_extensions import TypedDict

from commissions.engine import PlanIssue, PlanValidationError, load_plan_document
from commissions.models import PlanAssignment, PlanVersion
from commissions.plans.queries import PlanListRow

PLAN_YAML = """name: AE 2026
currency: USD
period: quarter
quota: bookings
components:
  - name: Commission
    kind: tiered
    tiers:
      - {to: 100%, rate: 10%}
      - {rate: 15%}
"""
ASSIGNMENT_EXAMPLE = {"person": "ana@example.com", "from": "2026-01-01", "to": None, "prorate": False}


PLAN_PUT_EXAMPLES = [
    {"document": PLAN_YAML, "effective_from": "2026-01-01"},
    {
        "document": {
            "name": "AE 2026",
            "currency": "USD",
            "period": "quarter",
            "quota": "bookings",
            "components": [
                {
                    "name": "Commission",
                    "kind": "tiered",
                    "tiers": [{"to": "100%", "rate": "10%"}, {"rate": "15%"}],
                }
            ],
        },
        "effective_from": "2026-01-01",
    },
]


class PlanPut(BaseModel):
    """A plan document and the first day its version applies."""

    model_config = ConfigDict(extra="forbid")

    document: str | dict[str, Any] = Field(
        description="the plan document (plans.md): YAML text, or the same document as a JSON object; "
        "its `name` must be the one in the path"
    )
    effective_from: date | None = Field(
        default=None,
        description="first day the version applies; left out: the document's `effective_from`, else the first day "
        "of the current period of the plan's kind",
    )

    @model_validator(mode="before")
    @classmethod
    def _the_document_itself(cls, body: Any) -> Any:
        """api.md reads "body: the plan document and `effective_from`": the plan's own fields at the top level,
        `effective_from` beside them, are taken as the document sent under `document` (without the date: it is
        the version's, as when sent apart)."""
        if isinstance(body, dict) and "document" not in body and ("name" in body or "components" in body):
            document = {key: value for key, value in body.items() if key != "effective_from"}
            return {"document": document, "effective_from": body.get("effective_from")}
        return body

    def text(self) -> str:
        """The document as stored: YAML text as written, a JSON object as indented JSON (which is YAML)."""
        if isinstance(self.document, str):
            return self.document
        return json.dumps(self.document, indent=2, ensure_ascii=False) + "\n"


class PlanSaved(BaseModel):
    """What ``PUT /api/v1/plans/{name}`` did."""

    plan: str = Field(examples=["AE 2026"])
    result: Literal["created", "new version", "unchanged"] = Field(
        examples=["new version"],
        description="created: a new plan (201); new version: the document differs from the version in force on "
        "effective_from; unchanged: it is the same plan (nothing stored, nothing recomputed)",
    )
    changed: bool = Field(examples=[True])
    version: int = Field(examples=[2], description="the version stored, or the equal version in force when unchanged")
    effective_from: date = Field(examples=["2026-04-01"], description="the version's first day")


class IssueOut(BaseModel):
    """One problem of a plan document (plans.md): the component, the field inside it, the message and, in a
    `when` condition, the 1-based position."""

    component: str | None
    field: str
    message: str
    position: int | None

    @classmethod
    def of(cls, issue: PlanIssue) -> IssueOut:
        return cls(component=issue.component, field=issue.field, message=issue.message, position=issue.position)


class PlanSummaryOut(BaseModel):
    name: str = Field(examples=["AE 2026"])
    currency: str = Field(examples=["USD"])
    period: str = Field(examples=["quarter"], description="month, quarter or year")
    metric: str | None = Field(examples=["bookings"], description="the document's `quota` metric (null: none)")
    version: int | None = Field(
        examples=[1], description="the version in force today (null: its first version starts later)"
    )
    effective_from: date | None = Field(examples=["2026-01-01"], description="when that version took effect")
    latest_version: int = Field(examples=[2])
    assignments: int = Field(examples=[12], description="how many assignments the plan has (past, current and future)")

    @classmethod
    def of(cls, row: PlanListRow) -> PlanSummaryOut:
        shown = row.in_force
        return cls(
            name=row.plan.name,
            currency=row.plan.currency,
            period=row.plan.period_kind,
            metric=_metric(shown.document) if shown else None,
            version=shown.version if shown else None,
            effective_from=shown.effective_from if shown else None,
            latest_version=row.latest,
            assignments=row.assignments,
        )


def _metric(text: str) -> str | None:
    try:
        quota = load_plan_document(text).get("quota")
    except PlanValidationError:
        return None
    return quota if isinstance(quota, str) else None


class PlanList(BaseModel):
    items: list[PlanSummaryOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


class VersionOut(BaseModel):
    version: int
    effective_from: date
    created_at: datetime
    document: str = Field(description="the document as written (a JSON object sent to the API: indented JSON)")

    @classmethod
    def of(cls, v: PlanVersion) -> VersionOut:
        return cls(version=v.version, effective_from=v.effective_from, created_at=v.created_at, document=v.document)


class AssignmentIn(BaseModel):
    """A person on the plan from ``from`` to ``to`` (inclusive; null: open-ended), keyed by (person, from)."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, json_schema_extra={"examples": [cast(JsonDict, ASSIGNMENT_EXAMPLE)]}
    )

    person: str = Field(max_length=254, description="the person's email")
    from_: date = Field(alias="from", description="first day on the plan; with `person`, the natural key")
    to: date | None = Field(default=None, description="last day on the plan; null or left out: open-ended")
    prorate: StrictBool = Field(  # true or false: "yes" or 1 is refused, not read as a guess
        default=False, description="prorate the quota of a period the assignment starts or ends inside"
    )


#: An assignment as ``PUT .../assignments`` takes it (a TypedDict: ``from`` is a Python keyword).
AssignmentOut = TypedDict("AssignmentOut", {"person": str, "from": date, "to": date | None, "prorate": bool})


def assignment_out(assignment: PlanAssignment, email: str) -> AssignmentOut:
    return {"person": email, "from": assignment.starts_on, "to": assignment.ends_on, "prorate": assignment.prorate}


class PlanDetail(BaseModel):
    name: str
    currency: str
    period: str
    versions: list[VersionOut] = Field(description="every version, oldest first")
    assignments: list[AssignmentOut] = Field(
        description="in the shape `PUT .../assignments` takes, by person and start"
    )
