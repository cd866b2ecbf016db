"""`commissions worker` sends the queued email (and queues last week's digest); `commissions email digest`
shows or queues a week's digests. Run as real processes against the suite's database and SMTP server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import select

from commissions.core import mail
from commissions.core.db import transaction
from commissions.core.migrate import PROJECT_ROOT
from commissions.models import EmailMessage
from tests.conftest import read
from tests.email.conftest import Inbox, text_of


def commissions(engine: Engine, inbox: Inbox, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "DATA_DIR": str(tmp_path),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(inbox.port),
        "SMTP_STARTTLS": "false",
        "MAIL_FROM": "Quotaboard <pay@example.com>",
        "PUBLIC_URL": "https://pay.example.com",
    }
    done = subprocess.run(
        [sys.executable, "-m", "commissions.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done


def statuses(engine: Engine) -> list[tuple[str, str]]:
    rows = read(engine, lambda s: s.exec(select(EmailMessage).order_by(EmailMessage.id)).all())
    return [(row.subject, row.status) for row in rows]


def test_the_worker_sends_what_is_queued_and_the_digest_command_queues_a_week(
    engine: Engine, settings, make_person, inbox: Inbox, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    make_person("mia@example.com", "manager")
    make_person("ana@example.com", manager="mia@example.com")
    with transaction(engine) as s:
        mail.queue_mail(s, "password_reset", to="ana@example.com", context={"name": "Ana", "url": "u", "hours": 24})

    preview = commissions(engine, inbox, tmp_path, "email", "digest", "--week", "2026-W49").stdout
    assert "mia@example.com: 1 ranked, 0 deal(s) won" in preview and "1 digest(s) for 2026-W49" in preview
    assert len(statuses(engine)) == 1  # a preview queues nothing
    queued = commissions(engine, inbox, tmp_path, "email", "digest", "--week", "2026-W49", "--send").stdout
    assert "1 digest(s) for 2026-W49 queued" in queued

    commissions(engine, inbox, tmp_path, "worker", "--once", "--processes", "1")
    subjects = {m["Subject"] for m in inbox.messages}  # (and last week's digest, by the worker, if it is later)
    assert {"Reset your Quotaboard password", "Your team's week: 2026-W49"} <= subjects
    digest = next(m for m in inbox.messages if m["Subject"] == "Your team's week: 2026-W49")
    assert digest["To"] == "mia@example.com" and "1. Ana: no quota" in text_of(digest)
    sent = statuses(engine)
    assert all(status == "sent" for _, status in sent)
