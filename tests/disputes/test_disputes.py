"""Disputes: a rep questions a statement line, finance answers and resolves (optionally with an adjustment)."""

from __future__ import annotations

import re

from sqlalchemy import Engine, func, update
from sqlmodel import Session, select

from commissions.calculation.service import recalc_period
from commissions.core.db import transaction
from commissions.core.formatting import group_amounts
from commissions.models import Adjustment, Dispute, DisputeMessage, PayoutLine, Period, Person
from tests.calc_fixtures import example_deal
from tests.conftest import csrf_from, read, sign_in
from tests.deals.test_deals_api import token_for
from tests.statements.test_statements import setup as statements_setup

STATEMENT = "/statements/ana@example.com?period=2026-Q1"


def as_user(client, email: str) -> None:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    sign_in(client, email)


def ana_lines(engine: Engine) -> list[PayoutLine]:
    def q(s: Session) -> list[PayoutLine]:
        ana = s.exec(select(Person).where(Person.email == "ana@example.com")).one()
        from commissions.calculation.ledger import current_lines_query

        period = s.exec(select(Period).where(Period.key == "2026-Q1")).one()
        return list(s.exec(current_lines_query(ana.id, period.id).order_by(PayoutLine.id)).all())

    return read(engine, q)


def open_on_line(client, engine: Engine, question: str = "Why is D-2 only 4750?"):  # type: ignore[no-untyped-def]
    line = next(line for line in ana_lines(engine) if line.text.startswith("D-2"))
    response = client.post(
        "/disputes",
        data={
            "email": "ana@example.com",
            "period": "2026-Q1",
            "line": str(line.id),
            "question": question,
            "_csrf_token": csrf_from(client),
        },
        follow_redirects=False,
    )
    return response, line


def dispute_id_of(response) -> int:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, response.text
    return int(re.fullmatch(r"/disputes/(\d+)\?sent=1", response.headers["location"]).group(1))  # type: ignore[union-attr]


def count(engine: Engine, model) -> int:  # type: ignore[no-untyped-def]
    return read(engine, lambda s: s.exec(select(func.count()).select_from(model)).one())


def test_lifecycle_question_answer_reply_resolve_with_adjustment(client, engine: Engine, make_person) -> None:
    statements_setup(client, engine, make_person)
    as_user(client, "ana@example.com")
    page = client.get(STATEMENT).text
    assert "Question this line" in page and "No questions so far." in page
    response, line = open_on_line(client, engine)
    dispute_id = dispute_id_of(response)
    assert "Your question was sent to finance" in client.get(response.headers["location"]).text  # confirmed once

    show = client.get(f"/disputes/{dispute_id}").text
    assert "Your question was sent to finance" not in show
    assert (
        "Why is D-2 only 4750?" in show and 'id="dispute-state">open<' in show and group_amounts(line.text) in show
    )  # amounts grouped on the page
    assert 'name="note"' not in show, "only finance sees the resolve form"
    statement = client.get(STATEMENT).text
    assert f'href="/disputes/{dispute_id}"' in statement and "disputed · open" in statement  # marker on the line

    as_user(client, "fin@example.com")
    assert f"/disputes/{dispute_id}" in client.get("/disputes").text
    answer = client.post(
        f"/disputes/{dispute_id}/messages",
        data={"body": "Tier 2 starts at 100%.", "_csrf_token": csrf_from(client)},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200 and "<html" not in answer.text and 'id="dispute-state">answered<' in answer.text

    as_user(client, "ana@example.com")
    assert "Tier 2 starts at 100%." in client.get(f"/disputes/{dispute_id}").text
    assert "disputed · answered" in client.get(STATEMENT).text
    reply = client.post(
        f"/disputes/{dispute_id}/messages",
        data={"body": "But the deal closed in tier 1.", "_csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    assert read(engine, lambda s: s.get(Dispute, dispute_id).state) == "open"  # a reply reopens it

    as_user(client, "fin@example.com")
    resolved = client.post(
        f"/disputes/{dispute_id}/resolve",
        data={"note": "Credited 250.00 for the late split.", "amount": "250.00", "_csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    assert resolved.status_code == 303
    dispute = read(engine, lambda s: s.get(Dispute, dispute_id))
    assert (
        dispute.state == "resolved"
        and dispute.resolution == "Credited 250.00 for the late split."
        and dispute.adjustment_id
    )
    adjustment = read(engine, lambda s: s.get(Adjustment, dispute.adjustment_id))
    assert adjustment.amount_minor == 25_000 and adjustment.reason.startswith(f"Dispute #{dispute_id}:")
    assert adjustment.deal_id == line.deal_id
    kinds = [
        (m.kind, m.body)
        for m in read(engine, lambda s: s.exec(select(DisputeMessage).order_by(DisputeMessage.id)).all())
    ]
    assert [k for k, _ in kinds] == ["question", "answer", "reply", "resolution"]

    as_user(client, "ana@example.com")
    body = client.get("/api/v1/statements/ana@example.com?period=2026-Q1").json()
    assert body["total"] == "14000.00"  # 13,750.00 + the 250.00 adjustment
    show = client.get(f"/disputes/{dispute_id}").text
    assert 'id="dispute-state">resolved<' in show and "250.00 USD" in show and 'name="body"' not in show
    assert "disputed · resolved" in client.get(STATEMENT).text
    late = client.post(f"/disputes/{dispute_id}/messages", data={"body": "thanks", "_csrf_token": csrf_from(client)})
    assert late.status_code == 409 and "resolved" in late.text


def test_a_question_about_the_whole_statement(client, engine: Engine, make_person) -> None:
    statements_setup(client, engine, make_person)
    as_user(client, "ana@example.com")
    response = client.post(
        "/disputes",
        data={
            "email": "ana@example.com",
            "period": "2026-Q1",
            "question": "Is my quota right?",
            "_csrf_token": csrf_from(client),
        },
        follow_redirects=False,
    )
    dispute_id = dispute_id_of(response)
    assert read(engine, lambda s: s.get(Dispute, dispute_id).payout_line_id) is None
    page = client.get(STATEMENT).text
    assert f"Dispute #{dispute_id}" in page and "the statement as a whole" in page


def test_who_sees_a_dispute(client, engine: Engine, make_person) -> None:
    statements_setup(client, engine, make_person)
    as_user(client, "ana@example.com")
    dispute_id = dispute_id_of(open_on_line(client, engine)[0])
    url = f"/disputes/{dispute_id}"
    expected = {
        "ana@example.com": 200,
        "mia@example.com": 200,
        "vp@example.com": 200,
        "fin@example.com": 200,
        "bo@example.com": 404,
        "zoe@example.com": 404,
        "root@example.com": 403,
    }
    for email, status in expected.items():
        as_user(client, email)
        assert client.get(url).status_code == status, email
        listed = client.get("/disputes")
        if status == 200:
            assert f'href="{url}"' in listed.text, email
        elif listed.status_code == 200:
            assert f'href="{url}"' not in listed.text, email
    as_user(client, "fin@example.com")
    assert client.get(f"/disputes/{dispute_id + 1000}").status_code == 404  # same answer as someone else's
    as_user(client, "bo@example.com")  # a colleague cannot write into it or learn that it exists
    before = count(engine, DisputeMessage)
    assert client.post(url + "/messages", data={"body": "hi", "_csrf_token": csrf_from(client)}).status_code == 404
    assert count(engine, DisputeMessage) == before
    assert client.get("/disputes/new?email=ana@example.com&period=2026-Q1").status_code == 404
    opened = client.post(
        "/disputes",
        data={"email": "ana@example.com", "period": "2026-Q1", "question": "?", "_csrf_token": csrf_from(client)},
    )
    assert opened.status_code == 404 and count(engine, Dispute) == 1


def test_only_finance_resolves(client, engine: Engine, make_person) -> None:
    statements_setup(client, engine, make_person)
    as_user(client, "ana@example.com")
    dispute_id = dispute_id_of(open_on_line(client, engine)[0])
    for email in ["ana@example.com", "mia@example.com"]:
        as_user(client, email)
        response = client.post(
            f"/disputes/{dispute_id}/resolve", data={"note": "fine", "amount": "1000", "_csrf_token": csrf_from(client)}
        )
        assert response.status_code == 403, email
    assert read(engine, lambda s: s.get(Dispute, dispute_id).state) == "open"
    assert count(engine, Adjustment) == 0
    as_user(client, "mia@example.com")  # the manager may take part in the thread, which keeps it open
    client.post(
        f"/disputes/{dispute_id}/messages", data={"body": "I confirm the split.", "_csrf_token": csrf_from(client)}
    )
    assert read(engine, lambda s: s.get(Dispute, dispute_id).state) == "open"


def test_bad_input_names_the_problem_and_writes_nothing(client, engine: Engine, make_person) -> None:
    statements_setup(client, engine, make_person)
    make_person("other@example.com")
    as_user(client, "ana@example.com")
    empty = client.post(
        "/disputes",
        data={"email": "ana@example.com", "period": "2026-Q1", "question": "   ", "_csrf_token": csrf_from(client)},
    )
    assert empty.status_code == 400 and "write your question" in empty.text
    with transaction(engine) as s:  # a line that is not on ana's statement
        other = s.exec(select(Person).where(Person.email == "other@example.com")).one()
        period = s.exec(select(Period).where(Period.key == "2026-Q1")).one()
        foreign = PayoutLine(
            person_id=other.id,
            period_id=period.id,
            component="X",
            kind="earning",
            amount_minor=1,
            currency="USD",
            text="not ana's",
        )
        s.add(foreign)
        s.flush()
        foreign_id = foreign.id
    wrong_line = client.post(
        "/disputes",
        data={
            "email": "ana@example.com",
            "period": "2026-Q1",
            "line": str(foreign_id),
            "question": "?",
            "_csrf_token": csrf_from(client),
        },
    )
    assert wrong_line.status_code == 400 and "is not on ana@example.com&#39;s statement" in wrong_line.text
    no_csrf = client.post("/disputes", data={"email": "ana@example.com", "period": "2026-Q1", "question": "?"})
    assert no_csrf.status_code == 403
    assert count(engine, Dispute) == 0 and count(engine, DisputeMessage) == 0

    dispute_id = dispute_id_of(open_on_line(client, engine)[0])
    as_user(client, "fin@example.com")
    for amount, message in [("abc", "is not an amount"), ("0", "cannot be zero"), ("1.234", "more decimals")]:
        response = client.post(
            f"/disputes/{dispute_id}/resolve", data={"note": "n", "amount": amount, "_csrf_token": csrf_from(client)}
        )
        assert response.status_code == 400 and message in response.text, amount
    no_note = client.post(
        f"/disputes/{dispute_id}/resolve", data={"note": "", "amount": "", "_csrf_token": csrf_from(client)}
    )
    assert no_note.status_code == 400 and "resolution note" in no_note.text
    assert read(engine, lambda s: s.get(Dispute, dispute_id).state) == "open" and count(engine, Adjustment) == 0


def test_an_adjustment_into_a_locked_period_is_refused_and_nothing_is_written(
    client, engine: Engine, make_person
) -> None:
    statements_setup(client, engine, make_person)
    as_user(client, "ana@example.com")
    dispute_id = dispute_id_of(open_on_line(client, engine)[0])
    with transaction(engine) as s:
        s.execute(update(Period).where(Period.key == "2026-Q1").values(state="locked"))
    as_user(client, "fin@example.com")
    response = client.post(
        f"/disputes/{dispute_id}/resolve", data={"note": "n", "amount": "10", "_csrf_token": csrf_from(client)}
    )
    assert response.status_code == 409 and "locked" in response.text
    assert read(engine, lambda s: s.get(Dispute, dispute_id).state) == "open" and count(engine, Adjustment) == 0
    # resolving without money still works on a locked period: disputes block nothing and nothing blocks them
    ok = client.post(
        f"/disputes/{dispute_id}/resolve",
        data={"note": "As computed.", "_csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and read(engine, lambda s: s.get(Dispute, dispute_id).state) == "resolved"


def test_disputes_block_nothing(client, engine: Engine, make_person) -> None:
    """An open dispute on a line does not stop recomputation (which reverses the line) or the export."""
    statements_setup(client, engine, make_person)
    as_user(client, "ana@example.com")
    response, line = open_on_line(client, engine)
    dispute_id = dispute_id_of(response)
    crm = token_for(engine, "admin")
    assert client.post("/api/v1/deals", json=example_deal("D-0", "20000", "2026-01-05"), headers=crm).status_code == 201
    recalc_period(engine, "2026-Q1")
    assert line.id not in [current.id for current in ana_lines(engine)]  # the questioned line was replaced
    dispute = read(engine, lambda s: s.get(Dispute, dispute_id))
    assert dispute.state == "open" and dispute.line_text == line.text  # the question keeps what the line said
    assert f"Dispute #{dispute_id}" in client.get(STATEMENT).text
    export = client.get("/api/v1/payouts/2026-Q1.csv", headers=token_for(engine, "finance", "fin@example.com"))
    assert export.status_code == 200 and "ana@example.com" in export.text


def test_a_person_reads_your_statement_where_it_is_theirs_and_a_name_where_it_is_someone_elses(
    client, engine: Engine, make_person
) -> None:
    statements_setup(client, engine, make_person)
    as_user(client, "ana@example.com")
    own = client.get("/disputes/new?email=ana@example.com&period=2026-Q1").text
    assert "Question your statement · 2026-Q1" in own and "Ana" not in own.split("<h1>")[1].split("</h1>")[0]
    dispute_id = dispute_id_of(open_on_line(client, engine)[0])
    assert "Your statement for 2026-Q1" in client.get(f"/disputes/{dispute_id}").text
    as_user(client, "mia@example.com")  # her manager
    theirs = client.get(f"/disputes/{dispute_id}").text
    assert "Your statement" not in theirs and "s statement for 2026-Q1" in theirs
    assert "Question your statement" not in client.get("/disputes/new?email=ana@example.com&period=2026-Q1").text
