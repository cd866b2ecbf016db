"""Fingerprints of `commissions calc --json` for a refactoring to keep byte-identical.

    python bench/calc_identity.py [--out FOLDER]

Runs the calculator on the spec's worked example (../shared/spec/example) and on a generated 10,000-deal case (bench/engine_bench.py's
organisation and plan: tiers with an accelerator, a conditional SPIFF, a quota-club bonus,
caps and manager overrides over a four-level hierarchy) and prints the SHA-256 of each JSON
document. Run it before and after a change that must not change any figure or line text:
the two lists must be equal. ``--out`` keeps the documents for a diff.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.engine_bench import generate, write_csvs  # noqa: E402

SPEC_EXAMPLE = ROOT.parent / "shared" / "spec" / "example"


def calc(folder: Path, period: str) -> bytes:
    args = [
        sys.executable,
        "-m",
        "commissions.calculator",
        "--plan",
        str(folder / "plan.yaml"),
        "--people",
        str(folder / "people.csv"),
        "--deals",
        str(folder / "deals.csv"),
        "--quotas",
        str(folder / "quotas.csv"),
        "--period",
        period,
        "--json",
    ]
    done = subprocess.run(args, capture_output=True, cwd=ROOT, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"calc exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="keep the JSON documents here")
    parser.add_argument("--example", type=Path, default=SPEC_EXAMPLE, help="the spec's example folder")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generated = Path(tmp)
        write_csvs(generated, *generate(10_000, 500))
        cases = {"spec example": (options.example, "2026-Q1"), "generated 10,000 deals": (generated, "2026-Q1")}
        for name, (folder, period) in cases.items():
            if not folder.exists():
                print(f"{name}: {folder} not found, skipped")
                continue
            output = calc(folder, period)
            if options.out:
                options.out.mkdir(parents=True, exist_ok=True)
                (options.out / (name.replace(" ", "_").replace(",", "") + ".json")).write_bytes(output)
            print(f"{name}: sha256 {hashlib.sha256(output).hexdigest()} ({len(output):,} bytes)")


if __name__ == "__main__":
    main()
