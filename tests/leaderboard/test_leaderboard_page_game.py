"""The leaderboard page's game pieces without a browser (issue 17): the podium's markup in rank order, the team
selector saying what the view shows, and a new contest's form that saves with its defaults for a manager above
teams (a VP belongs to no team: the form used to offer "Chosen teams" with none ticked)."""

from __future__ import annotations

import re

from sqlalchemy import Engine

from tests.calc_fixtures import example_deal, store_plan, store_quota
from tests.conftest import csrf_from, sign_in
from tests.deals.test_deals_api import token_for

PERIOD = "2026-Q1"


def test_the_podium_lists_the_top_three_in_rank_order_and_the_team_selector_says_what_is_shown(
    client, engine: Engine, make_person
) -> None:  # type: ignore[no-untyped-def]
    people = {
        "ana@example.com": "90000",
        "bo@example.com": "120000",
        "cy@example.com": "50000",
        "di@example.com": "70000",
    }
    for email in people:
        make_person(email, team="East")
    store_plan(engine, list(people))
    crm = token_for(engine, "admin")
    for n, (email, amount) in enumerate(people.items()):
        store_quota(engine, email, 100_000)
        client.post("/api/v1/deals", json=example_deal(f"P-{n}", amount, "2026-01-10", owner=email), headers=crm)
    sign_in(client, "cy@example.com")
    page = client.get(f"/leaderboard?period={PERIOD}").text
    podium = page[
        page.index('<section class="podium"') : page.index("</section>", page.index('<section class="podium"'))
    ]
    assert '<h2 id="podium-heading" class="podium-heading">Podium</h2>' in podium
    assert re.findall(r'class="podium-step step-(\d)[^"]*" data-rank="(\d)" data-person="([^"]+)"', podium) == [
        ("1", "1", "bo@example.com"),
        ("2", "2", "ana@example.com"),
        ("3", "3", "di@example.com"),
    ]
    assert "120.0%" in podium and "cy@example.com" not in podium  # fourth place is in the table only
    assert re.search(r'<select name="team" disabled><option value=""[^>]*>Every team \(company view\)</option>', page)
    team_view = client.get(f"/leaderboard?period={PERIOD}&view=team").text
    assert re.search(r'<select name="team"><option value=""[^>]*>My team</option>', team_view)
    around = client.get(f"/leaderboard?period={PERIOD}&around_me=true").text
    assert 'class="podium"' not in around  # the window around you is not the top


def test_a_vp_without_a_team_saves_a_new_contest_with_the_forms_defaults(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("vp@example.com", "manager")  # above the teams, in none
    make_person("east@example.com", "manager", manager="vp@example.com", team="East")
    make_person("west@example.com", "manager", manager="vp@example.com", team="West")
    make_person("ana@example.com", manager="east@example.com", team="East")
    sign_in(client, "vp@example.com")
    form = client.get("/leaderboard/contests/new").text
    ticked = re.findall(r'<input type="checkbox" name="teams" value="(\d+)" checked>', form)
    assert len(ticked) == 2  # East and West, the teams under the VP
    assert re.search(r'<option value="teams" selected>', form)
    fields = dict(re.findall(r'<input name="(start|end|currency)" type="\w+" value="([^"]*)"', form))
    data = {
        "name": "Friday sprint",
        "metric": "bookings",
        "mode": "individual",
        "scope": "teams",
        "teams": ticked,
        **fields,
        "_csrf_token": csrf_from(client),
    }
    saved = client.post("/leaderboard/contests/", data=data, follow_redirects=False)
    assert saved.status_code == 303 and re.fullmatch(r"/leaderboard/contests/\d+", saved.headers["location"])
