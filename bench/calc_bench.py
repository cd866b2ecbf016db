"""`commissions calc` end to end against its floor (issue 16).

    python bench/calc_bench.py                          # 200,000 and 1,000,000 deals, 3 runs each
    python bench/calc_bench.py --deals 200000 --runs 5
    python bench/calc_bench.py --deals 20000 --people 500 --runs 1 --data /tmp/calc-bench
    python bench/calc_bench.py --deals 200000 --baseline /tmp/before   # and a checkout's calc, interleaved

The data is ``bench/engine_bench.py``'s organisation and plan (5,000 people over four
levels, 5 % split deals, tiers with an accelerator, a conditional SPIFF, a bonus, caps and a
1 % override up three levels of managers: 4.4 lines per deal), written as CSV files once
per size into ``--data`` (kept and reused: generating a million deals takes a while).

The floor is what any program reading the same file must do: a plain Python script that
reads deals.csv with the csv module and sums ``Decimal`` amounts per owner. Each run times,
one after the other in fresh interpreters, the floor, ``python -m commissions.calculator
... --json`` and the same without ``--json`` (the text statements); output goes to
/dev/null. Max RSS is the child's own (``os.wait4``); the harness stays small, so no page
of it is counted. ``parse only`` is a fresh interpreter that reads and checks the input
files as calc does (``load_inputs``, the cycle collector paused as in calc) and stops: what the
parsed inputs take, the reference for calc's peak memory.

``--baseline DIR`` (another checkout, e.g. ``git worktree add /tmp/before main`` or ``git archive``)
runs that checkout's ``calc --json`` and ``calc (text)`` too, in the same runs, right after this
one's (``base --json``, ``base (text)``): before and after under the same load, against the same floor.

Prints, per size, the medians, every run, and ``ratio N.N× floor`` for both outputs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FLOOR = """\
import csv, sys
from decimal import Decimal
totals = {}
with open(sys.argv[1], newline="", encoding="utf-8") as handle:
    rows = csv.reader(handle)
    header = next(rows)
    i_owner, i_amount = header.index("owner"), header.index("amount")
    for row in rows:
        owner = row[i_owner]
        totals[owner] = totals.get(owner, Decimal(0)) + Decimal(row[i_amount])
for owner in sorted(totals):
    print(owner, totals[owner])
"""

PARSE_ONLY = """\
import gc, sys
from commissions.calculator.readers import load_inputs
gc.disable()  # as calc does
folder = sys.argv[1]
load_inputs(plan=folder + "/plan.yaml", people=folder + "/people.csv", deals=folder + "/deals.csv",
            quotas=folder + "/quotas.csv", period="2026-Q1")
"""


def ensure_data(folder: Path, deals: int, people: int) -> Path:
    """The CSV files for this size, generated in a child process (the harness stays small)."""
    target = folder / f"{deals}-{people}"
    if not (target / "done").exists():
        target.mkdir(parents=True, exist_ok=True)
        print(f"generating {deals:,} deals for {people:,} people into {target} ...", flush=True)
        code = (
            "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
            "from bench.engine_bench import generate, write_csvs;"
            "write_csvs(Path(sys.argv[2]), *generate(int(sys.argv[3]), int(sys.argv[4])))"
        )
        subprocess.run([sys.executable, "-c", code, str(ROOT), str(target), str(deals), str(people)], check=True)
        (target / "done").write_text("")
    return target


def measure(args: list[str], cwd: Path = ROOT) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and max RSS (MiB) of one child run in ``cwd`` (whose code ``-m``
    runs), output to /dev/null."""
    with open(os.devnull, "wb") as sink:
        started = time.perf_counter()
        child = subprocess.Popen(args, stdout=sink, stderr=subprocess.PIPE, cwd=cwd)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        errors = child.stderr.read() if child.stderr else b""
        if child.stderr:
            child.stderr.close()
    if child.returncode not in (0,):
        raise SystemExit(f"{' '.join(args[:4])} ... exited {child.returncode}: {errors.decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def calc_args(folder: Path, as_json: bool) -> list[str]:
    args = [sys.executable, "-m", "commissions.calculator", "--period", "2026-Q1"]
    for name in ("plan", "people", "deals", "quotas"):
        args += [f"--{name}", str(folder / (f"{name}.yaml" if name == "plan" else f"{name}.csv"))]
    return [*args, "--json"] if as_json else args


def bench(folder: Path, runs: int, parse_only: bool, baseline: Path | None = None) -> None:
    commands: dict[str, tuple[list[str], Path]] = {
        "floor": ([sys.executable, "-c", FLOOR, str(folder / "deals.csv")], ROOT),
        "calc --json": (calc_args(folder, True), ROOT),
    }
    if baseline is not None:
        commands["base --json"] = (calc_args(folder, True), baseline)
    commands["calc (text)"] = (calc_args(folder, False), ROOT)
    if baseline is not None:
        commands["base (text)"] = (calc_args(folder, False), baseline)
    if parse_only:
        commands["parse only"] = ([sys.executable, "-c", PARSE_ONLY, str(folder)], ROOT)
    figures: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
    for _ in range(runs):  # interleaved: a busy moment slows every command of the run alike
        for name, (args, cwd) in commands.items():
            figures[name].append(measure(args, cwd))
    med = statistics.median
    floor = med(wall for wall, _, _ in figures["floor"])
    for name, runs_of in figures.items():
        walls = [wall for wall, _, _ in runs_of]
        line = (
            f"  {name:12} median {med(walls):7.2f} s wall, {med(cpu for _, cpu, _ in runs_of):7.2f} s CPU, "
            f"max RSS {med(rss for _, _, rss in runs_of):6.0f} MiB (runs: {', '.join(f'{w:.2f}' for w in walls)})"
        )
        if name.startswith(("calc", "base")):
            line += f"  ratio {med(walls) / floor:.1f}× floor"
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", type=int, action="append", help="repeatable; default 200000 and 1000000")
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path("/tmp/quotaboard-calc-bench"), help="where the CSVs are kept")
    parser.add_argument("--no-parse-only", action="store_true", help="skip the parse-only memory reference")
    parser.add_argument("--baseline", type=Path, help="another checkout whose calc runs too, interleaved ('base')")
    options = parser.parse_args()
    if options.baseline is not None and not (options.baseline / "commissions" / "calculator").is_dir():
        parser.error(f"--baseline {options.baseline}: not a checkout (no commissions/calculator)")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} on {os.cpu_count()} CPUs")
    if options.baseline is not None:
        print(f"base: {options.baseline.resolve()}")
    for deals in options.deals or [200_000, 1_000_000]:
        folder = ensure_data(options.data, deals, options.people)
        print(f"{deals:,} deals, {options.people:,} people, {options.runs} runs:", flush=True)
        bench(folder, options.runs, not options.no_parse_only, options.baseline)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
