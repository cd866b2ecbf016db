"""Amounts inside stored sentences are grouped on pages (docs/metrics.md, "Showing figures"); ids, dates and
rates are left alone; a grid's quota input shows its target grouped and reads it back."""

from __future__ import annotations

from decimal import Decimal

import pytest

from commissions.core.formatting import group_amounts
from commissions.core.i18n import using_locale
from commissions.quotas.targets import input_target, parse_target


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (
            "CRM-1001 Vandelay Starter new: 11000.00 at 10% (tier 1, up to 100% of quota) = 1100.00",
            "CRM-1001 Vandelay Starter new: 11,000.00 at 10% (tier 1, up to 100% of quota) = 1,100.00",
        ),
        (
            "13500.00 of 1041500.00 credited (attainment 115.72%)",
            "13,500.00 of 1,041,500.00 credited (attainment 115.72%)",
        ),
        ("Reversal of 2026-12-02: -12000.00 at rate 1.0850", "Reversal of 2026-12-02: -12,000.00 at rate 1.0850"),
        ("SPIFF 500.00 + 999.99", "SPIFF 500.00 + 999.99"),
        ("INV-2026.01 v1234.56", "INV-2026.01 v1234.56"),
        ("", ""),
        (None, ""),
    ],
)
def test_group_amounts(stored: str | None, shown: str) -> None:
    assert group_amounts(stored) == shown


def test_group_amounts_follows_the_locale() -> None:
    with using_locale("th"):
        assert group_amounts("= 1100.00") == "= 1,100.00"  # Thai groups and points like English


@pytest.mark.parametrize(
    ("metric", "minor", "shown"),
    [
        ("bookings", 140000000, "1,400,000.00"),
        ("bookings", 99950, "999.50"),
        ("deals", 120000, "1,200"),
        ("deals", 850, "8.5"),
    ],
)
def test_a_grid_input_shows_its_target_grouped_and_parses_it_back(metric: str, minor: int, shown: str) -> None:
    value = Decimal(minor).scaleb(-2)
    assert input_target(value, metric, "USD") == shown
    assert parse_target(shown, metric, "USD") == minor
