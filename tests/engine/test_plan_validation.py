"""Plan validation errors name the component and the field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from commissions.engine import PlanValidationError, load_plan_document, parse_plan

BASE = load_plan_document((Path(__file__).parent / "data" / "plan.yaml").read_text())


def _tiers(doc: dict) -> list:
    return doc["components"][0]["tiers"]


CASES: list[tuple[str, Any, str | None, str, str]] = [
    (
        "rate above 100%",
        lambda d: _tiers(d)[1].update(rate="150%"),
        "Commission",
        "tiers[1].rate",
        "rate 150% is outside 0%-100%",
    ),
    (
        "rate as 15",
        lambda d: _tiers(d)[1].update(rate=15),
        "Commission",
        "tiers[1].rate",
        "rate 1500% is outside 0%-100% (write 15% or 0.15)",
    ),
    (
        "negative rate",
        lambda d: _tiers(d)[0].update(rate="-1%"),
        "Commission",
        "tiers[0].rate",
        "outside 0%-100%",
    ),
    (
        "bounds not rising",
        lambda d: _tiers(d)[1].update(to="100%"),
        "Commission",
        "tiers[1].to",
        "tier bounds must rise (100% after 100%)",
    ),
    (
        "last tier closed",
        lambda d: _tiers(d)[2].update(to="200%"),
        "Commission",
        "tiers[2].to",
        "the last tier must be open-ended",
    ),
    (
        "middle tier open",
        lambda d: _tiers(d)[1].pop("to"),
        "Commission",
        "tiers[1].to",
        "only the last tier may be open-ended",
    ),
    (
        "unknown kind",
        lambda d: d["components"][0].update(kind="tierd"),
        "Commission",
        "kind",
        "unknown kind 'tierd'",
    ),
    (
        "per deal on attainment",
        lambda d: d["components"][0].update(per="deal"),
        "Commission",
        "per",
        "needs on: amount",
    ),
    (
        "percent bound on amount",
        lambda d: d["components"][0].update(on="amount"),
        "Commission",
        "tiers[0].to",
        "expected an amount",
    ),
    (
        "bad when",
        lambda d: d["components"][1].update(when="term_months >= 24 and len(product) > 2"),
        "Multi-year SPIFF",
        "when",
        "function calls are not allowed",
    ),
    (
        "no quota metric",
        lambda d: d.pop("quota"),
        "Commission",
        "on",
        "needs attainment, but the plan sets no `quota`",
    ),
    (
        "bonus without quota metric",
        lambda d: (d.pop("quota"), d["components"].pop(0)),
        "Quota club",
        "kind",
        "needs attainment",
    ),
    (
        "curve not rising",
        lambda d: d["components"].append(
            {
                "name": "C",
                "kind": "curve",
                "points": [["0%", 0], ["50%", 1], ["50%", 2]],
            }
        ),
        "C",
        "points[2]",
        "curve points must have rising attainment (50% after 50%)",
    ),
    (
        "duplicate name",
        lambda d: d["components"][2].update(name="Commission"),
        "Commission",
        "name",
        "two components are named",
    ),
    (
        "reserved name",
        lambda d: d["components"][2].update(name="cap: Commission"),
        "cap: Commission",
        "name",
        "reserved",
    ),
    (
        "unknown field",
        lambda d: d["components"][2].update(pays=1),
        "Quota club",
        "pays",
        "is not a field of this component",
    ),
    (
        "per_deal pays nothing",
        lambda d: d["components"][1].pop("pay"),
        "Multi-year SPIFF",
        "pay",
        "needs `pay`",
    ),
    (
        "window reversed",
        lambda d: d["components"][1].update({"from": "2026-04-01"}),
        "Multi-year SPIFF",
        "to",
        "before it starts",
    ),
    (
        "missing at",
        lambda d: d["components"][2].pop("at"),
        "Quota club",
        "at",
        "is required",
    ),
    (
        "credit when",
        lambda d: d["credit"].update(when="type == 1"),
        None,
        "credit.when",
        "type is text and cannot be compared with 1",
    ),
    (
        "currency",
        lambda d: d.update(currency="usd"),
        None,
        "currency",
        "not an ISO 4217 currency code",
    ),
    ("period", lambda d: d.update(period="week"), None, "period", "Input should be"),
    (
        "draw",
        lambda d: d.update(draw={"amount": 3000}),
        None,
        "draw.recoverable",
        "is required",
    ),
    ("negative cap", lambda d: d.update(cap=-1), None, "cap", "negative"),
    (
        "cap finer than cents",
        lambda d: d.update(cap="100.125"),
        None,
        "cap",
        "100.125 has more decimals than USD allows (2)",
    ),
    (
        "pay finer than cents",
        lambda d: d["components"][2].update(pay="1.001"),
        "Quota club",
        "pay",
        "more decimals than USD",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "component", "field", "message"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_validation_errors(mutate: Any, component: str | None, field: str, message: str) -> None:
    document = copy.deepcopy(BASE)
    mutate(document)
    with pytest.raises(PlanValidationError) as caught:
        parse_plan(document)
    issue = caught.value.issues[0]
    assert (issue.component, issue.field) == (component, field)
    assert message in issue.message
    assert (component or field) in str(caught.value)


def test_condition_error_carries_its_position() -> None:
    document = copy.deepcopy(BASE)
    document["components"][1]["when"] = "term_months >= 24 and prodct == 'Pro'"
    with pytest.raises(PlanValidationError) as caught:
        parse_plan(document)
    assert caught.value.issues[0].position == 23
    assert "component 'Multi-year SPIFF', when: unknown name 'prodct'" in str(caught.value)


def test_percent_forms_and_yaml_decimals() -> None:
    text = (Path(__file__).parent / "data" / "plan.yaml").read_text().replace("rate: 15%", "rate: 0.15")
    plan = parse_plan(load_plan_document(text))
    assert str(plan.components[0].rates[1]) == "0.15"  # YAML float read as exact decimal text
    assert plan.components[0].bounds == (1, __import__("decimal").Decimal("1.5"))


def test_yaml_on_key_is_not_a_boolean() -> None:
    plan = parse_plan(
        load_plan_document(
            "name: P\ncurrency: EUR\nperiod: month\ncomponents:\n  - {name: Size, kind: tiered, on: amount, tiers: [{to: 1000, rate: 1%}, {rate: 2%}]}\n"
        )
    )
    assert plan.components[0].on == "amount" and plan.quota is None


def test_custom_fields_must_be_declared() -> None:
    document = copy.deepcopy(BASE)
    document["components"][1]["when"] = 'region == "EMEA"'
    with pytest.raises(PlanValidationError, match="unknown name 'region'"):
        parse_plan(document)
    assert parse_plan(document, custom_fields=["region"]).components[1].condition.fields == ("region",)
    with pytest.raises(PlanValidationError, match="region is a number"):
        parse_plan(document, custom_fields={"region": "number"})


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(PlanValidationError) as caught:
        load_plan_document("name: x\ncomponents: [\n  - a: b\n")
    assert caught.value.issues[0].field.startswith("line ")
