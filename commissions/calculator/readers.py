"""Readers for the calculator's files: plan (YAML/JSON), people.csv, deals.csv,
quotas.csv, campaigns.csv, rates.csv (cli.md). Every problem raises ``CsvError`` naming the file,
the line and the field; nothing is computed from a file that has one.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any

from commissions.calculator.deals_csv import (
    DEAL_TYPES,
    MAX_AMOUNT,
    MAX_CAMPAIGN,
    MAX_EMAIL,
    MAX_EXTERNAL_ID,
    MAX_TERM_MONTHS,
    MAX_TEXT,
    STANDARD_COLUMNS,
    DealRowParser,
    RowProblem,
    is_blank,
    parse_amount,
    parse_splits,
    width_problem,
)
from commissions.engine import (
    Campaign,
    Deal,
    EngineError,
    ExchangeRate,
    InputError,
    NoExchangeRate,
    Period,
    Person,
    Plan,
    PlanValidationError,
    Quota,
    Result,
    calculate,
    load_plan_document,
    parse_period,
    parse_plan,
)
from commissions.engine.credit import manager_chains
from commissions.engine.inputs import METRICS, NO_CUSTOM, DealFields
from commissions.engine.money import minor_digits
from commissions.engine.plan_yaml import issue_line

PEOPLE_COLUMNS = ("email", "name", "manager", "team", "employee_id")
DEAL_COLUMNS = STANDARD_COLUMNS  # the calculator needs every one (cli.md)
QUOTA_COLUMNS = ("person", "metric", "period", "target")
CAMPAIGN_COLUMNS = ("code", "name", "owner", "channel", "cost", "start", "end")
RATE_COLUMNS = ("from", "to", "rate", "effective_from")


class CsvError(Exception):
    """Bad input: ``file``, ``line`` (1-based, the header is line 1; None for the whole
    file) and ``field`` say where."""

    def __init__(self, file: str, line: int | None, field: str | None, message: str):
        self.file, self.line, self.field, self.message = file, line, field, message
        where = file
        if line is not None:
            where += f", line {line}"
        if field:
            where += f", field {field}"
        super().__init__(f"{where}: {message}")


@dataclass
class CalcInput:
    plan: Plan
    period: Period
    people: list[Person]
    participants: list[str]
    deals: list[Deal]
    quotas: list[Quota]
    campaigns: list[Campaign] = field(default_factory=list)
    rates: list[ExchangeRate] = field(default_factory=list)
    deals_file: str = ""  # where a deal's line is looked up when the engine refuses it


class _Table:
    """A CSV file read row by row, with its header mapped to column positions."""

    def __init__(
        self,
        path: Path | str,
        required: tuple[str, ...],
        optional: tuple[str, ...] = (),
    ):
        self.name = str(path)
        self.handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed in rows()
        self.reader = csv.reader(self.handle)
        try:
            header = next(self.reader)
        except StopIteration:
            self.handle.close()
            raise CsvError(
                self.name,
                1,
                None,
                f"empty file; expected a header: {','.join(required)}",
            ) from None
        except (csv.Error, UnicodeDecodeError) as exc:
            self.handle.close()
            if isinstance(exc, UnicodeDecodeError):
                raise _not_utf8(self.name) from None
            raise CsvError(self.name, 1, None, f"unreadable header ({exc})") from None
        self.header = [column.strip() for column in header]
        self.columns: dict[str, int] = {}
        for position, column in enumerate(self.header):
            if column in self.columns:
                raise CsvError(self.name, 1, column, "the column appears twice")
            if not column:
                raise CsvError(self.name, 1, None, f"column {position + 1} has no name")
            self.columns[column] = position
        missing = [column for column in required if column not in self.columns]
        if missing:
            self.handle.close()
            raise CsvError(
                self.name,
                1,
                missing[0],
                f"missing column (the header needs {','.join(required)})",
            )
        self.known = set(required) | set(optional)

    @property
    def extra(self) -> list[str]:
        return [column for column in self.header if column not in self.known]

    def rows(self, *, deals: bool = False) -> Iterator[tuple[int, list[str]]]:
        """The rows with their lines, blank lines skipped. A short row is padded with empty
        values, except in deals.csv, whose grammar (``deals_csv``) wants every cell."""
        width = len(self.header)
        try:
            for row in self.reader:
                line = self.reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()) or (deals and is_blank(row)):
                    continue
                if len(row) > width or (deals and len(row) < width):
                    raise CsvError(self.name, line, None, width_problem(len(row), width))
                if len(row) < width:
                    row = row + [""] * (width - len(row))
                yield line, row
        except csv.Error as exc:
            raise CsvError(self.name, self.reader.line_num, None, f"malformed CSV ({exc})") from None
        except UnicodeDecodeError:
            raise _not_utf8(self.name) from None
        finally:
            self.handle.close()


def _not_utf8(path: str) -> CsvError:
    """A file that is not UTF-8, naming the line of its first byte that is not (the decoder read ahead in
    blocks, so its own position says nothing about the line)."""
    content = Path(path).read_bytes()
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        return CsvError(path, line, None, f"not UTF-8 text (byte 0x{content[exc.start]:02x}: save the file as UTF-8)")
    return CsvError(path, None, None, "not UTF-8 text")


def _table(path: Path | str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> _Table:
    try:
        return _Table(path, required, optional)
    except OSError as exc:
        raise CsvError(str(path), None, None, exc.strerror or str(exc)) from None


def _amount(text: str, file: str, line: int, name: str) -> Decimal:
    try:
        return parse_amount(text, name)
    except RowProblem as problem:
        raise CsvError(file, line, name, problem.message) from None


def _date(text: str, file: str, line: int, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CsvError(file, line, name, f"{text.strip()!r} is not a date (write 2026-01-31)") from None


def load_plan(path: Path | str, custom_fields: list[str] | None = None) -> Plan:
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CsvError(name, None, None, exc.strerror or str(exc)) from None
    except UnicodeDecodeError:
        raise _not_utf8(name) from None
    try:
        return parse_plan(load_plan_document(text), custom_fields=custom_fields)
    except PlanValidationError as exc:
        issue = exc.issues[0]
        line = None
        if issue.field.startswith("line ") and issue.component is None:
            line = int(issue.field.split()[1])
            field_name = None
        else:
            line = issue_line(text, issue)
            field_name = (f"{issue.component}: " if issue.component else "") + issue.field
        message = issue.message + (f" (at position {issue.position})" if issue.position else "")
        if len(exc.issues) > 1:
            message += "; also: " + "; ".join(str(other) for other in exc.issues[1:])
        raise CsvError(name, line, field_name, message) from None


def read_people(
    path: Path | str,
) -> tuple[list[Person], dict[str, str | None], dict[str, int]]:
    """People, the ``plan`` column per person (None when the file has no such column),
    and each person's line."""
    table = _table(path, PEOPLE_COLUMNS, ("plan",))
    c = table.columns
    i_email, i_name, i_manager, i_team, i_id = (c[k] for k in PEOPLE_COLUMNS)
    i_plan = c.get("plan")
    people: list[Person] = []
    plans: dict[str, str | None] = {}
    lines: dict[str, int] = {}
    managers: list[tuple[int, str, str]] = []
    for line, row in table.rows():
        email = row[i_email].strip()
        if not email:
            raise CsvError(table.name, line, "email", "empty email")
        if email in lines:
            raise CsvError(table.name, line, "email", f"{email} is already on line {lines[email]}")
        manager = row[i_manager].strip() or None
        if manager is not None:
            managers.append((line, email, manager))
        people.append(
            Person(
                email,
                row[i_name].strip(),
                manager,
                row[i_team].strip(),
                row[i_id].strip(),
            )
        )
        plans[email] = row[i_plan].strip() if i_plan is not None else None
        lines[email] = line
    for line, email, manager in managers:
        if manager not in lines:
            raise CsvError(table.name, line, "manager", f"{manager} is not in {table.name}")
        if manager == email:
            raise CsvError(table.name, line, "manager", f"{email} cannot be their own manager")
    try:
        manager_chains({p.email: p for p in people})
    except InputError as exc:
        first = str(exc).split(": ", 1)[-1].split(" -> ")[0]
        raise CsvError(table.name, lines.get(first), "manager", str(exc)) from None
    return people, plans, lines


def deal_columns(path: Path | str) -> list[str]:
    """The custom fields of deals.csv: its columns beyond the standard ones."""
    table = _table(path, DEAL_COLUMNS)
    table.handle.close()
    return table.extra


def read_deals(path: Path | str, plan: Plan, people: set[str]) -> list[Deal]:
    """Every row read by the deals.csv grammar (``deals_csv``, shared with the app's import), then
    checked against the people file (emails compared case-insensitively). A deal in another
    currency than the plan's is read by the grammar; the engine converts it (``--rates``) or refuses it.

    A million rows: the common row (sole owner or splits, won, in the plan's currency, a date and
    a term already seen) is read by a lean path here that makes the ``Deal`` directly (filled as a
    ``DealFields``, then made a ``Deal`` in place); any other row goes through the grammar's
    ``DealRowParser.parse``, which accepts or refuses it with its message. The lean path takes only rows the grammar accepts, with the same values."""
    table = _table(path, DEAL_COLUMNS)
    file = table.name
    parser = DealRowParser(table.header, default_currency=plan.currency)  # an empty currency is the plan's
    reader = table.reader
    width = len(table.header)
    columns = table.columns
    standard = itemgetter(*(columns[name] for name in STANDARD_COLUMNS))
    i_external_id = columns["external_id"]
    extras = parser.extras
    currency = plan.currency
    digits = minor_digits(currency)
    spelled = spelling(people)
    seen: dict[str, int] = {}
    interned: dict[str, str] = {}
    intern = interned.setdefault  # one string object per distinct owner, product, type...
    dates = parser.dates
    terms: dict[str, int | None] = {"": None}
    won = intern("won", "won")
    plan_currency = intern(currency, currency)
    new = DealFields.__new__
    set_class = object.__setattr__
    strip = str.strip
    deals: list[Deal] = []
    append: Callable[[Any], None] = deals.append  # a DealFields is appended once made a Deal
    try:
        for row in reader:
            line = reader.line_num
            if len(row) != width or not row[i_external_id].strip():
                if not row or (len(row) == 1 and not row[0].strip()) or is_blank(row):
                    continue
                if len(row) != width:
                    raise CsvError(file, line, None, width_problem(len(row), width))
            (
                external_id,
                name,
                account,
                owner_text,
                amount_text,
                currency_text,
                closed_text,
                kind,
                product,
                term_text,
                campaign,
                status,
                cancelled_text,
                splits_text,
            ) = map(strip, standard(row))
            owner_text = owner_text.lower()
            closed_at = dates.get(closed_text)
            term_months = terms.get(term_text, -1)
            if (
                closed_at is None
                or term_months == -1
                or not external_id
                or (currency_text.upper() or currency) != currency
                or not (
                    amount_text
                    and amount_text.isascii()
                    and amount_text[0] in "0123456789"
                    and amount_text.replace(".", "", 1).isdigit()
                )
                or ("." in amount_text and len(amount_text) - amount_text.index(".") - 1 > digits)
                or status not in ("", "won")
                or cancelled_text
                or kind not in _DEAL_TYPES
                or len(external_id) > MAX_EXTERNAL_ID
                or not 3 <= len(owner_text) <= MAX_EMAIL
                or len(name) > MAX_TEXT
                or len(account) > MAX_TEXT
                or len(product) > MAX_TEXT
                or len(campaign) > MAX_CAMPAIGN
            ):
                append(_grammar_row(parser, row, file, line, seen, spelled, intern))
                if term_text not in terms:
                    terms[term_text] = _term(term_text)
                continue
            amount = Decimal(amount_text)
            if amount > MAX_AMOUNT:  # refused by the grammar, with its message
                append(_grammar_row(parser, row, file, line, seen, spelled, intern))
                continue
            splits: tuple[tuple[str, Decimal], ...] = ()
            if splits_text:
                try:
                    splits = parse_splits(splits_text)
                except RowProblem as problem:
                    raise CsvError(file, line, problem.field, problem.message) from None
            earlier = seen.setdefault(external_id, line)  # one look-up; line numbers only grow
            if earlier is not line:
                raise CsvError(file, line, "external_id", f"{external_id} is already on line {earlier}")
            owner = spelled.get(owner_text)  # the email as people.csv writes it: one string per person
            if owner is None:
                raise CsvError(file, line, "owner", f"{owner_text} is not in the people file")
            if splits:
                splits = _spelled_splits(splits, spelled, file, line)
            deal = new(DealFields)  # every field set, as Deal.__init__ would
            deal.external_id = external_id
            deal.owner = owner
            deal.amount = amount
            deal.currency = plan_currency
            deal.closed_at = closed_at
            deal.name = name
            deal.account = account
            deal.type = intern(kind, kind)
            deal.product = intern(product, product)  # empty text is "", never null (plans.md 4)
            deal.term_months = term_months
            deal.source_campaign = intern(campaign, campaign) if campaign else ""
            deal.status = won
            deal.cancelled_at = None
            deal.splits = splits
            deal.custom = {name: row[i].strip() for name, i in extras} if extras else NO_CUSTOM
            set_class(deal, "__class__", Deal)
            append(deal)
    except csv.Error as exc:
        raise CsvError(file, reader.line_num, None, f"malformed CSV ({exc})") from None
    except UnicodeDecodeError:
        raise _not_utf8(file) from None
    finally:
        table.handle.close()
    return deals


_DEAL_TYPES = ("", *DEAL_TYPES)


def _term(text: str) -> int:
    """``term_months`` for the lean path: a whole number 0-600 written in ASCII digits, else -1 (the
    grammar reads the row)."""
    if text.isascii() and text.isdigit() and int(text) <= MAX_TERM_MONTHS:
        return int(text)
    return -1


def _spelled_splits(
    splits: tuple[tuple[str, Decimal], ...], spelled: dict[str, str], file: str, line: int
) -> tuple[tuple[str, Decimal], ...]:
    for email, _ in splits:
        if email not in spelled:
            raise CsvError(file, line, "splits", f"{email} is not in the people file")
    return tuple((spelled[email], share) for email, share in splits)


def _grammar_row(
    parser: DealRowParser,
    row: list[str],
    file: str,
    line: int,
    seen: dict[str, int],
    spelled: dict[str, str],
    intern: Callable[[str, str], str],
) -> Deal:
    """One row read by the grammar (``DealRowParser.parse``) and checked against the people file:
    any row the lean path of ``read_deals`` does not take (a deal in another currency than the
    plan's among them; the engine converts it with ``--rates``, or refuses it)."""
    try:
        deal = parser.parse(row)
    except RowProblem as problem:
        raise CsvError(file, line, problem.field, problem.message) from None
    external_id = deal.external_id
    if external_id in seen:
        raise CsvError(file, line, "external_id", f"{external_id} is already on line {seen[external_id]}")
    seen[external_id] = line
    owner = spelled.get(deal.owner)
    if owner is None:
        raise CsvError(file, line, "owner", f"{deal.owner} is not in the people file")
    splits = _spelled_splits(deal.splits, spelled, file, line) if deal.splits else ()
    kwargs = {"custom": deal.custom} if deal.custom else {}
    return Deal(
        external_id,
        intern(owner, owner),
        deal.amount,
        intern(deal.currency, deal.currency),
        deal.closed_at,
        deal.name,
        deal.account,
        intern(deal.type, deal.type),
        intern(deal.product, deal.product),  # empty text is "", never null (plans.md 4)
        deal.term_months,
        intern(deal.source_campaign, deal.source_campaign),
        intern(deal.status, deal.status),
        deal.cancelled_at,
        splits,
        **kwargs,
    )


def spelling(people: set[str]) -> dict[str, str]:
    """Each person's email as people.csv writes it, by itself and in lower case: an email names the same person
    in any case in every file (deals' owners and splits, quotas, campaigns' owners)."""
    spelled = {email.lower(): email for email in people}
    spelled.update((email, email) for email in people)  # written in lower case there: that one
    return spelled


def read_quotas(path: Path | str, people: set[str], period: Period | None = None) -> list[Quota]:
    """Every row is checked (cli.md: one file may hold many periods of every length, as the
    quota grid exports it); with ``period`` only that period's rows are returned, the others
    (quarters under a monthly plan included) are ignored."""
    table = _table(path, QUOTA_COLUMNS)
    file = table.name
    i_person, i_metric, i_period, i_target = (table.columns[k] for k in QUOTA_COLUMNS)
    quotas: list[Quota] = []
    seen: dict[tuple[str, str, str], int] = {}
    spelled = spelling(people)
    for line, row in table.rows():
        person, metric, period_text, target_text = (row[i].strip() for i in (i_person, i_metric, i_period, i_target))
        person = spelled.get(person) or spelled.get(person.lower()) or person
        if not person:
            raise CsvError(file, line, "person", "(empty) is not in the people file")
        if metric not in METRICS:
            raise CsvError(
                file,
                line,
                "metric",
                f"{metric!r} is not a metric ({', '.join(METRICS)})",
            )
        try:
            row_period = parse_period(period_text)
        except EngineError as exc:
            raise CsvError(file, line, "period", str(exc)) from None
        target = _amount(target_text, file, line, "target")
        wanted = period is None or row_period.key == period.key
        if wanted and person not in people:  # other periods' rows are checked for form only (cli.md)
            raise CsvError(file, line, "person", f"{person} is not in the people file")
        key = (person, metric, row_period.key)
        if key in seen:
            raise CsvError(
                file,
                line,
                "person",
                f"a {metric} quota for {person} in {row_period.key} is already on line {seen[key]}",
            )
        seen[key] = line
        if wanted:
            quotas.append(Quota(person, metric, row_period.key, target))
    return quotas


def read_campaigns(path: Path | str, people: set[str]) -> list[Campaign]:
    table = _table(path, CAMPAIGN_COLUMNS)
    file = table.name
    idx = [table.columns[k] for k in CAMPAIGN_COLUMNS]
    campaigns: list[Campaign] = []
    seen: dict[str, int] = {}
    spelled = spelling(people)
    for line, row in table.rows():
        code, name, owner, channel, cost_text, start_text, end_text = (row[i].strip() for i in idx)
        owner = spelled.get(owner) or spelled.get(owner.lower()) or owner
        if not code:
            raise CsvError(file, line, "code", "empty code")
        if code in seen:
            raise CsvError(file, line, "code", f"{code} is already on line {seen[code]}")
        seen[code] = line
        if owner not in people:
            raise CsvError(file, line, "owner", f"{owner or '(empty)'} is not in the people file")
        cost = _amount(cost_text, file, line, "cost") if cost_text else None
        start = _date(start_text, file, line, "start") if start_text else None
        end = _date(end_text, file, line, "end") if end_text else None
        if start and end and end < start:
            raise CsvError(file, line, "end", f"{end} is before start {start}")
        campaigns.append(Campaign(code, owner, name, channel, cost, start, end))
    return campaigns


_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_POSITIVE_DECIMAL = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)")


def read_rates(path: Path | str) -> list[ExchangeRate]:
    """rates.csv: ``from,to,rate,effective_from`` (cli.md), one unit of ``from`` is ``rate`` units
    of ``to`` from that date on. Codes are three letters (read in upper case); the rate a positive
    decimal kept as written (``1.0850`` prints as ``1.0850``); two different rates for one pair
    and date are refused (the same rate twice is harmless)."""
    table = _table(path, RATE_COLUMNS)
    file = table.name
    idx = [table.columns[k] for k in RATE_COLUMNS]
    rates: list[ExchangeRate] = []
    seen: dict[tuple[str, str, date], tuple[int, Decimal]] = {}
    for line, row in table.rows():
        source, target, rate_text, day_text = (row[i].strip() for i in idx)
        for name, code in (("from", source), ("to", target)):
            if not _CURRENCY_CODE.fullmatch(code.upper()):
                shown = repr(code) if code else "(empty)"
                raise CsvError(file, line, name, f"{shown} is not a currency code (three letters: EUR)")
        source, target = source.upper(), target.upper()
        if source == target:
            raise CsvError(file, line, "to", f"a rate from {source} to {target} converts nothing: use two currencies")
        if not _POSITIVE_DECIMAL.fullmatch(rate_text) or Decimal(rate_text) <= 0:
            shown = repr(rate_text) if rate_text else "(empty)"
            raise CsvError(file, line, "rate", f"{shown} is not a positive decimal (write 1.0850)")
        rate = Decimal(rate_text)
        if not day_text:
            raise CsvError(file, line, "effective_from", "empty date (write 2026-01-01)")
        effective_from = _date(day_text, file, line, "effective_from")
        key = (source, target, effective_from)
        earlier = seen.get(key)
        if earlier is not None and earlier[1] != rate:
            raise CsvError(
                file,
                line,
                "rate",
                f"{source} to {target} from {effective_from} is {earlier[1]} on line {earlier[0]}; "
                f"one date has one rate",
            )
        if earlier is None:
            seen[key] = (line, rate)
            rates.append(ExchangeRate(source, target, rate, effective_from))
    return rates


def load_inputs(
    *,
    plan: Path | str,
    people: Path | str,
    deals: Path | str,
    quotas: Path | str,
    campaigns: Path | str | None = None,
    rates: Path | str | None = None,
    period: str,
) -> CalcInput:
    """Read and check every file; raise ``CsvError`` at the first problem."""
    custom_fields = deal_columns(deals)
    the_plan = load_plan(plan, custom_fields)
    try:
        the_period = parse_period(period)
    except EngineError as exc:
        raise CsvError("--period", None, None, str(exc)) from None
    if the_period.kind != the_plan.period:
        raise CsvError(
            "--period",
            None,
            None,
            f"{the_period.key} is a {the_period.kind}; plan {the_plan.name!r} is per {the_plan.period}",
        )
    people_list, plans, _ = read_people(people)
    emails = {p.email for p in people_list}
    deal_list = read_deals(deals, the_plan, emails)
    quota_list = read_quotas(quotas, emails, the_period)
    campaign_list = read_campaigns(campaigns, emails) if campaigns else []
    rate_list = read_rates(rates) if rates else []
    has_plan_column = any(value is not None for value in plans.values())
    participants = [email for email, name in plans.items() if not has_plan_column or name == the_plan.name]
    return CalcInput(
        the_plan,
        the_period,
        people_list,
        participants,
        deal_list,
        quota_list,
        campaign_list,
        rate_list,
        str(deals),
    )


def run_calculation(inputs: CalcInput) -> Result:
    """The engine on the files read. A deal in another currency without a rate is reported like a
    bad row: deals.csv, its line, field currency."""
    try:
        return calculate(
            inputs.plan,
            inputs.period,
            inputs.people,
            inputs.quotas,
            inputs.deals,
            inputs.campaigns,
            participants=inputs.participants,
            rates=inputs.rates,
        )
    except NoExchangeRate as error:
        if error.deal is None or not inputs.deals_file:
            raise
        hint = "" if inputs.rates else " (no --rates file given)"
        message = f"deal {error.deal}: no exchange rate from {error.source} to {error.target} on or before {error.day}"
        raise CsvError(inputs.deals_file, _line_of(inputs.deals_file, error.deal), "currency", message + hint) from None


def _line_of(path: str, external_id: str) -> int | None:
    """The line of deals.csv holding ``external_id`` (read again: only when reporting an error)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [column.strip() for column in next(reader, [])]
            if "external_id" not in header:
                return None
            at = header.index("external_id")
            for row in reader:
                if len(row) > at and row[at].strip() == external_id:
                    return reader.line_num
    except (OSError, csv.Error, UnicodeDecodeError):
        return None
    return None


__all__ = ["CalcInput", "CsvError", "load_inputs", "read_rates", "run_calculation"]
