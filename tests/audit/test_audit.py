"""The audit log: what is recorded, the admin page (filters, pages, UTC), the CSV export, and safe log lines."""

from __future__ import annotations

import csv
import io
import json
import logging
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import select

from commissions.core.audit import escape_controls, log_line, record_event
from commissions.core.db import transaction
from commissions.core.principal import Principal
from commissions.models import AuditEvent
from tests.conftest import csrf_from, read, sign_in
from tests.deals.test_deals_api import BODY, token_for


def actions(engine: Engine) -> list[str]:
    return read(engine, lambda s: list(s.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all()))


def test_sign_ins_refusals_and_changes_to_money_quotas_people_are_recorded(client, make_person, engine: Engine) -> None:
    make_person("boss@example.com", "manager")
    make_person("ana@example.com", manager="boss@example.com")
    make_person("root@example.com", "admin")
    sign_in(client, "ana@example.com", "wrong password!")
    sign_in(client, "ana@example.com")
    assert client.get("/admin/people").status_code == 403
    assert client.post("/admin/tokens/", data={"name": "x", "role": "admin"}).status_code == 403  # no CSRF token
    api = token_for(engine, "admin")
    assert client.post("/api/v1/deals", json=BODY, headers=api).status_code == 201
    assert (
        client.put(
            "/api/v1/quotas",
            headers=api,
            json=[{"person": "ana@example.com", "metric": "bookings", "period": "2026-Q1", "target": "100000.00"}],
        ).status_code
        == 200
    )
    sign_in(client, "root@example.com")
    client.post(
        "/admin/people",
        data={"email": "new@example.com", "name": "New", "role": "finance", "_csrf_token": csrf_from(client)},
    )
    recorded = actions(engine)
    for action in ["auth.sign_in_failed", "auth.sign_in", "auth.forbidden", "deal.created", "person.create"]:
        assert action in recorded, (action, recorded)
    assert any(a.startswith("quota.") for a in recorded), recorded
    forbidden = read(
        engine,
        lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "auth.forbidden").order_by(AuditEvent.id)).all(),
    )
    assert [(e.actor_label, e.object_id) for e in forbidden] == [
        ("ana@example.com", "GET /admin/people"),
        ("ana@example.com", "POST /admin/tokens"),
    ]
    person = read(
        engine,
        lambda s: s.exec(
            select(AuditEvent).where(AuditEvent.action == "person.create", AuditEvent.actor_label == "root@example.com")
        ).one(),
    )
    assert person.detail == {"email": "new@example.com", "role": "finance"}


def _events(engine: Engine, n: int, **kw: object) -> None:
    with transaction(engine) as s:
        for i in range(n):
            record_event(s, None, kw.get("action", "deal.created"), "deal", f"D-{i}", {"i": i})  # type: ignore[arg-type]


def test_admin_page_filters_pages_and_shows_utc(client, make_person, engine: Engine) -> None:
    make_person("root@example.com", "admin")
    _events(engine, 60)
    _events(engine, 2, action="quota.set")
    sign_in(client, "root@example.com")
    first = client.get("/admin/audit")
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    assert first.text.count("<tr>") == 1 + 50  # header + one page
    assert "Older</a>" in first.text and "Newer</a>" not in first.text
    second = client.get("/admin/audit?page=2")
    assert "Newer</a>" in second.text and "Older</a>" not in second.text
    quotas = client.get("/admin/audit?action=quota")
    assert quotas.text.count("<code>quota.set</code>") == 2 and "deal.created</code>" not in quotas.text
    people = client.get("/admin/audit?person=root@")
    assert "auth.sign_in</code>" in people.text and "deal.created</code>" not in people.text
    today = datetime.now(UTC).date().isoformat()
    assert "deal.created</code>" not in client.get("/admin/audit?until=2000-01-01").text
    assert "deal.created</code>" in client.get(f"/admin/audit?since={today}&until={today}").text
    assert "Z</time>" in first.text  # UTC instants
    partial = client.get("/admin/audit?action=quota", headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<div id="audit-table">')
    # filtered in place, the export link comes with the table and exports what is shown
    assert '<a href="/admin/audit.csv?action=quota" download>' in partial.text
    bad = client.get("/admin/audit?since=yesterday")
    assert bad.status_code == 400 and "since must be a date" in bad.text


def test_csv_export_is_utc_formula_safe_and_escapes_control_characters(client, make_person, engine: Engine) -> None:
    make_person("root@example.com", "admin")
    evil = Principal(role="rep", person_id=None, email='=HYPERLINK("http://x")\nFAKE,line', name="x")
    with transaction(engine) as s:
        record_event(s, evil, "person.create", "person", "@SUM(A1)", {"note": "a\r\nb\x1b[31m"}, ip="10.0.0.1")
    sign_in(client, "root@example.com")
    response = client.get("/admin/audit.csv?action=person&person=hyperlink")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"  # the charset once
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
        "at_utc", "actor", "actor_id", "action", "object_type", "object_id", "ip", "detail", "what_happened"
    ]  # fmt: skip
    (row,) = rows[1:]
    assert row[0].endswith("Z") and datetime.strptime(row[0], "%Y-%m-%dT%H:%M:%SZ")
    assert row[1] == '\'=HYPERLINK("http://x")\\nFAKE,line'
    assert row[5] == "'@SUM(A1)"
    assert "\n" not in row[7] and "\r" not in row[7] and "\x1b" not in row[7]
    assert response.text.count("\r\n") == 2  # header and one row: nothing forged a line
    assert row[8].startswith("'=HYPERLINK(") and "added" in row[8]  # the page's sentence, formula-safe too


def test_log_lines_cannot_be_forged(caplog) -> None:  # type: ignore[no-untyped-def]
    evil = Principal(role="rep", person_id=1, email="ana@example.com\n2026-01-01 INFO audit forged", name="x")
    with caplog.at_level(logging.INFO, logger="quotaboard.audit"):
        event = AuditEvent(
            at=datetime(2026, 1, 1, tzinfo=UTC),
            actor_id=1,
            actor_label=evil.label,
            action="auth.sign_in",
            object_type="person",
            object_id="1\r\nX",
            detail={"k": "\x1b[2J"},
            ip="",
        )
        line = log_line(event)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert json.loads(line)["actor"] == evil.label  # escaped, not lost
    assert escape_controls("a\nb\tc\x00") == "a\\nb\\tc\\x00"


def test_record_event_logs_one_line(engine: Engine, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO, logger="quotaboard.audit"), transaction(engine) as s:
        record_event(s, None, "plan.version", "plan", "1\nINFO forged", {})
    (message,) = [r.getMessage() for r in caplog.records if r.name == "quotaboard.audit"]
    assert message.startswith("audit {") and "\n" not in message


def test_an_event_reaches_the_log_only_once_committed(engine, caplog) -> None:  # type: ignore[no-untyped-def]
    """A dry run (the deal form's live check, an import preview) rolls back: nothing of it is logged."""
    import logging

    from commissions.core.audit import record_event
    from commissions.core.db import transaction, write_session

    caplog.set_level(logging.INFO, logger="quotaboard.audit")
    with write_session(engine) as session:
        session.begin()
        record_event(session, None, "deal.created", "deal", "DRY-1")
        session.rollback()
    with transaction(engine) as session:
        record_event(session, None, "deal.created", "deal", "REAL-1")
        assert "REAL-1" not in caplog.text  # not before the commit
    assert "REAL-1" in caplog.text and "DRY-1" not in caplog.text
