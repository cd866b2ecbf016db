"""The team pulse: a manager asks their team one eNPS question; each member answers once, anonymously;
the score appears only from the minimum group size on, and never who answered what."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect
from sqlmodel import select

from commissions.core.settings import Settings
from commissions.models import Pulse, PulseResponse, PulseTally
from tests.conftest import csrf_from, read, sign_in

TEAM = [f"m{i}@example.com" for i in range(6)]


@pytest.fixture
def settings(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(
        environment="test", data_dir=tmp_path, database_url="sqlite://", secret_key="t" * 40, pulse_min_group_size=5
    )


@pytest.fixture
def team(make_person):  # type: ignore[no-untyped-def]
    make_person("boss@example.com", "manager")
    make_person("lead@example.com", "manager", manager="boss@example.com")
    for i, email in enumerate(TEAM):
        make_person(email, manager="lead@example.com" if i % 2 else "boss@example.com")
    make_person("outsider@example.com")


def post(client, path: str, data: dict | None = None):  # type: ignore[no-untyped-def]
    return client.post(path, data={**(data or {}), "_csrf_token": csrf_from(client)}, follow_redirects=False)


def open_pulse(client) -> int:  # type: ignore[no-untyped-def]
    sign_in(client, "boss@example.com")
    assert post(client, "/team/pulse/").status_code == 303
    client.cookies.clear()
    return 0


def answer_as(client, email: str, pulse_id: int, score: int | str):  # type: ignore[no-untyped-def]
    client.cookies.clear()
    sign_in(client, email)
    return post(client, f"/pulse/{pulse_id}", {"score": str(score)})


def test_the_score_is_hidden_below_the_minimum_group_size_and_shown_from_it(client, team, engine: Engine) -> None:
    open_pulse(client)
    pulse_id = read(engine, lambda s: s.exec(select(Pulse.id)).one())
    for email, score in zip(TEAM[:4], [10, 9, 3, 8], strict=True):
        assert answer_as(client, email, pulse_id, score).headers["location"] == "/pulse?thanks=true"
    client.cookies.clear()
    sign_in(client, "boss@example.com")
    page = client.get("/team").text
    section = page.split('id="pulse"')[1]
    assert '<td class="num" data-enps>hidden</td>' in section and "fewer than 5" in section
    assert "+25" not in section and "2 / 1 / 1" not in section  # neither the score nor the split leaks
    # a fifth answer: five have answered, but the pulse is open, so nothing moves where the manager can watch it
    # (the split changing after one person's answer would tell what that person answered)
    answer_as(client, TEAM[4], pulse_id, 9)
    client.cookies.clear()
    sign_in(client, "boss@example.com")
    section = client.get("/team").text.split('id="pulse"')[1]
    assert '<td class="num" data-enps>hidden</td>' in section and "shown once the pulse is closed" in section
    assert "+40" not in section and "3 / 1 / 1" not in section and '<td class="num">5</td>' in section
    # closed, it shows: promoters 10, 9, 9 (3), passive 8 (1), detractor 3 (1): (3 − 1) / 5 = +40
    assert post(client, f"/team/pulse/{pulse_id}/close").status_code == 303
    section = client.get("/team").text.split('id="pulse"')[1]
    assert '<td class="num" data-enps>+40</td>' in section and "3 / 1 / 1" in section


def test_each_member_answers_once_and_answers_carry_no_person(client, team, engine: Engine) -> None:
    open_pulse(client)
    pulse_id = read(engine, lambda s: s.exec(select(Pulse.id)).one())
    assert answer_as(client, TEAM[0], pulse_id, 7).status_code == 303
    again = post(client, f"/pulse/{pulse_id}", {"score": "10"})
    assert again.status_code == 409 and "already answered" in again.text
    assert read(engine, lambda s: [(t.score, t.answers) for t in s.exec(select(PulseTally)).all()]) == [(7, 1)]
    assert read(engine, lambda s: len(s.exec(select(PulseResponse)).all())) == 1
    columns = {c["name"] for c in inspect(engine).get_columns("pulse_tally")}
    assert columns == {"id", "pulse_id", "score", "answers"}  # no person, no time
    assert {c["name"] for c in inspect(engine).get_columns("pulse_response")} == {
        "id",
        "pulse_id",
        "person_id",
    }  # no score


def test_bad_scores_are_refused_and_outsiders_cannot_answer(client, team, engine: Engine) -> None:
    open_pulse(client)
    pulse_id = read(engine, lambda s: s.exec(select(Pulse.id)).one())
    for bad in ("11", "-1", "nine", ""):
        response = answer_as(client, TEAM[1], pulse_id, bad)
        assert response.status_code == 400 and "0 to 10" in response.text
    assert answer_as(client, "outsider@example.com", pulse_id, 5).status_code == 404
    assert answer_as(client, TEAM[1], pulse_id + 99, 5).status_code == 404
    assert read(engine, lambda s: s.exec(select(PulseTally)).all()) == []
    # the pulse page lists the open pulse for the team, and nothing for outsiders
    client.cookies.clear()
    sign_in(client, TEAM[2])
    assert f'action="/pulse/{pulse_id}"' in client.get("/pulse").text
    client.cookies.clear()
    sign_in(client, "outsider@example.com")
    assert 'id="no-pulse"' in client.get("/pulse").text


def test_a_closed_pulse_takes_no_answers_and_only_its_manager_closes_it(client, team, engine: Engine) -> None:
    open_pulse(client)
    pulse_id = read(engine, lambda s: s.exec(select(Pulse.id)).one())
    sign_in(client, "lead@example.com")
    assert post(client, f"/team/pulse/{pulse_id}/close").status_code == 404  # not their pulse
    client.cookies.clear()
    sign_in(client, "boss@example.com")
    assert post(client, f"/team/pulse/{pulse_id}/close").status_code == 303
    assert answer_as(client, TEAM[0], pulse_id, 8).status_code == 409


def test_the_score_over_time_is_drawn_once_two_pulses_are_shown(client, team, engine: Engine) -> None:
    for scores in ([10, 10, 10, 0, 0], [10, 10, 10, 10, 8]):  # +20, then +80
        open_pulse(client)
        pulse_id = read(engine, lambda s: s.exec(select(Pulse.id).order_by(Pulse.id.desc())).first())
        for email, score in zip(TEAM, scores, strict=False):
            answer_as(client, email, pulse_id, score)
    client.cookies.clear()
    sign_in(client, "boss@example.com")
    assert 'id="enps-chart"' not in client.get("/team").text  # the second is open: one score shown so far
    # opening the second closed the first; only one is open at a time
    assert read(engine, lambda s: len(s.exec(select(Pulse).where(Pulse.closed_at.is_(None))).all())) == 1
    assert post(client, f"/team/pulse/{pulse_id}/close").status_code == 303
    page = client.get("/team").text
    assert 'id="enps-chart"' in page and ">+20<" in page and ">+80<" in page
    assert read(engine, lambda s: len(s.exec(select(Pulse).where(Pulse.closed_at.is_(None))).all())) == 0
