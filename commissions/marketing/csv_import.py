"""Lead event CSV import: all rows or none, with an error for every bad row (like the deal import).

Columns: ``lead,stage,occurred_at,owner,campaign,name,account,amount,currency``
(``lead``, ``stage``, ``occurred_at`` and ``owner`` required; extra columns are refused,
since lead events have no custom fields).
"""

from __future__ import annotations

import csv
import io

from pydantic import ValidationError
from sqlalchemy import Engine

from commissions.auth.principal import Principal
from commissions.db import write_session
from commissions.deals.csv_import import MAX_ROWS, ImportReport, RowError, _decode
from commissions.deals.schemas import error_field_and_message
from commissions.errors import Forbidden, InputProblem
from commissions.marketing.ingest import LeadEventWriter, queue_recompute
from commissions.marketing.schemas import LeadEventIn

COLUMNS = ("lead", "stage", "occurred_at", "owner", "campaign", "name", "account", "amount", "currency")
REQUIRED = ("lead", "stage", "occurred_at", "owner")


def parse_lead_events_csv(content: bytes) -> tuple[list[tuple[int, LeadEventIn]], list[RowError]]:
    text = _decode(content)
    if "\x00" in text:
        return [], [RowError(0, "file", "the file contains NUL bytes: it is not a CSV text file")]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return [], [RowError(0, "file", "the file is empty")]
    except csv.Error as exc:
        return [], [RowError(1, "file", f"unreadable header: {exc}")]
    problems = []
    if missing := [c for c in REQUIRED if c not in header]:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown := [h for h in header if h not in COLUMNS]:
        problems.append(f"unknown column(s) {', '.join(unknown) or '(empty)'}: expected {','.join(COLUMNS)}")
    if duplicates := sorted({h for h in header if header.count(h) > 1}):
        problems.append(f"repeated column(s) {', '.join(duplicates)}")
    if problems:
        return [], [RowError(1, "header", "; ".join(problems))]
    rows: list[tuple[int, LeadEventIn]] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    line = 1
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(rows) + len(errors) >= MAX_ROWS:
                errors.append(RowError(line, "file", f"more than {MAX_ROWS:,} rows: split the file"))
                break
            if len(values) != len(header):
                errors.append(RowError(line, "row", f"{len(values)} fields, the header has {len(header)}"))
                continue
            body = {k: v.strip() for k, v in zip(header, values, strict=True) if v.strip()}
            try:
                parsed = LeadEventIn.model_validate(body)
            except ValidationError as exc:
                errors.extend(RowError(line, *error_field_and_message(err)) for err in exc.errors())
                continue
            key = (parsed.lead, parsed.stage)
            if key in seen:
                errors.append(RowError(line, "stage", f"lead {parsed.lead} {parsed.stage} is already on line {seen[key]}"))
                continue
            seen[key] = line
            rows.append((line, parsed))
    except csv.Error as exc:
        errors.append(RowError(line + 1, "row", f"unreadable CSV: {exc}"))
    return rows, errors


def import_lead_events(engine: Engine, content: bytes, *, by: Principal | None, commit: bool) -> ImportReport:
    """Validate and record every row in one transaction; commit only if ``commit`` and no row failed."""
    rows, errors = parse_lead_events_csv(content)
    report = ImportReport(rows=len(rows) + len({e.line for e in errors if e.line > 1}), errors=errors)
    if errors:
        return report
    with write_session(engine) as session:
        session.begin()
        try:
            writer = LeadEventWriter(session, by)
            for line, data in rows:
                try:
                    result = writer.write(data)
                except (InputProblem, Forbidden) as exc:
                    report.errors.append(RowError(line, getattr(exc, "field", "row"), getattr(exc, "message", str(exc))))
                    continue
                setattr(report, result.outcome, getattr(report, result.outcome) + 1)
                if result.outcome != "unchanged":
                    report.people |= result.people
                    report.days |= result.days
            if commit and report.ok:
                report.queued = queue_recompute(session, report.people, report.days)
                session.commit()
                report.committed = True
            else:
                session.rollback()
        except BaseException:
            session.rollback()
            raise
    return report
