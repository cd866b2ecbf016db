"""The exchange rates page (finance, admins): list and search, add or correct with a confirmation,
CSV import all or nothing with per-line errors, a pair's history; htmx gets fragments."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import col, select

from commissions.models import ExchangeRate
from tests.conftest import csrf_from, read, sign_in


def rates(engine: Engine) -> list[tuple[str, str, Decimal, str]]:
    return read(
        engine,
        lambda s: [
            (r.source, r.target, r.rate, r.effective_from.isoformat())
            for r in s.exec(select(ExchangeRate).order_by(col(ExchangeRate.id))).all()
        ],
    )


def as_finance(client, make_person) -> str:  # type: ignore[no-untyped-def]
    make_person("fin@example.com", "finance")
    sign_in(client, "fin@example.com")
    return csrf_from(client)


def test_add_and_correct_a_rate_with_a_confirmation(client, engine: Engine, make_person) -> None:
    csrf = as_finance(client, make_person)
    form = {"source": "eur", "target": "USD", "rate": "1.0850", "effective_from": "2026-01-01", "_csrf_token": csrf}
    saved = client.post("/finance/rates/", data=form, follow_redirects=False)
    assert saved.status_code == 303
    page = client.get(saved.headers["location"])
    assert "Rate EUR to USD from 2026-01-01 saved." in page.text
    assert '<td>EUR</td><td>USD</td><td class="num">1.0850</td><td>2026-01-01</td>' in page.text
    fixed = client.post("/finance/rates/", data={**form, "rate": "1.09"})
    assert "Rate EUR to USD from 2026-01-01 corrected (the old value is in its history)." in fixed.text
    assert rates(engine) == [("EUR", "USD", Decimal("1.09"), "2026-01-01")]
    history = client.get("/finance/rates/history?source=EUR&target=USD")
    assert history.status_code == 200
    assert '<td class="num">1.0850</td><td class="num">1.0900</td>' in history.text  # before, after
    assert '<td class="num">(new)</td><td class="num">1.0850</td>' in history.text
    assert history.text.count("<td>fin@example.com</td>") == 2  # who set it, who corrected it


def test_a_bad_rate_comes_back_on_its_field(client, engine: Engine, make_person) -> None:
    csrf = as_finance(client, make_person)
    form = {"source": "EUR", "target": "USD", "rate": "-2", "effective_from": "2026-01-01", "_csrf_token": csrf}
    page = client.post("/finance/rates/", data=form)
    assert page.status_code == 400
    assert "-2 is not a rate: it must be a number above 0" in page.text
    inline = client.post("/finance/rates/", data=form, headers={"HX-Request": "true"})
    assert inline.status_code == 200 and inline.text.lstrip().startswith('<form id="rate-form"')
    assert "<html" not in inline.text and "is not a rate" in inline.text
    assert rates(engine) == []


def test_search_by_currency_and_the_htmx_table(client, engine: Engine, make_person) -> None:
    csrf = as_finance(client, make_person)
    for source in ("EUR", "GBP"):
        client.post(
            "/finance/rates/",
            data={
                "source": source,
                "target": "USD",
                "rate": "1.2",
                "effective_from": "2026-01-01",
                "_csrf_token": csrf,
            },
        )
    page = client.get("/finance/rates?currency=gbp")
    assert "<td>GBP</td>" in page.text and "<td>EUR</td>" not in page.text
    fragment = client.get("/finance/rates?currency=EUR", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<section id="rates-table">')
    assert "<td>EUR</td>" in fragment.text and "<td>GBP</td>" not in fragment.text


def test_csv_import_all_rows_or_none(client, engine: Engine, make_person) -> None:
    csrf = as_finance(client, make_person)
    bad = "from,to,rate,effective_from\nEUR,USD,1.0850,2026-01-01\nGBP,USD,abc,2026-01-01\nJPY,USD,0.0067,2026-13-01\n"
    failed = client.post(
        "/finance/rates/import", files={"file": ("rates.csv", bad, "text/csv")}, data={"_csrf_token": csrf}
    )
    assert failed.status_code == 200 and "Nothing was imported" in failed.text
    assert "<td>line 3</td><td>rate</td><td>&#39;abc&#39; is not a number (e.g. 1.0850)</td>" in failed.text
    assert (
        "<td>line 4</td><td>effective_from</td><td>&#39;2026-13-01&#39; is not a date (YYYY-MM-DD)</td>" in failed.text
    )
    assert rates(engine) == []
    header = client.post(
        "/finance/rates/import", files={"file": ("r.csv", "a,b\n1,2\n", "text/csv")}, data={"_csrf_token": csrf}
    )
    assert "missing column from, to, rate, effective_from" in header.text
    good = bad.replace("abc", "1.27").replace("2026-13-01", "2026-02-01")
    done = client.post(
        "/finance/rates/import",
        files={"file": ("rates.csv", good, "text/csv")},
        data={"_csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "Imported rates.csv: 3 rates created or corrected." in client.get(done.headers["location"]).text
    assert rates(engine) == [
        ("EUR", "USD", Decimal("1.085"), "2026-01-01"),
        ("GBP", "USD", Decimal("1.27"), "2026-01-01"),
        ("JPY", "USD", Decimal("0.0067"), "2026-02-01"),
    ]


def test_reps_and_managers_may_not_see_it(client, engine: Engine, make_person) -> None:
    make_person("rep@example.com")
    sign_in(client, "rep@example.com")
    assert client.get("/finance/rates").status_code == 403
    form = {
        "source": "EUR",
        "target": "USD",
        "rate": "1",
        "effective_from": "2026-01-01",
        "_csrf_token": csrf_from(client),
    }
    assert client.post("/finance/rates/", data=form).status_code == 403
    assert rates(engine) == []
