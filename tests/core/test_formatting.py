"""core/formatting.py: the one rounding rule of shown figures (half-up, never truncation), and that every
template formats attainment through it (docs/metrics.md, "Showing figures")."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from commissions.core.formatting import (
    attainment_percent,
    attainment_ratio,
    bar_value,
    format_count,
    format_measure,
    format_percent,
    format_ratio,
)

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.parametrize(
    ("ppm", "shown"),
    [
        (1_395_500, "139.6%"),  # 1.3955: half-up (truncation said 139.5 %)
        (1_395_499, "139.5%"),
        (1_394_999, "139.5%"),
        (835_000, "83.5%"),
        (834_950, "83.5%"),  # half of the last place rounds up
        (834_949, "83.5%"),
        (834_940, "83.5%"),
        (834_900, "83.5%"),
        (834_850, "83.5%"),
        (834_849, "83.5%"),
        (834_800, "83.5%"),
        (834_750, "83.5%"),
        (834_749, "83.5%"),
        (999_999, "100.0%"),  # never shows 99.9 % for someone a millionth short of rounding up
        (999_499, "99.9%"),
        (0, "0.0%"),
        (1_000_000, "100.0%"),
        (15_234_550, "1,523.5%"),
        (15_234_450, "1,523.4%"),
        (-12_350, "-1.2%"),  # a clawback below zero: half away from zero
    ],
)
def test_attainment_is_shown_to_one_decimal_half_up(ppm: int, shown: str) -> None:
    assert format_percent(ppm) == shown


def test_half_up_not_truncation_nor_bankers_rounding() -> None:
    # 1.3955 -> 139.55 % -> 139.6 %; truncation (the leaderboard's old ROUND_DOWN) gives 139.5
    assert attainment_percent(1_395_500) == Decimal("139.6")
    # 0.8345 -> 83.45 % -> 83.5 % half-up; banker's rounding (Python's round, Decimal's default) gives 83.4
    assert attainment_percent(834_500) == Decimal("83.5")
    assert attainment_percent(None) is None and format_percent(None) == "–"


@pytest.mark.parametrize(
    ("ppm", "ratio"),
    [
        (1_395_500, "1.3955"),
        (1_395_550, "1.3956"),  # half-up (the statement API's default context said 1.3956 too, but by half-even)
        (1_395_450, "1.3955"),  # half-even would give 1.3954
        (861_667, "0.8617"),  # truncation (the leaderboard API's old ROUND_DOWN) gave 0.8616
        (1_050_000, "1.0500"),
        (0, "0.0000"),
    ],
)
def test_the_api_ratio_is_four_places_half_up(ppm: int, ratio: str) -> None:
    assert format_ratio(ppm) == ratio
    assert attainment_ratio(ppm) == Decimal(ratio)


def test_page_and_api_agree_to_the_shown_precision() -> None:
    for ppm in range(830_000, 840_001, 7):
        page = attainment_percent(ppm)
        api = attainment_ratio(ppm)
        assert page is not None and api is not None
        # the page's figure is the API's ratio rounded again only where the API's fifth place was exactly 5
        assert abs(page - api * 100) <= Decimal("0.05")


def test_bar_is_the_shown_percentage_capped() -> None:
    assert bar_value(1_523_000) == 100
    assert bar_value(999_999) == 100  # shows 100.0 %, so the bar is full
    assert bar_value(835_000) == 83
    assert bar_value(None) == 0
    assert bar_value(-5_000) == 0


def test_counts_have_no_trailing_zeros_and_money_has_separators() -> None:
    assert format_count(700) == "7"
    assert format_count(250) == "2.5"
    assert format_count(1_234_500) == "12,345"
    assert format_measure(700, "deals") == "7 deals"
    assert format_measure(100, "deals") == "1 deal"
    assert format_measure(60, "deals") == "0.6 deals"
    assert format_measure(1_200, "mqls") == "12 MQLs"
    assert format_measure(25_850_000, "bookings", "USD") == "258,500.00 USD"
    assert format_measure(25_850_000, "sourced_revenue", "JPY") == "25,850,000 JPY"
    assert format_measure(None, "bookings") == "–"


def test_no_template_formats_attainment_by_itself() -> None:
    """Attainment reaches a page only through the ``percent`` / ``bar`` filters: no second rounding anywhere."""
    offenders = []
    patterns = [
        re.compile(r"attainment_ppm\s*(/|//)"),  # arithmetic on the stored figure
        re.compile(r"attainment_percent"),
        re.compile(r"\be\.percent\b|\bmine\.percent\b|\brow\.percent\b|bar_percent|bar_value"),
        re.compile(r'"%\.\df"\s*\|\s*format\(\s*\w+\.attainment'),
    ]
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for pattern in patterns:
            for match in pattern.finditer(text):
                offenders.append(f"{path.relative_to(TEMPLATES)}: {match.group(0)}")
    assert offenders == []
