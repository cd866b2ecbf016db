"""The component kinds' registry: one class per kind, looked up by `kind`, never by default."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import pytest

from commissions.engine.components import (
    Calculation,
    PayeeCredit,
    PlanComponent,
    component_class,
    kinds,
    register,
    registry,
)
from commissions.engine.components.tiered import TieredComponent
from commissions.engine.credit import Credits
from commissions.engine.lines import LineSource, exact_lines
from commissions.engine.plan import COMPONENT_KINDS

from .helpers import D, deal


@pytest.fixture
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kinds registered by a test are forgotten after it."""
    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))


def test_the_kinds_in_listing_order() -> None:
    assert kinds() == COMPONENT_KINDS == ("tiered", "per_deal", "bonus", "curve", "override")
    assert component_class("tiered") is TieredComponent


def test_an_unknown_kind_is_an_error() -> None:
    with pytest.raises(KeyError, match=r"unknown component kind 'flat' \(one of tiered, per_deal"):
        component_class("flat")


def test_a_new_kind_is_one_class(scratch_registry: None) -> None:
    @register
    class FlatComponent(PlanComponent):
        kind: Literal["flat"]
        pay: Decimal
        listing_order = 60

        def compute(self, payee: PayeeCredit, calculation: Calculation) -> LineSource:
            return exact_lines([self.pay], lambda amounts: [])

    assert kinds()[-1] == "flat" and component_class("flat") is FlatComponent
    flat = FlatComponent(name="Flat", kind="flat", pay=D(100))
    payee = PayeeCredit("ana@x.com", [(0, deal("D-1", 10), D(1))], [D(10)], False, None, Credits())
    assert flat.compute(payee, Calculation(2, False, {})).exact_total == D(100)
    assert list(flat.amounts()) == [("cap", None)] and not flat.needs_attainment


def test_a_kind_must_name_itself_with_one_literal(scratch_registry: None) -> None:
    class Nameless(PlanComponent):
        def compute(self, payee: PayeeCredit, calculation: Calculation) -> LineSource:
            raise NotImplementedError

    with pytest.raises(TypeError, match="must be one Literal string"):
        register(Nameless)


def test_a_kind_is_registered_once(scratch_registry: None) -> None:
    class OtherTiered(PlanComponent):
        kind: Literal["tiered"]

        def compute(self, payee: PayeeCredit, calculation: Calculation) -> LineSource:
            raise NotImplementedError

    with pytest.raises(TypeError, match="registered twice"):
        register(OtherTiered)


def test_a_kind_without_compute_cannot_be_made() -> None:
    class Incomplete(PlanComponent):
        kind: Literal["incomplete"]

    with pytest.raises(TypeError, match="abstract"):
        Incomplete(name="x", kind="incomplete")
