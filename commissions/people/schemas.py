"""Request and response models of ``/api/v1/people`` and ``/api/v1/teams`` (api.md, "Integration resources")."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from pydantic.config import JsonDict

from commissions.core.upserts import UpsertReport
from commissions.people.queries import PersonRow, TeamRow

Role = Literal["rep", "manager", "finance", "admin"]
TeamKind = Literal["sales", "marketing", "other"]

ANA: JsonDict = {
    "email": "ana@example.com",
    "name": "Ana Alvarez",
    "role": "rep",
    "team": "Sales East",
    "manager": "erin@example.com",
    "employee_id": "E-1042",
    "active": True,
    "locale": "en-GB",
}
ERIN: JsonDict = {
    "email": "erin@example.com",
    "name": "Erin East",
    "role": "manager",
    "team": "Sales East",
    "manager": None,
    "employee_id": "E-1001",
    "active": True,
    "locale": "en",
}
SALES_EAST: JsonDict = {"name": "Sales East", "kind": "sales", "manager": "erin@example.com"}


class PersonIn(BaseModel):
    """One person to create or update, keyed by email. A field left out keeps the stored value (a new
    person gets the default named); ``null`` clears team, manager, employee_id and locale."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [ANA, {"email": "bo@example.com", "active": False}]},
    )

    email: str = Field(
        max_length=254, description="the key: who this is (stored in lower case)", examples=["ana@example.com"]
    )
    name: str | None = Field(
        default=None,
        max_length=200,
        description="new person: the part of the email before @ when left out",
        examples=["Ana Alvarez"],
    )
    role: Role | None = Field(
        default=None, description="rep, manager, finance or admin; new person: rep", examples=["rep"]
    )
    team: str | None = Field(
        default=None,
        max_length=120,
        description="a team's name; it must exist (PUT /api/v1/teams first)",
        examples=["Sales East"],
    )
    manager: str | None = Field(
        default=None,
        max_length=254,
        description="the manager's email: a stored person or one in the same list, before or after this one",
        examples=["erin@example.com"],
    )
    employee_id: str | None = Field(
        default=None, max_length=64, description="payroll's id, unique", examples=["E-1042"]
    )
    active: StrictBool | None = Field(  # true or false: "no" or 0 is refused, not read as a guess
        default=None,
        description="false deactivates (ends their sessions, keeps pay history); new person: true",
        examples=[True],
    )
    locale: str | None = Field(
        default=None,
        max_length=35,
        description="a BCP 47 language tag: en, ms, th, en-GB (stored as en-GB)",
        examples=["en-GB"],
    )
    payment_currency: str | None = Field(
        default=None,
        max_length=3,
        description="paid in this currency when it is not their plan's (the payroll export converts); null: the plan's",
        examples=["EUR"],
    )


class PersonOut(BaseModel):
    """A person as stored: exactly the fields ``PUT /api/v1/people`` takes, so a page can be sent back."""

    email: str = Field(examples=["ana@example.com"])
    name: str = Field(examples=["Ana Alvarez"])
    role: str = Field(description="rep, manager, finance or admin", examples=["rep"])
    team: str | None = Field(description="the team's name", examples=["Sales East"])
    manager: str | None = Field(description="the manager's email", examples=["erin@example.com"])
    employee_id: str | None = Field(examples=["E-1042"])
    active: bool = Field(examples=[True])
    locale: str | None = Field(description="a BCP 47 language tag", examples=["en-GB"])
    payment_currency: str | None = Field(description="null: the plan's currency", examples=["EUR"])

    @classmethod
    def of(cls, row: PersonRow) -> PersonOut:
        return cls(
            email=row.email,
            name=row.name,
            role=row.role,
            team=row.team,
            manager=row.manager,
            employee_id=row.employee_id,
            active=row.active,
            locale=row.locale,
            payment_currency=row.payment_currency,
        )


class PersonList(BaseModel):
    items: list[PersonOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


class TeamIn(BaseModel):
    """One team to create or update, keyed by name. A field left out keeps the stored value (a new team:
    kind sales, no manager); ``null`` clears the manager."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [SALES_EAST, {"name": "Growth", "kind": "marketing"}]}
    )

    name: str = Field(
        max_length=120, description="the key: the team's name (a new name is a new team)", examples=["Sales East"]
    )
    kind: TeamKind | None = Field(
        default=None, description="sales or marketing (other: neither); new team: sales", examples=["sales"]
    )
    manager: str | None = Field(
        default=None, max_length=254, description="the manager's email: a stored person", examples=["erin@example.com"]
    )


class TeamOut(BaseModel):
    """A team as stored: exactly the fields ``PUT /api/v1/teams`` takes."""

    name: str = Field(examples=["Sales East"])
    kind: str = Field(description="sales, marketing or other", examples=["sales"])
    manager: str | None = Field(description="the manager's email", examples=["erin@example.com"])

    @classmethod
    def of(cls, row: TeamRow) -> TeamOut:
        return cls(name=row.name, kind=row.kind, manager=row.manager)


class TeamList(BaseModel):
    items: list[TeamOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


REPORT_EXAMPLE: JsonDict = {
    "changed": True,
    "created": 1,
    "updated": 1,
    "unchanged": 0,
    "items": [
        {"index": 0, "key": "ana@example.com", "result": "created"},
        {"index": 1, "key": "erin@example.com", "result": "updated"},
    ],
}


class PeopleReport(UpsertReport):
    """What ``PUT /api/v1/people`` did, person by person (``key``: the email)."""


TEAMS_REPORT_EXAMPLE: JsonDict = {
    "changed": False,
    "created": 0,
    "updated": 0,
    "unchanged": 1,
    "items": [{"index": 0, "key": "Sales East", "result": "unchanged"}],
}


class TeamsReport(UpsertReport):
    """What ``PUT /api/v1/teams`` did, team by team (``key``: the name)."""


class ItemError(BaseModel):
    index: int = Field(description="the item's position in the request, from 0")
    field: str
    message: str


class RefusalExtra(BaseModel):
    field: str = Field(description="the first problem's field")
    errors: list[ItemError] = Field(description="every problem found, by item")


class Refusal(BaseModel):
    """A refused ``PUT``: nothing was written."""

    status_code: int
    detail: str = Field(description="the first problem")
    extra: RefusalExtra


REFUSAL_EXAMPLE: JsonDict = {
    "status_code": 400,
    "detail": "item 7: manager: no person with email nobody@example.com, stored or in this list",
    "extra": {
        "field": "manager",
        "errors": [
            {
                "index": 7,
                "field": "manager",
                "message": "no person with email nobody@example.com, stored or in this list",
            }
        ],
    },
}
