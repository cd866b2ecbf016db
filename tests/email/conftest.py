"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, and the app with email on."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage as Mime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from commissions.core import mail
from commissions.core.settings import Settings
from commissions.emails.sender import Report, SmtpConfig, send_once

PUBLIC_URL = "https://pay.example.com"


@dataclass
class Inbox:
    port: int
    messages: list[Mime] = field(default_factory=list)

    def to(self, address: str) -> list[Mime]:
        return [m for m in self.messages if m["To"] == address]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, Mime)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def settings(tmp_path: Path, inbox: Inbox) -> Iterator[Settings]:
    """The suite's settings with email on, through the test's SMTP server (no TLS on 127.0.0.1)."""
    configured = Settings(
        environment="test",
        data_dir=tmp_path,
        database_url="sqlite://",
        secret_key="t" * 40,
        smtp_host="127.0.0.1",
        smtp_port=inbox.port,
        smtp_starttls=False,
        mail_from="Quotaboard <pay@example.com>",
        public_url=PUBLIC_URL,
    )
    mail.configure(configured)
    yield configured
    mail.configure(Settings(environment="test", smtp_host=""))  # email off again for the rest of the suite


@pytest.fixture
def send(engine: Engine, settings: Settings):  # type: ignore[no-untyped-def]
    """One round of the sender (what `commissions worker` does every few seconds)."""
    smtp = SmtpConfig.from_settings(settings)
    assert smtp is not None

    def run(**kwargs: Any) -> Report:
        return send_once(engine, smtp, **kwargs)

    return run


def text_of(message: Mime) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: Mime) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())
