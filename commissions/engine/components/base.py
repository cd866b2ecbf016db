"""What every plan component kind is made of: ``PlanComponent``, the base class of the
kinds, and what a kind computes from (``PayeeCredit``, ``Calculation``).

A kind is one class: its fields and checks (a Pydantic model whose ``kind`` is a literal),
``compute`` (one payee's exact values and the lines that explain them) and, beside it in
its module, the ``Line`` classes that write its sentences. ``docs/plan-components.md``
shows how to add one.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from pydantic import Field, field_validator

from commissions.engine.credit import Credits, Entry, Shares
from commissions.engine.lines import LineSource
from commissions.engine.money import CONTEXT, ONE, ZERO
from commissions.engine.plan_schema import RESERVED_NAMES, Money, PlanModel


@dataclass(frozen=True, slots=True)
class Calculation:
    """Facts of the whole calculation that a component may need besides its payee."""

    digits: int  # the plan currency's minor digits
    count_metric: bool  # the credited measure is a count of deals (or leads), not money
    report_totals: Mapping[str, Decimal]  # each person's own credited money (only when a kind pays on reports)


class PayeeCredit:
    """One payee's credited deals in deal order, with credited money and measure per deal.
    ``entries`` are ``Shares`` (columns that read as ``(position, deal, share)`` entries); a list of
    entries given is turned into them."""

    __slots__ = (
        "attainment",
        "credited",
        "credits",
        "entries",
        "measures",
        "moneys",
        "person",
        "quota",
    )

    def __init__(
        self,
        person: str,
        entries: Shares | list[Entry],
        moneys: list[Decimal],
        count_metric: bool,
        quota: Decimal | None,
        credits: Credits,
    ) -> None:
        self.person = person
        self.entries = entries if isinstance(entries, Shares) else Shares.of(entries)
        self.moneys = moneys
        self.measures: list[Decimal]
        if count_metric:
            self.measures = list(self.entries.shares)
            self.credited = sum(self.measures, ZERO)
        else:
            self.measures = moneys
            self.credited = sum(moneys, ZERO)
        self.quota = quota
        self.attainment = None if quota is None or quota <= 0 else CONTEXT.divide(self.credited, quota)
        self.credits = credits

    @property
    def target(self) -> Decimal:
        """The quota target, for kinds that need attainment (never computed without one)."""
        if self.quota is None:
            raise RuntimeError(f"{self.person} has no quota: a component that needs one was computed")
        return self.quota

    @property
    def reached(self) -> Decimal:
        """The attainment, for kinds that need it (never computed without a quota above 0)."""
        if self.attainment is None:
            raise RuntimeError(f"{self.person} has no attainment: a component that needs one was computed")
        return self.attainment


def credited_money(entries: Shares | list[Entry]) -> list[Decimal]:
    """amount × share per entry (the amount itself for sole credit)."""
    if isinstance(entries, Shares):
        return [
            deal.amount if share is ONE else deal.amount * share
            for deal, share in zip(entries.deals, entries.shares, strict=True)
        ]
    return [deal.amount if share is ONE else deal.amount * share for _, deal, share in entries]


class PlanComponent(PlanModel):
    """Base of the component kinds. A subclass narrows ``kind`` to its literal (the key it is
    registered under), adds its fields and validators, and implements ``compute``."""

    name: str = Field(min_length=1, max_length=200)
    cap: Money | None = None
    kind: str

    #: Where the kind appears when the kinds are listed (error messages): lower first.
    listing_order: ClassVar[int] = 1000
    #: The field an issue names when the kind needs attainment and the plan sets no quota.
    attainment_field: ClassVar[str] = "kind"
    #: True for a kind that pays on the credit of the payee's reports (their totals are
    #: then computed, and a person with only reports' credit is paid).
    pays_on_reports: ClassVar[bool] = False

    @field_validator("name")
    @classmethod
    def _name_not_reserved(cls, name: str) -> str:
        stripped = name.strip()
        if not stripped:
            raise ValueError("a component needs a name")
        if stripped in RESERVED_NAMES or stripped.startswith("cap:"):
            raise ValueError(f"{stripped!r} is reserved for the cap and draw lines of a statement")
        return stripped

    @property
    def needs_attainment(self) -> bool:
        """True when computing it needs the payee's quota (a missing one is the payee's error)."""
        return False

    def amounts(self) -> Iterator[tuple[str, Decimal | None]]:
        """(field, amount) of the amounts that must fit the currency's minor unit."""
        yield "cap", self.cap

    @abstractmethod
    def compute(self, payee: PayeeCredit, calculation: Calculation) -> LineSource:
        """The payee's exact total of this component, and how to make its lines."""
