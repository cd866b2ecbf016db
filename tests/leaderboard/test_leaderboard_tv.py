"""TV mode: a standalone full-screen page whose panel rotates between views with htmx alone; never earnings."""

from __future__ import annotations

import re

from sqlalchemy import Engine
from sqlmodel import Session, select

from commissions.models import Team
from leaderboard.queries import panels
from tests.conftest import sign_in
from tests.leaderboard.test_leaderboard import FIGURES, PERIOD, SECRET_TOTALS, _summaries


def _attr(html: str, element_id: str, name: str) -> str:
    tag = re.search(rf'<[a-z]+ id="{element_id}"[^>]*>', html, re.DOTALL)
    assert tag, element_id
    value = re.search(rf'\s{name}="([^"]*)"', tag.group(0))
    assert value, (element_id, name)
    return value.group(1).replace("&amp;", "&")


def _no_earnings(text: str) -> None:
    for total in SECRET_TOTALS:  # earnings, in any spelling (as in tests/leaderboard/test_leaderboard.py)
        for spelled in (str(total), f"{total / 100:,.2f}".split(".")[0], f"{total // 100:,}", str(total // 100)):
            assert spelled not in text, spelled


def test_tv_page_is_standalone_live_and_rotates_for_a_rep(client, engine: Engine, make_person) -> None:
    _summaries(engine, make_person, FIGURES)
    sign_in(client, "bo@example.com")
    response = client.get(f"/leaderboard/tv?period={PERIOD}")
    assert response.status_code == 200
    html = response.text
    assert "<html" in html and '<body class="tv">' in html
    assert '<nav aria-label="Main">' not in html and "topbar" not in html  # no nav chrome
    for asset in (
        "/static/app.css",
        "/static/vendor/htmx.min.js",
        "/static/vendor/sse.min.js",
        "/leaderboard/static/leaderboard.css",
    ):
        assert asset in html
    assert "<script>" not in html and " style=" not in html  # strict CSP: nothing inline
    assert 'sse-connect="/leaderboard/stream"' in html and 'sse-swap="deal"' in html
    assert _attr(html, "tv-panel", "hx-trigger") == "every 15s"
    assert _attr(html, "tv-panel", "hx-get") == f"/leaderboard/tv/panel?index=1&rotate=15&top=10&period={PERIOD}"
    assert _attr(html, "tv-board", "hx-trigger") == "sse:payouts"  # a refresh keeps the current panel
    assert _attr(html, "tv-board", "hx-get") == f"/leaderboard/tv/panel?index=0&rotate=15&top=10&period={PERIOD}"
    assert _attr(html, "tv-board", "hx-select") == "#tv-board"
    assert 'data-view="company"' in html and "Company" in html
    shown = re.findall(r'<tr data-person="([^"]+)" data-rank="(\d+)"', html)
    assert shown == [
        ("ana@example.com", "1"),
        ("bo@example.com", "2"),
        ("cy@example.com", "2"),
        ("dee@example.com", "4"),
    ]
    # the leaderboard page links to it
    assert 'href="/leaderboard/tv"' in client.get("/leaderboard").text


def test_panels_name_their_view_and_the_index_wraps_around(client, engine: Engine, make_person) -> None:
    _summaries(engine, make_person, FIGURES)
    with Session(engine) as s:
        listed = [(p.view, p.metric, p.title) for p in panels(s)]
        east = s.exec(select(Team.id).where(Team.name == "East")).one()
    assert listed == [
        ("company", "attainment", "Company"),
        ("team", "attainment", "East"),
        ("team", "attainment", "West"),
        ("marketing", "sourced_revenue", "Marketing"),
    ]
    sign_in(client, "bo@example.com")
    seen = []
    for index in range(6):
        response = client.get(f"/leaderboard/tv/panel?index={index}&period={PERIOD}", headers={"HX-Request": "true"})
        assert response.status_code == 200
        html = response.text
        assert "<html" not in html and html.lstrip().startswith('<section id="tv-panel"')
        wrapped = index % 4
        assert f'data-index="{wrapped}"' in html and f"{wrapped + 1} / 4" in html
        assert _attr(html, "tv-panel", "hx-get").startswith(f"/leaderboard/tv/panel?index={(wrapped + 1) % 4}&")
        heading = re.search(r"<h1>(.*?)</h1>", html, re.DOTALL).group(1)
        seen.append((re.search(r'data-view="(\w+)"', html).group(1), re.sub(r"<[^>]+>", "", heading)))
        people = [p for p, _ in re.findall(r'<tr data-person="([^"]+)" data-rank="(\d+)"', html)]
        if wrapped == 1:
            assert people == ["ana@example.com", "bo@example.com"]
        if wrapped == 3:  # marketing by sourced revenue: Mi sourced more than Mo
            assert people == ["mi@example.com", "mo@example.com"] and "ranked by sourced revenue" in html
    assert seen == [
        ("company", "Company"),
        ("team", "Team East"),
        ("team", "Team West"),
        ("marketing", "Marketing"),
        ("company", "Company"),
        ("team", "Team East"),
    ]
    assert 'data-index="3"' in client.get(f"/leaderboard/tv/panel?index=-1&period={PERIOD}").text
    assert east  # the team panels are the stored teams


def test_rotate_and_top_are_bounded(client, engine: Engine, make_person) -> None:
    _summaries(engine, make_person, FIGURES)
    sign_in(client, "bo@example.com")
    html = client.get(f"/leaderboard/tv?period={PERIOD}&rotate=1&top=2").text
    assert _attr(html, "tv-panel", "hx-trigger") == "every 5s"  # at least 5 s per view
    assert "rotate=5&top=2" in _attr(html, "tv-panel", "hx-get")
    assert len(re.findall(r"<tr data-person=", html)) == 2
    assert _attr(client.get(f"/leaderboard/tv?period={PERIOD}&rotate=30").text, "tv-panel", "hx-trigger") == "every 30s"
    assert client.get("/leaderboard/tv?period=2026-Q9").status_code == 400


def test_no_earnings_on_the_tv_page_or_any_panel_for_any_role(client, engine: Engine, make_person) -> None:
    _summaries(engine, make_person, FIGURES)
    make_person("fin@example.com", "finance")
    make_person("root@example.com", "admin")
    for email in ("bo@example.com", "boss@example.com", "fin@example.com", "root@example.com"):
        client.cookies.clear()
        sign_in(client, email)
        page = client.get(f"/leaderboard/tv?period={PERIOD}")
        assert page.status_code == 200, email
        _no_earnings(page.text)
        for index in range(4):
            panel = client.get(f"/leaderboard/tv/panel?index={index}&period={PERIOD}", headers={"HX-Request": "true"})
            assert panel.status_code == 200, (email, index)
            _no_earnings(panel.text)


def test_anonymous_visitors_are_sent_to_sign_in(client) -> None:
    for path in ("/leaderboard/tv", "/leaderboard/tv/panel?index=1"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code in (302, 303), path
        assert response.headers["location"].startswith("/login")
    htmx = client.get("/leaderboard/tv/panel?index=1", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")
