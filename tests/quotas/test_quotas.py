"""Quotas: the grid and its inline cells, copy from last period, CSV upload with preview, proration,
optimistic locking and PUT /api/v1/quotas — and that a manager never reaches outside their team."""

from __future__ import annotations

import base64
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from commissions.auth.tokens import create_token
from commissions.core.db import transaction
from commissions.models import AuditEvent, Period, Person, Plan, PlanAssignment, Quota
from commissions.quotas.csv import MAX_BYTES
from commissions.quotas.proration import effective_target
from commissions.quotas.targets import parse_target
from tests.conftest import csrf_from, read, sign_in

Q = "2026-Q4"  # 92 days: October 31 + November 30 + December 31


@pytest.fixture
def org(make_person):  # type: ignore[no-untyped-def]
    """boss → lead → ana, bo; outsider under another manager; nobody else sees anyone."""
    make_person("boss@example.com", "manager", team="Sales")
    make_person("lead@example.com", "manager", manager="boss@example.com", team="Sales East")
    make_person("ana@example.com", manager="lead@example.com", team="Sales East")
    make_person("bo@example.com", manager="lead@example.com", team="Sales East")
    make_person("other.manager@example.com", "manager", team="Sales West")
    make_person("outsider@example.com", manager="other.manager@example.com", team="Sales West")
    make_person("admin@example.com", "admin")
    make_person("finance@example.com", "finance")


def pid(engine: Engine, email: str) -> int:
    return read(engine, lambda s: s.exec(select(Person.id).where(Person.email == email)).one())


def quotas(engine: Engine) -> dict[tuple[str, str, str], tuple[int, int]]:
    """Every person quota as (email, metric, period) -> (target_minor, version)."""
    rows = read(
        engine,
        lambda s: s.exec(
            select(Person.email, Quota.metric, Period.key, Quota.target_minor, Quota.version)
            .join(Person, Person.id == Quota.person_id)
            .join(Period, Period.id == Quota.period_id)
        ).all(),
    )
    return {(e, m, p): (t, v) for e, m, p, t, v in rows}


def set_quota(engine: Engine, email: str, metric: str, period: str, target_minor: int) -> None:
    from commissions.core.periods import parse_period_key

    key = parse_period_key(period)
    with transaction(engine) as s:
        row = s.exec(select(Period).where(Period.key == period)).first()
        if row is None:
            row = Period(key=key.key, kind=key.kind, starts_on=key.starts_on, ends_on=key.ends_on)
            s.add(row)
            s.flush()
        person = s.exec(select(Person).where(Person.email == email)).one()
        s.add(Quota(person_id=person.id, metric=metric, period_id=row.id, target_minor=target_minor))


def cell(
    client,
    engine: Engine,
    email: str,
    metric: str,
    target: str,
    *,
    version: int = 0,
    period: str = Q,
    htmx: bool = True,
    person_id: int | None = None,
):  # type: ignore[no-untyped-def]
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        "/quotas/cell",
        headers=headers,
        follow_redirects=False,
        data={
            "person_id": person_id if person_id is not None else pid(engine, email),
            "metric": metric,
            "period": period,
            "version": version,
            "target": target,
            "_csrf_token": csrf_from(client),
        },
    )


def token_for(engine: Engine, role: str, email: str | None = None) -> dict[str, str]:
    with transaction(engine) as s:
        person = s.exec(select(Person).where(Person.email == email)).one() if email else None
        _, clear = create_token(s, name="t", role=role, person=person, created_by=None)
    return {"Authorization": f"Bearer {clear}"}


def upload(client, body: str | bytes):  # type: ignore[no-untyped-def]
    content = body.encode() if isinstance(body, str) else body
    return client.post(
        "/quotas/upload", data={"_csrf_token": csrf_from(client)}, files={"file": ("quotas.csv", content, "text/csv")}
    )


def audit_actions(engine: Engine) -> list[str]:
    return read(
        engine,
        lambda s: s.exec(
            select(AuditEvent.action).where(AuditEvent.action.like("quota.%")).order_by(AuditEvent.id)
        ).all(),
    )


# ------------------------------------------------------------------ units


@pytest.mark.parametrize(
    ("text", "metric", "currency", "minor"),
    [
        ("250000", "bookings", "USD", 25_000_000),
        ("250,000.50", "bookings", "USD", 25_000_050),
        ("8", "deals", "USD", 800),
        ("7.5", "deals", "USD", 750),
        ("1000", "sourced_revenue", "JPY", 1000),
        ("", "bookings", "USD", None),
    ],
)
def test_targets_are_parsed_exactly(text: str, metric: str, currency: str, minor: int | None) -> None:
    assert parse_target(text, metric, currency) == minor


@pytest.mark.parametrize("text", ["0", "-5", "abc", "250.000,00", "1.005", "1e6", "NaN", "10000000000000"])
def test_bad_targets_are_refused(text: str) -> None:
    from commissions.core.errors import InputProblem

    with pytest.raises(InputProblem) as info:
        parse_target(text, "bookings", "USD")
    assert info.value.field == "target"


# ------------------------------------------------------------------ the grid


def test_manager_grid_lists_reports_recursively_and_edits_a_cell(client, org, engine: Engine) -> None:
    sign_in(client, "boss@example.com")
    page = client.get(f"/quotas?period={Q}")
    assert page.status_code == 200
    assert "ana@example.com" in page.text and "lead@example.com" in page.text
    assert "outsider@example.com" not in page.text and "boss@example.com</small>" not in page.text

    response = cell(client, engine, "ana@example.com", "bookings", "250,000")
    assert response.status_code == 200
    assert response.text.lstrip().startswith("<td")  # just the cell, for htmx to swap
    assert 'value="250,000.00"' in response.text and "Saved" in response.text
    assert 'name="version" value="1"' in response.text
    assert quotas(engine) == {("ana@example.com", "bookings", Q): (25_000_000, 1)}
    assert read(engine, lambda s: s.exec(select(Period).where(Period.key == Q)).one().kind) == "quarter"

    again = cell(client, engine, "ana@example.com", "deals", "8")
    assert again.status_code == 200
    assert quotas(engine)[("ana@example.com", "deals", Q)] == (800, 1)
    assert "250,000.00" in client.get(f"/quotas?period={Q}").text
    assert audit_actions(engine) == ["quota.set", "quota.set"]
    detail = read(
        engine,
        lambda s: (
            s.exec(select(AuditEvent).where(AuditEvent.action == "quota.set").order_by(AuditEvent.id)).first().detail
        ),
    )
    assert detail["old"] is None and detail["new"] == "250000.00" and detail["person"] == "ana@example.com"


def test_invalid_cell_comes_back_with_its_error_and_status_200_for_htmx(client, org, engine: Engine) -> None:
    sign_in(client, "lead@example.com")
    response = cell(client, engine, "ana@example.com", "bookings", "lots")
    assert response.status_code == 200
    assert 'class="error"' in response.text and "is not a number" in response.text
    assert 'value="lots"' in response.text  # what was typed stays, to be corrected
    negative = cell(client, engine, "ana@example.com", "bookings", "-5")
    assert "must be greater than 0" in negative.text and "is not a number" not in negative.text
    assert quotas(engine) == {}


def test_without_javascript_a_cell_posts_and_redirects_back(client, org, engine: Engine) -> None:
    sign_in(client, "lead@example.com")
    response = cell(client, engine, "bo@example.com", "bookings", "300000", htmx=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/quotas?period={Q}&saved=")
    back = client.get(response.headers["location"]).text
    assert (
        '<p class="quota-notice" role="status">Saved: the bookings quota of Bo for 2026-Q4 is now 300,000.00 USD.'
        in back
    )
    assert back.count('<small class="ok" role="status">Saved</small>') == 1  # on the saved cell, in the grid
    assert "Saved: the" not in client.get(f"/quotas?period={Q}").text
    bad = cell(client, engine, "bo@example.com", "deals", "0", htmx=False)
    assert bad.status_code == 400
    assert "<h1>Quotas" in bad.text and "must be greater than 0" in bad.text
    assert quotas(engine) == {("bo@example.com", "bookings", Q): (30_000_000, 1)}


def test_clearing_a_cell_deletes_the_quota_and_is_audited(client, org, engine: Engine) -> None:
    set_quota(engine, "ana@example.com", "bookings", Q, 25_000_000)
    sign_in(client, "lead@example.com")
    response = cell(client, engine, "ana@example.com", "bookings", "", version=1)
    assert response.status_code == 200 and 'value=""' in response.text
    assert quotas(engine) == {}
    event = read(engine, lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "quota.delete")).one())
    assert event.detail["old"] == "250000.00" and event.detail["new"] is None


def test_second_edit_based_on_the_same_version_is_refused_and_the_first_kept(client, org, engine: Engine) -> None:
    set_quota(engine, "ana@example.com", "bookings", Q, 25_000_000)
    sign_in(client, "lead@example.com")
    first = cell(client, engine, "ana@example.com", "bookings", "300000", version=1)
    assert first.status_code == 200 and 'name="version" value="2"' in first.text
    second = cell(client, engine, "ana@example.com", "bookings", "200000", version=1)
    assert second.status_code == 200  # htmx swaps it: the cell shows the conflict and the current value
    assert "changed by someone else since you loaded it" in second.text
    assert 'value="300,000.00"' in second.text and "200000 was not saved" in second.text
    assert quotas(engine)[("ana@example.com", "bookings", Q)] == (30_000_000, 2)
    no_js = cell(client, engine, "ana@example.com", "bookings", "100000", version=1, htmx=False)
    assert no_js.status_code == 409
    assert quotas(engine)[("ana@example.com", "bookings", Q)] == (30_000_000, 2)
    # a quota created by someone else after the page was loaded (version 0 = "none") is protected too
    set_quota(engine, "bo@example.com", "deals", Q, 500)
    late = cell(client, engine, "bo@example.com", "deals", "9", version=0)
    assert "changed by someone else" in late.text
    assert quotas(engine)[("bo@example.com", "deals", Q)] == (500, 1)


def test_the_same_value_twice_is_not_a_conflict(client, org, engine: Engine) -> None:
    sign_in(client, "lead@example.com")
    cell(client, engine, "ana@example.com", "bookings", "250000")
    double = cell(client, engine, "ana@example.com", "bookings", "250000.00")
    assert "changed by someone else" not in double.text
    assert quotas(engine)[("ana@example.com", "bookings", Q)] == (25_000_000, 1)


def test_locked_period_is_read_only(client, org, engine: Engine) -> None:
    set_quota(engine, "ana@example.com", "bookings", "2026-Q3", 25_000_000)
    with transaction(engine) as s:
        s.exec(select(Period).where(Period.key == "2026-Q3")).one().state = "locked"
    sign_in(client, "lead@example.com")
    page = client.get("/quotas?period=2026-Q3").text
    assert "is locked" in page and 'name="target"' not in page and "250,000.00 USD" in page
    response = cell(client, engine, "ana@example.com", "bookings", "1", version=1, period="2026-Q3")
    assert "locked" in response.text
    assert quotas(engine)[("ana@example.com", "bookings", "2026-Q3")] == (25_000_000, 1)


def test_admin_sees_everyone_grouped_by_team(client, org, engine: Engine) -> None:
    sign_in(client, "admin@example.com")
    page = client.get(f"/quotas?period={Q}").text
    for email in ("ana@example.com", "outsider@example.com", "lead@example.com", "boss@example.com"):
        assert email in page
    assert "finance@example.com" not in page
    assert page.index("Sales East") < page.index("Sales West")
    assert cell(client, engine, "outsider@example.com", "bookings", "100000").status_code == 200
    assert ("outsider@example.com", "bookings", Q) in quotas(engine)


# ------------------------------------------------------------------ a manager's reach


def test_manager_cannot_touch_anyone_outside_their_team(client, org, engine: Engine) -> None:
    set_quota(engine, "outsider@example.com", "bookings", Q, 10_000_000)
    sign_in(client, "lead@example.com")
    assert "outsider@example.com" not in client.get(f"/quotas?period={Q}").text
    for email in ("outsider@example.com", "lead@example.com", "boss@example.com"):  # nor themselves, nor their boss
        assert cell(client, engine, email, "bookings", "1", version=1).status_code == 404
        assert cell(client, engine, email, "bookings", "1", version=1, htmx=False).status_code == 404
    assert cell(client, engine, "x", "bookings", "1", person_id=999_999).status_code == 404
    assert cell(client, engine, "ana@example.com", "mqls", "1").status_code == 404
    denied = upload(
        client, f"person,metric,period,target\nana@example.com,bookings,{Q},abc\noutsider@example.com,bookings,{Q},2\n"
    )
    assert denied.status_code == 403 and "Nothing was imported" in denied.text
    assert re.search(r"<td>line 3</td><td>person</td><td>outsider@example.com is not in your team</td>", denied.text)
    assert re.search(r"<td>line 2</td><td>target</td>", denied.text)  # the rest of the report comes along
    unknown = upload(client, f"person,metric,period,target\nnobody@example.com,bookings,{Q},1\n")
    assert unknown.status_code == 403 and "nobody@example.com is not in your team" in unknown.text  # reveals nothing
    assert quotas(engine) == {("outsider@example.com", "bookings", Q): (10_000_000, 1)}
    assert audit_actions(engine) == []


@pytest.mark.parametrize("role", ["rep", "finance"])
def test_reps_and_finance_have_no_quota_pages(client, org, engine: Engine, make_person, role: str) -> None:
    make_person(f"{role}2@example.com", role)
    sign_in(client, f"{role}2@example.com")
    assert client.get("/quotas").status_code == 403
    assert cell(client, engine, "ana@example.com", "bookings", "1").status_code == 403
    assert upload(client, f"person,metric,period,target\nana@example.com,bookings,{Q},1\n").status_code == 403
    assert client.post("/quotas/copy", data={"period": Q, "_csrf_token": csrf_from(client)}).status_code == 403
    assert quotas(engine) == {}


# ------------------------------------------------------------------ copy from last period


def test_copy_from_last_period_fills_only_people_without_quotas(client, org, engine: Engine) -> None:
    set_quota(engine, "ana@example.com", "bookings", "2026-Q3", 25_000_000)
    set_quota(engine, "ana@example.com", "deals", "2026-Q3", 800)
    set_quota(engine, "bo@example.com", "bookings", "2026-Q3", 20_000_000)
    set_quota(engine, "bo@example.com", "bookings", Q, 22_000_000)  # bo has one already: untouched
    set_quota(engine, "outsider@example.com", "bookings", "2026-Q3", 1_000)  # not lead's team
    sign_in(client, "lead@example.com")
    response = client.post("/quotas/copy", data={"period": Q, "_csrf_token": csrf_from(client)}, follow_redirects=False)
    assert response.status_code == 303
    assert "copied=2" in response.headers["location"]
    assert "Copied 2 quotas from 2026-Q3" in client.get(response.headers["location"]).text
    now = quotas(engine)
    assert now[("ana@example.com", "bookings", Q)] == (25_000_000, 1)
    assert now[("ana@example.com", "deals", Q)] == (800, 1)
    assert now[("bo@example.com", "bookings", Q)] == (22_000_000, 1)
    assert ("bo@example.com", "deals", Q) not in now and ("outsider@example.com", "bookings", Q) not in now
    again = client.post("/quotas/copy", data={"period": Q, "_csrf_token": csrf_from(client)}, follow_redirects=False)
    assert "copied=0" in again.headers["location"]
    assert audit_actions(engine).count("quota.set") == 2


def test_copy_for_a_month_uses_the_previous_month(client, org, engine: Engine) -> None:
    set_quota(engine, "ana@example.com", "bookings", "2026-12", 5_000_000)
    sign_in(client, "lead@example.com")
    client.post("/quotas/copy", data={"period": "2027-01", "_csrf_token": csrf_from(client)})
    assert quotas(engine)[("ana@example.com", "bookings", "2027-01")] == (5_000_000, 1)


# ------------------------------------------------------------------ CSV upload


def test_csv_preview_commits_nothing_and_confirm_applies_everything(client, org, engine: Engine) -> None:
    set_quota(engine, "ana@example.com", "bookings", Q, 20_000_000)
    set_quota(engine, "bo@example.com", "deals", Q, 500)
    sign_in(client, "lead@example.com")
    body = (
        f"person,metric,period,target\nana@example.com,bookings,{Q},250000.00\n"
        f'BO@example.com,bookings,{Q},"300,000"\nbo@example.com,deals,{Q},\n'
        "ana@example.com,sourced_revenue,2027-01,1000\n"
    )
    preview = upload(client, body)
    assert preview.status_code == 200
    assert "Preview: 4 changes" in preview.text
    assert "200,000.00 USD" in preview.text and "250,000.00 USD" in preview.text and "remove" in preview.text
    assert quotas(engine) == {
        ("ana@example.com", "bookings", Q): (20_000_000, 1),
        ("bo@example.com", "deals", Q): (500, 1),
    }
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(Period)).one()) == 1  # nothing created yet

    content = re.search(r'name="content" value="([^"]+)"', preview.text).group(1)
    digest = re.search(r'name="fingerprint" value="([^"]+)"', preview.text).group(1)
    confirm = client.post(
        "/quotas/upload/confirm",
        follow_redirects=False,
        data={"content": content, "fingerprint": digest, "_csrf_token": csrf_from(client)},
    )
    assert confirm.status_code == 303 and "imported=4" in confirm.headers["location"]
    assert 'role="status">Imported: 4 quotas changed.' in client.get(confirm.headers["location"]).text
    assert quotas(engine) == {
        ("ana@example.com", "bookings", Q): (25_000_000, 2),
        ("bo@example.com", "bookings", Q): (30_000_000, 1),
        ("ana@example.com", "sourced_revenue", "2027-01"): (100_000, 1),
    }
    month = read(engine, lambda s: s.exec(select(Period).where(Period.key == "2027-01")).one())
    assert (month.kind, month.starts_on, month.ends_on) == ("month", date(2027, 1, 1), date(2027, 1, 31))
    assert sorted(audit_actions(engine)) == ["quota.delete", "quota.set", "quota.set", "quota.set"]


def test_confirm_refuses_when_quotas_changed_since_the_preview(client, org, engine: Engine) -> None:
    set_quota(engine, "ana@example.com", "bookings", Q, 20_000_000)
    sign_in(client, "lead@example.com")
    preview = upload(client, f"person,metric,period,target\nana@example.com,bookings,{Q},250000\n")
    content = re.search(r'name="content" value="([^"]+)"', preview.text).group(1)
    digest = re.search(r'name="fingerprint" value="([^"]+)"', preview.text).group(1)
    cell(client, engine, "ana@example.com", "bookings", "210000", version=1)  # someone edits meanwhile
    stale = client.post(
        "/quotas/upload/confirm", data={"content": content, "fingerprint": digest, "_csrf_token": csrf_from(client)}
    )
    assert stale.status_code == 409 and "changed since the preview" in stale.text
    assert quotas(engine)[("ana@example.com", "bookings", Q)] == (21_000_000, 2)


def test_confirm_revalidates_a_tampered_upload(client, org, engine: Engine) -> None:
    sign_in(client, "lead@example.com")
    forged = base64.b64encode(f"person,metric,period,target\noutsider@example.com,bookings,{Q},1\n".encode()).decode()
    response = client.post(
        "/quotas/upload/confirm", data={"content": forged, "fingerprint": "x", "_csrf_token": csrf_from(client)}
    )
    assert response.status_code == 403
    assert quotas(engine) == {}


def test_csv_with_bad_rows_imports_nothing_and_names_line_and_field(client, org, engine: Engine) -> None:
    sign_in(client, "lead@example.com")
    body = (
        f"person,metric,period,target\n"
        f"ana@example.com,bookings,{Q},250000\n"  # line 2: fine
        f"ana@example.com,mqls,{Q},5\n"  # line 3: metric
        f"bo@example.com,bookings,2026-Q5,5\n"  # line 4: period
        f"bo@example.com,deals,{Q},8.125\n"  # line 5: target
        f"ana@example.com,bookings,{Q},1\n"
    )  # line 6: duplicate of line 2
    response = upload(client, body)
    assert response.status_code == 200
    text = response.text
    assert "Nothing was imported" in text
    for line, field in [("line 3", "metric"), ("line 4", "period"), ("line 5", "target"), ("line 6", "person")]:
        assert re.search(rf"<td>{line}</td><td>{field}</td>", text), (line, field)
    assert "line 2" not in text.replace("line 2</td>", "")  # the good row is not reported
    assert quotas(engine) == {}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (b"email,metric,period,target\nana@example.com,bookings,2026-Q4,1\n", "header", "missing column person"),
        (b"person,metric,period,target\n", "file", "no rows"),
        (b"person,metric,period,target\nana@example.com,bookings\n", "period", "too few columns"),
        ("person,metric,period,target\nana@example.com,bookings,2026-Q4,1\n".encode("utf-16"), "file", "not UTF-8"),
        (b"person,metric,period,target\n" + b"x" * MAX_BYTES, "file", "larger than 1 MB"),
    ],
)
def test_csv_shape_errors(client, org, engine: Engine, body: bytes, field: str, message: str) -> None:
    sign_in(client, "lead@example.com")
    response = upload(client, body)
    assert response.status_code == 200
    assert f"<td>{field}</td>" in response.text and message in response.text
    assert quotas(engine) == {}


def test_csv_far_over_the_limit_is_refused_before_reading(client, org, engine: Engine) -> None:
    sign_in(client, "lead@example.com")
    response = upload(client, b"person,metric,period,target\n" + b"x" * (2 * MAX_BYTES))
    assert response.status_code == 413
    assert quotas(engine) == {}


# ------------------------------------------------------------------ proration


def assign(
    engine: Engine,
    email: str,
    starts_on: date,
    ends_on: date | None,
    *,
    prorate: bool = True,
    currency: str = "USD",
    plan: str = "AE",
) -> None:
    with transaction(engine) as s:
        row = s.exec(select(Plan).where(Plan.name == plan)).first()
        if row is None:
            row = Plan(name=plan, currency=currency, period_kind="quarter")
            s.add(row)
            s.flush()
        person = s.exec(select(Person).where(Person.email == email)).one()
        s.add(
            PlanAssignment(person_id=person.id, plan_id=row.id, starts_on=starts_on, ends_on=ends_on, prorate=prorate)
        )


def test_proration_for_joiners_and_leavers(client, org, engine: Engine) -> None:
    # ana joins on 16 November: active 16 Nov .. 31 Dec = 15 + 31 = 46 of 92 days -> 90000 × 46/92 = 45000
    set_quota(engine, "ana@example.com", "bookings", Q, 9_000_000)
    set_quota(engine, "ana@example.com", "deals", Q, 1000)  # 10 deals -> 5
    assign(engine, "ana@example.com", date(2026, 11, 16), None)
    # bo leaves on 31 October: 31 of 92 days -> 92000 × 31/92 = 31000
    set_quota(engine, "bo@example.com", "bookings", Q, 9_200_000)
    assign(engine, "bo@example.com", date(2026, 1, 1), date(2026, 10, 31))
    # outsider: same dates, but the assignment does not prorate -> the full target
    set_quota(engine, "outsider@example.com", "bookings", Q, 9_000_000)
    assign(engine, "outsider@example.com", date(2026, 11, 16), None, prorate=False)
    # lead: on the plan the whole quarter -> the full target
    set_quota(engine, "lead@example.com", "bookings", Q, 10_000_000)
    assign(engine, "lead@example.com", date(2026, 1, 1), None)

    def eff(email: str, metric: str = "bookings", period: str = Q) -> Decimal | None:
        return read(engine, lambda s: effective_target(s, pid(engine, email), metric, period))

    assert eff("ana@example.com") == Decimal(45000)
    assert eff("ana@example.com", "deals") == Decimal(5)
    assert eff("bo@example.com") == Decimal(31000)
    assert eff("outsider@example.com") == Decimal("90000.00")
    assert eff("lead@example.com") == Decimal("100000.00")
    assert eff("ana@example.com", "sourced_revenue") is None
    assert eff("ana@example.com", period="2027-Q1") is None

    sign_in(client, "boss@example.com")
    page = client.get(f"/quotas?period={Q}").text
    assert 'value="90,000.00"' in page  # the stored target stays the full one
    assert "prorated: 45,000.00 USD" in page and "prorated: 5 deals" in page and "prorated: 31,000.00 USD" in page
    assert "on plan 46 of 92 days" in page and "on plan 31 of 92 days" in page
    assert page.count("prorated:") == 3


def test_proration_is_exact_and_only_rounded_for_display(client, org, engine: Engine) -> None:
    # Q1 2027 has 90 days; joining on 1 February: 28 + 31 = 59 days. 100000 × 59/90 = 65555.555…
    set_quota(engine, "ana@example.com", "bookings", "2027-Q1", 10_000_000)
    assign(engine, "ana@example.com", date(2027, 2, 1), None, currency="EUR")
    value = read(engine, lambda s: effective_target(s, pid(engine, "ana@example.com"), "bookings", "2027-Q1"))
    assert value.quantize(Decimal("0.000001")) == Decimal("65555.555556")
    sign_in(client, "lead@example.com")
    assert "prorated: 65,555.56 EUR" in client.get("/quotas?period=2027-Q1").text


def test_money_targets_use_the_plan_currency(client, org, engine: Engine) -> None:
    assign(engine, "ana@example.com", date(2026, 1, 1), None, currency="JPY", plan="Japan", prorate=False)
    sign_in(client, "lead@example.com")
    assert "more decimals than JPY allows" in cell(client, engine, "ana@example.com", "bookings", "100.5").text
    cell(client, engine, "ana@example.com", "bookings", "1000000")
    assert quotas(engine)[("ana@example.com", "bookings", Q)] == (1_000_000, 1)


# ------------------------------------------------------------------ the API


def test_api_manager_sets_their_team_and_gets_the_stored_quotas(client, org, engine: Engine) -> None:
    headers = token_for(engine, "manager", "boss@example.com")
    body = [
        {"person": "ana@example.com", "metric": "bookings", "period": Q, "target": "250000"},
        {"person": "lead@example.com", "metric": "deals", "period": Q, "target": 12.5},
    ]
    response = client.put("/api/v1/quotas", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == [
        {
            "person": "ana@example.com",
            "metric": "bookings",
            "period": Q,
            "target": "250000.00",
            "unit": "USD",
            "version": 1,
        },
        {"person": "lead@example.com", "metric": "deals", "period": Q, "target": "12.5", "unit": "count", "version": 1},
    ]
    update = client.put(
        "/api/v1/quotas",
        headers=headers,
        json=[{"person": "ana@example.com", "metric": "bookings", "period": Q, "target": "260000.00", "version": 1}],
    )
    assert update.json()[0]["version"] == 2
    stale = client.put(
        "/api/v1/quotas",
        headers=headers,
        json=[{"person": "ana@example.com", "metric": "bookings", "period": Q, "target": "1", "version": 1}],
    )
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["detail"]
    removed = client.put(
        "/api/v1/quotas",
        headers=headers,
        json=[{"person": "lead@example.com", "metric": "deals", "period": Q, "target": None}],
    )
    assert removed.json()[0]["target"] is None
    assert quotas(engine) == {("ana@example.com", "bookings", Q): (26_000_000, 2)}


def test_api_anyone_outside_the_team_refuses_the_whole_request(client, org, engine: Engine) -> None:
    headers = token_for(engine, "manager", "lead@example.com")
    body = [
        {"person": "ana@example.com", "metric": "bookings", "period": Q, "target": "1"},
        {"person": "outsider@example.com", "metric": "bookings", "period": Q, "target": "1"},
    ]
    response = client.put("/api/v1/quotas", json=body, headers=headers)
    assert response.status_code == 403
    assert "outsider@example.com is not in your team" in response.json()["detail"]
    own = client.put(
        "/api/v1/quotas",
        headers=headers,
        json=[{"person": "lead@example.com", "metric": "bookings", "period": Q, "target": "1"}],
    )
    assert own.status_code == 403
    unbound = client.put("/api/v1/quotas", headers=token_for(engine, "manager"), json=body[:1])
    assert unbound.status_code == 403
    assert quotas(engine) == {}
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(Period)).one()) == 0


def test_api_bad_items_are_named_by_index_and_field(client, org, engine: Engine) -> None:
    headers = token_for(engine, "admin")
    body = [
        {"person": "ana@example.com", "metric": "bookings", "period": Q, "target": "1"},
        {"person": "ghost@example.com", "metric": "bookings", "period": Q, "target": "1"},
        {"person": "bo@example.com", "metric": "pipeline", "period": "Q4", "target": "-1"},
    ]
    response = client.put("/api/v1/quotas", json=body, headers=headers)
    assert response.status_code == 400
    errors = response.json()["extra"]["errors"]
    assert {(e["index"], e["field"]) for e in errors} == {(1, "person"), (2, "metric"), (2, "period")}
    assert quotas(engine) == {}


@pytest.mark.parametrize("role", ["rep", "finance"])
def test_api_is_refused_to_reps_and_finance(client, org, engine: Engine, role: str) -> None:
    headers = token_for(engine, role, "finance@example.com" if role == "finance" else "ana@example.com")
    response = client.put(
        "/api/v1/quotas",
        headers=headers,
        json=[{"person": "ana@example.com", "metric": "bookings", "period": Q, "target": "1"}],
    )
    assert response.status_code == 403
    assert quotas(engine) == {}


def test_api_writes_need_a_token_not_a_session(client, org, engine: Engine) -> None:
    sign_in(client, "admin@example.com")
    response = client.put(
        "/api/v1/quotas", json=[{"person": "ana@example.com", "metric": "bookings", "period": Q, "target": "1"}]
    )
    assert response.status_code == 401
    assert quotas(engine) == {}


def test_concurrent_edits_of_one_version_keep_exactly_one(org, engine: Engine) -> None:
    """Two writers racing on the same version: one wins, the other gets a conflict, no update is lost."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from commissions.core.db import write
    from commissions.core.periods import parse_period_key
    from commissions.core.principal import Principal
    from commissions.quotas.service import apply_change, cell_change
    from commissions.quotas.targets import QuotaConflict

    set_quota(engine, "ana@example.com", "bookings", Q, 10_000_000)
    lead = Principal(role="manager", person_id=pid(engine, "lead@example.com"), email="lead@example.com", name="Lead")
    ana, key, barrier = pid(engine, "ana@example.com"), parse_period_key(Q), Barrier(2)
    # PostgreSQL: both transactions are open before either writes. SQLite: BEGIN IMMEDIATE serialises writers
    # (the second waits for the first to commit), so waiting there would only deadlock.
    interleave = engine.dialect.name == "postgresql"

    def edit(target: str) -> str:
        def work(session):  # type: ignore[no-untyped-def]
            change = cell_change(session, lead, person_id=ana, metric="bookings", key=key, target=target, version=1)
            if interleave:
                barrier.wait(timeout=10)
            return apply_change(session, change, by=lead).action

        try:
            return write(engine, work)
        except QuotaConflict:
            return "conflict"

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(edit, ["200000", "300000"]))
    assert sorted(results) == ["conflict", "updated"]
    winner = "200000" if results[0] == "updated" else "300000"
    assert quotas(engine)[("ana@example.com", "bookings", Q)] == (int(winner) * 100, 2)


def test_a_target_refusal_says_what_is_wrong_in_a_whole_sentence() -> None:
    """It said "is too large" (without the limit) and "must be greater than 0" (a fragment) beside the box."""
    from commissions.core.errors import InputProblem
    from commissions.quotas.targets import parse_target

    with pytest.raises(InputProblem) as large:
        parse_target("2000000000000", "bookings", "USD")
    assert large.value.message == "2000000000000 is too large: a target is at most 1,000,000,000,000"
    with pytest.raises(InputProblem) as zero:
        parse_target("0", "bookings", "USD")
    assert zero.value.message == "a target must be greater than 0 (leave it empty to remove the quota)"
