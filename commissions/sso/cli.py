"""``commissions sso``: the server-side way back when single sign-on is misconfigured."""

from __future__ import annotations

import click


@click.group(help="Single sign-on (OpenID Connect).")
def sso_group() -> None:
    pass


@sso_group.command("password-login", help="Turn password sign-in on or off (on always works: the way back in).")
@click.argument("state", type=click.Choice(["on", "off"]))
def password_login(state: str) -> None:
    from commissions.core.db import get_engine
    from commissions.core.errors import InputProblem
    from commissions.sso.service import set_password_sign_in

    try:
        set_password_sign_in(get_engine(), state == "on", by=None, from_cli=True)
    except InputProblem as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Password sign-in is {state}.")


@sso_group.command("list", help="The configured providers.")
def list_providers() -> None:
    from sqlmodel import Session

    from commissions.auth.sign_in_options import password_sign_in_enabled
    from commissions.core.db import get_engine
    from commissions.sso.queries import providers

    with Session(get_engine()) as session:
        click.echo(f"password sign-in: {'on' if password_sign_in_enabled(session) else 'off'}")
        for row in providers(session):
            state = "enabled" if row.enabled else "disabled"
            click.echo(f"{row.slug}\t{state}\t{row.issuer}\tclient {row.client_id}")
