"""``commissions verify STATEMENT.json DIR``: recompute a downloaded statement offline and compare.

A statement's download (docs/checking-your-pay.md) holds the cli.md files it was computed
from and ``statement.json``, the statement as the API answers it. The statement carries
``inputs`` (file name → SHA-256 of the file) and ``fingerprint`` (a SHA-256 over the
engine version, the person, the period and those file hashes, see ``fingerprint``).

``verify`` checks, in this order, and reports every difference it finds (the first one
first):

1. the fingerprint matches the statement's own list of input hashes (else the statement
   file was edited);
2. each input file in DIR has the hash the statement lists (else that file was edited:
   it is named);
3. ``commissions calc`` on DIR's files, for the statement's period, pays the statement's
   person exactly the statement's engine lines: per component, each line's deal, amount
   and text, the components' amounts, the total before adjustments (adjustments are
   booked by finance or by changes to locked periods, not computed from these files),
   the errors, and the credited measure and quota.

Prints ``reproduced: …`` and exits 0 when everything matches; prints ``difference: …``
lines and exits 1 otherwise; exits 2 on bad arguments (a missing file, a statement file
that is not a statement).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from commissions.calculator.readers import CsvError, load_inputs, run_calculation
from commissions.engine import ENGINE_VERSION, EngineError, Result, result_to_json_dict

#: The input files of a download, in the order they are listed; campaigns.csv and rates.csv only when relevant.
INPUT_FILES = ("plan.yaml", "people.csv", "deals.csv", "quotas.csv", "campaigns.csv", "rates.csv")
REQUIRED_FILES = INPUT_FILES[:4]
FINGERPRINT_SCHEME = "quotaboard statement fingerprint 1"
REQUIRED_KEYS = ("person", "period", "total", "components", "inputs", "fingerprint", "engine_version")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprint(*, person: str, period: str, engine_version: str, inputs: Mapping[str, str]) -> str:
    """SHA-256 over the engine version, the person, the period and each input file's SHA-256
    (the plan version document is plan.yaml, byte for byte)."""
    lines = [FINGERPRINT_SCHEME, f"engine {engine_version}", f"person {person}", f"period {period}"]
    lines += [f"{name} {inputs[name]}" for name in sorted(inputs)]
    return sha256_hex(("\n".join(lines) + "\n").encode())


def recompute(directory: Path, names: Collection[str], period: str) -> Result:
    """``commissions calc`` on a download's files (raises ``CsvError`` or ``EngineError`` like calc)."""
    campaigns = directory / "campaigns.csv" if "campaigns.csv" in names else None
    rates = directory / "rates.csv" if "rates.csv" in names else None
    inputs = load_inputs(
        plan=directory / "plan.yaml",
        people=directory / "people.csv",
        deals=directory / "deals.csv",
        quotas=directory / "quotas.csv",
        campaigns=campaigns,
        rates=rates,
        period=period,
    )
    return run_calculation(inputs)


def payee_of(result: Result, person: str) -> dict[str, Any] | None:
    """The person's entry in the ``commissions calc --json`` document, or None when calc does not pay them."""
    return next((p for p in result_to_json_dict(result)["payees"] if p["person"] == person), None)


def _amount(text: Any) -> Decimal:
    return Decimal(str(text))


def _line(line: Mapping[str, Any]) -> tuple[str | None, Decimal, str]:
    return line.get("deal"), _amount(line["amount"]), str(line.get("text", ""))


def _where(component: str, deal: str | None) -> str:
    return f"{component}, deal {deal}" if deal else f"{component}, line without a deal"


def engine_total(statement: Mapping[str, Any]) -> Decimal:
    """The statement's total before adjustments: what the engine's lines add up to."""
    return _amount(statement["total"]) - sum(
        (_amount(a["amount"]) for a in statement.get("adjustments") or []), Decimal(0)
    )


def first_difference(statement: Mapping[str, Any], payee: Mapping[str, Any] | None) -> str | None:
    """The first way the statement's engine figures differ from a recomputed ``calc --json`` payee, or None."""
    person, period = statement.get("person"), statement.get("period")
    plans = statement.get("plans") or []
    stored_errors = [str(e) for plan in plans for e in plan.get("errors") or []]
    stored = {c["name"]: c for c in statement.get("components") or []}
    before_adjustments = engine_total(statement)
    if payee is None:
        if stored_errors:
            return f"errors: stored {'; '.join(stored_errors)}; recomputed: {person} is not paid under this plan"
        has_lines = any(c.get("lines") for c in stored.values())
        if has_lines or before_adjustments != 0 or plans:
            return (
                f"{person}: stored a statement of {before_adjustments} before adjustments; recomputed: not paid "
                f"under this plan in {period} (no quota and no credit)"
            )
        return None
    errors = [str(e) for e in payee.get("errors") or []]
    if errors != stored_errors:
        return f"errors: stored {'; '.join(stored_errors) or 'none'}; recomputed {'; '.join(errors) or 'none'}"
    for component in payee.get("components") or []:
        name = component["name"]
        mine = stored.pop(name, None)
        left = [_line(line) for line in (mine or {}).get("lines") or []]
        for line in component.get("lines") or []:
            deal, amount, text = key = _line(line)
            if key in left:
                left.remove(key)
                continue
            twin = next((s for s in left if s[0] == deal), None)
            if twin is not None:
                return f'{_where(name, deal)}: stored {twin[1]} "{twin[2]}", recomputed {amount} "{text}"'
            return f'{_where(name, deal)}: recomputed {amount} "{text}", not in the statement'
        if left:
            deal, amount, text = left[0]
            return f'{_where(name, deal)}: stored {amount} "{text}", not recomputed'
        stored_amount = _amount(mine["amount"]) if mine else Decimal(0)
        if stored_amount != _amount(component["amount"]):
            return f"{name}: stored {stored_amount}, recomputed {component['amount']}"
    for name, mine in stored.items():
        if mine.get("lines") or _amount(mine["amount"]) != 0:
            return f"{name}: stored {mine['amount']}, not recomputed"
    if "total" in payee and _amount(payee["total"]) != before_adjustments:
        return f"total before adjustments: stored {before_adjustments}, recomputed {payee['total']}"
    if len(plans) == 1:
        for field in ("credited", "quota"):
            mine_value, fresh = plans[0].get(field), payee.get(field)
            if (mine_value is None) != (fresh is None) or (
                mine_value is not None and _amount(mine_value) != _amount(fresh)
            ):
                return f"{field}: stored {mine_value}, recomputed {fresh}"
    return None


def changed_files(statement: Mapping[str, Any], directory: Path) -> list[str]:
    """A sentence per input file of DIR whose SHA-256 differs from the statement's list."""
    out = []
    for name, expected in statement["inputs"].items():
        actual = sha256_hex((directory / name).read_bytes())
        if actual != expected:
            out.append(
                f"{name} is not the file this statement was computed from "
                f"(sha256 {actual[:16]}…, the statement lists {str(expected)[:16]}…)"
            )
    return out


def _load_statement(path: Path) -> dict[str, Any]:
    try:
        statement = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.UsageError(f"{path} is not a statement JSON file ({exc})") from None
    if not isinstance(statement, dict):
        raise click.UsageError(f"{path} is not a statement JSON file (expected an object)")
    missing = [key for key in REQUIRED_KEYS if key not in statement]
    if missing:
        raise click.UsageError(
            f"{path} is not a statement with its inputs: no {', '.join(missing)} "
            "(download it with “Check this statement yourself”)"
        )
    inputs = statement["inputs"]
    if not isinstance(inputs, dict) or any(name not in INPUT_FILES for name in inputs):
        raise click.UsageError(f"{path}: “inputs” must map the files {', '.join(INPUT_FILES)} to their sha256")
    if not inputs:
        notes = "; ".join(statement.get("offline_notes") or []) or "it lists no input files"
        raise click.UsageError(f"{path} cannot be recomputed offline: {notes}")
    try:
        engine_total(statement)
        _check_shape(statement)
    except (InvalidOperation, KeyError, TypeError, AttributeError, ValueError) as exc:
        raise click.UsageError(f"{path}: not a statement as the app writes it ({exc})") from None
    return statement


def _check_shape(statement: Mapping[str, Any]) -> None:
    """Every part ``first_difference`` reads, with the type it expects (a hand-edited file fails here, not later)."""
    plans, components = statement.get("plans") or [], statement.get("components") or []
    if not isinstance(plans, list) or not isinstance(components, list):
        raise TypeError("“plans” and “components” must be lists")
    for plan in plans:
        if not isinstance(plan, dict) or not isinstance(plan.get("errors") or [], list):
            raise TypeError("each plan must be an object whose “errors” is a list")
    for component in components:
        if not isinstance(component, dict) or not isinstance(component.get("name"), str):
            raise TypeError("each component must be an object with a “name”")
        lines = component.get("lines") or []
        if not isinstance(lines, list):
            raise TypeError(f"component {component['name']}: “lines” must be a list")
        for line in lines:
            if not isinstance(line, dict):
                raise TypeError(f"component {component['name']}: each line must be an object")
            _line(line)


@click.command(
    "verify",
    help="Recompute a downloaded statement from its input files (STATEMENT.json and DIR "
    "from “Check this statement yourself”) and say whether it is reproduced.",
)
@click.argument(
    "statement_path",
    metavar="STATEMENT.json",
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
)
@click.argument("directory", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_context
def verify_command(ctx: click.Context, statement_path: Path, directory: Path) -> None:
    statement = _load_statement(statement_path)
    names = list(statement["inputs"])
    missing = [name for name in names if not (directory / name).is_file()]
    if missing:
        raise click.UsageError(f"{directory} has no {', '.join(missing)} (unzip the download there)")
    if not all(name in names for name in REQUIRED_FILES):
        raise click.UsageError(f"{statement_path}: “inputs” must list {', '.join(REQUIRED_FILES)}")
    person, period = str(statement["person"]), str(statement["period"])
    for note in statement.get("offline_notes") or []:
        click.echo(f"note: {note}", err=True)
    if statement["engine_version"] != ENGINE_VERSION:
        click.echo(
            f"note: the statement was computed with engine {statement['engine_version']}; "
            f"this calculator is engine {ENGINE_VERSION}",
            err=True,
        )
    differences = []
    expected = fingerprint(
        person=person, period=period, engine_version=str(statement["engine_version"]), inputs=statement["inputs"]
    )
    if expected != statement["fingerprint"]:
        differences.append(
            "the statement's fingerprint does not match its own list of input files: the statement file was edited"
        )
    differences += changed_files(statement, directory)
    try:
        payee = payee_of(recompute(directory, names, period), person)
    except (CsvError, EngineError) as exc:
        differences.append(f"the files cannot be recomputed: {exc}")
    else:
        line = first_difference(statement, payee)
        if line is not None:
            differences.append(line)
    if differences:
        for difference in differences:
            click.echo(f"difference: {difference}")
        ctx.exit(1)
    lines = sum(len(c.get("lines") or []) for c in statement["components"])
    total = f"total {engine_total(statement)} {statement.get('currency', '')}".rstrip()
    if statement.get("adjustments"):
        total += " before adjustments"
    click.echo(f"reproduced: {person} {period}, {lines} lines, {total} (fingerprint {statement['fingerprint'][:16]}…)")
