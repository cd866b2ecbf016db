"""``commissions calc``: the offline calculator as a click command (registered by
``commissions.cli`` with ``main.add_command(calc_command)``).

Exit status: 0 when every payee was computed, 1 when a payee has an error (the
statements or JSON document are still printed), 2 on bad input (a message on stderr
naming the file, the line and the field; nothing on stdout).
"""

from __future__ import annotations

import gc
import sys

import click

from commissions.calculator.readers import CsvError, load_inputs, run_calculation
from commissions.calculator.statements import render_statements
from commissions.engine import EngineError
from commissions.engine.result import iter_result_json

_FILE = click.Path(exists=True, dir_okay=False, readable=True)


@click.command(
    "calc",
    help="Compute a plan's payouts offline from CSV files (no server, no database).",
)
@click.option(
    "--plan",
    "plan_path",
    required=True,
    type=_FILE,
    help="Plan document (YAML or JSON).",
)
@click.option("--people", "people_path", required=True, type=_FILE, help="people.csv")
@click.option("--deals", "deals_path", required=True, type=_FILE, help="deals.csv")
@click.option("--quotas", "quotas_path", required=True, type=_FILE, help="quotas.csv")
@click.option(
    "--campaigns",
    "campaigns_path",
    type=_FILE,
    default=None,
    help="campaigns.csv (optional)",
)
@click.option(
    "--rates",
    "rates_path",
    type=_FILE,
    default=None,
    help="rates.csv: from,to,rate,effective_from (optional; converts deals in other currencies).",
)
@click.option("--period", required=True, help="2026-01 (month), 2026-Q1 (quarter) or 2026 (year).")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON document instead of statements.",
)
@click.pass_context
def calc_command(
    ctx: click.Context,
    plan_path: str,
    people_path: str,
    deals_path: str,
    quotas_path: str,
    campaigns_path: str | None,
    rates_path: str | None,
    period: str,
    as_json: bool,
) -> None:
    # millions of small acyclic objects: pause the cycle collector while computing and printing
    collecting = gc.isenabled()
    gc.disable()
    try:
        status = _calc(
            plan_path,
            people_path,
            deals_path,
            quotas_path,
            campaigns_path,
            rates_path,
            period,
            as_json,
        )
    finally:
        if collecting:
            gc.enable()
    ctx.exit(status)


def _calc(
    plan_path: str,
    people_path: str,
    deals_path: str,
    quotas_path: str,
    campaigns_path: str | None,
    rates_path: str | None,
    period: str,
    as_json: bool,
) -> int:
    try:
        inputs = load_inputs(
            plan=plan_path,
            people=people_path,
            deals=deals_path,
            quotas=quotas_path,
            campaigns=campaigns_path,
            rates=rates_path,
            period=period,
        )
        result = run_calculation(inputs)
    except (
        CsvError,
        EngineError,
    ) as exc:  # EngineError: consistency across files the readers cannot see
        click.echo(f"Error: {exc}", err=True)
        return 2
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    out = sys.stdout
    if as_json:
        for chunk in iter_result_json(result):  # the same text as json.dumps(..., indent=2), streamed
            out.write(chunk)
        out.write("\n")
    else:
        names = {person.email: person.name for person in inputs.people if person.name}
        for text in render_statements(result, names):
            out.write(text + "\n")
    out.flush()
    for payee in result.payees:
        for error in payee.errors:
            click.echo(f"Error: {error}", err=True)
    return 1 if result.has_errors else 0
