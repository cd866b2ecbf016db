"""The shape every integration ``PUT`` shares (api.md, "Integration resources").

Each takes a list, upserts it by a natural key all or nothing, and answers what happened to
each item: ``created``, ``updated`` or ``unchanged`` (the same body twice changes nothing and
says so). A bad item refuses the whole request with 400 and a per-item report
(``extra.errors``: index, field, message), the same report as ``PUT /api/v1/quotas``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from litestar.exceptions import ValidationException
from pydantic import BaseModel, Field

Outcome = Literal["created", "updated", "unchanged"]

MAX_UPSERT_ITEMS = 5000  # items per request, at most


@dataclass(frozen=True, slots=True)
class ItemProblem:
    index: int
    field: str
    message: str


class UpsertRefused(Exception):
    """One or more items are wrong: nothing was written."""

    def __init__(self, problems: Iterable[ItemProblem], message: str = "") -> None:
        self.problems = sorted(problems, key=lambda p: (p.index, p.field))
        first = self.problems[0] if self.problems else None
        self.message = message or (
            f"item {first.index}: {first.field}: {first.message}" if first else "the request was refused"
        )
        super().__init__(self.message)

    def as_http(self) -> ValidationException:
        """The 400 answer: ``detail`` names the first problem, ``extra.errors`` lists them all."""
        errors = [{"index": p.index, "field": p.field, "message": p.message} for p in self.problems]
        field = self.problems[0].field if self.problems else "body"
        return ValidationException(self.message, extra={"field": field, "errors": errors})


class ItemOutcome(BaseModel):
    index: int = Field(description="the item's position in the request")
    key: str = Field(description="the item's natural key (email, name or code)")
    result: Outcome


class UpsertReport(BaseModel):
    """What a ``PUT`` did, item by item; ``changed`` is false when the same body was sent again."""

    changed: bool
    created: int
    updated: int
    unchanged: int
    items: list[ItemOutcome]

    @classmethod
    def of(cls, outcomes: Iterable[tuple[str, Outcome]]) -> UpsertReport:
        items = [ItemOutcome(index=i, key=key, result=result) for i, (key, result) in enumerate(outcomes)]
        counts = {name: sum(1 for item in items if item.result == name) for name in ("created", "updated", "unchanged")}
        return cls(
            changed=counts["created"] + counts["updated"] > 0,
            created=counts["created"],
            updated=counts["updated"],
            unchanged=counts["unchanged"],
            items=items,
        )


def check_size(items: list[object]) -> None:
    """Refuses a request of more than ``MAX_UPSERT_ITEMS`` items with 400."""
    if len(items) > MAX_UPSERT_ITEMS:
        raise ValidationException(f"at most {MAX_UPSERT_ITEMS} items per request", extra={"field": "body"})
