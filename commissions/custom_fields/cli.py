"""``commissions field add NAME --type TYPE [--label L] [--as EMAIL]`` and ``commissions field list``.

Exit status: 0 done; 2 bad input (a bad name or type, an unknown ``--as``); 1 refused by the
current state (the name is already declared).
"""

from __future__ import annotations

import sys

import click

from commissions.core.errors import Conflict, InputProblem
from commissions.core.principal import Principal
from commissions.models.base import FIELD_TYPES

CLI_ACTOR = Principal(role="admin", person_id=None, email=None, name="cli: field add")


def _fail(status: int, message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(status)


@click.group("field", help="Custom deal fields that plan conditions can use by name.")
def field_group() -> None:
    pass


@field_group.command("add", help="Declare a custom deal field NAME (plan conditions, API custom_fields, CSV columns).")
@click.argument("name")
@click.option(
    "--type",
    "kind",
    required=True,
    type=click.Choice(FIELD_TYPES, case_sensitive=False),
    help="How its values are read.",
)
@click.option("--label", default="", help="The deal form's label for it (default: the name).")
@click.option("--as", "as_email", default=None, help="The admin declaring it, for the audit log (default: cli).")
def add(name: str, kind: str, label: str, as_email: str | None) -> None:
    from commissions.core.db import transaction
    from commissions.custom_fields.service import declare_field, example_condition
    from commissions.people.queries import person_by_email

    try:
        with transaction() as session:
            actor = CLI_ACTOR
            if as_email:
                person = person_by_email(session, as_email)
                if person is None or person.role != "admin" or not person.active:
                    raise InputProblem("--as", f"{as_email.strip().lower()} is not an active admin")
                actor = Principal(role=person.role, person_id=person.id, email=person.email, name=person.name)
            done = declare_field(session, name=name, type=kind, label=label, by=actor)
            field, example = done.field, example_condition(done.field)
    except Conflict as exc:
        _fail(1, f"{exc.field}: {exc.message}")
        return
    except InputProblem as exc:
        _fail(2, f"{exc.field}: {exc.message}")
        return
    click.echo(f"Declared {field.name} ({field.type}): plans can use it, e.g. {example}")
    if done.statements:
        click.echo(f"{done.statements} statement(s) of plans that mention it marked for recomputation.")


@field_group.command("list", help="The declared custom deal fields: name, type, label.")
def list_command() -> None:
    from commissions.core.db import read_session
    from commissions.custom_fields.service import list_fields

    with read_session() as session:
        fields = list_fields(session)
    if not fields:
        click.echo("No custom fields declared.")
    for field in fields:
        click.echo(f"{field.name}\t{field.type}\t{field.label}".rstrip("\t"))
