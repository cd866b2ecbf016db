"""Each role sees its own pages and navigation; everything else is a 403 page that changes nothing."""

from __future__ import annotations

import pytest

from commissions.core.navigation import NAV_ITEMS
from tests.conftest import sign_in

PAGES = {
    "/": {"rep", "manager", "finance", "admin"},
    "/deals": {"rep", "manager", "finance", "admin"},
    "/statements": {"rep", "manager", "finance"},
    "/team": {"manager"},
    "/quotas": {"manager", "admin"},
    "/campaigns": {"rep", "manager", "finance", "admin"},
    "/finance/periods": {"finance"},
    "/finance": {"finance"},
    "/disputes": {"rep", "manager", "finance"},
    "/finance/periods/2026-Q1": {"finance"},  # the approval page (also before anything is computed)
    "/finance/adjustments": {"finance"},
    "/finance/rates": {"finance", "admin"},  # exchange rates
    "/admin/people": {"admin"},
    "/admin/tokens": {"admin"},
    "/admin/audit": {"admin"},
    "/admin/webhooks": {"admin"},  # linked from the API tokens page
    "/admin/webhooks/outbound": {"finance", "admin"},  # outbound webhooks (nav: "Webhooks")
    "/admin/sso": {"admin"},  # single sign-on, linked from the API tokens page too
    "/admin/custom-fields": {"admin"},  # custom deal fields (nav: "Deal fields")
    "/plans": {"admin"},
    "/deals/import": {"finance", "admin"},
    "/leaderboard": {"rep", "manager", "finance", "admin"},
    "/admin/badges": {"admin"},
    "/leaderboard/tv": {"rep", "manager", "finance", "admin"},  # not a nav item
    "/leaderboard/contests": {"rep", "manager", "finance", "admin"},  # linked from the leaderboard page
    "/leaderboard/contests/new": {"manager", "admin"},
    "/marketing": {"rep", "manager", "finance", "admin"},  # revenue-marketing dashboard: aggregates, no pay
    "/pulse": {"rep", "manager"},  # answer your manager's eNPS pulse
}
ROLES = ["rep", "manager", "finance", "admin"]
NAV_HREFS = {item.href for item in NAV_ITEMS} | {
    "/leaderboard",
    "/admin/badges",
}  # these come from the leaderboard extension


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_only_its_pages(client, make_person, role: str) -> None:
    make_person(f"{role}@example.com", role)
    sign_in(client, f"{role}@example.com")
    for path, allowed in PAGES.items():
        response = client.get(path, follow_redirects=False)
        if role in allowed:
            if response.status_code in (302, 303):  # e.g. a rep's /statements opens their own statement
                response = client.get(response.headers["location"], follow_redirects=False)
            assert response.status_code == 200, (role, path)
        else:
            assert response.status_code == 403, (role, path)
            assert "Not allowed" in response.text


@pytest.mark.parametrize("role", ROLES)
def test_navigation_lists_exactly_the_allowed_pages(client, make_person, role: str) -> None:
    make_person(f"{role}@example.com", role)
    sign_in(client, f"{role}@example.com")
    home = client.get("/").text
    nav = home.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    for path, allowed in PAGES.items():
        if path in NAV_HREFS:
            link = f'<a href="{path}"'
            assert (link in nav) == (role in allowed), (role, path)


def test_anonymous_visitors_are_sent_to_sign_in(client) -> None:
    for path in PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code in (302, 303)
        assert response.headers["location"].startswith("/login")


def test_api_answers_json_errors(client, make_person) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["status_code"] == 401
    assert "detail" in response.json()


def test_forbidden_post_changes_nothing(client, make_person, engine) -> None:
    from sqlalchemy import func
    from sqlmodel import select

    from commissions.models import ApiToken
    from tests.conftest import csrf_from, read

    make_person("rep@example.com", "rep")
    sign_in(client, "rep@example.com")
    response = client.post("/admin/tokens/", data={"name": "x", "role": "admin", "_csrf_token": csrf_from(client)})
    assert response.status_code == 403
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(ApiToken)).one()) == 0


def test_manager_team_page_lists_reports_recursively_and_nobody_else(client, make_person) -> None:
    make_person("boss@example.com", "manager")
    make_person("lead@example.com", "manager", manager="boss@example.com")
    make_person("rep1@example.com", manager="lead@example.com")
    make_person("other@example.com")
    sign_in(client, "boss@example.com")
    page = client.get("/team").text
    assert "lead@example.com" in page and "rep1@example.com" in page
    assert "other@example.com" not in page


def test_finance_periods_page_counts_deals_per_period(client, make_person, engine) -> None:
    from datetime import date

    from commissions.core.db import transaction
    from commissions.core.periods import ensure_period
    from commissions.models import Deal

    ana = make_person("ana@example.com")
    make_person("fin@example.com", "finance")
    with transaction(engine) as s:
        ensure_period(s, "2026-Q1")
        ensure_period(s, "2026-Q2")
        for i, day in enumerate([date(2026, 1, 5), date(2026, 2, 5), date(2026, 4, 5)]):
            s.add(
                Deal(external_id=f"P-{i}", name="d", owner_id=ana.id, amount_minor=100, currency="USD", closed_at=day)
            )
    sign_in(client, "fin@example.com")
    page = client.get("/finance/periods").text
    q1 = page.split("<td>2026-Q1</td>")[1].split("</tr>")[0]
    q2 = page.split("<td>2026-Q2</td>")[1].split("</tr>")[0]
    assert '<td class="num">2</td>' in q1 and '<td class="num">1</td>' in q2
