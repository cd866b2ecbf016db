"""Deal CSV import (cli.md format): all rows or none, with an error for every bad row.

The file is read and validated completely before anything is written; then all
rows are recorded in one transaction, and any row that fails rolls back the lot.
A preview runs the same transaction and rolls it back, so it shows exactly what
a commit would do.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from pydantic import ValidationError
from sqlalchemy import Engine

from commissions.calculation.loader import PLANS_UNCHANGED
from commissions.calculation.state import touch_days
from commissions.calculator.deals_csv import (
    REQUIRED_COLUMNS,
    STANDARD_COLUMNS,
    DealRow,
    DealRowParser,
    RowProblem,
    is_blank,
    width_problem,
)
from commissions.core.db import write_session
from commissions.core.errors import Forbidden, InputProblem
from commissions.core.principal import Principal
from commissions.custom_fields.service import CustomValueError, check_values, declared_types
from commissions.deals.ingest import DealWriter
from commissions.deals.schemas import DealIn, error_field_and_message
from commissions.deals.service import book_locked, take_period_locks
from commissions.models import Deal

T = TypeVar("T")
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
COLUMNS = STANDARD_COLUMNS
REQUIRED = REQUIRED_COLUMNS


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # 1-based line in the file (the header is line 1); 0 for the file as a whole
    field: str
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False
    people: set[int] = field(default_factory=set)
    days: set[date] = field(default_factory=set)
    chain: set[int] = field(default_factory=set)
    queued: int = 0  # statements queued for recomputation

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportTooLarge(InputProblem):
    status_code = 413


def decode_csv(content: bytes) -> str:
    if len(content) > MAX_BYTES:
        raise ImportTooLarge("file", f"the file is {len(content):,} bytes; the limit is {MAX_BYTES:,}")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise InputProblem(
            "file", f"line {line} is not UTF-8 (byte 0x{content[exc.start]:02x}); save the file as UTF-8 CSV"
        ) from exc


def read_rows(
    content: bytes,
    *,
    header_problems: Callable[[list[str]], list[str]],
    parse: Callable[[int, dict[str, str], list[RowError]], T | None],
    identity: Callable[[T], tuple[Hashable, str, str]],
) -> tuple[list[tuple[int, T]], list[RowError]]:
    """Every row of a CSV upload parsed, with its line number, or the errors of every bad row.

    Shared by the deal and lead-event imports: UTF-8 text, a header (``header_problems`` says
    what is wrong with it), blank lines skipped, at most ``MAX_ROWS`` rows, as many fields as
    the header, ``parse`` (None after appending its errors) and no row twice (``identity``:
    the key, the field to blame and how to name the row).
    """
    text = decode_csv(content)
    if "\x00" in text:
        return [], [RowError(0, "file", "the file contains NUL bytes: it is not a CSV text file")]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return [], [RowError(0, "file", "the file is empty")]
    except csv.Error as exc:
        return [], [RowError(1, "file", f"unreadable header: {exc}")]
    if problems := header_problems(header):
        return [], [RowError(1, "header", "; ".join(problems))]

    rows: list[tuple[int, T]] = []
    errors: list[RowError] = []
    seen: dict[Hashable, int] = {}
    line = 1
    try:
        for values in reader:
            line = reader.line_num
            if is_blank(values):
                continue
            if len(rows) + len(errors) >= MAX_ROWS:
                errors.append(RowError(line, "file", f"more than {MAX_ROWS:,} rows: split the file"))
                break
            if len(values) != len(header):
                errors.append(RowError(line, "row", width_problem(len(values), len(header))))
                continue
            parsed = parse(line, dict(zip(header, values, strict=True)), errors)
            if parsed is None:
                continue
            key, field_name, what = identity(parsed)
            if key in seen:
                errors.append(RowError(line, field_name, f"{what} is already on line {seen[key]}"))
                continue
            seen[key] = line
            rows.append((line, parsed))
    except csv.Error as exc:
        errors.append(RowError(line + 1, "row", f"unreadable CSV: {exc}"))
    return rows, errors


def _deal_header_problems(header: list[str]) -> list[str]:
    problems = []
    if missing := [c for c in REQUIRED if c not in header]:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if duplicates := sorted({h for h in header if header.count(h) > 1}):
        problems.append(f"repeated column(s) {', '.join(duplicates)}")
    if "" in header:
        problems.append("a column without a name")
    return problems


def parse_deals_csv(content: bytes) -> tuple[list[tuple[int, DealIn]], list[RowError]]:
    """Every row as a validated ``DealIn`` with its line number, or the errors of every bad row."""
    parsers: dict[tuple[str, ...], DealRowParser] = {}  # this file's (one header): it remembers amounts and dates
    return read_rows(
        content,
        header_problems=_deal_header_problems,
        parse=lambda line, record, errors: _row(line, record, errors, parsers),
        identity=lambda deal: (deal.external_id, "external_id", deal.external_id),
    )


def _row(
    line: int, record: dict[str, str], errors: list[RowError], parsers: dict[tuple[str, ...], DealRowParser]
) -> DealIn | None:
    """The row read by the deals.csv grammar the calculator uses too (``calculator.deals_csv``)."""
    header = tuple(record)
    parser = parsers.get(header)
    if parser is None:
        parser = parsers[header] = DealRowParser(header)
    try:
        row = parser.parse(list(record.values()))
    except RowProblem as problem:
        errors.append(RowError(line, problem.field, problem.message))
        return None
    try:
        return deal_in(row)
    except ValidationError as exc:
        for err in exc.errors():
            errors.append(RowError(line, *error_field_and_message(err)))
    return None


def deal_in(row: DealRow) -> DealIn:
    """A row of the grammar as the ingestion service takes it. The app stores a deal type, so an
    empty one is ``new`` (as when the API leaves it out); an empty custom value is left out (null)."""
    return DealIn.model_validate(
        {
            "external_id": row.external_id,
            "name": row.name,
            "account": row.account,
            "owner": row.owner,
            "amount": row.amount,
            "currency": row.currency,
            "closed_at": row.closed_at,
            "type": row.type or "new",
            "product": row.product,
            "term_months": row.term_months,
            "source_campaign": row.source_campaign or None,
            "status": row.status,
            "cancelled_at": row.cancelled_at,
            "splits": [{"person": person, "share": share} for person, share in row.splits],
            "custom_fields": {name: value for name, value in (row.custom or {}).items() if value},
        }
    )


def import_deals(engine: Engine, content: bytes, *, by: Principal | None, commit: bool) -> ImportReport:
    """Validate and record every row in one transaction; commit only if ``commit`` and no row failed.

    Rows that read well are checked against the database (people, periods, plans' currencies) even when other
    rows did not read: the report names every bad row, not only those of the first kind of problem."""
    rows, errors = parse_deals_csv(content)
    report = ImportReport(rows=len(rows) + len({e.line for e in errors if e.line > 1}), errors=errors)
    if errors and (not rows or any(e.field == "file" or e.line <= 1 for e in errors)):
        return report  # nothing read, or the file itself is wrong (its header, its size): no row to check
    try:
        _record_rows(engine, rows, report, by=by, commit=commit)
    finally:
        report.errors.sort(key=lambda e: e.line)  # stable: a row's own errors keep their order
    return report


def _record_rows(
    engine: Engine, rows: list[tuple[int, DealIn]], report: ImportReport, *, by: Principal | None, commit: bool
) -> None:
    with write_session(engine) as session:
        session.begin()
        session.info[PLANS_UNCHANGED] = True  # an import changes no plan: their period kinds are read once
        try:
            writer = DealWriter(session, by, bulk=True)
            writer.preload(
                {d.owner for _, d in rows} | {s.person for _, d in rows for s in d.splits},
                {d.external_id for _, d in rows},
            )
            known = {d.closed_at for d in writer._deals.values() if isinstance(d, Deal)}
            take_period_locks(session, {d.closed_at for _, d in rows} | known)
            declared = declared_types(session)
            for line, data in rows:
                try:
                    check_values(data.custom_fields, declared)  # a declared field's value must read as its type
                except CustomValueError as exc:
                    report.errors.append(RowError(line, exc.name, exc.message))
                    continue
                try:
                    result = writer.write(data)
                except (InputProblem, Forbidden) as exc:
                    report.errors.append(
                        RowError(line, getattr(exc, "field", "owner"), getattr(exc, "message", str(exc)))
                    )
                    continue
                if result.locked and result.outcome != "unchanged":  # a locked period: booked deal by deal
                    book_locked(
                        session, result, by=by, trigger=f"deal {data.external_id} {result.outcome} (CSV import)"
                    )
                setattr(report, result.outcome, getattr(report, result.outcome) + 1)
                report.people |= result.people
                report.chain |= result.chain
                report.days |= result.days
            writer.finish()
            if commit and report.ok:  # a row that did not read is in ``report.errors`` too: nothing is kept
                # A file can touch most of the company: queue every statement and let the worker recompute
                # each period once, instead of holding the import open for it.
                report.queued = touch_days(session, report.people | report.chain, report.days)
                session.commit()
                report.committed = True
            else:
                session.rollback()
        except BaseException:
            session.rollback()
            raise
