"""The admin's team pages: every team with its manager and members, a page per team, adding, renaming and
changing a team's kind or manager, each save confirmed and audited, every refusal named on its form."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from commissions.core.db import transaction
from commissions.core.periods import ensure_period
from commissions.models import AuditEvent, PayeeSummary, Quota, Team
from tests.conftest import csrf_from, read, sign_in


def _team(engine: Engine, name: str) -> Team | None:
    return read(engine, lambda s: s.exec(select(Team).where(Team.name == name)).first())


def _post(client, path: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={**fields, "_csrf_token": csrf_from(client)}, follow_redirects=False)


def test_the_teams_list_shows_each_team_its_manager_and_members_and_links_their_pages(
    client, make_person, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    make_person("admin@example.com", "admin")
    boss = make_person("boss@example.com", "manager", team="East <1>")
    ana = make_person("ana@example.com", manager="boss@example.com", team="East <1>")
    gone = make_person("gone@example.com", manager="boss@example.com", team="East <1>")
    make_person("wes@example.com", team="West")
    sign_in(client, "admin@example.com")
    _post(client, f"/admin/people/{gone.id}/active", active="0")
    east = _team(engine, "East <1>")
    assert east is not None
    with_manager = _post(client, f"/admin/teams/{east.id}", name="East <1>", kind="sales", manager="boss@example.com")
    assert with_manager.status_code == 303

    listed = client.get("/admin/teams")
    assert listed.status_code == 200
    text = listed.text
    assert '<a href="/admin/teams" aria-current="page">Teams</a>' in text  # in the admin's navigation
    assert f'<a href="/admin/teams/{east.id}">East &lt;1&gt;</a>' in text  # escaped
    assert f'<a href="/admin/people/{boss.id}">Boss</a>' in text
    # boss and ana active, gone deactivated: counted apart
    assert '<td class="num">2 <small class="muted">(+1 deactivated)</small></td>' in text
    assert "2 of 2 teams." in text
    searched = client.get("/admin/teams?q=boss").text  # by the manager's name too
    assert "East &lt;1&gt;" in searched and ">West</a>" not in searched and "1 of 2 teams." in searched
    assert "No team matches." in client.get("/admin/teams?q=nothing-like-it").text

    page = client.get(f"/admin/teams/{east.id}").text
    assert "<h1>East &lt;1&gt;</h1>" in page
    assert f'<a href="/admin/people/{ana.id}">Ana</a>' in page and "deactivated" in page
    assert 'href="/admin/people?team=East%20%3C1%3E"' in page
    person_page = client.get(f"/admin/people/{ana.id}").text  # a person's team links its page
    assert f'<a href="/admin/teams/{east.id}">East &lt;1&gt;</a>' in person_page
    assert client.get("/admin/teams/999999").status_code == 404


def test_adding_a_team_is_confirmed_and_audited_and_a_bad_one_is_refused_on_its_form(
    client, make_person, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    make_person("admin@example.com", "admin")
    make_person("lead@example.com", "manager", team="Sales East")
    sign_in(client, "admin@example.com")

    added = _post(client, "/admin/teams", name="  Demand   gen ", kind="marketing", manager="LEAD@example.com")
    assert added.status_code == 303
    team = _team(engine, "Demand gen")
    assert team is not None and team.kind == "marketing" and team.manager_id is not None
    assert added.headers["location"] == f"/admin/teams/{team.id}?saved=1"
    shown = client.get(added.headers["location"]).text
    assert "Saved: team Demand gen." in shown and "<dd>marketing</dd>" in shown
    events = read(engine, lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "team.create")).all())
    assert [e.detail for e in events if e.object_id == str(team.id)] == [{"name": "Demand gen", "kind": "marketing"}]

    def refused(expected: str, **fields: str) -> None:
        before = read(engine, lambda s: len(s.exec(select(Team)).all()))
        r = _post(client, "/admin/teams", **fields)
        assert r.status_code == 400, fields
        assert expected in r.text, (expected, r.text[-3000:])
        assert 'role="alert"' in r.text
        for field in ("name", "manager"):  # what was typed stays in the form
            assert f'value="{fields[field].strip()}"' in r.text, field
        assert read(engine, lambda s: len(s.exec(select(Team)).all())) == before

    refused("there is already a team named Sales East", name="sales east", kind="sales", manager="")
    refused("no person with email nobody@example.com", name="North", kind="sales", manager="nobody@example.com")
    refused("unknown kind &#39;finance&#39;", name="North", kind="finance", manager="")
    refused("a team name is up to 120 printable characters", name="N" * 121, kind="sales", manager="")
    refused("a team needs a name", name=" ", kind="sales", manager="")


def test_renaming_a_team_and_changing_its_kind_and_manager_is_audited_and_moves_no_pay(
    client, make_person, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    make_person("admin@example.com", "admin")
    make_person("boss@example.com", "manager", team="East")
    make_person("ana@example.com", manager="boss@example.com", team="East")
    make_person("other@example.com", "manager", team="West")
    sign_in(client, "admin@example.com")
    east = _team(engine, "East")
    assert east is not None
    summaries = read(engine, lambda s: len(s.exec(select(PayeeSummary)).all()))

    saved = _post(client, f"/admin/teams/{east.id}", name="East coast", kind="other", manager="boss@example.com")
    assert saved.status_code == 303 and saved.headers["location"] == f"/admin/teams/{east.id}?saved=1"
    assert "Saved: team East coast." in client.get(saved.headers["location"]).text
    renamed = _team(engine, "East coast")
    assert renamed is not None and renamed.id == east.id and renamed.kind == "other"
    update = read(
        engine,
        lambda s: s.exec(
            select(AuditEvent).where(AuditEvent.action == "team.update", AuditEvent.object_id == str(east.id))
        ).one(),
    )
    assert update.detail == {
        "name": {"before": "East", "after": "East coast"},
        "kind": {"before": "sales", "after": "other"},
        "manager": {"before": None, "after": "boss@example.com"},
    }
    again = _post(client, f"/admin/teams/{east.id}", name="East coast", kind="other", manager="boss@example.com")
    assert again.headers["location"] == f"/admin/teams/{east.id}?saved=0"
    assert "Nothing to save: team East coast already reads that way." in client.get(again.headers["location"]).text

    clash = _post(client, f"/admin/teams/{east.id}", name="WEST", kind="sales", manager="")
    assert clash.status_code == 400 and "there is already a team named West" in clash.text
    assert 'value="WEST"' in clash.text  # what was typed stays
    assert _team(engine, "East coast") is not None and _team(engine, "WEST") is None
    # renaming to its own name in other letters is allowed (no other team has it)
    cased = _post(client, f"/admin/teams/{east.id}", name="EAST COAST", kind="other", manager="boss@example.com")
    assert cased.status_code == 303 and _team(engine, "EAST COAST") is not None
    # nothing here moves pay: no statement was added or marked
    assert read(engine, lambda s: len(s.exec(select(PayeeSummary)).all())) == summaries
    assert _post(client, "/admin/teams/999999", name="X", kind="sales", manager="").status_code == 404


def test_only_an_admin_sees_or_changes_teams(client, make_person, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com", team="East")
    east = _team(engine, "East")
    assert east is not None
    for role in ("rep", "manager", "finance"):
        make_person(f"{role}.x@example.com", role)
        sign_in(client, f"{role}.x@example.com")
        assert client.get("/admin/teams", follow_redirects=False).status_code == 403, role
        assert client.get(f"/admin/teams/{east.id}", follow_redirects=False).status_code == 403, role
        r = _post(client, f"/admin/teams/{east.id}", name="Taken", kind="sales", manager="")
        assert r.status_code == 403, role
        assert _post(client, "/admin/teams", name="Mine", kind="sales", manager="").status_code == 403, role
        assert _post(client, f"/admin/teams/{east.id}/delete").status_code == 403, role
        client.cookies.clear()
    assert _team(engine, "East") is not None and _team(engine, "Taken") is None and _team(engine, "Mine") is None


def test_a_team_nobody_is_on_can_be_deleted_and_one_with_members_cannot(client, make_person, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    make_person("admin@example.com", "admin")
    make_person("ana@example.com", team="East")
    sign_in(client, "admin@example.com")
    typo = _post(client, "/admin/teams", name="Sales Wset", kind="sales", manager="")
    typo_id = int(typo.headers["location"].split("/")[-1].split("?")[0])
    east = _team(engine, "East")
    assert east is not None

    assert "Delete team" not in client.get(f"/admin/teams/{east.id}").text  # offered only for an empty team
    kept = _post(client, f"/admin/teams/{east.id}/delete")
    assert kept.status_code == 400 and "East still has 1 member(s): move them to another team first" in kept.text
    assert _team(engine, "East") is not None

    assert "Delete team" in client.get(f"/admin/teams/{typo_id}").text
    gone = _post(client, f"/admin/teams/{typo_id}/delete")
    assert gone.status_code == 303 and gone.headers["location"] == f"/admin/teams?deleted={typo_id}"
    assert "Deleted: team Sales Wset." in client.get(gone.headers["location"]).text
    # the notice names a team the audit log says was deleted, never a link's own text
    spoofed = client.get("/admin/teams?deleted=Call%20555-0100%20to%20claim%20your%20bonus")
    assert spoofed.status_code == 200 and "Deleted: team" not in spoofed.text and "555-0100" not in spoofed.text
    assert "Deleted: team" not in client.get(f"/admin/teams?deleted={east.id}").text
    assert _team(engine, "Sales Wset") is None
    deleted = read(engine, lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "team.delete")).all())
    assert [e.detail for e in deleted] == [{"name": "Sales Wset"}]
    assert _post(client, f"/admin/teams/{typo_id}/delete").status_code == 404

    # a team with targets is kept even when nobody is on it
    targeted = int(
        _post(client, "/admin/teams", name="Demand", kind="marketing", manager="")
        .headers["location"]
        .split("/")[-1]
        .split("?")[0]
    )
    with transaction(engine) as s:
        period = ensure_period(s, "2026-Q1")
        s.add(Quota(team_id=targeted, metric="mqls", period_id=period.id, target_minor=100, version=1))
    kept = _post(client, f"/admin/teams/{targeted}/delete")
    assert kept.status_code == 400 and "Demand has 1 team quota(s): a team with targets is kept" in kept.text
    assert _team(engine, "Demand") is not None


def test_a_name_differing_only_in_case_is_taken_on_both_databases(client, make_person, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    """The admin's forms and the API find a team by name with one rule (people.queries.teams_by_name): SQLite's
    lower() folds ASCII only, so "équipe nord" beside Équipe Nord was a second team there and not on PostgreSQL."""
    make_person("admin@example.com", "admin")
    sign_in(client, "admin@example.com")
    assert _post(client, "/admin/teams", name="Équipe Nord", kind="sales", manager="").status_code == 303
    twin = _post(client, "/admin/teams", name="équipe nord", kind="sales", manager="")
    assert twin.status_code == 400 and "there is already a team named Équipe Nord" in twin.text
    assert _team(engine, "équipe nord") is None
