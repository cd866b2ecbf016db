"""The plan's `release` option (docs/plans.md, "Release on cash"): parsed, and refused with located errors."""

from __future__ import annotations

from datetime import date

import pytest

from commissions.engine.errors import PlanValidationError
from commissions.engine.plan import parse_plan

BASE = {
    "name": "Cash 2026",
    "currency": "USD",
    "period": "quarter",
    "components": [{"name": "Commission", "kind": "per_deal", "rate": "10%"}],
}


@pytest.mark.parametrize(
    ("release", "on", "pro_rata", "after", "after_days"),
    [
        ({"on": "payment"}, "payment", False, None, None),
        ({"on": "payment", "pro_rata": True}, "payment", True, None, None),
        ({"after": "2026-06-30"}, None, False, date(2026, 6, 30), None),
        ({"after_days": 60}, None, False, None, 60),
    ],
)
def test_release_rules_parse(
    release: dict, on: str | None, pro_rata: bool, after: date | None, after_days: int | None
) -> None:
    rule = parse_plan({**BASE, "release": release}).release
    assert rule is not None
    assert (rule.on, rule.pro_rata, rule.after, rule.after_days) == (on, pro_rata, after, after_days)


def test_a_plan_without_release_pays_at_once() -> None:
    assert parse_plan(BASE).release is None


@pytest.mark.parametrize(
    ("release", "field", "message"),
    [
        ({}, "release", "exactly one of on: payment, after: <date> or after_days: <days>"),
        ({"on": "payment", "after_days": 3}, "release", "(got on, after_days)"),
        ({"after": "2026-06-30", "pro_rata": True}, "release.pro_rata", "pro_rata needs on: payment"),
        ({"on": "invoice"}, "release.on", "payment"),
        ({"after_days": 1.5}, "release.after_days", "whole number of days"),
        ({"after_days": -1}, "release.after_days", "greater than or equal to 0"),
        ({"on": "payment", "when": "x"}, "release.when", "is not a field"),
    ],
)
def test_bad_release_rules_are_located(release: dict, field: str, message: str) -> None:
    with pytest.raises(PlanValidationError) as caught:
        parse_plan({**BASE, "release": release})
    [issue] = caught.value.issues
    assert issue.component is None and issue.field == field and message in issue.message
