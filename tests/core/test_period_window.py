"""Periods exist only within a window around today (two years back, one year ahead by default): every
door that can create one refuses a period or date outside it with a 400 naming the field and the window;
prior-period adjustments land in the earliest open period that has started, never in a future one.

Today is fixed at 2026-12-04 (``commissions.core.periods.today``): the window is then 2024-12-04 to 2027-12-04.
"""

from __future__ import annotations

import base64
from datetime import date

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from commissions.core import periods as keys
from commissions.core.db import transaction
from commissions.core.errors import InputProblem
from commissions.core.periods import PeriodOutOfWindow, check_day_in_window, check_period_in_window, period_window
from commissions.models import Deal, Period, PlanVersion
from tests.app.test_faults import everything as _everything
from tests.conftest import csrf_from, read, sign_in
from tests.finance_fixtures import example_deal, ledger_of, period_row, setup_books

TODAY = date(2026, 12, 4)


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys, "today", lambda: TODAY)


def everything(engine: Engine):  # type: ignore[no-untyped-def]
    return _everything(engine, skip=("api_token", "audit_event"))


def period_keys(engine: Engine) -> set[str]:
    return set(read(engine, lambda s: s.exec(select(Period.key)).all()))


def names_window(response) -> None:  # type: ignore[no-untyped-def]
    body = response.json()
    assert "2024-12-04" in body["detail"] and "2027-12-04" in body["detail"], body


# ---------------------------------------------------------------- the window itself (no database)


def test_the_default_window_is_two_years_back_to_one_year_ahead() -> None:
    window = period_window()
    assert (window.earliest, window.latest) == (date(2024, 12, 4), date(2027, 12, 4))
    assert period_window(on=date(2028, 2, 29)).earliest == date(2026, 2, 28)  # no 29 February in 2026
    for key in ("2024-Q4", "2024-12", "2024", "2026-Q4", "2027-Q4", "2027-12", "2027"):
        check_period_in_window(key)  # any day of the period inside the window is enough
    for key in ("9999-Q4", "2024-Q3", "2024-11", "2023", "2028-Q1", "2028-01", "2028"):
        with pytest.raises(PeriodOutOfWindow) as refused:
            check_period_in_window(key, field="period")
        assert (
            refused.value.field == "period" and "2024-12-04" in refused.value.message and key in refused.value.message
        )
    check_day_in_window(date(2024, 12, 4), field="closed_at")
    with pytest.raises(PeriodOutOfWindow) as refused:
        check_day_in_window(date(9999, 12, 1), field="closed_at")
    assert refused.value.field == "closed_at" and isinstance(refused.value, InputProblem)


def test_the_window_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from commissions.core import settings as settings_module

    monkeypatch.setenv("PERIOD_WINDOW_YEARS_BACK", "5")
    monkeypatch.setenv("PERIOD_WINDOW_YEARS_AHEAD", "3")
    settings_module.get_settings.cache_clear()
    try:
        check_period_in_window("2029-Q4")
        check_period_in_window("2022-Q1")
    finally:
        monkeypatch.delenv("PERIOD_WINDOW_YEARS_BACK")
        monkeypatch.delenv("PERIOD_WINDOW_YEARS_AHEAD")
        settings_module.get_settings.cache_clear()
    with pytest.raises(PeriodOutOfWindow):
        check_period_in_window("2029-Q4")


# ---------------------------------------------------------------- every door


def test_quota_api_refuses_9999_q4_naming_the_item_and_the_window(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    before = everything(engine)
    response = client.put(
        "/api/v1/quotas",
        headers=tokens["manager"],
        json=[
            {"person": "ana@example.com", "metric": "bookings", "period": "2026-Q2", "target": "1000"},
            {"person": "ana@example.com", "metric": "bookings", "period": "9999-Q4", "target": "1000"},
        ],
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["extra"]["errors"] == [
        {"index": 1, "field": "period", "message": body["extra"]["errors"][0]["message"]}
    ]
    assert "9999-Q4" in body["detail"] and "2027-12-04" in body["detail"]
    assert everything(engine) == before and "9999-Q4" not in period_keys(engine)
    # within the window a new period is created as before
    ok = client.put(
        "/api/v1/quotas",
        headers=tokens["manager"],
        json=[{"person": "ana@example.com", "metric": "bookings", "period": "2027-Q1", "target": "1000"}],
    )
    assert ok.status_code == 200, ok.text
    assert "2027-Q1" in period_keys(engine)


def test_quota_grid_cell_refuses_9999_q4(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    setup_books(engine, make_person)
    sign_in(client, "mia@example.com")
    from tests.finance_fixtures import person_id

    before = everything(engine)
    for htmx in (False, True):
        response = client.post(
            "/quotas/cell",
            headers={"HX-Request": "true"} if htmx else {},
            follow_redirects=False,
            data={
                "person_id": person_id(engine, "ana@example.com"),
                "metric": "bookings",
                "period": "9999-Q4",
                "version": 0,
                "target": "250000",
                "_csrf_token": csrf_from(client),
            },
        )
        assert response.status_code == (200 if htmx else 400), response.text  # htmx swaps only 2xx: the cell says why
        assert "9999-Q4 is outside the window of periods from 2024-12-04 to 2027-12-04" in response.text
    assert everything(engine) == before and "9999-Q4" not in period_keys(engine)


def test_quota_grid_page_and_copy_refuse_a_period_outside_the_window(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    setup_books(engine, make_person)
    sign_in(client, "mia@example.com")
    page = client.get("/quotas?period=9999-Q4")
    assert page.status_code == 400 and "2027-12-04" in page.text
    assert client.get("/quotas?period=2026-Q1").status_code == 200  # an existing period
    before = everything(engine)
    copy = client.post(
        "/quotas/copy", data={"period": "9999-Q4", "_csrf_token": csrf_from(client)}, follow_redirects=False
    )
    assert copy.status_code == 400 and "9999-Q4" in copy.text
    assert everything(engine) == before


def test_quota_csv_upload_lists_the_period_outside_the_window(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    setup_books(engine, make_person)
    sign_in(client, "mia@example.com")
    content = b"person,metric,period,target\nana@example.com,bookings,9999-Q4,1000\n"
    response = client.post(
        "/quotas/upload", files={"file": ("quotas.csv", content, "text/csv")}, data={"_csrf_token": csrf_from(client)}
    )
    assert "9999-Q4 is outside the window" in response.text and "preview" not in response.url.path
    before = everything(engine)
    confirm = client.post(
        "/quotas/upload/confirm",
        data={"content": base64.b64encode(content).decode(), "fingerprint": "x", "_csrf_token": csrf_from(client)},
    )
    assert "9999-Q4 is outside the window" in confirm.text
    assert everything(engine) == before and "9999-Q4" not in period_keys(engine)


@pytest.mark.parametrize("closed_at", ["9999-12-01", "2031-01-15", "2020-03-01"])
def test_deals_outside_the_window_are_refused(client, engine: Engine, make_person, closed_at: str) -> None:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    before = everything(engine)
    response = client.post("/api/v1/deals", json=example_deal("D-1", "1000", closed_at), headers=tokens["crm"])
    assert response.status_code == 400, response.text
    if closed_at.startswith("9999"):  # the deal schema's own range (2000 to 2100) refuses it first
        assert "closed_at" in response.text
    else:
        names_window(response)
    assert everything(engine) == before
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(Deal)).one()) == 0


def test_manual_adjustments_refuse_a_period_outside_the_window(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    before = everything(engine)
    response = client.post(
        "/api/v1/adjustments",
        headers=tokens["finance"],
        json={"person": "ana@example.com", "period": "9999-Q4", "amount": "250.00", "reason": "typo"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["extra"]["field"] == "period"
    names_window(response)
    assert everything(engine) == before


def test_plan_versions_refuse_an_effective_date_outside_the_window(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    from commissions.plans.service import save_plan_version
    from tests.calc_fixtures import EXAMPLE_PLAN as PLAN_YAML

    setup_books(engine, make_person)
    with pytest.raises(PeriodOutOfWindow) as refused, transaction(engine) as s:
        save_plan_version(s, text=PLAN_YAML, effective_from=date(2099, 1, 1), by=None)
    assert refused.value.field == "effective_from" and "2027-12-04" in refused.value.message
    make_person("root2@example.com", "admin")
    sign_in(client, "root2@example.com")
    plan_id = read(engine, lambda s: s.exec(select(PlanVersion.plan_id)).first())
    versions = read(engine, lambda s: s.exec(select(func.count()).select_from(PlanVersion)).one())
    page = client.post(
        f"/plans/{plan_id}/edit",
        data={
            "document": PLAN_YAML + "\n# version 2\n",
            "effective_from": "2099-01-01",
            "_csrf_token": csrf_from(client),
        },
    )
    assert page.status_code == 400 and "2099-01-01 is outside the window" in page.text
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(PlanVersion)).one()) == versions


def test_period_urls_create_no_period(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    sign_in(client, "fin@example.com")
    for path in (
        "/finance/periods/9999-Q4",
        "/statements/ana@example.com?period=9999-Q4",
        "/api/v1/periods/9999-Q4",
        "/finance?period=9999-Q4",
        "/api/v1/payouts/9999-Q4.csv",
    ):
        response = client.get(path, headers=tokens["finance"] if path.startswith("/api/") else {})
        assert response.status_code < 500, (path, response.status_code)
    for action in ("approve", "lock", "pay"):
        assert client.post(f"/api/v1/periods/9999-Q4/{action}", headers=tokens["finance"]).status_code in (400, 404)
    assert "9999-Q4" not in period_keys(engine)


# ---------------------------------------------------------------- where prior-period adjustments land


def _lock(client, tokens, key: str) -> None:  # type: ignore[no-untyped-def]
    for step in ("approve", "lock"):
        response = client.post(f"/api/v1/periods/{key}/{step}", headers=tokens["finance"])
        assert response.status_code == 200, response.text


def _post(client, tokens, *args) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/deals", json=example_deal(*args), headers=tokens["crm"])
    assert response.status_code in (200, 201), response.text


def _future_quota(client, tokens) -> None:  # type: ignore[no-untyped-def]
    """2027-Q1 (in the window, not started) exists and is open: a quota set ahead of time."""
    response = client.put(
        "/api/v1/quotas",
        headers=tokens["admin"],
        json=[{"person": "ana@example.com", "metric": "bookings", "period": "2027-Q1", "target": "100000"}],
    )
    assert response.status_code == 200, response.text
    assert period_row(client.app.state["engine"], "2027-Q1").state == "open"


def _prior_lines(engine: Engine, key: str) -> list:  # type: ignore[type-arg]
    return [line for line in ledger_of(engine, "ana@example.com", key) if line.kind in ("adjustment", "clawback")]


def test_an_adjustment_after_a_lock_lands_in_the_current_period_not_a_future_one(
    client, engine: Engine, make_person
) -> None:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    _post(client, tokens, "D-1", "60000", "2026-01-10")
    _post(client, tokens, "D-2", "10000", "2026-04-10")
    _post(client, tokens, "D-3", "10000", "2026-07-10")
    for key in ("2026-Q1", "2026-Q2", "2026-Q3"):
        _lock(client, tokens, key)
    _future_quota(client, tokens)
    _post(client, tokens, "D-9", "30000", "2026-02-15")  # late: for 2026-Q1, which is locked
    assert _prior_lines(engine, "2027-Q1") == []
    [line] = _prior_lines(engine, "2026-Q4")  # the current quarter (created), not the future one that exists
    assert line.amount_minor == 300_000 and line.original_period_id == period_row(engine, "2026-Q1").id


def test_an_adjustment_goes_to_the_earliest_started_period_even_when_a_future_one_exists(
    client, engine: Engine, make_person
) -> None:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    _post(client, tokens, "D-1", "60000", "2026-01-10")
    _lock(client, tokens, "2026-Q1")
    _future_quota(client, tokens)
    _post(client, tokens, "D-9", "30000", "2026-02-15")
    assert _prior_lines(engine, "2027-Q1") == []
    assert [line.amount_minor for line in _prior_lines(engine, "2026-Q2")] == [300_000]


def test_an_adjustment_goes_to_the_earliest_open_period_even_one_nothing_happened_in_yet(
    client, engine: Engine, make_person
) -> None:  # type: ignore[no-untyped-def]
    """plans.md 6: "the earliest open period". 2026-Q2 saw no activity (it has no row), 2026-Q3 did: the late
    deal for the locked 2026-Q1 is booked in 2026-Q2, not in the first period that happens to exist."""
    tokens = setup_books(engine, make_person)
    _post(client, tokens, "D-1", "60000", "2026-01-10")
    _post(client, tokens, "D-3", "10000", "2026-07-10")
    _lock(client, tokens, "2026-Q1")
    _post(client, tokens, "D-9", "30000", "2026-02-15")  # late: for 2026-Q1, which is locked
    assert _prior_lines(engine, "2026-Q3") == []
    [line] = _prior_lines(engine, "2026-Q2")
    assert line.amount_minor == 300_000 and line.original_period_id == period_row(engine, "2026-Q1").id
    assert period_row(engine, "2026-Q2").state == "open"


def test_when_the_locked_period_is_the_current_one_the_adjustment_goes_to_the_next(
    client,
    engine: Engine,
    make_person,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keys, "today", lambda: date(2026, 3, 20))  # 2026-Q1 is the current quarter
    tokens = setup_books(engine, make_person)
    _post(client, tokens, "D-1", "60000", "2026-01-10")
    _lock(client, tokens, "2026-Q1")
    _post(client, tokens, "D-9", "30000", "2026-02-15")
    assert [line.amount_minor for line in _prior_lines(engine, "2026-Q2")] == [300_000]  # no started period is left


def test_a_change_to_a_period_older_than_the_window_lands_in_the_first_period_inside_it(engine: Engine) -> None:
    from commissions.adjustments.prior_period import adjustment_period

    with transaction(engine) as s:
        old = Period(
            key="2023-Q1", kind="quarter", starts_on=date(2023, 1, 1), ends_on=date(2023, 3, 31), state="locked"
        )
        s.add(old)
        s.flush()
        assert adjustment_period(s, old).key == "2024-Q4"  # not 2023-Q2, which may no longer be created
