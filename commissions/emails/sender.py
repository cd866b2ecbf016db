"""The email sender: claims due messages of the email outbox and hands them to the SMTP server, retried.

``send_once(engine, smtp, now=...)`` does one round (``commissions worker`` runs it every few seconds in a
thread; tests call it with their own ``now``): each due message (pending, ``next_attempt_at`` reached, no
live claim) is claimed by a conditional UPDATE (one sender per message, on SQLite and PostgreSQL alike),
then the claimed ones go through one SMTP connection (``smtplib``: STARTTLS or implicit TLS, login when a
user name is set). Accepted: ``sent``, and its bodies are emptied (a reset link must not outlive its
mail). Refused or unreachable: tried again ``backoff(attempts)`` later (1, 2, 4 … minutes, at most 6 h),
dead after ``MAX_ATTEMPTS``; a permanent refusal of the recipient (5xx) is dead at once. The password is
never logged.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

from sqlalchemy import Engine, and_, or_, update
from sqlmodel import Session, col, select

from commissions.core.db import transaction
from commissions.core.settings import Settings
from commissions.models.base import utcnow
from commissions.models.email import EmailMessage

log = logging.getLogger("quotaboard.email")

TIMEOUT_SECONDS = 20.0
LEASE = timedelta(minutes=5)  # a claim outlives a round's connection and sends
BASE_DELAY_SECONDS = 60
MAX_DELAY_SECONDS = 6 * 3600
MAX_ATTEMPTS = 10
BATCH = 50


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    username: str = ""
    password: str = ""
    starttls: bool = True
    ssl: bool = False
    sender: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        """The SMTP server of the settings; None while ``SMTP_HOST`` is unset (email off)."""
        if not settings.smtp_host:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else "",
            starttls=settings.smtp_starttls,
            ssl=settings.smtp_ssl,
            sender=settings.mail_from,
        )

    def __repr__(self) -> str:  # never the password
        return f"SmtpConfig(host={self.host!r}, port={self.port}, username={self.username!r}, ssl={self.ssl})"


def backoff(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failed attempt a message is tried again."""
    return timedelta(seconds=min(BASE_DELAY_SECONDS * 2 ** (attempts - 1), MAX_DELAY_SECONDS))


@dataclass
class Report:
    sent: int = 0
    failed: int = 0
    dead: int = 0


def _due(now: datetime) -> Any:
    return and_(
        col(EmailMessage.status) == "pending",
        col(EmailMessage.next_attempt_at) <= now,
        or_(col(EmailMessage.claimed_until).is_(None), col(EmailMessage.claimed_until) <= now),
    )


def claim(engine: Engine, *, now: datetime, limit: int = BATCH) -> list[int]:
    """The due messages this sender won (each by a conditional UPDATE: one winner per message)."""
    with Session(engine) as session:
        candidates = session.exec(
            select(EmailMessage.id)
            .where(_due(now))
            .order_by(col(EmailMessage.next_attempt_at), col(EmailMessage.id))
            .limit(limit)
        ).all()
    won: list[int] = []
    for message_id in candidates:
        assert message_id is not None
        with transaction(engine) as session:
            result = session.execute(
                update(EmailMessage)
                .where(col(EmailMessage.id) == message_id, _due(now))
                .values(claimed_until=now + LEASE)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                won.append(message_id)
    return won


def mime(row: EmailMessage, sender: str, domain: str | None = None) -> MimeMessage:
    """The message as sent: plain text with an HTML alternative, its language in ``Content-Language``."""
    message = MimeMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=f"qb{row.id}", domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.text_body)
    message.add_alternative(row.html_body, subtype="html")
    if row.locale:  # after the content: setting content clears the Content-* headers
        message["Content-Language"] = row.locale
    return message


def _connect(smtp: SmtpConfig) -> smtplib.SMTP:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if smtp.ssl:
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=TIMEOUT_SECONDS, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_SECONDS)
        if smtp.starttls:
            client.starttls(context=context)
    if smtp.username:
        client.login(smtp.username, smtp.password)
    return client


Connect = Callable[[SmtpConfig], smtplib.SMTP]


def _record(engine: Engine, message_id: int, error: str, permanent: bool, now: datetime) -> str:
    with transaction(engine) as session:
        row = session.get(EmailMessage, message_id)
        assert row is not None
        row.attempts += 1
        row.claimed_until = None
        row.last_error = error[:500]
        if not error:
            row.status, row.sent_at, row.next_attempt_at = "sent", now, None
            row.text_body = row.html_body = ""
        elif permanent or row.attempts >= MAX_ATTEMPTS:
            row.status, row.next_attempt_at = "dead", None
        else:
            row.next_attempt_at = now + backoff(row.attempts)
        session.add(row)
        return row.status if error == "" or row.status == "dead" else "failed"


def send_once(
    engine: Engine, smtp: SmtpConfig, *, now: datetime | None = None, connect: Connect | None = None
) -> Report:
    """One round: claim the due messages and send them through one SMTP connection."""
    now = now or utcnow()
    report = Report()
    won = claim(engine, now=now)
    if not won:
        return report
    client: smtplib.SMTP | None = None
    connect_error = ""
    try:
        client = (connect or _connect)(smtp)
    except (OSError, smtplib.SMTPException) as exc:
        connect_error = f"cannot reach the SMTP server {smtp.host}:{smtp.port}: {type(exc).__name__}: {exc}"
        log.warning("email: %s", connect_error)
    domain = parseaddr(smtp.sender)[1].rpartition("@")[2] or None
    try:
        for message_id in won:
            error, permanent = connect_error, False
            if client is not None:
                with Session(engine) as session:
                    row = session.get(EmailMessage, message_id)
                    if row is None:
                        continue
                    outgoing = mime(row, smtp.sender, domain)
                try:
                    client.send_message(outgoing)
                except smtplib.SMTPRecipientsRefused as exc:
                    codes = [code for code, _ in exc.recipients.values()]
                    error, permanent = f"the SMTP server refused the recipient: {codes}", all(c >= 500 for c in codes)
                except smtplib.SMTPResponseException as exc:
                    error, permanent = f"the SMTP server answered {exc.smtp_code}", False
                except (OSError, smtplib.SMTPException) as exc:
                    error = f"{type(exc).__name__}: {exc}"
            outcome = _record(engine, message_id, error, permanent, now)
            setattr(report, outcome, getattr(report, outcome) + 1)
    finally:
        if client is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                client.quit()
    return report


def run_in_thread(engine: Engine, smtp: SmtpConfig, *, poll_seconds: float = 5.0) -> threading.Event:
    """Send every ``poll_seconds`` in a daemon thread (inside ``commissions worker``); set the event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                report = send_once(engine, smtp)
                if report.sent or report.failed or report.dead:
                    log.info("email: %d sent, %d failed, %d dead", report.sent, report.failed, report.dead)
            except Exception:  # the messages stay due: tried again on the next poll
                log.exception("email sending failed")
            stop.wait(poll_seconds)

    threading.Thread(target=loop, name="email-sender", daemon=True).start()
    return stop
