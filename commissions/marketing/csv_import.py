"""Lead event CSV import: all rows or none, with an error for every bad row (like the deal import).

Columns: ``lead,stage,occurred_at,owner,campaign,name,account,amount,currency``
(``lead``, ``stage``, ``occurred_at`` and ``owner`` required; extra columns are refused,
since lead events have no custom fields).
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import Engine

from commissions.core.db import write_session
from commissions.core.errors import Forbidden, InputProblem
from commissions.core.principal import Principal
from commissions.deals.csv_import import ImportReport, RowError, read_rows
from commissions.deals.schemas import error_field_and_message
from commissions.marketing.ingest import LeadEventWriter, queue_recompute
from commissions.marketing.schemas import LeadEventIn

COLUMNS = ("lead", "stage", "occurred_at", "owner", "campaign", "name", "account", "amount", "currency")
REQUIRED = ("lead", "stage", "occurred_at", "owner")


def _header_problems(header: list[str]) -> list[str]:
    problems = []
    if missing := [c for c in REQUIRED if c not in header]:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown := [h for h in header if h not in COLUMNS]:
        problems.append(f"unknown column(s) {', '.join(unknown) or '(empty)'}: expected {','.join(COLUMNS)}")
    if duplicates := sorted({h for h in header if header.count(h) > 1}):
        problems.append(f"repeated column(s) {', '.join(duplicates)}")
    return problems


def _event(line: int, record: dict[str, str], errors: list[RowError]) -> LeadEventIn | None:
    body = {k: v.strip() for k, v in record.items() if v.strip()}
    try:
        return LeadEventIn.model_validate(body)
    except ValidationError as exc:
        errors.extend(RowError(line, *error_field_and_message(err)) for err in exc.errors())
        return None


def parse_lead_events_csv(content: bytes) -> tuple[list[tuple[int, LeadEventIn]], list[RowError]]:
    return read_rows(
        content,
        header_problems=_header_problems,
        parse=_event,
        identity=lambda e: ((e.lead, e.stage), "stage", f"lead {e.lead} {e.stage}"),
    )


def import_lead_events(engine: Engine, content: bytes, *, by: Principal | None, commit: bool) -> ImportReport:
    """Validate and record every row in one transaction; commit only if ``commit`` and no row failed.

    Rows that read well are checked against the database (owners, campaigns) even when other rows did not read:
    the report names every bad row (as the deals' import does)."""
    rows, errors = parse_lead_events_csv(content)
    report = ImportReport(rows=len(rows) + len({e.line for e in errors if e.line > 1}), errors=errors)
    if errors and (not rows or any(e.field == "file" or e.line <= 1 for e in errors)):
        return report  # nothing read, or the file itself is wrong (its header, its size): no row to check
    try:
        _record_events(engine, rows, report, by=by, commit=commit)
    finally:
        report.errors.sort(key=lambda e: e.line)
    return report


def _record_events(
    engine: Engine, rows: list[tuple[int, LeadEventIn]], report: ImportReport, *, by: Principal | None, commit: bool
) -> None:
    with write_session(engine) as session:
        session.begin()
        try:
            writer = LeadEventWriter(session, by)
            for line, data in rows:
                try:
                    result = writer.write(data)
                except (InputProblem, Forbidden) as exc:
                    report.errors.append(
                        RowError(line, getattr(exc, "field", "row"), getattr(exc, "message", str(exc)))
                    )
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
