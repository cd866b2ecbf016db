"""Email, queued in the change's transaction: ``queue_mail(session, kind, to=..., context=...)`` renders
``templates/email/<kind>.subject.txt``, ``.txt`` and ``.html`` (HTML autoescaped) and writes one
``email_outbox`` row in the caller's transaction, so a rolled-back change sends nothing and a committed one
is never lost; ``commissions worker`` sends it (``commissions/email/sender.py``). Nothing is queued while
``SMTP_HOST`` is unset.

The process's mail settings come from ``configure(settings)`` (the app factory, the worker and the CLI call
it), else from the environment. Subjects never carry pay figures (docs/email.md): every message links to
the app instead of quoting a figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlmodel import Session

from commissions.core import i18n
from commissions.core.migrate import PROJECT_ROOT
from commissions.core.settings import Settings, get_settings
from commissions.models.base import utcnow
from commissions.models.email import EmailMessage

EMAIL_TEMPLATES = PROJECT_ROOT / "templates" / "email"
KINDS = ("statement_ready", "dispute_answered", "password_reset", "manager_digest")


@dataclass(frozen=True)
class MailConfig:
    enabled: bool
    public_url: str


_configured: MailConfig | None = None


def configure(settings: Settings) -> None:
    """Take this process's mail settings (on when ``SMTP_HOST`` is set; links start with ``PUBLIC_URL``)."""
    global _configured
    _configured = MailConfig(enabled=bool(settings.smtp_host), public_url=settings.public_url.rstrip("/"))


def config() -> MailConfig:
    if _configured is None:
        configure(get_settings())
    assert _configured is not None
    return _configured


def enabled() -> bool:
    return config().enabled


def link(path: str) -> str:
    """An absolute link into the app for a message (``PUBLIC_URL`` + path)."""
    return config().public_url + "/" + path.lstrip("/")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(EMAIL_TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],  # {{ _("...") }} as in the pages (docs/translating.md)
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    return env


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(kind: str, context: dict[str, Any], locale: str | None = None) -> Rendered:
    """The subject (one line), the plain text and the HTML of a message of ``kind``, in the recipient's
    ``locale`` (their language setting; English without one: a message has no browser to ask)."""
    if kind not in KINDS:
        raise ValueError(f"unknown email kind {kind!r}")
    env = _environment()
    with i18n.using_locale(locale or i18n.DEFAULT_LOCALE):
        context = {"public_url": config().public_url, "lang": i18n.current_locale(), **context}
        subject = " ".join(env.get_template(f"{kind}.subject.txt").render(context).split())
        return Rendered(
            subject=subject[:300],
            text=env.get_template(f"{kind}.txt").render(context),
            html=env.get_template(f"{kind}.html").render(context),
        )


def queue_mail(session: Session, kind: str, *, to: str, context: dict[str, Any], locale: str | None = None) -> bool:
    """Render the message and write it in the caller's transaction; False (nothing queued) while email is off
    or the address is empty."""
    if not enabled() or not to:
        return False
    message = render(kind, context, locale)
    now = utcnow()
    session.add(
        EmailMessage(
            kind=kind,
            to_address=to,
            locale=locale or "",
            subject=message.subject,
            text_body=message.text,
            html_body=message.html,
            status="pending",
            next_attempt_at=now,
            created_at=now,
        )
    )
    return True
