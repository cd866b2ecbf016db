"""``commissions email``: the managers' weekly digest by hand, and sending what is queued (docs/email.md)."""

from __future__ import annotations

from datetime import date

import click


@click.group("email", help="Email: the managers' weekly digest, sending the queued messages.")
def email_group() -> None:
    pass


@email_group.command("digest", help="The managers' weekly digest of a week (default: last week).")
@click.option("--week", default=None, help="An ISO week, e.g. 2026-W49 (default: the week before this one).")
@click.option("--send", is_flag=True, help="Queue the digests (the worker sends them); without it, only show them.")
def digest_command(week: str | None, send: bool) -> None:
    from sqlmodel import Session

    from commissions.core import mail
    from commissions.core.db import get_engine
    from commissions.core.settings import get_settings
    from commissions.emails.digest import Week, digests, queue_weekly

    settings = get_settings()
    mail.configure(settings)
    try:
        chosen = Week.parse(week) if week else Week.of(date.today()).previous()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from exc
    engine = get_engine()
    if not send:
        with Session(engine) as session:
            found = digests(session, chosen)
        for digest in found:
            click.echo(
                f"{digest.to}: {len(digest.context['ranking'])} ranked, {len(digest.context['deals'])} deal(s) won"
            )
        click.echo(f"{len(found)} digest(s) for {chosen.label}; --send queues them.")
        return
    if not mail.enabled():
        raise click.ClickException("email is off: set SMTP_HOST and MAIL_FROM (docs/email.md)")
    count = queue_weekly(engine, chosen, force=True)
    click.echo(f"{count} digest(s) for {chosen.label} queued; `commissions worker` sends them.")


@email_group.command("send", help="Send the queued messages that are due now, once (the worker does it continuously).")
def send_command() -> None:
    from commissions.core.db import get_engine
    from commissions.core.settings import get_settings
    from commissions.emails.sender import SmtpConfig, send_once

    smtp = SmtpConfig.from_settings(get_settings())
    if smtp is None:
        raise click.ClickException("email is off: set SMTP_HOST and MAIL_FROM (docs/email.md)")
    report = send_once(get_engine(), smtp)
    click.echo(f"{report.sent} sent, {report.failed} to retry, {report.dead} dead")
