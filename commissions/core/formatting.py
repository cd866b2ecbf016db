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
- **Dates** in the locale's medium form (``Dec 2, 2026``, ``2 Dis 2026``), never wrapping.

Figures follow the request's locale (``core.i18n``) with Babel's CLDR data, in one pattern per kind for
every locale (``#,##0.00 ¤¤`` for money, ``#,##0.0%`` for attainment, ``#,##0.##`` for counts): the
rounding is done here first (half-up, on ``Decimal``), so a locale changes how a figure looks, never what
it is. The patterns group by three in every locale, so a figure is written once with Python's own
grouping and its separators are swapped for the locale's (the decimal and group symbols, read
from Babel once per locale): the same text Babel's ``format_decimal``/``format_currency``/
``format_percent`` give for these patterns (tests/core/test_translations.py checks it), at a twentieth of
the cost, which a leaderboard or statement formatting thousands of figures pays per request. Dates are
Babel's ``format_date``.

Everything is ``Decimal``; nothing here is ever used to compute pay.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.dates import format_date as babel_format_date
from babel.numbers import get_decimal_symbol, get_group_symbol

from commissions.core.i18n import N_, Nn_, current_locale, gettext, ngettext
from commissions.core.money import from_minor
from commissions.engine.money import minor_digits

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
#: The same counts with their number, as the catalogs translate them (``%(num)s`` is the formatted count).
_COUNTED_TEXTS: dict[tuple[str, str], tuple[str, str]] = {
    ("deal", "deals"): Nn_("%(num)s deal", "%(num)s deals"),
    ("MQL", "MQLs"): Nn_("%(num)s MQL", "%(num)s MQLs"),
    ("SQL", "SQLs"): Nn_("%(num)s SQL", "%(num)s SQLs"),
}

#: What each plan quota metric counts, in words a payee reads beside the figure (docs/metrics.md).
METRIC_WORDS: dict[str, str] = {
    "bookings": N_("bookings: the amounts of won deals your plan credits to you in the period, after its credit rules"),
    "deals": N_("deals: the won deals your plan credits to you in the period, a split counting its share"),
    "sourced_revenue": N_("sourced revenue: won deals from your campaigns (deals whose source campaign you own)"),
    "mqls": N_("MQLs from lead events: marketing-qualified leads you own, in stage order"),
    "sqls": N_("SQLs from lead events: sales-qualified leads you own, in stage order"),
    "pipeline": N_("pipeline from lead events: the amounts of opportunities you own, in stage order"),
}

#: Short names of the metrics, for headings and table columns.
METRIC_NAMES: dict[str, str] = {
    "bookings": N_("Bookings"),
    "deals": N_("Deals"),
    "sourced_revenue": N_("Sourced revenue"),
    "mqls": N_("MQLs"),
    "sqls": N_("SQLs"),
    "pipeline": N_("Pipeline"),
}

#: Stored words a page shows as they are (states, statuses, deal types, sort orders), translated when shown
#: by the ``word`` filter (``{{ period.state | word }}``); the stored value itself never changes.
SHOWN_WORDS: dict[str, str] = {
    word: word
    for word in (
        N_("open"),
        N_("approved"),
        N_("locked"),
        N_("paid"),
        N_("won"),
        N_("cancelled"),
        N_("new"),
        N_("expansion"),
        N_("renewal"),
        N_("pending"),
        N_("rejected"),
        N_("answered"),
        N_("resolved"),
        N_("held"),
        N_("released"),
        N_("delivered"),
        N_("failed"),
        N_("dead"),
        N_("close date"),
        N_("amount"),
        N_("name"),
        N_("descending"),
        N_("ascending"),
        N_("sales"),
        N_("marketing"),
        N_("other"),
    )
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


def _locale(locale: str | None) -> str:
    return locale or current_locale()


@lru_cache(maxsize=64)
def _symbols(locale: str) -> dict[int, str] | None:
    """The locale's separators as a ``str.translate`` table from Python's (None: they are Python's)."""
    mine = {
        ",": get_group_symbol(locale),
        ".": get_decimal_symbol(locale),
    }
    if all(theirs == ours for ours, theirs in mine.items()):
        return None
    return str.maketrans(mine)


def _localised(text: str, locale: str | None) -> str:
    table = _symbols(_locale(locale))
    return text if table is None else text.translate(table)


def _grouped(value: Decimal, places: int) -> str:
    """``value`` (already rounded to ``places``) with Python's grouping: ``-258,500.00``."""
    return f"{value:,.{places}f}"


def format_money(minor: int, currency: str, *, locale: str | None = None) -> str:
    """Money as every page shows it: the currency's minor unit, separators, the code after (``258,500.00 USD``)."""
    return f"{_localised(_grouped(from_minor(int(minor), currency), minor_digits(currency)), locale)} {currency}"


def format_number(value: Decimal | int, places: int = 0, *, locale: str | None = None) -> str:
    """A plain figure rounded half-up to ``places`` decimals with the locale's separators (``1,400,000``)."""
    return _localised(_grouped(_quantize(Decimal(value), places), places), locale)


def format_percent(ppm: int | None, *, empty: str = "–", locale: str | None = None) -> str:
    """Attainment as shown on every page: ``139.6%``; ``empty`` without a quota."""
    shown = attainment_percent(ppm)
    if shown is None:
        return empty
    return _localised(_grouped(shown, PERCENT_PLACES) + "%", locale)


def format_date(value: dt.date | dt.datetime | str | None, *, empty: str = "–", locale: str | None = None) -> str:
    """A date in the locale's medium form (``Dec 2, 2026``), its spaces non-breaking so it never wraps."""
    if value is None or value == "":
        return empty
    if isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    else:
        day = value.date() if isinstance(value, dt.datetime) else value
    return _medium_date(day, _locale(locale))


@lru_cache(maxsize=4096)
def _medium_date(day: dt.date, locale: str) -> str:
    return babel_format_date(day, format="medium", locale=locale).replace(" ", "\u00a0")


def format_ratio(ppm: int | None) -> str | None:
    """Attainment as every API answers it: ``"1.3955"``; None without a quota."""
    shown = attainment_ratio(ppm)
    return None if shown is None else str(shown)


def bar_value(ppm: int | None) -> int:
    """A progress bar's value, 0–100: the shown percentage capped (the figure beside it says 152.3%)."""
    shown = attainment_percent(ppm)
    return 0 if shown is None else max(0, min(100, int(shown)))


def format_count(hundredths: int, noun: tuple[str, str] | None = None, *, locale: str | None = None) -> str:
    """A count kept in hundredths, without trailing zeros: 700 -> ``7``, 250 -> ``2.5``, 1234500 -> ``12,345``."""
    value = (Decimal(hundredths) / 100).quantize(Decimal("0.01"), rounding=ROUNDING)
    whole = value == value.to_integral_value()
    text = _localised(_grouped(value, 0) if whole else _grouped(value, 2).rstrip("0"), locale)
    if noun is None:
        return text
    texts = _COUNTED_TEXTS.get(noun)
    if texts is None:
        return f"{text} {noun[0] if value == 1 else noun[1]}"
    # a fraction (2.5 deals) takes the plural; the catalogs' plural rules choose among whole numbers
    n = int(value) if value == value.to_integral_value() else 2
    return ngettext(texts[0], texts[1], n) % {"num": text}


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


def shown_word(word: object) -> str:
    """A stored word (``locked``, ``won``, ``renewal``) in the request's language; any other text as it is."""
    text = "" if word is None else str(word)
    return gettext(text) if text in SHOWN_WORDS else text


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
    """What a plan metric counts, in words (in the request's language)."""
    words = METRIC_WORDS.get(metric)
    return gettext(words) if words else metric.replace("_", " ")


def metric_name(metric: str) -> str:
    name = METRIC_NAMES.get(metric)
    return gettext(name) if name else metric.replace("_", " ").capitalize()


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
    "format_date",
    "format_measure",
    "format_money",
    "format_number",
    "format_percent",
    "format_ratio",
    "group_amounts",
    "metric_name",
    "metric_words",
    "shown_word",
]


def register_filters(filters: dict[str, object], globals_: dict[str, object]) -> None:
    """The Jinja filters and globals every template formats figures with (called by ``app.assembly``)."""
    filters["money"] = lambda minor, currency="USD": format_money(int(minor), currency)  # "258,500.00 USD"
    filters["percent"] = format_percent  # attainment_ppm -> "139.6%"
    filters["bar"] = bar_value  # attainment_ppm -> a progress bar's 0–100
    filters["measure"] = format_measure  # credited_minor | measure(metric, currency)
    filters["count"] = format_count  # hundredths -> "7", "2.5"
    filters["number"] = format_number  # a plain figure, half-up to N places -> "1,400,000"
    filters["word"] = shown_word  # a stored state, status or type -> its word in the page's language
    filters["date"] = format_date  # a date -> "Dec 2, 2026" (the locale's medium form, never wrapping)
    globals_["metric_words"] = metric_words
    globals_["metric_name"] = metric_name
    globals_["help_url"] = HELP_URL
