"""``/admin/audit``: the audit log for admins, filtered and paginated, and its CSV export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.exceptions import ValidationException
from litestar.params import FromQuery
from litestar.response import Template

from commissions.audit.queries import action_kinds, audit_events, names_for
from commissions.audit.sentences import describe
from commissions.core.audit import escape_controls
from commissions.core.dependencies import DbSession
from commissions.core.guards import admins
from commissions.core.rendering import page_or_partial
from commissions.payroll.service import neutralise

PAGE_SIZE = 50
MAX_EXPORT = 100_000
#: ``what_happened``: the sentence the page shows, as plain text (names looked up as on the page); last, so the
#: columns before it keep their places for existing readers.
CSV_COLUMNS = ["at_utc", "actor", "actor_id", "action", "object_type", "object_id", "ip", "detail", "what_happened"]
NAMES_BATCH = 500  # events whose names are looked up together (one query per kind), so a query stays bounded


def _day(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationException(f"{field} must be a date like 2026-11-23", extra={"field": field}) from None


def utc(moment: datetime) -> str:
    """An instant as UTC ISO text (SQLite hands back naive datetimes, stored as UTC)."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class AuditController(Controller):
    path = "/admin"
    guards = [admins]
    include_in_schema = False

    @get("/audit", sync_to_thread=True)
    def audit_page(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        action: FromQuery[str] = "",
        person: FromQuery[str] = "",
        since: FromQuery[str] = "",
        until: FromQuery[str] = "",
        page: FromQuery[int] = 1,
    ) -> Template:
        page = max(page, 1)
        first, last = _day(since, "since"), _day(until, "until")
        rows = audit_events(
            db, action=action, person=person, first=first, last=last, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1
        )
        filters = {"action": action, "person": person, "since": since, "until": until}
        shown = rows[:PAGE_SIZE]
        names = names_for(db, shown)  # every name the page mentions, in one query per kind
        context = {
            "events": [
                (e, utc(e.at), describe(e, names), json.dumps(e.detail, ensure_ascii=False, sort_keys=True, indent=1))
                for e in shown
            ],
            "filters": filters,
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
            "kinds": action_kinds(db),
            "query": urlencode({k: v for k, v in filters.items() if v}),
        }
        return page_or_partial(request, "pages/admin/audit.html", "partials/audit/table.html", context)

    @get("/audit.csv", sync_to_thread=True)
    def audit_csv(
        self,
        db: DbSession,
        action: FromQuery[str] = "",
        person: FromQuery[str] = "",
        since: FromQuery[str] = "",
        until: FromQuery[str] = "",
    ) -> Response[bytes]:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        first, last = _day(since, "since"), _day(until, "until")
        events = audit_events(db, action=action, person=person, first=first, last=last, limit=MAX_EXPORT)
        for start in range(0, len(events), NAMES_BATCH):
            batch = events[start : start + NAMES_BATCH]
            names = names_for(db, batch)
            for e in batch:
                cells = [
                    e.actor_label,
                    e.action,
                    e.object_type,
                    e.object_id,
                    e.ip,
                    json.dumps(e.detail, ensure_ascii=False, sort_keys=True),
                    describe(e, names).striptags(),
                ]
                actor, act, otype, oid, ip, detail, said = (neutralise(escape_controls(c)) for c in cells)
                actor_id = "" if e.actor_id is None else e.actor_id
                writer.writerow([utc(e.at), actor, actor_id, act, otype, oid, ip, detail, said])
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return Response(
            out.getvalue().encode("utf-8"),
            media_type="text/csv",  # Litestar adds "; charset=utf-8"
            headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"', "Cache-Control": "no-store"},
        )
