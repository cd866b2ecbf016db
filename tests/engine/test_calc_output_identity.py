"""`commissions calc` output, byte for byte: the golden outputs were captured from the code
before the calculator's speed work (issue 16) and must never change without a reason.

Two cases, each with ``--json`` and with the default text statements:

- the spec's worked example (``shared/spec/example``, 2026-Q1): the whole output is kept
  in ``data/identity/`` (small), so a failure shows the difference;
- the generated 10,000-deal case of ``bench/engine_bench.py`` (``generate(10_000, 500)``:
  marginal tiers with an accelerator, a conditional SPIFF, a bonus, caps, split deals and
  manager overrides over a four-level hierarchy): its SHA-256 and size;
- two "variety" plans on 2,000 generated deals with what the bench plan lacks: retroactive,
  per-deal and count tiers, a SPIFF with a rate, a curve, a capped override, team credit,
  recoverable and non-recoverable draws, cancellations and a clawback window, payees
  without a quota (errors, exit 1), and names that JSON must escape: SHA-256 and size.

Run in-process through click's CliRunner (the same bytes as ``python -m
commissions.calculator``; ``bench/calc_identity.py`` checks the subprocess).
"""

from __future__ import annotations

import csv
import hashlib
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.engine_bench import generate, write_csvs
from commissions.calculator.command import calc_command

ROOT = Path(__file__).resolve().parents[2]
SPEC_EXAMPLE = ROOT.parent / "shared" / "spec" / "example"
GOLDEN = Path(__file__).parent / "data" / "identity"

#: (SHA-256, size in bytes) of the generated 10,000-deal case's outputs, captured before any change.
GENERATED = {
    "json": ("3e9182a2d97d6d77e0fbb66eee706087ebc4ce56e20b12d3a25144214ca6cd98", 9_162_881),
    "text": ("fab32f546552f57389be71188b16ec601e1bcea3c944f66933510ce0660c73db", 3_929_894),
}

#: (exit status, SHA-256, size) of the variety cases' outputs, captured before any change.
VARIETY = {
    ("A", "json"): (1, "d2c1db0755626d0b1757e183f3df4777ee80ec947e606af0ac4d9943c4410491", 2_258_671),
    ("A", "text"): (1, "294c2d0087fc26490469acb50791dce9058b3caa180c80e84f42523a743429cd", 1_053_385),
    ("B", "json"): (1, "b4e63e1e17c0728d2c3bcd8c526b71b2d4cff42746508ed8861c433bfeb05ced", 3_300_787),
    ("B", "text"): (1, "9eff39e79466b01419af09e05afabbd9e55edc3be998edf25b041fe96b17650a", 1_582_815),
}

VARIETY_A = """\
name: Variety A
currency: USD
period: quarter
quota: bookings
credit:
  scope: own
components:
  - name: Retro
    kind: tiered
    mode: retroactive
    on: amount
    tiers:
      - {to: 200000, rate: 3%}
      - {rate: 4.5%}
  - name: Rated SPIFF
    kind: per_deal
    pay: 100.5
    rate: 0.75%
    when: amount >= 60000 and closed_at >= 2026-02-01
  - name: Flat rate
    kind: per_deal
    rate: 1.25%
    when: product == "Basic"
  - name: Curve
    kind: curve
    points: [[0%, 0], [50%, 1000], [100%, 5000], [200%, 9000]]
  - name: Override
    kind: override
    rate: 0.5%
    cap: 5000
draw:
  amount: 12000
  recoverable: true
"""
VARIETY_B = """\
name: Variety B
currency: USD
period: quarter
quota: deals
credit:
  scope: team
components:
  - name: Deal size
    kind: tiered
    on: amount
    per: deal
    mode: marginal
    tiers:
      - {to: 50000, rate: 5%}
      - {to: 100000, rate: 7%}
      - {rate: 9%}
  - name: Deal count
    kind: tiered
    mode: marginal
    tiers:
      - {to: 100%, rate: 1%}
      - {rate: 2%}
  - name: Club
    kind: bonus
    at: 120%
    pay: 1000
draw:
  amount: 3000
  recoverable: false
"""


def write_variety(folder: Path, which: str) -> None:
    """2,000 generated deals, some renamed, some cancelled; quotas of the plan's metric for
    most people (every 7th has none: an error)."""
    people, quotas, deals = generate(2_000, 60, seed=16)
    write_csvs(folder, people, quotas, deals)
    (folder / "plan.yaml").write_text(
        (VARIETY_A if which == "A" else VARIETY_B) + ("clawback_days: 30\n" if which == "A" else "")
    )
    with open(folder / "deals.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    for i, row in enumerate(rows[1:]):
        if i % 11 == 3:
            row[1] = f'Déal "{i}" \\ ☃\ttab, ünïcode'
        if i % 37 == 5:
            closed = date.fromisoformat(row[6])
            row[11], row[12] = "cancelled", (closed + timedelta(days=i % 61)).isoformat()
    with open(folder / "deals.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    with open(folder / "people.csv", newline="") as handle:
        people_rows = list(csv.reader(handle))
    for i, row in enumerate(people_rows[1:]):
        if i % 5 == 2:
            row[1] = f"Zoë “{i}” Ørsted"
    with open(folder / "people.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(people_rows)
    with open(folder / "quotas.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["person", "metric", "period", "target"])
        for i, quota in enumerate(quotas):
            if i % 7 == 6:
                continue
            if which == "A":
                writer.writerow([quota.person, "bookings", "2026-Q1", quota.target])
            else:
                writer.writerow([quota.person, "deals", "2026-Q1", 20 + i % 40])


def run_calc(folder: Path, *, as_json: bool) -> tuple[int, bytes, bytes]:
    args = [
        "--plan",
        str(folder / "plan.yaml"),
        "--people",
        str(folder / "people.csv"),
        "--deals",
        str(folder / "deals.csv"),
        "--quotas",
        str(folder / "quotas.csv"),
        "--period",
        "2026-Q1",
    ]
    if as_json:
        args.append("--json")
    result = CliRunner().invoke(calc_command, args, catch_exceptions=False)
    return result.exit_code, result.stdout_bytes, result.stderr_bytes


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generated")
    write_csvs(folder, *generate(10_000, 500))
    return folder


@pytest.mark.skipif(not SPEC_EXAMPLE.exists(), reason="shared/spec/example is not beside the checkout")
@pytest.mark.parametrize("kind", ["json", "text"])
def test_spec_example_output_is_byte_identical(kind: str) -> None:
    code, out, err = run_calc(SPEC_EXAMPLE, as_json=kind == "json")
    assert (code, err) == (0, b"")
    golden = (GOLDEN / f"spec_example.{kind}").read_bytes()
    assert out.decode() == golden.decode()  # a readable diff first
    assert out == golden


@pytest.mark.parametrize("kind", ["json", "text"])
def test_generated_10000_deals_output_is_byte_identical(generated: Path, kind: str) -> None:
    code, out, err = run_calc(generated, as_json=kind == "json")
    assert (code, err) == (0, b"")
    digest, size = GENERATED[kind]
    assert (hashlib.sha256(out).hexdigest(), len(out)) == (digest, size)


@pytest.mark.parametrize(("which", "kind"), list(VARIETY))
def test_variety_output_is_byte_identical(tmp_path: Path, which: str, kind: str) -> None:
    write_variety(tmp_path, which)
    code, out, err = run_calc(tmp_path, as_json=kind == "json")
    expected_code, digest, size = VARIETY[which, kind]
    assert (code, hashlib.sha256(out).hexdigest(), len(out)) == (expected_code, digest, size), err.decode()[-2000:]


@pytest.mark.parametrize("case", ["generated", "A", "B"])
def test_printed_columns_are_the_lines(generated: Path, tmp_path: Path, case: str) -> None:
    """What calc prints (``ComponentResult.line_columns``, made without ``Line`` objects) is what
    the app reads from ``lines`` (deal, amount, ``text``), for every component of every payee."""
    from commissions.calculator.readers import load_inputs, run_calculation

    folder = generated
    if case != "generated":
        folder = tmp_path
        write_variety(folder, case)
    names = {name: str(folder / f"{name}.csv") for name in ("people", "deals", "quotas")}
    inputs = load_inputs(plan=folder / "plan.yaml", period="2026-Q1", **names)
    checked = 0
    for payee in run_calculation(inputs).payees:
        for component in payee.components:
            ids, amounts, texts = [], [], []
            for chunk in component.line_columns():
                ids += chunk[0]
                amounts += chunk[1]
                texts += chunk[2]
            lines = component.lines
            assert (ids, amounts, texts) == (
                [line.deal_id for line in lines],
                [str(line.amount) for line in lines],
                [line.text for line in lines],
            )
            checked += len(lines)
    assert checked > 2_000
