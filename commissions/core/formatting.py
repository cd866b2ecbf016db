"""How every figure is shown: one rounding rule, one place (docs/metrics.md, "Showing figures").

Pages (the Jinja filters ``percent``, ``ratio``, ``measure``, ``count`` and ``money``, registered by
``app.assembly``) and the JSON API read the stored calculation (``payee_summary``, the ledger's running
totals) and format it here, so Home, My team, the leaderboard, TV mode, statements and the API show
the same figure for the same person:

- **Attainment** is stored exactly as parts per million (``attainment_ppm``); a page shows it as a
  percentage to **one decimal**, an API as a ratio to **four places**, both rounded **half-up** (half a
  unit of the last place goes away from zero), never truncated: 1.3955 is ``139.6%`` and ``"1.3955"``;
  1.39549 is ``139.5%``.
- **Money** is shown to the currency's minor unit with thousands separators (``258,500.00 USD``).
- **Counts** (deals, MQLs, SQLs: stored in hundredths) are shown without trailing zeros (``7``,
  ``2.5``), never as ``7.00``.

Everything is ``Decimal``; nothing here is ever used to compute pay.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_decimal_symbol, get_group_symbol

from commissions.core.i18n import current_locale
from commissions.core.money import format_money, from_minor

ROUNDING = ROUND_HALF_UP  # the one rounding rule of shown figures
PPM = 1_000_000
PERCENT_PLACES = 1  # attainment on pages: 83.5%
RATIO_PLACES = 4  # attainment in the API: "0.8350"

#: Quota metrics whose credit is counted in hundredths (a 60 % split counts 0.6), not money.
COUNTED_METRICS: dict[str, tuple[str, str]] = {
    "deals": ("deal", "deals"),
    "mqls": ("MQL", "MQLs"),
    "sqls": ("SQL", "SQLs"),
}

#: What each plan quota metric counts, in words a payee reads beside the figure (docs/metrics.md).
METRIC_WORDS: dict[str, str] = {
    "bookings": "bookings: the amounts of won deals your plan credits to you in the period, after its credit rules",
    "deals": "deals: the won deals your plan credits to you in the period, a split counting its share",
    "sourced_revenue": "sourced revenue: won deals from your campaigns (deals whose source campaign you own)",
    "mqls": "MQLs from lead events: marketing-qualified leads you own, in stage order",
    "sqls": "SQLs from lead events: sales-qualified leads you own, in stage order",
    "pipeline": "pipeline from lead events: the amounts of opportunities you own, in stage order",
}

#: Short names of the metrics, for headings and table columns.
METRIC_NAMES: dict[str, str] = {
    "bookings": "Bookings",
    "deals": "Deals",
    "sourced_revenue": "Sourced revenue",
    "mqls": "MQLs",
    "sqls": "SQLs",
    "pipeline": "Pipeline",
}

#: Where the definitions are explained (the help page mirrors docs/metrics.md, "Showing figures").
HELP_URL = "/help/figures"


def _quantize(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUNDING)


def attainment_percent(ppm: int | None) -> Decimal | None:
    """Attainment as a percentage to one decimal, half-up: 1,395,500 ppm -> Decimal("139.6")."""
    if ppm is None:
        return None
    return _quantize(Decimal(ppm) / (PPM // 100), PERCENT_PLACES)


def attainment_ratio(ppm: int | None) -> Decimal | None:
    """Attainment as a ratio to four places, half-up (the API's form): 1,395,500 ppm -> Decimal("1.3955")."""
    if ppm is None:
        return None
    return _quantize(Decimal(ppm) / PPM, RATIO_PLACES)


def format_percent(ppm: int | None, *, empty: str = "–") -> str:
    """Attainment as shown on every page: ``139.6%``; ``empty`` without a quota."""
    shown = attainment_percent(ppm)
    return empty if shown is None else f"{shown:,}%"


def format_ratio(ppm: int | None) -> str | None:
    """Attainment as every API answers it: ``"1.3955"``; None without a quota."""
    shown = attainment_ratio(ppm)
    return None if shown is None else str(shown)


def bar_value(ppm: int | None) -> int:
    """A progress bar's value, 0–100: the shown percentage capped (the figure beside it says 152.3%)."""
    shown = attainment_percent(ppm)
    return 0 if shown is None else max(0, min(100, int(shown)))


def format_count(hundredths: int, noun: tuple[str, str] | None = None) -> str:
    """A count kept in hundredths, without trailing zeros: 700 -> ``7``, 250 -> ``2.5``, 1234500 -> ``12,345``."""
    value = (Decimal(hundredths) / 100).quantize(Decimal("0.01"), rounding=ROUNDING)
    text = f"{value:,.0f}" if value == value.to_integral_value() else f"{value.normalize():,f}"
    if noun is None:
        return text
    return f"{text} {noun[0] if value == 1 else noun[1]}"


def format_measure(minor: int | None, metric: str, currency: str = "USD", *, empty: str = "–") -> str:
    """A credited amount or quota of a plan metric: money (``258,500.00 USD``) or a count (``7 deals``)."""
    if minor is None:
        return empty
    noun = COUNTED_METRICS.get(metric)
    if noun is not None:
        return format_count(int(minor), noun)
    return format_money(int(minor), currency)


def format_amount(minor: int, currency: str) -> str:
    """Money for an API: the currency's minor unit, no separators (``"258500.00"``)."""
    return str(from_minor(int(minor), currency))


#: A plain amount inside a stored sentence: 4 or more integer digits and decimals, not part of an id, a date, a
#: version or a longer number (``CRM-1001``, ``2026-12-02`` and ``1.0850`` are left alone).
_PLAIN_AMOUNT = re.compile(r"(?<![\w.,/-])(-?\d{4,})\.(\d+)(?![\w.,])")


def group_amounts(text: str | None) -> str:
    """A payout line's sentence as a page shows it: its amounts with the locale's digit grouping
    (``11000.00 at 10% = 1100.00`` -> ``11,000.00 at 10% = 1,100.00``). The engine writes (and the ledger stores)
    sentences with plain amounts, so the offline calculator and proof of pay compare them character for
    character; only the page groups them (docs/metrics.md, "Showing figures")."""
    if not text:
        return text or ""
    locale = current_locale()
    group, point = get_group_symbol(locale), get_decimal_symbol(locale)

    def grouped(match: re.Match[str]) -> str:
        return f"{int(match.group(1)):,}".replace(",", group) + point + match.group(2)

    return _PLAIN_AMOUNT.sub(grouped, text)


def metric_words(metric: str) -> str:
    """What a plan metric counts, in words."""
    return METRIC_WORDS.get(metric, metric.replace("_", " "))


def metric_name(metric: str) -> str:
    return METRIC_NAMES.get(metric, metric.replace("_", " ").capitalize())


__all__ = [
    "COUNTED_METRICS",
    "HELP_URL",
    "METRIC_WORDS",
    "ROUNDING",
    "attainment_percent",
    "attainment_ratio",
    "bar_value",
    "format_amount",
    "format_count",
    "format_measure",
    "format_money",
    "format_percent",
    "format_ratio",
    "group_amounts",
    "metric_name",
    "metric_words",
]


def register_filters(filters: dict[str, object], globals_: dict[str, object]) -> None:
    """The Jinja filters and globals every template formats figures with (called by ``app.assembly``)."""
    filters["money"] = lambda minor, currency="USD": format_money(int(minor), currency)
    filters["percent"] = format_percent  # attainment_ppm -> "139.6%"
    filters["bar"] = bar_value  # attainment_ppm -> a progress bar's 0–100
    filters["measure"] = format_measure  # credited_minor | measure(metric, currency)
    filters["count"] = format_count  # hundredths -> "7", "2.5"
    filters["grouped"] = group_amounts  # a stored line sentence -> its amounts grouped: "11,000.00 at 10%"
    globals_["metric_words"] = metric_words
    globals_["metric_name"] = metric_name
    globals_["help_url"] = HELP_URL
