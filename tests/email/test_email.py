"""Email through a real SMTP server: statement ready, dispute answered, forgot password, the weekly digest;
queued in the change's transaction, sent by the worker, retried while the server is down."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from commissions.core import mail
from commissions.core.db import transaction
from commissions.core.settings import Settings
from commissions.emails.digest import Week, queue_weekly, weekly_task
from commissions.emails.sender import MAX_ATTEMPTS, SmtpConfig, send_once
from commissions.models import EmailMessage, Person
from commissions.models.base import utcnow
from tests.conftest import PASSWORD, csrf_from, read, sign_in
from tests.email.conftest import PUBLIC_URL, Inbox, free_port, html_of, text_of
from tests.finance_fixtures import example_deal, setup_books

MONEY = re.compile(r"\d[\d,]*\.\d\d|\bUSD\b|\$")


def queued(engine: Engine) -> list[EmailMessage]:
    return read(engine, lambda s: list(s.exec(select(EmailMessage).order_by(EmailMessage.id)).all()))


def post_deal(client, tokens, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/deals", json=example_deal(*args, **kwargs), headers=tokens["crm"])
    assert response.status_code in (200, 201), response.text


# ---- statement ready --------------------------------------------------------------------------------


def test_approving_a_period_mails_each_person_with_a_statement_a_link_and_no_figure(
    client, engine: Engine, make_person, inbox: Inbox, send
) -> None:
    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-10")
    post_deal(client, tokens, "B-1", "30000", "2026-02-10", owner="bo@example.com")
    with transaction(engine) as s:
        ana = s.exec(select(Person).where(Person.email == "ana@example.com")).one()
        ana.locale = "pt-BR"
        s.add(ana)
    assert queued(engine) == []
    approved = client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"])
    assert approved.status_code == 200, approved.text
    assert [m.to_address for m in queued(engine)] == ["ana@example.com", "bo@example.com"]
    assert inbox.messages == []  # nothing is sent inside the request: the worker sends

    report = send()
    assert report.sent == 2 and report.failed == 0
    assert sorted(m["To"] for m in inbox.messages) == ["ana@example.com", "bo@example.com"]
    (to_ana,) = inbox.to("ana@example.com")
    assert to_ana["X-Envelope-To"] == "ana@example.com"
    assert to_ana["Subject"] == "Your statement for 2026-Q1 is ready"
    assert to_ana["From"] == "Quotaboard <pay@example.com>"
    assert to_ana["Content-Language"] == "pt-BR"
    link = f"{PUBLIC_URL}/statements/ana%40example.com?period=2026-Q1"
    assert link in text_of(to_ana) and f'href="{link}"' in html_of(to_ana)
    for message in inbox.messages:  # no pay anywhere: ana earned 6000.00, bo 3000.00
        assert not MONEY.search(message["Subject"])
        assert "6000" not in text_of(message) + html_of(message) and "3000" not in text_of(message) + html_of(message)
        assert not MONEY.search(text_of(message))
    sent = queued(engine)
    assert all(m.status == "sent" and m.text_body == "" and m.html_body == "" for m in sent)  # bodies not kept
    assert send().sent == 0  # sent once


def test_the_statement_link_leads_to_the_statement(client, engine: Engine, make_person, inbox: Inbox, send) -> None:
    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-10")
    client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"])
    send()
    (message,) = inbox.to("ana@example.com")
    path = re.search(re.escape(PUBLIC_URL) + r"(/statements/\S+)", text_of(message)).group(1)  # type: ignore[union-attr]
    sign_in(client, "ana@example.com")
    page = client.get(path)
    assert page.status_code == 200 and "2026-Q1" in page.text


def test_with_smtp_host_unset_nothing_is_queued(client, engine: Engine, make_person) -> None:
    mail.configure(Settings(environment="test", smtp_host=""))
    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-10")
    assert client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"]).status_code == 200
    assert queued(engine) == []


# ---- dispute answered ---------------------------------------------------------------------------------


def test_finance_answering_a_dispute_mails_the_person_who_opened_it(
    client, engine: Engine, make_person, inbox: Inbox, send
) -> None:
    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-10")
    sign_in(client, "ana@example.com")
    opened = client.post(
        "/disputes",
        data={
            "email": "ana@example.com",
            "period": "2026-Q1",
            "question": "Is 6000 right?",
            "_csrf_token": csrf_from(client),
        },
        follow_redirects=False,
    )
    assert opened.status_code == 303, opened.text
    path, _, confirmed = opened.headers["location"].partition("?")  # /disputes/N?sent=1: the page confirms it
    assert confirmed == "sent=1"
    assert queued(engine) == []  # opening mails nobody
    client.cookies.clear()
    sign_in(client, "fin@example.com")
    answer = client.post(
        f"{path}/messages",
        data={"body": "Yes: 10% of 60000.00.", "_csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert send().sent == 1
    (message,) = inbox.messages
    assert message["To"] == "ana@example.com"
    assert message["Subject"] == "Your question about your 2026-Q1 statement was answered"
    body = text_of(message)
    assert f"{PUBLIC_URL}{path}" in body and f'href="{PUBLIC_URL}{path}"' in html_of(message)
    assert "60000" not in body and "10%" not in body  # the thread stays in the app


# ---- forgot password --------------------------------------------------------------------------------


def forgot(client, email: str):  # type: ignore[no-untyped-def]
    return client.post("/forgot-password", data={"email": email, "_csrf_token": csrf_from(client)})


def test_forgot_password_mails_a_one_time_link_that_sets_a_new_password(
    client, engine: Engine, make_person, inbox: Inbox, send
) -> None:
    make_person("ana@example.com")
    login = client.get("/login").text
    assert 'href="/forgot-password"' in login
    answer = forgot(client, "Ana@Example.com ")
    assert answer.status_code == 200 and "If that address belongs to an active account" in answer.text
    assert send().sent == 1
    (message,) = inbox.messages
    assert message["To"] == "ana@example.com" and message["Subject"] == "Reset your Quotaboard password"
    link = re.search(re.escape(PUBLIC_URL) + r"(/password-reset/[\w-]+)", text_of(message)).group(1)  # type: ignore[union-attr]
    assert link in html_of(message)
    assert queued(engine)[0].text_body == ""  # the link does not stay in the outbox once sent

    assert client.get(link).status_code == 200
    new = "a brand new passphrase"
    done = client.post(
        link,
        data={"new_password": new, "confirm_password": new, "_csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    assert done.status_code in (302, 303) and done.headers["location"] == "/login?reason=password_set"
    assert sign_in(client, "ana@example.com", PASSWORD).status_code == 401
    assert sign_in(client, "ana@example.com", new).status_code in (302, 303)
    assert client.get(link).status_code == 404  # once


def test_an_unknown_or_deactivated_email_gets_the_same_page_and_no_mail(
    client, engine: Engine, make_person, inbox: Inbox, send
) -> None:
    make_person("ana@example.com")
    gone = make_person("old@example.com")
    with transaction(engine) as s:
        row = s.get(Person, gone.id)
        assert row is not None
        row.active = False
        s.add(row)
    known = forgot(client, "ana@example.com")
    unknown = forgot(client, "nobody@example.com")
    inactive = forgot(client, "old@example.com")
    assert known.status_code == unknown.status_code == inactive.status_code == 200

    def strip(html: str) -> str:
        return re.sub(r'value="[^"]*"', "", html)  # the CSRF token differs per response

    assert strip(known.text) == strip(unknown.text) == strip(inactive.text)
    send()
    assert [m["To"] for m in inbox.messages] == ["ana@example.com"]


def test_forgot_password_spends_the_sign_in_budget(client, engine: Engine, make_person, inbox: Inbox, send) -> None:
    make_person("ana@example.com")
    answers = [forgot(client, "ana@example.com").status_code for _ in range(7)]
    assert answers[:5] == [200] * 5 and answers[5:] == [429, 429]  # LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    send()
    assert len(inbox.messages) == 5
    locked = sign_in(client, "ana@example.com")
    assert locked.status_code == 429  # the account's budget is the sign-in's


def test_no_mail_when_password_sign_in_is_off(client, engine: Engine, make_person, inbox: Inbox, send) -> None:
    from commissions.auth.sign_in_options import PASSWORD_SIGN_IN
    from commissions.models import SiteSetting

    make_person("ana@example.com")
    with transaction(engine) as s:
        s.add(SiteSetting(name=PASSWORD_SIGN_IN, value="off"))
    assert "ask an administrator" in client.get("/forgot-password").text
    assert forgot(client, "ana@example.com").status_code == 200
    assert send().sent == 0 and inbox.messages == []


def test_without_email_the_forgot_page_points_to_an_admin(client, engine: Engine, make_person) -> None:
    mail.configure(Settings(environment="test", smtp_host=""))
    make_person("ana@example.com")
    assert 'href="/forgot-password"' not in client.get("/login").text
    assert "ask an administrator for a reset link" in client.get("/forgot-password").text
    assert forgot(client, "ana@example.com").status_code == 200
    assert queued(engine) == []


# ---- the weekly digest --------------------------------------------------------------------------------


def test_the_weekly_digest_ranks_the_team_lists_the_weeks_won_deals_once(
    client, engine: Engine, make_person, inbox: Inbox, send
) -> None:
    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-06")  # Tuesday of 2026-W02
    post_deal(client, tokens, "B-1", "30000", "2026-01-08", owner="bo@example.com")
    post_deal(client, tokens, "B-0", "5000", "2026-01-02", owner="bo@example.com")  # the week before
    client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"])  # computes the statements
    send()
    inbox.messages.clear()

    week = Week.parse("2026-W02")
    assert queue_weekly(engine, week) == 1  # mia is the only manager with reports
    assert queue_weekly(engine, week) is None  # once per week, whoever asks again
    assert send().sent == 1
    (digest,) = inbox.messages
    assert digest["To"] == "mia@example.com" and digest["Subject"] == "Your team's week: 2026-W02"
    body = text_of(digest)
    assert body.index("1. Ana: 60.0%") < body.index("2. Bo: 35.0%")  # the quarter so far: bo's B-0 counts
    assert "Ana: D-1 deal" in body and "Bo: B-1 deal" in body
    deals = body.split("Deals won this week:")[1]
    assert "60,000.00" in deals and "30,000.00" in deals and "5,000.00" not in deals  # only the week's deals
    assert "6000" not in body and "6,000" not in body  # pay is not in the digest
    assert f"{PUBLIC_URL}/team" in body
    assert not MONEY.search(digest["Subject"])


def test_the_worker_task_queues_last_weeks_digest_once(client, engine: Engine, make_person) -> None:
    setup_books(engine, make_person)
    monday = date(2026, 12, 7)
    assert weekly_task(engine, today=monday + timedelta(days=2)) == 1
    assert weekly_task(engine, today=monday + timedelta(days=3)) is None
    assert weekly_task(engine, today=monday + timedelta(days=7)) == 1  # the next week
    assert [m.subject for m in queued(engine)] == ["Your team's week: 2026-W49", "Your team's week: 2026-W50"]


# ---- durability -------------------------------------------------------------------------------------


def test_a_rolled_back_change_sends_nothing(engine: Engine, make_person, inbox: Inbox, send) -> None:
    make_person("ana@example.com")
    with pytest.raises(RuntimeError), transaction(engine) as s:
        assert mail.queue_mail(
            s, "password_reset", to="ana@example.com", context={"name": "Ana", "url": "x", "hours": 24}
        )
        raise RuntimeError("the change fails after queueing")
    assert queued(engine) == []
    assert send().sent == 0 and inbox.messages == []


def test_smtp_down_is_retried_later_and_not_lost(engine: Engine, settings: Settings, make_person, inbox: Inbox) -> None:
    with transaction(engine) as s:
        mail.queue_mail(s, "password_reset", to="ana@example.com", context={"name": "Ana", "url": "x", "hours": 24})
    down = SmtpConfig(host="127.0.0.1", port=free_port(), starttls=False, sender="a@b.c")  # nobody listens
    now = utcnow()
    report = send_once(engine, down, now=now)
    assert report.failed == 1 and report.sent == 0
    (row,) = queued(engine)
    assert row.status == "pending" and row.attempts == 1 and "cannot reach the SMTP server" in row.last_error
    assert row.next_attempt_at is not None
    smtp = SmtpConfig.from_settings(settings)
    assert smtp is not None
    assert send_once(engine, smtp, now=now).sent == 0  # not due yet
    assert send_once(engine, smtp, now=now + timedelta(minutes=2)).sent == 1
    assert [m["To"] for m in inbox.messages] == ["ana@example.com"]
    assert queued(engine)[0].status == "sent"


def test_a_message_is_dead_after_the_last_attempt(engine: Engine, settings: Settings) -> None:
    with transaction(engine) as s:
        mail.queue_mail(s, "password_reset", to="ana@example.com", context={"name": "Ana", "url": "x", "hours": 24})
    down = SmtpConfig(host="127.0.0.1", port=free_port(), starttls=False, sender="a@b.c")  # nobody listens
    at = utcnow()
    for _ in range(MAX_ATTEMPTS):
        send_once(engine, down, now=at)
        at += timedelta(days=1)
    (row,) = queued(engine)
    assert row.status == "dead" and row.attempts == MAX_ATTEMPTS


def test_html_is_escaped_and_the_password_never_printed(engine: Engine, make_person) -> None:
    rendered = mail.render(
        "statement_ready", {"name": "<b>Ana</b>", "period": "2026-Q1", "url": "https://x/s", "public_url": PUBLIC_URL}
    )
    assert "&lt;b&gt;Ana&lt;/b&gt;" in rendered.html and "<b>Ana</b>" in rendered.text
    config = SmtpConfig(host="h", password="hunter2-secret")
    assert "hunter2" not in repr(config)
    settings = Settings(environment="test", smtp_host="h", smtp_password="hunter2-secret", mail_from="a@b.c")
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())


def test_mail_from_and_a_public_url_are_required_with_smtp_host() -> None:
    with pytest.raises(ValueError, match="MAIL_FROM must be set"):
        Settings(environment="test", smtp_host="smtp.example.com")
    production = {"environment": "production", "allowed_hosts": ["pay.example.com"], "secret_key": "s" * 40}
    with pytest.raises(ValueError, match="PUBLIC_URL must be the site's address"):
        Settings(**production, smtp_host="smtp.example.com", mail_from="a@example.com")
    ok = Settings(
        **production, smtp_host="smtp.example.com", mail_from="a@example.com", public_url="https://pay.example.com/"
    )
    assert ok.public_url == "https://pay.example.com"


# ---- languages ----------------------------------------------------------------------------------------


def test_a_message_is_in_the_recipients_language_and_english_without_one(
    client, engine: Engine, make_person, inbox: Inbox, send
) -> None:
    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-06")
    post_deal(client, tokens, "B-1", "30000", "2026-01-08", owner="bo@example.com")
    with transaction(engine) as s:
        for email, locale in (("ana@example.com", "ms"), ("mia@example.com", "th")):
            person = s.exec(select(Person).where(Person.email == email)).one()
            person.locale = locale
    client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"])
    send()
    (to_ana,) = inbox.to("ana@example.com")
    assert to_ana["Subject"] == "Penyata anda untuk 2026-Q1 sudah sedia" and to_ana["Content-Language"] == "ms"
    assert "Kewangan telah meluluskan 2026-Q1" in text_of(to_ana) and "Finance" not in text_of(to_ana)
    assert '<html lang="ms">' in html_of(to_ana) and "Baca penyata anda untuk 2026-Q1" in html_of(to_ana)
    (to_bo,) = inbox.to("bo@example.com")  # no language setting: English
    assert to_bo["Subject"] == "Your statement for 2026-Q1 is ready" and "Finance has approved 2026-Q1" in text_of(
        to_bo
    )

    inbox.messages.clear()
    assert queue_weekly(engine, Week.parse("2026-W02")) == 1
    send()
    (digest,) = inbox.messages
    assert digest["Subject"] == "สัปดาห์ของทีมคุณ: 2026-W02"
    body = text_of(digest)
    assert "อันดับผลสำเร็จ" in body and "1. Ana: 60.0%" in body and "Ana: D-1 deal" in body


def test_a_translated_message_still_escapes_its_values() -> None:
    rendered = mail.render("statement_ready", {"name": "<b>Ana</b>", "period": "2026-Q1", "url": "https://x/s"}, "th")
    assert "สวัสดี &lt;b&gt;Ana&lt;/b&gt;" in rendered.html and "สวัสดี <b>Ana</b>" in rendered.text
