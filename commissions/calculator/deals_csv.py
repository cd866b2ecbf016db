"""The grammar of a deals.csv row (cli.md, "CSV files"): one reading for both doors.

The offline calculator (``calculator/readers.py``) and the app's CSV import
(``deals/csv_import.py``) both turn a row into a ``DealRow`` here, so the same file is
accepted or refused the same way, with the same messages. A bad value raises
``RowProblem(field, message)``; each door adds where it was (the calculator the file and
the line, the import the line) and then checks what only it can know: whether the owner
and split partners exist (people.csv or the database) and whether the currency is paid.

The grammar (docs/deals-and-statements.md, "The deals CSV"):

- ``external_id`` (required, at most 128 characters), ``owner`` (required, an email; emails
  are compared case-insensitively and read in lower case), ``amount`` (required, a decimal
  like ``1234.50``: not negative, at most 10^12, at most the currency's minor digits),
  ``closed_at`` (required, ``2026-01-31``, between 2000-01-01 and 2100-12-31).
- ``currency`` a three-letter code, any case (read upper case), ``USD`` when empty.
- ``type`` empty or new | expansion | renewal (an empty type is the text "", plans.md 4);
  ``name``, ``account``, ``product`` free text up to 200 characters; ``source_campaign``
  a code up to 64 characters; ``term_months`` empty or a whole number 0-600.
- ``status`` won (when empty) or cancelled; a cancelled deal needs ``cancelled_at`` (a
  date, not before ``closed_at``), a won one has none.
- ``splits`` empty or ``a@x.com:60;b@x.com:40``; a share may also be written ``60%``;
  each share above 0, at most 100, at most 2 decimals; nobody twice; at most 20; the
  shares sum to exactly 100.
- Any other column is a custom field, its value kept as text (an empty one is null).
- A line of empty cells is skipped; a row with more or fewer cells than the header is
  refused (``width_problem``).

Pure: standard library and the engine's money table only (the calculator must not import
ORM or web code).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from commissions.engine.money import minor_digits

STANDARD_COLUMNS = (
    "external_id",
    "name",
    "account",
    "owner",
    "amount",
    "currency",
    "closed_at",
    "type",
    "product",
    "term_months",
    "source_campaign",
    "status",
    "cancelled_at",
    "splits",
)
#: What the app's import needs; the calculator asks for every standard column (cli.md).
REQUIRED_COLUMNS = ("external_id", "owner", "amount", "closed_at")
DEAL_TYPES = ("new", "expansion", "renewal")
STATUSES = ("won", "cancelled")
DEFAULT_CURRENCY = "USD"
MAX_AMOUNT = Decimal("1000000000000")  # 10^12 in the deal's currency: beyond this it is a typo, not a deal
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
MAX_TEXT = 200
MAX_EXTERNAL_ID = 128
MAX_CAMPAIGN = 64
MAX_EMAIL = 254
MAX_TERM_MONTHS = 600
MAX_SPLITS = 20
HUNDRED = Decimal(100)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")


class RowProblem(ValueError):
    """A value of a deals.csv row that the grammar refuses; ``field`` is its column."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True, slots=True)
class DealRow:
    """One row read by the grammar: values stripped, emails lower case, empty text ``""``."""

    external_id: str
    owner: str
    amount: Decimal
    currency: str
    closed_at: date
    name: str = ""
    account: str = ""
    type: str = ""
    product: str = ""
    term_months: int | None = None
    source_campaign: str = ""
    status: str = "won"
    cancelled_at: date | None = None
    splits: tuple[tuple[str, Decimal], ...] = ()
    custom: dict[str, str] | None = None  # every extra column, "" when empty; None without extra columns


def parse_amount(text: str, field: str, *, digits: int | None = None, limit: Decimal | None = None) -> Decimal:
    """A decimal amount like ``1234.50``: finite, not negative, at most ``digits`` decimals and ``limit``."""
    raw = text.strip()
    if (
        raw and raw.isascii() and raw[0] in "0123456789" and raw.replace(".", "", 1).isdigit()
    ):  # the common case: 1234.50
        if digits is not None and "." in raw and len(raw) - raw.index(".") - 1 > digits:
            raise RowProblem(field, f"{raw} has more than {digits} decimals")
        value = Decimal(raw)
    else:
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise RowProblem(field, f"{raw!r} is not an amount (write 1234.50)") from None
        if not value.is_finite():
            raise RowProblem(field, f"{raw!r} is not an amount (write 1234.50)")
        if value < 0:
            raise RowProblem(field, f"{raw} is negative")
        exponent = value.as_tuple().exponent
        if digits is not None and isinstance(exponent, int) and exponent < -digits:
            raise RowProblem(field, f"{raw} has more than {digits} decimals")
    if limit is not None and value > limit:
        raise RowProblem(field, f"{raw} is above {limit} (the largest amount)")
    return value


def parse_date(text: str, field: str) -> date:
    """A date written ``2026-01-31``, between 2000-01-01 and 2100-12-31."""
    raw = text.strip()
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        value = date.fromisoformat(raw)
    except ValueError:
        raise RowProblem(field, f"{raw!r} is not a date (write 2026-01-31)") from None
    if not EARLIEST <= value <= LATEST:
        raise RowProblem(field, f"{raw} is not between {EARLIEST} and {LATEST}")
    return value


def parse_email(text: str, field: str) -> str:
    email = text.strip().lower()
    if not email:
        raise RowProblem(field, f"empty {field} (an email)")
    if len(email) < 3 or len(email) > MAX_EMAIL:
        raise RowProblem(field, f"{email!r} is not an email")
    return email


def parse_splits(text: str) -> tuple[tuple[str, Decimal], ...]:
    """``a@x.com:60;b@x.com:40`` (or ``60%``): each share above 0 and at most 100, summing to 100."""
    parts = [part.strip() for part in text.split(";")]
    parts = [part for part in parts if part]
    if len(parts) > MAX_SPLITS:
        raise RowProblem("splits", f"{len(parts)} people; a deal is split between {MAX_SPLITS} at most")
    out: list[tuple[str, Decimal]] = []
    total = Decimal(0)
    for part in parts:
        email, sep, share_text = part.rpartition(":")
        if not sep or not email.strip():
            raise RowProblem("splits", f"{part!r} is not email:share (a@x.com:60;b@x.com:40)")
        email = parse_email(email, "splits")
        share_text = share_text.strip()
        number = share_text[:-1].rstrip() if share_text.endswith("%") else share_text
        try:
            share = Decimal(number)
        except InvalidOperation:
            raise RowProblem("splits", f"{share_text!r} is not a share (a number like 60 or 60%)") from None
        if not share.is_finite() or share <= 0:
            raise RowProblem("splits", f"share {share_text} must be above 0")
        if share > HUNDRED:
            raise RowProblem("splits", f"share {share_text} is above 100")
        exponent = share.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            raise RowProblem("splits", f"share {share_text} has more than 2 decimals")
        if any(email == other for other, _ in out):
            raise RowProblem("splits", f"{email} appears twice")
        out.append((email, share))
        total += share
    if total != HUNDRED:
        raise RowProblem("splits", f"shares sum to {total}, not 100")
    return tuple(out)


def is_blank(values: Sequence[str]) -> bool:
    """A line of empty cells (``,,,,`` as spreadsheets export them): skipped like an empty line."""
    return not any(value.strip() for value in values)


def width_problem(values: int, columns: int) -> str:
    """The message for a row with another number of cells than the header: refused, never padded."""
    return f"{values} values but the header has {columns} columns"


def _text(value: str, field: str, limit: int) -> str:
    if len(value) > limit:
        raise RowProblem(field, f"longer than {limit} characters")
    return value


class DealRowParser:
    """Reads the rows of one file, given its header (columns stripped; a missing standard
    column reads as empty). Remembers the amounts and dates it has read: a file of 10,000
    deals has a few hundred distinct ones."""

    def __init__(self, header: Sequence[str], *, default_currency: str = DEFAULT_CURRENCY) -> None:
        """``default_currency``: a row's currency when its cell is empty (the calculator: its plan's)."""
        positions = {name: i for i, name in enumerate(header)}
        self._default_currency = default_currency
        self._at = [positions.get(name) for name in STANDARD_COLUMNS]
        self.extras = [(name, i) for i, name in enumerate(header) if name not in STANDARD_COLUMNS]
        self._amounts: dict[tuple[str, str], Decimal] = {}
        self._dates: dict[str, date] = {}

    @property
    def dates(self) -> dict[str, date]:
        """The dates read so far, by their text (stripped): every one valid."""
        return self._dates

    def _date(self, text: str, field: str) -> date:
        value = self._dates.get(text)
        if value is None:
            value = parse_date(text, field)
            if len(self._dates) < 65536:
                self._dates[text] = value
        return value

    def parse(self, values: Sequence[str]) -> DealRow:
        """The row (its values in header order), or ``RowProblem`` for its first bad value."""
        (
            external_id,
            name,
            account,
            owner,
            amount_text,
            currency,
            closed_text,
            kind,
            product,
            term_text,
            campaign,
            status,
            cancelled_text,
            splits_text,
        ) = ("" if i is None else values[i].strip() for i in self._at)
        if not external_id:
            raise RowProblem("external_id", "empty external_id")
        _text(external_id, "external_id", MAX_EXTERNAL_ID)
        owner = parse_email(owner, "owner")
        currency = currency.upper() or self._default_currency
        if not _CURRENCY.fullmatch(currency):
            raise RowProblem("currency", f"{currency!r} is not a currency code (write USD)")
        if not amount_text:
            raise RowProblem("amount", "empty amount (write 1234.50)")
        amount = self._amounts.get((amount_text, currency))
        if amount is None:
            amount = parse_amount(amount_text, "amount", digits=minor_digits(currency), limit=MAX_AMOUNT)
            if len(self._amounts) < 65536:
                self._amounts[amount_text, currency] = amount
        if not closed_text:
            raise RowProblem("closed_at", "empty closed_at (write 2026-01-31)")
        closed_at = self._date(closed_text, "closed_at")
        if kind and kind not in DEAL_TYPES:
            raise RowProblem("type", f"{kind!r} is not a deal type ({', '.join(DEAL_TYPES)})")
        term_months = None
        if term_text:
            if not (term_text.isascii() and term_text.lstrip("-").isdigit()):  # "²" is a digit to isdigit()
                raise RowProblem("term_months", f"{term_text!r} is not a whole number of months")
            term_months = int(term_text)
            if term_months < 0:
                raise RowProblem("term_months", f"{term_text} is negative")
            if term_months > MAX_TERM_MONTHS:
                raise RowProblem("term_months", f"{term_text} is more than {MAX_TERM_MONTHS} months")
        status = status or "won"
        cancelled_at = None
        if status == "cancelled":
            if not cancelled_text:
                raise RowProblem("cancelled_at", "a cancelled deal needs cancelled_at")
            cancelled_at = self._date(cancelled_text, "cancelled_at")
            if cancelled_at < closed_at:
                raise RowProblem("cancelled_at", f"{cancelled_at} is before closed_at {closed_at}")
        elif status != "won":
            raise RowProblem("status", f"{status!r} is not a status (won or cancelled)")
        elif cancelled_text:
            raise RowProblem("cancelled_at", "only a cancelled deal has cancelled_at")
        splits = parse_splits(splits_text) if splits_text else ()
        return DealRow(
            external_id,
            owner,
            amount,
            currency,
            closed_at,
            _text(name, "name", MAX_TEXT),
            _text(account, "account", MAX_TEXT),
            kind,
            _text(product, "product", MAX_TEXT),
            term_months,
            _text(campaign, "source_campaign", MAX_CAMPAIGN),
            status,
            cancelled_at,
            splits,
            {name: values[i].strip() for name, i in self.extras} if self.extras else None,
        )


__all__ = [
    "DEAL_TYPES",
    "DEFAULT_CURRENCY",
    "MAX_AMOUNT",
    "MAX_CAMPAIGN",
    "MAX_EMAIL",
    "MAX_EXTERNAL_ID",
    "MAX_TERM_MONTHS",
    "MAX_TEXT",
    "REQUIRED_COLUMNS",
    "STANDARD_COLUMNS",
    "DealRow",
    "DealRowParser",
    "RowProblem",
    "is_blank",
    "parse_amount",
    "parse_date",
    "parse_splits",
    "width_problem",
]
