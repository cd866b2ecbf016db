"""A person's credited shares are kept as columns (``credit.Shares``) and still read as the
``(position, deal, share)`` entries they replaced: per person, in deal order, as a sequence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from commissions.engine.components import PayeeCredit, credited_money
from commissions.engine.credit import Credits, Shares
from commissions.engine.inputs import Deal

ONE = Decimal(1)


def _deal(external_id: str, amount: str) -> Deal:
    return Deal(external_id, "ana@x.com", Decimal(amount), "USD", date(2026, 1, 5))


def test_shares_read_as_entries() -> None:
    a, b = _deal("D-1", "100.00"), _deal("D-2", "50.00")
    entries = [(0, a, ONE), (3, b, Decimal("0.4"))]
    shares = Shares.of(entries)
    assert len(shares) == 2 and bool(shares) and not Shares()
    assert list(shares) == entries
    assert shares[1] == entries[1]
    assert list(shares.positions) == [0, 3] and shares.deals == [a, b]
    assert credited_money(shares) == credited_money(entries) == [Decimal("100.00"), Decimal("20.000")]


def test_payee_credit_takes_entries_or_shares() -> None:
    a = _deal("D-1", "100.00")
    from_list = PayeeCredit("ana@x.com", [(0, a, ONE)], [Decimal("100.00")], True, None, Credits())
    assert isinstance(from_list.entries, Shares) and list(from_list.entries) == [(0, a, ONE)]
    assert from_list.measures == [ONE] and from_list.credited == ONE
